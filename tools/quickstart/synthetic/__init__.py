"""Synthetic PoseTrack18-format videos of walking articulated figures."""
from .generator import generate_posetrack_dataset, split_video_counts
from .motion import MAX_OCCLUDERS, OCCLUDER_SPEED, SHAKE_BLUR_STRENGTH
from .skeleton import KEYPOINT_NAMES

__all__ = [
    'generate_posetrack_dataset', 'split_video_counts', 'KEYPOINT_NAMES',
    'OCCLUDER_SPEED', 'MAX_OCCLUDERS', 'SHAKE_BLUR_STRENGTH']
