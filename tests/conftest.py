"""Shared pytest fixtures and helpers for the posewarper_mm test suite."""
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
