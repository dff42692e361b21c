"""Frame samplers: which frames of its video a dataset sample uses.

A sampler gives the key-first offsets of every sample (key frame = 0) and
the aggregation weights of its T frames. The dataset picks one sampler
when it is built (:func:`build_frame_sampler`), from its
``frame_sampler_mode``:

- ``'single'`` (:class:`SingleFrameSampler`, stage 1, also chosen by
  ``single_frame=True``): the key frame alone, T = 1;
- ``'fixed'`` (:class:`FixedOffsetsSampler`, test default): the same
  offsets for every sample;
- ``'per_iteration'`` (:class:`PerIterationSampler`, training default):
  supporting offsets drawn again at every access;
- ``'fixed_at_build'`` (:class:`FixedAtBuildSampler`, mmpose 0.x): the same
  draw, done once per sample when the annotations are loaded.

The frame numbers of a sample are the key frame's number plus the
offsets, clamped to the video (:func:`clamped_frame_numbers`).
"""
from typing import ClassVar, Dict, List, Optional, Sequence, Type, Union

import numpy as np

from .temporal_window import (DEFAULT_TEST_OFFSETS, DEFAULT_TRAIN_FRAME_RANGE,
                              TemporalWindow, check_frame_weights,
                              default_train_weights, normalize_frame_range)


def clamped_frame_numbers(key_frame: int, offsets: Sequence[int],
                          num_frames_in_video: int,
                          index_base: int = 0) -> List[int]:
    """Frame numbers of a sample: the key frame, then the clamped others.

    Supporting frame ``key_frame + offset`` is clamped to ``[index_base,
    index_base + num_frames_in_video - 1]`` (a video of 0 or 1 frames
    clamps every offset to ``index_base``). The key frame keeps its number.

    Args:
        key_frame (int): Number of the key frame.
        offsets (Sequence[int]): Key-first offsets (T,); ``offsets[0]`` is
            the key frame's.
        num_frames_in_video (int): Frames of the video (``nframes``).
        index_base (int): Number of the first frame of a video.

    Returns:
        list[int]: T frame numbers, key first.
    """
    last = index_base + max(int(num_frames_in_video), 1) - 1
    return [key_frame] + [
        int(np.clip(key_frame + int(off), index_base, last))
        for off in offsets[1:]
    ]


class FrameSampler:
    """Base class: the key-first offsets and weights of each sample.

    Args:
        weights (np.ndarray): Key-first weights, float32 (T,).
    """
    mode: ClassVar[str] = ''

    def __init__(self, weights: np.ndarray) -> None:
        self.weights = weights

    @property
    def num_frames(self) -> int:
        """T, the frames of every sample (key included)."""
        return len(self.weights)

    def prepare(self, data_list: List[dict]) -> None:
        """Called once on the loaded data infos (before serialisation)."""

    def offsets(self, info: dict) -> np.ndarray:
        """Key-first offsets of the sample ``info``, int64 (T,)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(mode={self.mode!r}, '
                f'weights={self.weights.tolist()})')


class SingleFrameSampler(FrameSampler):
    """The key frame alone (stage 1): offsets ``[0]``, weights ``[1.0]``.

    Args:
        weights (Sequence[float], optional): One weight; must be ``[1.0]``.
    """
    mode = 'single'

    def __init__(self, weights: Optional[Sequence[float]] = None) -> None:
        super().__init__(
            check_frame_weights([1.0] if weights is None else weights, 1,
                                'single frame'))
        self._offsets = np.zeros(1, dtype=np.int64)

    def offsets(self, info: dict) -> np.ndarray:
        """``[0]``."""
        return self._offsets


class FixedOffsetsSampler(FrameSampler):
    """The same offsets for every sample (testing).

    Args:
        offsets (Sequence[int]): Distinct offsets that contain 0.
        weights (Sequence[float], optional): In the order of ``offsets``.
            Default: see :meth:`TemporalWindow.with_default_weights`.
    """
    mode = 'fixed'

    def __init__(self,
                 offsets: Sequence[int] = DEFAULT_TEST_OFFSETS,
                 weights: Optional[Sequence[float]] = None) -> None:
        window = (
            TemporalWindow.with_default_weights(offsets)
            if weights is None else TemporalWindow(offsets, weights))
        self.window = window.key_first()
        super().__init__(self.window.weights_array())
        self._offsets = self.window.offsets_array()

    def offsets(self, info: dict) -> np.ndarray:
        """The window's key-first offsets."""
        return self._offsets


class RandomOffsetsSampler(FrameSampler):
    """Base of the samplers that draw supporting offsets.

    ``num_sampled_frames`` offsets are drawn uniformly from the inclusive
    ``frame_range`` (0 possible) and sorted; the key offset 0 comes first.

    Args:
        frame_range (int | Sequence[int]): ``k`` means ``[-k, k]``.
        num_sampled_frames (int): Supporting frames per sample.
        weights (Sequence[float], optional): Key first, then one per
            supporting frame. Default: :func:`default_train_weights`.
    """

    def __init__(self,
                 frame_range: Union[int, Sequence[int]] = (
                     DEFAULT_TRAIN_FRAME_RANGE),
                 num_sampled_frames: int = 1,
                 weights: Optional[Sequence[float]] = None) -> None:
        self.frame_range = normalize_frame_range(frame_range)
        if int(num_sampled_frames) < 1:
            raise ValueError('num_sampled_frames must be >= 1, got '
                             f'{num_sampled_frames}')
        self.num_sampled_frames = int(num_sampled_frames)
        if weights is None:
            weights = default_train_weights(self.num_sampled_frames)
        super().__init__(
            check_frame_weights(weights, self.num_sampled_frames + 1,
                                'key frame first, then each sampled frame'))

    def draw(self, rng: Optional[np.random.Generator] = None) -> np.ndarray:
        """Key offset 0, then sorted offsets drawn from ``frame_range``.

        Without ``rng`` the global ``numpy.random`` state is used (seeded
        per dataloader worker by mmengine).

        Returns:
            np.ndarray: int64 (T,).
        """
        low, high = self.frame_range
        n = self.num_sampled_frames
        if rng is None:
            drawn = np.random.randint(low, high + 1, n)
        else:
            drawn = rng.integers(low, high + 1, n)
        return np.concatenate([[0], np.sort(drawn)]).astype(np.int64)


class PerIterationSampler(RandomOffsetsSampler):
    """New supporting offsets at every access (official PoseWarper)."""
    mode = 'per_iteration'

    def offsets(self, info: dict) -> np.ndarray:
        """A fresh draw from the global ``numpy.random`` state."""
        return self.draw()


class FixedAtBuildSampler(RandomOffsetsSampler):
    """One draw per sample when the annotations are loaded (mmpose 0.x).

    The draws use a generator seeded by ``seed`` and are stored in the
    data infos as ``frame_offsets``.

    Args:
        seed (int): Seed of the draws.
        **kwargs: See :class:`RandomOffsetsSampler`.
    """
    mode = 'fixed_at_build'

    def __init__(self, seed: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.seed = seed

    def prepare(self, data_list: List[dict]) -> None:
        """Draw and store the offsets of every sample, in order."""
        rng = np.random.default_rng(self.seed)
        for info in data_list:
            info['frame_offsets'] = self.draw(rng)

    def offsets(self, info: dict) -> np.ndarray:
        """The offsets drawn for this sample by :meth:`prepare`."""
        return np.asarray(info['frame_offsets'], dtype=np.int64)


FRAME_SAMPLERS: Dict[str, Type[FrameSampler]] = {
    cls.mode: cls
    for cls in (SingleFrameSampler, FixedOffsetsSampler, PerIterationSampler,
                FixedAtBuildSampler)
}


def build_frame_sampler(mode: Optional[str] = None,
                        test_mode: bool = False,
                        frame_range: Union[int, Sequence[int]] = (
                            DEFAULT_TRAIN_FRAME_RANGE),
                        num_sampled_frames: int = 1,
                        frame_offsets: Sequence[int] = DEFAULT_TEST_OFFSETS,
                        frame_weights: Optional[Sequence[float]] = None,
                        seed: int = 0) -> FrameSampler:
    """The sampler of ``mode`` with the arguments that mode uses.

    Args:
        mode (str, optional): A key of :data:`FRAME_SAMPLERS`. Default:
            ``'fixed'`` when ``test_mode`` else ``'per_iteration'``.
        test_mode (bool): Whether the dataset is a test set.
        frame_range (int | Sequence[int]): Random modes.
        num_sampled_frames (int): Random modes.
        frame_offsets (Sequence[int]): ``'fixed'`` mode.
        frame_weights (Sequence[float], optional): Key first for the
            random and single modes, in the order of ``frame_offsets`` for
            ``'fixed'``.
        seed (int): ``'fixed_at_build'`` mode.

    Returns:
        FrameSampler: The sampler.

    Raises:
        ValueError: For an unknown mode or invalid arguments.
    """
    if mode is None:
        mode = 'fixed' if test_mode else 'per_iteration'
    if mode not in FRAME_SAMPLERS:
        raise ValueError(f'frame_sampler_mode must be one of '
                         f'{tuple(FRAME_SAMPLERS)}, got {mode!r}')
    if mode == 'single':
        return SingleFrameSampler(frame_weights)
    if mode == 'fixed':
        return FixedOffsetsSampler(frame_offsets, frame_weights)
    kwargs = dict(
        frame_range=frame_range,
        num_sampled_frames=num_sampled_frames,
        weights=frame_weights)
    if mode == 'fixed_at_build':
        return FixedAtBuildSampler(seed=seed, **kwargs)
    return PerIterationSampler(**kwargs)


__all__ = [
    'FRAME_SAMPLERS', 'FixedAtBuildSampler', 'FixedOffsetsSampler',
    'FrameSampler', 'PerIterationSampler', 'RandomOffsetsSampler',
    'SingleFrameSampler', 'build_frame_sampler', 'clamped_frame_numbers'
]
