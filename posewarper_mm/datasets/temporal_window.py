"""The temporal window: frame offsets around a key frame and their weights.

Models take the frames key first, then by ascending offset; supporting
frame ``key + offset`` is clamped to the video (:func:`clamped_frame_numbers`)
in the dataset and in the video stream alike. Training weights default to
``[0.0, 1/n, ...]``: the loss is on the warped supporting frames only.
"""
from dataclasses import dataclass
from typing import Iterable, List, Sequence, Tuple, Union

import numpy as np

DEFAULT_TEST_OFFSETS = (-2, -1, 0, 1, 2)
DEFAULT_TEST_WEIGHTS = (0.1, 0.25, 0.3, 0.25, 0.1)
DEFAULT_TRAIN_FRAME_RANGE = (-2, 2)


def clamped_frame_numbers(key_frame: int, offsets: Sequence[int],
                          num_frames_in_video: int,
                          index_base: int = 0) -> List[int]:
    """T frame numbers: ``key_frame``, then ``key_frame + offset`` for
    the key-first ``offsets[1:]``, clamped to the video's frames
    ``[index_base, index_base + num_frames_in_video - 1]``."""
    last = index_base + max(int(num_frames_in_video), 1) - 1
    return [key_frame] + [int(np.clip(key_frame + int(off), index_base, last))
                          for off in offsets[1:]]


def check_frame_weights(weights: Sequence[float], length: int,
                        what: str) -> np.ndarray:
    """``length`` non-negative weights summing to 1, float32 (length,);
    a ValueError names ``what`` for a wrong length."""
    arr = np.asarray(list(weights), dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] != length:
        raise ValueError(f'frame_weights {list(weights)} must have '
                         f'{length} values ({what})')
    if np.any(arr < 0):
        raise ValueError(
            f'frame_weights must be non-negative, got {list(weights)}')
    if not np.isclose(arr.sum(), 1.0, atol=1e-6):
        raise ValueError(f'frame_weights must sum to 1, got {list(weights)} '
                         f'(sum {arr.sum():.6g})')
    return arr.astype(np.float32)


def check_frame_offsets(offsets: Iterable) -> Tuple[int, ...]:
    """Distinct integral offsets that contain 0, as ints in the given order.

    Raises:
        ValueError: For a non-integer, a repeated offset or no 0.
    """
    given = list(offsets)
    values = []
    for value in given:
        try:
            as_int = int(value)
        except (TypeError, ValueError):
            as_int = None
        if as_int is None or as_int != value:
            raise ValueError(f'frame offsets must be integers, got {given}')
        values.append(as_int)
    if 0 not in values or len(set(values)) != len(values):
        raise ValueError('frame offsets must be distinct and contain the '
                         f'key frame 0, got {given}')
    return tuple(values)


def default_train_weights(num_sampled_frames: int) -> Tuple[float, ...]:
    """Key-first training weights ``[0.0, 1/n, ..., 1/n]``."""
    n = int(num_sampled_frames)
    return (0.0, ) + (1.0 / n, ) * n


def normalize_frame_range(
        frame_range: Union[int, Sequence[int]]) -> Tuple[int, int]:
    """``k`` (meaning ``[-k, k]``) or ``[low, high]`` as ``(low, high)``.

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


@dataclass(frozen=True)
class TemporalWindow:
    """T distinct offsets around the key frame (which is 0) and their T
    aggregation weights, checked (:func:`check_frame_offsets`,
    :func:`check_frame_weights`) and kept as tuples in the given order.
    The default is PoseWarper's test window."""
    offsets: Tuple[int, ...] = DEFAULT_TEST_OFFSETS
    weights: Tuple[float, ...] = DEFAULT_TEST_WEIGHTS

    def __post_init__(self) -> None:
        offsets = check_frame_offsets(self.offsets)
        check_frame_weights(self.weights, len(offsets), 'one per offset')
        object.__setattr__(self, 'offsets', offsets)
        object.__setattr__(self, 'weights',
                           tuple(float(w) for w in self.weights))

    @classmethod
    def with_default_weights(cls, offsets: Iterable) -> 'TemporalWindow':
        """PoseWarper's weights for ``(-2, ..., 2)``, uniform otherwise."""
        offsets = check_frame_offsets(offsets)
        if offsets == DEFAULT_TEST_OFFSETS:
            return cls(offsets, DEFAULT_TEST_WEIGHTS)
        return cls(offsets, (1.0 / len(offsets), ) * len(offsets))

    @property
    def num_frames(self) -> int:
        """T, the number of frames of the window."""
        return len(self.offsets)

    def key_first(self) -> 'TemporalWindow':
        """The same window ordered key (0) first, then ascending offsets."""
        rest = sorted((i for i, o in enumerate(self.offsets) if o != 0),
                      key=lambda i: self.offsets[i])
        order = [self.offsets.index(0)] + rest
        return TemporalWindow(tuple(self.offsets[i] for i in order),
                              tuple(self.weights[i] for i in order))

    def online(self) -> 'TemporalWindow':
        """The :meth:`subset` of the offsets <= 0, for a causal stream.

        Raises:
            ValueError: If their weights sum to zero.
        """
        try:
            return self.subset(o for o in self.offsets if o <= 0)
        except ValueError as err:
            raise ValueError(f'online mode: {err}') from None

    def subset(self, offsets: Iterable) -> 'TemporalWindow':
        """A shorter window of the same model: ``offsets`` (in this
        window's order) with their weights renormalised to sum to 1.

        Raises:
            ValueError: For an offset not in the window, no 0, or weights
                summing to zero.
        """
        wanted = check_frame_offsets(offsets)
        missing = [o for o in wanted if o not in self.offsets]
        if missing:
            raise ValueError(f'offsets {missing} are not in the window '
                             f'{list(self.offsets)}')
        kept = [(o, w) for o, w in zip(self.offsets, self.weights)
                if o in wanted]
        total = sum(w for _, w in kept)
        if total <= 0:
            raise ValueError(
                f'the kept offsets {list(wanted)} have zero total weight; '
                f'window offsets {list(self.offsets)}, weights '
                f'{list(self.weights)}')
        return TemporalWindow(
            tuple(o for o, _ in kept), tuple(w / total for _, w in kept))

    def offsets_array(self) -> np.ndarray:
        """The offsets as int64 (T,), in the stored order."""
        return np.asarray(self.offsets, dtype=np.int64)

    def weights_array(self) -> np.ndarray:
        """The weights as float32 (T,), in the stored order."""
        return np.asarray(self.weights, dtype=np.float64).astype(np.float32)


DEFAULT_TEST_WINDOW = TemporalWindow()
