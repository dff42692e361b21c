"""Key frame + supporting frames over a frame stream, in bounded memory."""
from collections import deque
from dataclasses import dataclass
from typing import Deque, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from posewarper_mm.datasets.frame_sampling import (DEFAULT_TEST_FRAME_INDICES,
                                                   DEFAULT_TEST_FRAME_WEIGHTS,
                                                   check_frame_weights,
                                                   key_first)


@dataclass
class FrameWindow:
    """The frames used to estimate the poses of one key frame.

    Attributes:
        index (int): Index of the key frame in the stream (0-based).
        frames (list[np.ndarray]): Key frame first, then the supporting
            frames by ascending requested offset (T arrays (H, W, 3)).
        offsets (np.ndarray): Requested offsets, key first, int64 (T,).
        frame_indices (np.ndarray): Stream indices actually used after
            clamping to the video, int64 (T,).
        weights (np.ndarray): Aggregation weights, key first, float32 (T,).
    """
    index: int
    frames: List[np.ndarray]
    offsets: np.ndarray
    frame_indices: np.ndarray
    weights: np.ndarray

    @property
    def key_frame(self) -> np.ndarray:
        """The key frame (H, W, 3)."""
        return self.frames[0]


def online_frame_offsets(
        offsets: Sequence[int], weights: Sequence[float]
) -> Tuple[Tuple[int, ...], Tuple[float, ...]]:
    """Keep the offsets <= 0 and renormalise their weights to sum to 1.

    ``(-2, -1, 0, 1, 2)`` with ``(0.1, 0.25, 0.3, 0.25, 0.1)`` becomes
    ``(-2, -1, 0)`` with ``(0.1, 0.25, 0.3) / 0.65``.

    Raises:
        ValueError: If the past frames and key frame have zero total
            weight, or lengths differ.
    """
    if len(offsets) != len(weights):
        raise ValueError(f'{len(offsets)} offsets but {len(weights)} '
                         'weights')
    kept = [(int(o), float(w)) for o, w in zip(offsets, weights) if o <= 0]
    total = sum(w for _, w in kept)
    if not kept or total <= 0:
        raise ValueError(
            f'online mode needs the key frame or past frames with a '
            f'positive weight; offsets {list(offsets)}, weights '
            f'{list(weights)}')
    return (tuple(o for o, _ in kept), tuple(w / total for _, w in kept))


class TemporalWindowIterator:
    """Turn a stream of frames into one :class:`FrameWindow` per frame.

    Supporting frame ``t + offset`` is clamped to ``[0, last]`` (the first
    and last frame of the stream), so the start and the end of a video,
    and videos shorter than the window, reuse their first / last frame.
    Only ``max(offsets) - min(offsets) + 1`` frames are kept in a ring
    buffer; a window is emitted as soon as the frame ``t + max(offsets)``
    has been read (or the stream ended), so with offsets <= 0 (online mode)
    no frame after the key frame is ever read.

    Frames of an emitted window stay valid, but the iterator keeps no
    reference to frames outside its buffer: consumers that do not keep
    windows use bounded memory.

    Args:
        frames (Iterable[np.ndarray]): The frame stream (e.g. a
            :class:`~.frame_source.VideoFileSource`).
        offsets (Sequence[int]): Distinct offsets including 0, any order.
        weights (Sequence[float]): One weight per offset (same order),
            non-negative, summing to 1.
        online (bool): Require offsets <= 0. Defaults to False.
    """

    def __init__(self,
                 frames: Iterable[np.ndarray],
                 offsets: Sequence[int] = DEFAULT_TEST_FRAME_INDICES,
                 weights: Sequence[float] = DEFAULT_TEST_FRAME_WEIGHTS,
                 online: bool = False) -> None:
        offsets = [int(o) for o in offsets]
        if 0 not in offsets or len(set(offsets)) != len(offsets):
            raise ValueError('offsets must be distinct and contain the key '
                             f'frame 0, got {offsets}')
        if online and max(offsets) > 0:
            raise ValueError(
                f'online mode uses past frames only, got offsets {offsets};'
                ' see online_frame_offsets()')
        checked = check_frame_weights(weights, len(offsets),
                                      'one per offset')
        self.offsets, self.weights = key_first(offsets, checked)
        self.frames = frames
        self.online = online
        self.before = -int(self.offsets.min())
        self.after = int(self.offsets.max())
        self.window_size = self.before + self.after + 1
        self.buffer: Deque[Tuple[int, np.ndarray]] = deque(
            maxlen=self.window_size)
        self.num_read = 0

    def _window(self, key: int, last: Optional[int]) -> FrameWindow:
        first = self.buffer[0][0]
        hi = self.num_read - 1 if last is None else last
        indices = np.clip(key + self.offsets, 0, hi).astype(np.int64)
        frames = [self.buffer[int(i) - first][1] for i in indices]
        return FrameWindow(
            index=key,
            frames=frames,
            offsets=self.offsets.copy(),
            frame_indices=indices,
            weights=self.weights.copy())

    def __iter__(self) -> Iterator[FrameWindow]:
        self.buffer.clear()
        self.num_read = 0
        next_key = 0
        for frame in self.frames:
            self.buffer.append((self.num_read, frame))
            self.num_read += 1
            del frame
            while next_key + self.after <= self.num_read - 1:
                yield self._window(next_key, None)
                next_key += 1
        last = self.num_read - 1
        while next_key <= last:
            yield self._window(next_key, last)
            next_key += 1
        self.buffer.clear()
