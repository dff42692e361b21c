"""Data transforms for multi-frame samples."""
from .formatting import PackVideoPoseInputs
from .load_video_frames import MULTI_FRAME_META_KEYS, LoadVideoFrames

__all__ = ['LoadVideoFrames', 'PackVideoPoseInputs', 'MULTI_FRAME_META_KEYS']
