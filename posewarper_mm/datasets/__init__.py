"""Datasets and transforms for video pose estimation."""
from .posetrack_video_pair_dataset import PoseTrackVideoPairDataset
from .temporal_window import TemporalWindow, clamped_frame_numbers
from .transforms import (MULTI_FRAME_META_KEYS, LoadVideoFrames,
                         PackVideoPoseInputs, RandomKeyFrameOcclusion)

__all__ = [
    'LoadVideoFrames', 'MULTI_FRAME_META_KEYS', 'PackVideoPoseInputs',
    'PoseTrackVideoPairDataset', 'RandomKeyFrameOcclusion', 'TemporalWindow',
    'clamped_frame_numbers']
