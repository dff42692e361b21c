"""The quickstart configs on tiny generated videos with a short schedule.

Used by the tool tests. The data paths come from the quickstart
(:func:`tools.quickstart.pipeline.data_options`), so a change of its data
layout reaches every user.
"""
import os.path as osp
from typing import List, Optional

from . import REPO_ROOT

STAGE1_CFG = osp.join(REPO_ROOT, 'configs', 'quickstart',
                      'posewarper-stage1_hrnet-tiny_synthetic.py')
STAGE2_CFG = osp.join(REPO_ROOT, 'configs', 'quickstart',
                      'posewarper_hrnet-tiny_synthetic.py')
# 2 training and 1 validation video of 8 frames, labeled every 2nd frame
TINY_VIDEOS = dict(
    num_videos=3,
    num_frames=8,
    videos_per_split=(2, 1),
    persons_per_video=(1, 2),
    sparse_every=2,
    seed=0)


def missing_pieces() -> Optional[str]:
    """Name what the quickstart tests need but is missing, or None."""
    missing = [
        osp.relpath(path, REPO_ROOT) for path in (STAGE1_CFG, STAGE2_CFG)
        if not osp.isfile(path)
    ]
    try:
        from tools.quickstart.synthetic import \
            generate_posetrack_dataset  # noqa: F401
    except ImportError:
        missing.append('tools.quickstart.synthetic.'
                       'generate_posetrack_dataset')
    return ', '.join(missing) if missing else None


def generate_tiny_videos(root: str) -> str:
    """Generate the :data:`TINY_VIDEOS` dataset under ``root``.

    Args:
        root (str): Output folder.

    Returns:
        str: ``root``.
    """
    from tools.quickstart.synthetic import generate_posetrack_dataset
    generate_posetrack_dataset(root, **TINY_VIDEOS)
    return root


def data_options(data_root: str) -> List[str]:
    """``--cfg-options`` that point a quickstart config at ``data_root``.

    Args:
        data_root (str): Root of a generated PoseTrack18-format dataset.

    Returns:
        list[str]: The quickstart's overrides of every data path.
    """
    from tools.quickstart.pipeline import data_options
    return data_options(data_root)


def short_schedule(iters: int, batch_size: int) -> List[str]:
    """``--cfg-options`` for a run of ``iters`` iterations.

    Args:
        iters (int): Training iterations (also the validation and
            checkpoint interval).
        batch_size (int): Training samples per process and iteration.

    Returns:
        list[str]: ``key=value`` overrides, logging every iteration.
    """
    return [
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'param_scheduler.0.end={iters}',
        f'default_hooks.checkpoint.interval={iters}',
        'default_hooks.logger.interval=1',
        f'train_dataloader.batch_size={batch_size}',
        'log_processor.window_size=1'
    ]
