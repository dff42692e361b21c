"""What ``tools/train.py`` and ``tools/test.py`` share.

- :func:`resolve_work_dir`: the work directory, command line > config >
  ``./work_dirs/<config name>``.
- :func:`add_visualization_args`, :func:`enable_visualization`:
  ``--show``/``--show-dir``.
- :func:`parse_launcher_args`: ``--launcher`` and the local rank.
- :func:`resolve_resume`: ``--resume [PATH]`` (below).
- :func:`run_runner`: build the Runner, run it, end with one line on an
  error in the user's files, and always release the process group.

``--resume`` continues a run and never restarts it from elsewhere.
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

The scripts import this module as a sibling (``python tools/train.py``
puts ``tools/`` first on ``sys.path``).
"""
import argparse
import gc
import logging
import os
import os.path as osp
from typing import Callable, Optional

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner, find_latest_checkpoint

from posewarper_mm.engine import setup_cpu_distributed, teardown_distributed
from posewarper_mm.errors import InputFileError, OutputLocationError

AUTO_RESUME = 'auto'


class ResumeError(RuntimeError):
    """The work directory names a checkpoint that cannot be resumed."""


# errors in the user's files and paths: one line, no traceback
USER_ERRORS = (InputFileError, OutputLocationError, ResumeError)


def resolve_work_dir(cfg: Config, work_dir: Optional[str],
                     config_path: str) -> None:
    """Set ``cfg.work_dir``: command line > config > ``./work_dirs/<name>``.

    Args:
        cfg (Config): The config to update in place.
        work_dir (str, optional): ``--work-dir`` of the command line.
        config_path (str): Path of the config file (names the default).
    """
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])


def add_visualization_args(parser: argparse.ArgumentParser,
                           subject: str) -> None:
    """Add ``--show-dir``, ``--show``, ``--interval`` and ``--wait-time``.

    Args:
        parser (argparse.ArgumentParser): The script's parser.
        subject (str): What is visualised, for the help texts (e.g.
            ``'validation predictions'``).
    """
    parser.add_argument(
        '--show-dir',
        help=f'directory where the visualised {subject} are saved')
    parser.add_argument(
        '--show',
        action='store_true',
        help=f'display the {subject} in a window')
    parser.add_argument(
        '--interval',
        type=int,
        default=1,
        help='visualise every INTERVAL-th sample')
    parser.add_argument(
        '--wait-time',
        type=float,
        default=1,
        help='display time of every window (seconds)')


def parse_launcher_args(parser: argparse.ArgumentParser,
                        argv=None) -> argparse.Namespace:
    """Add ``--launcher`` and the local rank, then parse ``argv``.

    ``torch.distributed.launch`` passes ``--local-rank`` (torch >= 2.0) or
    ``--local_rank``; ``torchrun`` sets the ``LOCAL_RANK`` variable
    instead, which is set from the argument when missing.

    Args:
        parser (argparse.ArgumentParser): The script's parser.
        argv (list[str], optional): The arguments (default: the command
            line).

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_visualization(cfg: Config, args: argparse.Namespace) -> None:
    """Switch on the PoseVisualizationHook for ``--show``/``--show-dir``.

    Args:
        cfg (Config): The config; ``default_hooks.visualization`` is
            updated in place.
        args (argparse.Namespace): The parsed arguments (``config``,
            ``show``, ``show_dir``, ``wait_time``, ``interval``).

    Raises:
        ValueError: If the config has no ``default_hooks.visualization``.
    """
    hooks = cfg.get('default_hooks', None) or {}
    if 'visualization' not in hooks:
        raise ValueError(
            f'{args.config}: --show/--show-dir need '
            'default_hooks.visualization=dict(type="PoseVisualizationHook")')
    vis = cfg.default_hooks.visualization
    vis.enable = True
    vis.show = args.show
    if args.show:
        vis.wait_time = args.wait_time
    vis.out_dir = args.show_dir
    vis.interval = args.interval


def run_runner(prog: str, make_config: Callable[[], Config],
               run: Callable[[Runner], None]) -> None:
    """Build the Runner from ``make_config()`` and call ``run(runner)``.

    Errors in the user's files and paths (:data:`USER_ERRORS`) end the
    process with one line, ``<prog>: error: <message>``, and exit status 1
    instead of a traceback. Whatever happens, the runner (and its loader
    workers) is released before the process group is torn down.

    Args:
        prog (str): Script name that starts the error line, e.g.
            ``'train.py'``.
        make_config (Callable[[], Config]): Loads and merges the config.
        run (Callable[[Runner], None]): What to do with the runner, e.g.
            ``lambda runner: runner.train()``.

    Raises:
        SystemExit: On one of :data:`USER_ERRORS`.
    """
    succeeded = False
    runner = None
    try:
        cfg = make_config()
        setup_cpu_distributed(cfg)
        runner = Runner.from_cfg(cfg)
        run(runner)
        succeeded = True
    except USER_ERRORS as error:
        raise SystemExit(f'{prog}: error: {error}') from None
    finally:
        # release the runner's loader workers before the process group
        runner = None
        gc.collect()
        teardown_distributed(succeeded)


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
