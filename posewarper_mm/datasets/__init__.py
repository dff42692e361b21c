"""Datasets and transforms for video pose estimation."""
from ..errors import InputFileError, MissingFrameWarning
from .posetrack_video_pair_dataset import PoseTrackVideoPairDataset
from .transforms import MULTI_FRAME_META_KEYS, LoadVideoFrames

__all__ = [
    'PoseTrackVideoPairDataset', 'InputFileError', 'MissingFrameWarning',
    'LoadVideoFrames', 'MULTI_FRAME_META_KEYS'
]
