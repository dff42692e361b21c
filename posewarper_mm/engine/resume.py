"""``--resume`` handling that keeps a config's ``load_from`` on a fresh run.

With mmpose's ``tools/train.py``, ``--resume`` without a path sets
``resume=True, load_from=None`` so that the runner resumes from the latest
checkpoint in ``work_dir``. When ``work_dir`` has no checkpoint yet, the run
then starts from random weights and silently drops the config's
``load_from``. For PoseWarper's stage 2, whose ``load_from`` is the stage-1
checkpoint, that loses the stage-1 initialisation. The helpers here keep the
auto-resume behaviour when a checkpoint exists and otherwise fall back to
loading the config's ``load_from``.
"""
from typing import Optional

from mmengine.config import Config
from mmengine.runner import find_latest_checkpoint

AUTO_RESUME = 'auto'


def apply_resume_arg(cfg: Config, resume: Optional[str]) -> Optional[str]:
    """Merge the ``--resume [PATH]`` argument into ``cfg``.

    Args:
        cfg (Config): The config; updated in place.
        resume (str, optional): None (no flag), ``'auto'`` (flag without a
            path) or a checkpoint path.

    Returns:
        str | None: The config's ``load_from`` that auto-resume replaced;
        pass it to :func:`finalize_auto_resume` after all other overrides.
    """
    if resume is None:
        return None
    cfg.resume = True
    if resume == AUTO_RESUME:
        replaced = cfg.get('load_from', None)
        cfg.load_from = None
        return replaced
    cfg.load_from = resume
    return None


def finalize_auto_resume(cfg: Config,
                         replaced_load_from: Optional[str]) -> bool:
    """Restore ``load_from`` when auto-resume has nothing to resume from.

    Call after every override (``--work-dir``, ``--cfg-options``) is merged.

    Args:
        cfg (Config): The config; updated in place.
        replaced_load_from (str, optional): What
            :func:`apply_resume_arg` returned.

    Returns:
        bool: True if the run starts fresh from ``replaced_load_from``
        (``resume`` is switched off and ``load_from`` restored).
    """
    if (not replaced_load_from or not cfg.get('resume', False)
            or cfg.get('load_from', None) is not None):
        return False
    if find_latest_checkpoint(cfg.work_dir) is not None:
        return False
    cfg.resume = False
    cfg.load_from = replaced_load_from
    return True
