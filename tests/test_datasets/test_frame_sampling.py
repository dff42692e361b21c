"""Frame samplers: one class per dataset frame mode."""
import numpy as np
import pytest

from posewarper_mm.datasets.frame_sampling import (FRAME_SAMPLERS,
                                                   FixedAtBuildSampler,
                                                   FixedOffsetsSampler,
                                                   PerIterationSampler,
                                                   SingleFrameSampler,
                                                   build_frame_sampler,
                                                   clamped_frame_numbers)


def test_clamped_frame_numbers_posetrack18():
    assert clamped_frame_numbers(1, [0, -2, 20], 10) == [1, 0, 9]
    assert clamped_frame_numbers(4, [0, -1, 1], 1) == [4, 0, 0]


def test_clamped_frame_numbers_posetrack17_style():
    assert clamped_frame_numbers(1, [0, -1, 7], 5, index_base=1) == [1, 1, 5]


@pytest.mark.parametrize('kwargs, cls', [
    (dict(), PerIterationSampler),
    (dict(test_mode=True), FixedOffsetsSampler),
    (dict(mode='single', test_mode=True), SingleFrameSampler),
    (dict(mode='fixed_at_build'), FixedAtBuildSampler),
    (dict(mode='fixed'), FixedOffsetsSampler),
])
def test_mode_selects_one_sampler(kwargs, cls):
    sampler = build_frame_sampler(**kwargs)
    assert type(sampler) is cls
    assert FRAME_SAMPLERS[sampler.mode] is cls


def test_unknown_mode():
    with pytest.raises(ValueError, match='frame_sampler_mode must be one'):
        build_frame_sampler('random')


def test_default_weights_per_mode():
    np.testing.assert_array_equal(build_frame_sampler('single').weights,
                                  [1.0])
    np.testing.assert_allclose(
        build_frame_sampler(test_mode=True).weights,
        [0.3, 0.1, 0.25, 0.25, 0.1])
    sampler = build_frame_sampler(num_sampled_frames=2)
    np.testing.assert_allclose(sampler.weights, [0.0, 0.5, 0.5])
    assert sampler.num_frames == 3
    with pytest.raises(ValueError, match='num_sampled_frames'):
        build_frame_sampler(num_sampled_frames=0)


def test_fixed_offsets_key_first():
    sampler = FixedOffsetsSampler([1, -1, 0], [0.3, 0.2, 0.5])
    np.testing.assert_array_equal(sampler.offsets({}), [0, -1, 1])
    np.testing.assert_allclose(sampler.weights, [0.5, 0.2, 0.3])


def test_per_iteration_draws_from_global_state():
    sampler = PerIterationSampler(frame_range=3, num_sampled_frames=4)
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
    sampler = FixedAtBuildSampler(seed=3, frame_range=[-1, 4])
    infos = [dict() for _ in range(20)]
    sampler.prepare(infos)
    drawn = [sampler.offsets(info) for info in infos]
    np.random.seed(0)
    assert all((sampler.offsets(info) == d).all()
               for info, d in zip(infos, drawn))
    assert len({int(d[1]) for d in drawn}) > 1
    assert all(-1 <= d[1] <= 4 for d in drawn)
