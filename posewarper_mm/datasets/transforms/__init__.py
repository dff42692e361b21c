"""Data transforms for multi-frame samples."""
from .load_video_frames import MULTI_FRAME_META_KEYS, LoadVideoFrames

__all__ = ['LoadVideoFrames', 'MULTI_FRAME_META_KEYS']
