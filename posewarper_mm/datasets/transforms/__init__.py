"""Data transforms for multi-frame samples."""
from .formatting import PackVideoPoseInputs
from .key_frame_occlusion import RandomKeyFrameOcclusion
from .load_video_frames import MULTI_FRAME_META_KEYS, LoadVideoFrames

__all__ = [
    'LoadVideoFrames', 'PackVideoPoseInputs', 'RandomKeyFrameOcclusion',
    'MULTI_FRAME_META_KEYS']
