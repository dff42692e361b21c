"""Datasets and transforms for video pose estimation.

The synthetic data generator is imported only by those who use it:
``from posewarper_mm.datasets.synthetic import generate_posetrack_dataset``.
"""
from .posetrack_parsing import PoseTrackFormatError
from .posetrack_video_pair_dataset import (MissingFrameWarning,
                                           PoseTrackVideoPairDataset)
from .transforms import MULTI_FRAME_META_KEYS, LoadVideoFrames

__all__ = [
    'PoseTrackVideoPairDataset', 'PoseTrackFormatError',
    'MissingFrameWarning', 'LoadVideoFrames', 'MULTI_FRAME_META_KEYS'
]
