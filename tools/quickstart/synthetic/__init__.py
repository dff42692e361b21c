"""Synthetic PoseTrack18-format videos of walking articulated figures."""
from .annotations import annotation_id, image_id, video_folder
from .generator import generate_posetrack_dataset, split_video_counts
from .motion import MAX_OCCLUDERS, OCCLUDER_SPEED, SHAKE_BLUR_STRENGTH
from .skeleton import KEYPOINT_NAMES, SKELETON_1BASED

__all__ = [
    'generate_posetrack_dataset', 'split_video_counts', 'image_id',
    'annotation_id', 'video_folder', 'KEYPOINT_NAMES', 'SKELETON_1BASED',
    'OCCLUDER_SPEED', 'MAX_OCCLUDERS', 'SHAKE_BLUR_STRENGTH'
]
