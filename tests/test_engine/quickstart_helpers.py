"""Helpers for tool tests that run the quickstart configs on tiny videos."""
import os.path as osp
from typing import List, Optional

from tiny_topdown_experiment import REPO_ROOT

from posewarper_mm.utils.quickstart_utils import data_options  # noqa: F401

STAGE1_CFG = osp.join(REPO_ROOT, 'configs', 'quickstart',
                      'posewarper-stage1_hrnet-tiny_synthetic.py')
STAGE2_CFG = osp.join(REPO_ROOT, 'configs', 'quickstart',
                      'posewarper_hrnet-tiny_synthetic.py')
EVAL_TOOL = osp.join(REPO_ROOT, 'tools', 'eval_posetrack.py')


def missing_pieces() -> Optional[str]:
    """Name what the quickstart tests need but is missing, or None."""
    missing = [
        osp.relpath(path, REPO_ROOT) for path in (STAGE1_CFG, STAGE2_CFG)
        if not osp.isfile(path)
    ]
    try:
        from posewarper_mm.datasets.synthetic import \
            generate_posetrack_dataset  # noqa: F401
    except ImportError:
        missing.append('posewarper_mm.datasets.synthetic.'
                       'generate_posetrack_dataset')
    return ', '.join(missing) if missing else None


def generate_tiny_videos(root: str) -> str:
    """Generate 2 training and 1 validation video of 8 frames."""
    from posewarper_mm.datasets.synthetic import generate_posetrack_dataset
    generate_posetrack_dataset(
        root,
        num_videos=3,
        num_frames=8,
        videos_per_split=(2, 1),
        persons_per_video=(1, 2),
        sparse_every=2,
        seed=0)
    return root


def short_schedule(iters: int, batch_size: int) -> List[str]:
    """``--cfg-options`` for a run of ``iters`` iterations."""
    return [
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'param_scheduler.0.end={iters}',
        f'default_hooks.checkpoint.interval={iters}',
        'default_hooks.logger.interval=1',
        f'train_dataloader.batch_size={batch_size}',
        'log_processor.window_size=1'
    ]
