"""Which frames of its video each dataset sample uses."""
from typing import List, Optional, Sequence, Union

import numpy as np

from ..errors import ConfigError
from .temporal_window import (DEFAULT_TEST_OFFSETS, DEFAULT_TRAIN_FRAME_RANGE,
                              TemporalWindow, check_frame_offsets,
                              check_frame_weights, default_train_weights,
                              normalize_frame_range)

FRAME_SAMPLER_MODES = ('single', 'fixed', 'per_iteration', 'fixed_at_build')
_DRAWN = ('frame_range', 'num_sampled_frames', 'frame_weights')
# the arguments each mode reads (any other one given is an error)
MODE_ARGUMENTS = {
    'single': ('frame_weights', ),
    'fixed': ('frame_offsets', 'frame_weights'),
    'per_iteration': _DRAWN,
    'fixed_at_build': _DRAWN + ('seed', ),
}


class FrameSampler:
    """The key-first offsets (key frame 0) and weights of every sample.

    Modes: ``'single'`` (the key frame alone); ``'fixed'`` (``frame_offsets``
    for every sample); ``'per_iteration'`` (``num_sampled_frames`` sorted
    offsets drawn from ``frame_range`` at every access, as the official
    PoseWarper); ``'fixed_at_build'`` (drawn once per sample at loading,
    seeded by ``seed``, as mmpose 0.x). An argument that the mode does not
    read (:data:`MODE_ARGUMENTS`) is an error, and ``frame_offsets`` must
    contain the key frame 0 whatever the mode. Arguments left at None take
    their defaults.

    Args:
        mode (str, optional): Default ``'fixed'`` when ``test_mode`` else
            ``'per_iteration'``.
        test_mode (bool): Whether the dataset is a test set.
        frame_range (int | Sequence[int], optional): ``k`` means ``[-k, k]``;
            default ``(-2, 2)``.
        num_sampled_frames (int, optional): Supporting frames of the
            random modes; default 1.
        frame_offsets (Sequence[int], optional): Offsets of ``'fixed'``;
            default ``(-2, -1, 0, 1, 2)``.
        frame_weights (Sequence[float], optional): Key first, or in the
            order of ``frame_offsets`` for ``'fixed'`` (default
            :meth:`TemporalWindow.with_default_weights`, or
            :func:`default_train_weights` when drawn).
        seed (int, optional): Seed of ``'fixed_at_build'``; default 0.

    Attributes:
        weights (np.ndarray): Key-first weights, float32 (T,).

    Raises:
        ConfigError: For an unknown mode, an argument the mode does not
            read, or invalid offsets.
        ValueError: For invalid weights or ranges.
    """

    def __init__(self, mode: Optional[str] = None, test_mode: bool = False,
                 frame_range: Optional[Union[int, Sequence[int]]] = None,
                 num_sampled_frames: Optional[int] = None,
                 frame_offsets: Optional[Sequence[int]] = None,
                 frame_weights: Optional[Sequence[float]] = None,
                 seed: Optional[int] = None) -> None:
        if mode is None:
            mode = 'fixed' if test_mode else 'per_iteration'
        if mode not in FRAME_SAMPLER_MODES:
            raise ConfigError(f'frame_sampler_mode must be one of '
                              f'{FRAME_SAMPLER_MODES}, got {mode!r}')
        if frame_offsets is not None:
            try:
                check_frame_offsets(frame_offsets)
            except ValueError as err:
                raise ConfigError(str(err)) from None
        given = dict(frame_range=frame_range,
                     num_sampled_frames=num_sampled_frames,
                     frame_offsets=frame_offsets, seed=seed)
        unused = [name for name, value in given.items()
                  if value is not None and name not in MODE_ARGUMENTS[mode]]
        if unused:
            raise ConfigError(
                f'{" and ".join(unused)} given, but frame_sampler_mode='
                f'{mode!r} does not read it: that mode reads '
                f'{", ".join(MODE_ARGUMENTS[mode])}; remove {unused[0]} or '
                'choose a frame_sampler_mode that reads it')
        if frame_offsets is None:
            frame_offsets = DEFAULT_TEST_OFFSETS
        if frame_range is None:
            frame_range = DEFAULT_TRAIN_FRAME_RANGE
        num_sampled_frames = 1 if num_sampled_frames is None else \
            num_sampled_frames
        self.mode = mode
        self.seed = 0 if seed is None else seed
        if mode == 'single':
            self.weights = check_frame_weights(
                [1.0] if frame_weights is None else frame_weights, 1,
                'single frame')
            self._offsets = np.zeros(1, dtype=np.int64)
        elif mode == 'fixed':
            window = TemporalWindow.with_default_weights(frame_offsets) \
                if frame_weights is None else TemporalWindow(
                    frame_offsets, frame_weights)
            window = window.key_first()
            self.weights = window.weights_array()
            self._offsets = window.offsets_array()
        else:
            self.frame_range = normalize_frame_range(frame_range)
            if int(num_sampled_frames) < 1:
                raise ValueError('num_sampled_frames must be >= 1, got '
                                 f'{num_sampled_frames}')
            num = self.num_sampled_frames = int(num_sampled_frames)
            self.weights = check_frame_weights(
                default_train_weights(num)
                if frame_weights is None else frame_weights, num + 1,
                'key frame first, then each sampled frame')

    @property
    def num_frames(self) -> int:
        """T, the frames of every sample (key included)."""
        return len(self.weights)

    def draw(self, rng: Optional[np.random.Generator] = None) -> np.ndarray:
        """Offsets int64 (T,): 0, then the sorted draws (from the global
        ``numpy.random`` state, seeded per dataloader worker by mmengine,
        when ``rng`` is None)."""
        low, high = self.frame_range
        n = self.num_sampled_frames
        drawn = np.random.randint(low, high + 1, n) if rng is None else \
            rng.integers(low, high + 1, n)
        return np.concatenate([[0], np.sort(drawn)]).astype(np.int64)

    def prepare(self, data_list: List[dict]) -> None:
        """Called once on the loaded data infos: the ``'fixed_at_build'``
        draws, stored in order as ``frame_offsets``."""
        if self.mode == 'fixed_at_build':
            rng = np.random.default_rng(self.seed)
            for info in data_list:
                info['frame_offsets'] = self.draw(rng)

    def offsets(self, info: dict) -> np.ndarray:
        """Key-first offsets of the sample ``info``, int64 (T,)."""
        if self.mode == 'per_iteration':
            return self.draw()
        if self.mode == 'fixed_at_build':
            return np.asarray(info['frame_offsets'], dtype=np.int64)
        return self._offsets

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(mode={self.mode!r}, '
                f'weights={self.weights.tolist()})')
