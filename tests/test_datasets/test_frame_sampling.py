"""The frame sampler of each dataset frame mode."""
import numpy as np
import pytest

from posewarper_mm.datasets.frame_sampling import (FRAME_SAMPLER_MODES,
                                                   MODE_ARGUMENTS,
                                                   FrameSampler)
from posewarper_mm.errors import ConfigError


@pytest.mark.parametrize('kwargs, mode', [
    (dict(), 'per_iteration'),
    (dict(test_mode=True), 'fixed'),
    (dict(mode='single', test_mode=True), 'single'),
    (dict(mode='fixed_at_build'), 'fixed_at_build'),
    (dict(mode='fixed'), 'fixed'),
])
def test_default_mode(kwargs, mode):
    sampler = FrameSampler(**kwargs)
    assert sampler.mode == mode
    assert repr(sampler).startswith(f"FrameSampler(mode='{mode}'")


def test_unknown_mode():
    with pytest.raises(ValueError, match='frame_sampler_mode must be one'):
        FrameSampler('random')


def test_default_weights_per_mode():
    np.testing.assert_array_equal(FrameSampler('single').weights,
                                  [1.0])
    np.testing.assert_allclose(
        FrameSampler(test_mode=True).weights,
        [0.3, 0.1, 0.25, 0.25, 0.1])
    sampler = FrameSampler(num_sampled_frames=2)
    np.testing.assert_allclose(sampler.weights, [0.0, 0.5, 0.5])
    assert sampler.num_frames == 3
    with pytest.raises(ValueError, match='num_sampled_frames'):
        FrameSampler(num_sampled_frames=0)


def test_fixed_offsets_key_first():
    sampler = FrameSampler('fixed', frame_offsets=[1, -1, 0],
                           frame_weights=[0.3, 0.2, 0.5])
    np.testing.assert_array_equal(sampler.offsets({}), [0, -1, 1])
    np.testing.assert_allclose(sampler.weights, [0.5, 0.2, 0.3])


def test_per_iteration_draws_from_global_state():
    sampler = FrameSampler(frame_range=3, num_sampled_frames=4)
    np.random.seed(7)
    first = [sampler.offsets({}) for _ in range(5)]
    np.random.seed(7)
    again = [sampler.offsets({}) for _ in range(5)]
    np.testing.assert_array_equal(first, again)
    for offsets in first:
        assert offsets[0] == 0 and offsets.dtype == np.int64
        assert list(offsets[1:]) == sorted(offsets[1:])
        assert np.all(np.abs(offsets) <= 3)


def test_fixed_at_build_draws_once_per_info():
    sampler = FrameSampler('fixed_at_build', frame_range=[-1, 4], seed=3)
    infos = [dict() for _ in range(20)]
    sampler.prepare(infos)
    drawn = [sampler.offsets(info) for info in infos]
    np.random.seed(0)
    assert all((sampler.offsets(info) == d).all()
               for info, d in zip(infos, drawn))
    assert len({int(d[1]) for d in drawn}) > 1
    assert all(-1 <= d[1] <= 4 for d in drawn)


@pytest.mark.parametrize('mode, kwargs, named', [
    ('per_iteration', dict(frame_offsets=[-1, 0, 1]), 'frame_offsets'),
    ('per_iteration', dict(seed=3), 'seed'),
    ('fixed', dict(frame_range=(-3, 3)), 'frame_range'),
    ('fixed', dict(num_sampled_frames=2), 'num_sampled_frames'),
    ('single', dict(frame_offsets=[0, 1]), 'frame_offsets'),
    ('fixed_at_build', dict(frame_offsets=[0, 1]), 'frame_offsets'),
])
def test_an_argument_the_mode_does_not_read_is_refused(mode, kwargs, named):
    """Arguments a mode ignores are errors naming the mode and what it
    reads, never silently dropped."""
    with pytest.raises(ConfigError) as info:
        FrameSampler(mode, **kwargs)
    message = str(info.value)
    assert named in message and f"frame_sampler_mode='{mode}'" in message
    for used in MODE_ARGUMENTS[mode]:
        assert used in message


@pytest.mark.parametrize('mode', FRAME_SAMPLER_MODES)
def test_offsets_without_the_key_frame_are_refused_in_every_mode(mode):
    with pytest.raises(ConfigError, match='contain the key frame 0'):
        FrameSampler(mode, frame_offsets=[1, 2])


def test_the_arguments_a_mode_reads_are_taken():
    sampler = FrameSampler('fixed_at_build', frame_range=1,
                           num_sampled_frames=3, seed=5,
                           frame_weights=[0.1, 0.3, 0.3, 0.3])
    infos = [{} for _ in range(50)]
    sampler.prepare(infos)
    drawn = np.stack([info['frame_offsets'] for info in infos])
    assert drawn.shape == (50, 4) and (drawn[:, 0] == 0).all()
    assert drawn.min() == -1 and drawn.max() == 1
