"""``--resume`` handling: continue a run, never restart it from elsewhere.

mmpose's ``tools/train.py`` turns ``--resume`` (without a path) into
``resume=True, load_from=None`` and merges ``--cfg-options`` afterwards.
A ``load_from`` given there (the README's way to pass pretrained weights)
then made mmengine *resume* from the pretrained file instead of the work
directory's last checkpoint, and a run whose work directory had no
checkpoint yet silently lost the config's ``load_from``.

:func:`resolve_resume` decides once every override is merged:

- ``--resume PATH``: resume from ``PATH``.
- ``--resume`` and ``work_dir`` has a checkpoint (``last_checkpoint``):
  resume from it, whatever ``load_from`` says; ``load_from`` only
  initialises a fresh run and is reported as not used.
- ``--resume`` and ``work_dir`` has no checkpoint: start a fresh run from
  ``load_from`` (if any), e.g. the stage-1 checkpoint of a stage-2 config.

The decision, the file and the reason are logged.
"""
import logging
import os.path as osp
from typing import Optional

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import find_latest_checkpoint

AUTO_RESUME = 'auto'


class ResumeError(RuntimeError):
    """The work directory names a checkpoint that cannot be resumed."""


def latest_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint named by ``<work_dir>/last_checkpoint``, if any.

    Args:
        work_dir (str): The runner's work directory.

    Returns:
        str | None: The checkpoint path, or None without ``last_checkpoint``.

    Raises:
        ResumeError: If ``last_checkpoint`` names a file that does not
            exist (a moved or cleaned work directory).
    """
    if not osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        return None
    path = find_latest_checkpoint(work_dir)
    if not path:
        return None
    if not osp.isfile(path):
        raise ResumeError(
            f'{osp.join(work_dir, "last_checkpoint")}: names checkpoint '
            f'{path}, which does not exist; resume from a checkpoint with '
            '--resume PATH or remove the file to start a fresh run')
    return path


def resolve_resume(cfg: Config, resume: Optional[str]) -> str:
    """Set ``cfg.resume`` and ``cfg.load_from`` for ``--resume [PATH]``.

    Call after every other override (``--work-dir``, ``--cfg-options``) is
    merged, so that a ``load_from`` given on the command line cannot take
    the place of the work directory's checkpoint.

    Args:
        cfg (Config): The config with ``work_dir`` set; updated in place.
        resume (str, optional): None (no flag), ``'auto'`` (flag without a
            path) or a checkpoint path.

    Returns:
        str: What the run does: ``'none'`` (no ``--resume``), ``'path'``
        (resume from the given file), ``'work_dir'`` (resume from the work
        directory's last checkpoint) or ``'fresh'`` (no checkpoint yet:
        start from ``load_from`` or from the model's initialisation).
    """
    if resume is None:
        return 'none'
    load_from = cfg.get('load_from', None)
    if resume != AUTO_RESUME:
        cfg.resume = True
        cfg.load_from = resume
        _log(f'--resume: resuming from {resume}' +
             (f' (not from load_from {load_from}, which only initialises '
              'a fresh run)' if load_from and load_from != resume else ''))
        return 'path'
    latest = latest_checkpoint(cfg.work_dir)
    if latest is not None:
        cfg.resume = True
        # None lets the runner find the same file and log it as resumed
        cfg.load_from = None
        _log(f'--resume: resuming from {latest}, the last checkpoint in '
             f'work_dir {cfg.work_dir}' +
             (f'; load_from {load_from} is not used because it only '
              'initialises a run that has no checkpoint yet'
              if load_from else ''))
        return 'work_dir'
    cfg.resume = False
    cfg.load_from = load_from
    _log(f'--resume: no checkpoint in work_dir {cfg.work_dir} yet; '
         'starting a fresh run from ' +
         (f'load_from {load_from}' if load_from else
          "the model's initialisation (load_from is not set)"))
    return 'fresh'


def _log(msg: str) -> None:
    print_log(msg, logger='current', level=logging.INFO)
