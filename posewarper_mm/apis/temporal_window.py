"""Key frame + supporting frames over a frame stream, in bounded memory."""
from collections import deque
from dataclasses import dataclass
from typing import Deque, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from posewarper_mm.datasets.temporal_window import (DEFAULT_TEST_OFFSETS,
                                                    DEFAULT_TEST_WEIGHTS,
                                                    TemporalWindow)


@dataclass
class FrameWindow:
    """The frames used to estimate the poses of one key frame.

    Attributes:
        index (int): Index of the key frame in the stream (0-based).
        frames (list[np.ndarray]): Key frame first, then the supporting
            frames by ascending requested offset (T arrays (H, W, 3)).
        offsets (np.ndarray): Requested offsets, key first, int64 (T,).
        frame_numbers (np.ndarray): Stream indices of the frames actually
            used after clamping to the video, int64 (T,).
        weights (np.ndarray): Aggregation weights, key first, float32 (T,).
    """
    index: int
    frames: List[np.ndarray]
    offsets: np.ndarray
    frame_numbers: np.ndarray
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
        ValueError: For an invalid window (see
            :class:`~posewarper_mm.datasets.temporal_window.TemporalWindow`)
            or if the past frames and key frame have zero total weight.
    """
    window = TemporalWindow(offsets, weights).online()
    return window.offsets, window.weights


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
                 offsets: Sequence[int] = DEFAULT_TEST_OFFSETS,
                 weights: Sequence[float] = DEFAULT_TEST_WEIGHTS,
                 online: bool = False) -> None:
        window = TemporalWindow(offsets, weights)
        if online and max(window.offsets) > 0:
            raise ValueError(
                'online mode uses past frames only, got offsets '
                f'{list(window.offsets)}; see online_frame_offsets()')
        self.window = window.key_first()
        self.offsets = self.window.offsets_array()
        self.weights = self.window.weights_array()
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
            frame_numbers=indices,
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
