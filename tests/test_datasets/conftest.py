"""Fixtures for dataset tests: tiny synthetic PoseTrack18 data."""
from pathlib import Path

import pytest

from posewarper_mm.datasets.synthetic import generate_posetrack_dataset


@pytest.fixture(scope='session')
def tiny_posetrack(tmp_path_factory) -> dict:
    """3 videos (2 train, 1 val) x 10 frames of 96x72, 1-2 figures each."""
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
