"""Datasets, transforms and synthetic data for video pose estimation."""
from .posetrack_parsing import PoseTrackFormatError
from .posetrack_video_pair_dataset import (MissingFrameWarning,
                                           PoseTrackVideoPairDataset)
from .synthetic import generate_posetrack_dataset
from .transforms import MULTI_FRAME_META_KEYS, LoadVideoFrames

__all__ = [
    'PoseTrackVideoPairDataset', 'PoseTrackFormatError',
    'MissingFrameWarning', 'LoadVideoFrames', 'MULTI_FRAME_META_KEYS',
    'generate_posetrack_dataset'
]
