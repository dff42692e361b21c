"""Supporting-frame offsets, weights and file paths for video samples."""
import os.path as osp
from typing import Optional, Sequence, Tuple, Union

import numpy as np

# PoseWarper's test-time aggregation weights for offsets [-2, -1, 0, 1, 2]
DEFAULT_TEST_FRAME_INDICES = (-2, -1, 0, 1, 2)
DEFAULT_TEST_FRAME_WEIGHTS = (0.1, 0.25, 0.3, 0.25, 0.1)


def normalize_frame_range(
        frame_range: Union[int, Sequence[int]]) -> Tuple[int, int]:
    """Turn ``k`` or ``[low, high]`` into ``(low, high)`` with low <= high.

    Raises:
        ValueError: For a negative ``k``, a wrong length or low > high.
    """
    if isinstance(frame_range, (int, np.integer)):
        if frame_range < 0:
            raise ValueError(f'frame_range must be >= 0, got {frame_range}')
        return -int(frame_range), int(frame_range)
    values = list(frame_range)
    if len(values) != 2 or not all(
            isinstance(v, (int, np.integer)) for v in values):
        raise ValueError('frame_range must be an int or two ints [low, '
                         f'high], got {frame_range!r}')
    low, high = int(values[0]), int(values[1])
    if low > high:
        raise ValueError(f'frame_range low > high: {frame_range!r}')
    return low, high


def check_frame_weights(weights: Sequence[float], length: int,
                        what: str) -> np.ndarray:
    """Validate aggregation weights.

    Args:
        weights (Sequence[float]): The weights.
        length (int): Expected number of weights.
        what (str): Description used in error messages.

    Returns:
        np.ndarray: float32 weights of shape (length,).

    Raises:
        ValueError: On a wrong length, negative values or a sum != 1.
    """
    arr = np.asarray(list(weights), dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] != length:
        raise ValueError(f'frame_weights {list(weights)} must have '
                         f'{length} values ({what})')
    if np.any(arr < 0):
        raise ValueError(
            f'frame_weights must be non-negative, got {list(weights)}')
    if not np.isclose(arr.sum(), 1.0, atol=1e-6):
        raise ValueError(
            f'frame_weights must sum to 1, got {list(weights)} (sum '
            f'{arr.sum():.6g})')
    return arr.astype(np.float32)


def key_first(offsets: Sequence[int],
              weights: Optional[np.ndarray] = None
              ) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Reorder offsets (and their weights) as key (0) first, then ascending.

    Args:
        offsets (Sequence[int]): Offsets that contain exactly one 0.
        weights (np.ndarray, optional): Weights aligned with ``offsets``.

    Returns:
        tuple: int64 offsets and (optionally) float32 weights, key first.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    order = np.argsort(offsets, kind='stable')
    key_pos = [i for i in order if offsets[i] == 0][:1]
    rest = [i for i in order if i not in key_pos]
    order = np.array(key_pos + rest, dtype=np.int64)
    out_w = None if weights is None else np.asarray(weights)[order]
    return offsets[order], out_w


def frame_index_from_name(file_name: str) -> int:
    """Frame index encoded in a file name such as ``.../000012.jpg``."""
    stem = osp.splitext(osp.basename(file_name))[0]
    if not stem.isdigit():
        raise ValueError(f'cannot read a frame index from {file_name!r}: '
                         'expected a numeric file name like 000012.jpg')
    return int(stem)


def support_frame_path(key_path: str, key_index: int, offset: int,
                       nframes: int, digits: int = 6,
                       index_base: int = 0) -> Tuple[str, int]:
    """Path of the frame at ``key_index + offset``, clamped to the video.

    The index is clamped to ``[index_base, index_base + nframes - 1]`` and
    written as ``str(index).zfill(digits)`` with the key frame's extension
    in the key frame's folder (PoseTrack18: ``digits=6, index_base=0``;
    PoseTrack17 as renamed by PoseWarper: ``digits=8, index_base=1``).

    Returns:
        tuple: (path, clamped frame index).
    """
    last = index_base + max(int(nframes), 1) - 1
    index = int(np.clip(key_index + offset, index_base, last))
    ext = osp.splitext(key_path)[1] or '.jpg'
    name = str(index).zfill(digits) + ext
    return osp.join(osp.dirname(key_path), name), index
