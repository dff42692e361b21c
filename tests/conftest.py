"""Shared pytest fixtures of the posewarper_mm test suite.

Plain helpers live in :mod:`tests.testing`. The fixtures below
the default scope (tiny generated datasets, the tiny model, clips) serve
tests in several folders; they import their helpers when first used.
"""
import os.path as osp
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA = REPO_ROOT.parent / 'shared' / 'data' / 'posetrack18_sample'


@pytest.fixture(scope='session')
def repo_root() -> Path:
    """The repository root."""
    return REPO_ROOT


@pytest.fixture(scope='session')
def posetrack18_sample() -> Path:
    """Real PoseTrack18 samples shipped beside the repository, if present."""
    if not SAMPLE_DATA.is_dir():
        pytest.skip(f'PoseTrack18 sample data not found at {SAMPLE_DATA}')
    return SAMPLE_DATA


@pytest.fixture(autouse=True)
def mmpose_default_scope():
    """Every test starts in mmpose's scope, as configs and tools do.

    A Runner built without ``default_scope`` switches mmengine's global
    default scope to ``'mmengine'``; registries would then resolve names
    in the wrong scope for the tests that follow.
    """
    from mmengine.registry import init_default_scope
    init_default_scope('mmpose')
    yield


@pytest.fixture(scope='session')
def tiny_model():
    """The quickstart stage-2 model (tiny HRNet), random weights, CPU."""
    import torch

    from tests.testing.clips import build_tiny_model
    torch.set_num_threads(1)
    return build_tiny_model()


@pytest.fixture(scope='session')
def tiny_checkpoint(tiny_model, tmp_path_factory) -> str:
    """:func:`tiny_model` saved as an mmpose checkpoint."""
    from tests.testing.clips import save_tiny_checkpoint
    path = tmp_path_factory.mktemp('ckpt') / 'posewarper_tiny.pth'
    return save_tiny_checkpoint(tiny_model, str(path))


@pytest.fixture(scope='session')
def synthetic(tmp_path_factory) -> dict:
    """2 train + 1 val generated videos (``clips.make_synthetic``)."""
    from tests.testing.clips import make_synthetic
    return make_synthetic(str(tmp_path_factory.mktemp('synthetic')))


@pytest.fixture(scope='session')
def clip_mp4(synthetic, tmp_path_factory) -> str:
    """The generated val video as an mp4 (10 frames, 160x120)."""
    import cv2

    from tests.testing.clips import clip_frames, write_video
    frames = [cv2.imread(f) for f in clip_frames(synthetic)]
    path = tmp_path_factory.mktemp('clip') / '000003_mpii_val.mp4'
    return write_video(frames, str(path))


@pytest.fixture(scope='session')
def clip_dir(synthetic) -> str:
    """Folder of the generated val video frames."""
    from tests.testing.clips import clip_frames
    return osp.dirname(clip_frames(synthetic)[0])


@pytest.fixture(scope='session')
def tiny_posetrack(tmp_path_factory) -> dict:
    """3 videos (2 train, 1 val) x 10 frames of 96x72, 1-2 figures each."""
    from tools.quickstart.synthetic import generate_posetrack_dataset
    root = tmp_path_factory.mktemp('tiny_posetrack')
    return generate_posetrack_dataset(
        str(root),
        num_frames=10,
        width=96,
        height=72,
        persons_per_video=(1, 2),
        videos_per_split=(2, 1),
        sparse_every=5,
        seed=0)


@pytest.fixture
def tiny_root(tiny_posetrack) -> Path:
    """Root folder of the tiny synthetic dataset (prefix of file names)."""
    return Path(tiny_posetrack['root'])
