"""Unit tests of the temporal window: offsets, weights and their order."""
import numpy as np
import pytest

from posewarper_mm.datasets.temporal_window import (DEFAULT_TEST_OFFSETS,
                                                    DEFAULT_TEST_WEIGHTS,
                                                    DEFAULT_TEST_WINDOW,
                                                    TemporalWindow,
                                                    check_frame_offsets,
                                                    check_frame_weights,
                                                    clamped_frame_numbers,
                                                    default_train_weights,
                                                    normalize_frame_range)


def test_clamped_frame_numbers_posetrack18():
    assert clamped_frame_numbers(1, [0, -2, 20], 10) == [1, 0, 9]
    assert clamped_frame_numbers(4, [0, -1, 1], 1) == [4, 0, 0]


def test_clamped_frame_numbers_posetrack17_style():
    assert clamped_frame_numbers(1, [0, -1, 7], 5, index_base=1) == [1, 1, 5]


def test_normalize_frame_range():
    assert normalize_frame_range(2) == (-2, 2)
    assert normalize_frame_range([-3, 1]) == (-3, 1)
    for bad in (-1, [2, -2], [1, 2, 3], [0.5, 1]):
        with pytest.raises(ValueError, match='frame_range'):
            normalize_frame_range(bad)


def test_default_test_weights_key_first():
    window = TemporalWindow(DEFAULT_TEST_OFFSETS,
                            DEFAULT_TEST_WEIGHTS).key_first()
    offsets, weights = window.offsets_array(), window.weights_array()
    np.testing.assert_array_equal(offsets, [0, -2, -1, 1, 2])
    np.testing.assert_allclose(weights, [0.3, 0.1, 0.25, 0.25, 0.1])
    assert offsets.dtype == np.int64 and weights.dtype == np.float32
    assert DEFAULT_TEST_WINDOW == TemporalWindow()
    assert DEFAULT_TEST_WINDOW.num_frames == 5


def test_key_first_keeps_pairs():
    window = TemporalWindow((3, -1, 0, -4), (0.1, 0.2, 0.3, 0.4))
    first = window.key_first()
    assert first.offsets == (0, -4, -1, 3)
    assert first.weights == (0.3, 0.4, 0.2, 0.1)
    assert window.offsets == (3, -1, 0, -4)  # frozen, not reordered
    with pytest.raises(AttributeError):
        window.offsets = (0, )


def test_check_frame_weights():
    w = check_frame_weights([0.0, 1.0], 2, 'x')
    assert w.dtype == np.float32 and w.shape == (2, )
    with pytest.raises(ValueError, match='sum to 1'):
        check_frame_weights([0.5, 0.6], 2, 'x')
    with pytest.raises(ValueError, match='non-negative'):
        check_frame_weights([-0.5, 1.5], 2, 'x')
    with pytest.raises(ValueError, match='must have 3 values'):
        check_frame_weights([0.5, 0.5], 3, 'x')


@pytest.mark.parametrize('offsets, match', [
    ([-1, 1], 'key frame 0'),
    ([0, 1, 1], 'distinct'),
    ([0, 0.5], 'integers'),
    (['0', '1'], 'integers'),
])
def test_check_frame_offsets(offsets, match):
    with pytest.raises(ValueError, match=match):
        check_frame_offsets(offsets)


def test_check_frame_offsets_accepts_integral_values():
    assert check_frame_offsets([np.int64(1), 0, -2.0]) == (1, 0, -2)


def test_window_validates_weights_against_offsets():
    with pytest.raises(ValueError, match='3 values'):
        TemporalWindow((-1, 0, 1), (0.5, 0.5))
    with pytest.raises(ValueError, match='key frame 0'):
        TemporalWindow((-1, 1), (0.5, 0.5))


def test_default_weights():
    assert TemporalWindow.with_default_weights(
        [-2, -1, 0, 1, 2]) == DEFAULT_TEST_WINDOW
    uniform = TemporalWindow.with_default_weights([0, 3, -3, 6])
    assert uniform.weights == (0.25, ) * 4
    assert default_train_weights(1) == (0.0, 1.0)
    assert default_train_weights(4) == (0.0, 0.25, 0.25, 0.25, 0.25)


def test_online_window():
    online = DEFAULT_TEST_WINDOW.online()
    assert online.offsets == (-2, -1, 0)
    assert np.allclose(online.weights, np.array([0.1, 0.25, 0.3]) / 0.65)
    online = TemporalWindow(range(-4, 3), [1 / 7] * 7).online()
    assert online.offsets == (-4, -3, -2, -1, 0)
    assert np.allclose(online.weights, 0.2)
    with pytest.raises(ValueError, match='online'):
        TemporalWindow((0, 1), (0.0, 1.0)).online()


def test_subset_window():
    short = DEFAULT_TEST_WINDOW.subset([1, 0, -1])
    assert short.offsets == (-1, 0, 1)  # the window's order
    assert np.allclose(short.weights, np.array([0.25, 0.3, 0.25]) / 0.8)
    assert DEFAULT_TEST_WINDOW.subset([0]).weights == (1.0, )
    with pytest.raises(ValueError, match=r'\[3\] are not in the window'):
        DEFAULT_TEST_WINDOW.subset([-1, 0, 3])
    with pytest.raises(ValueError, match='contain'):
        DEFAULT_TEST_WINDOW.subset([-1, 1])
    with pytest.raises(ValueError, match='zero total weight'):
        TemporalWindow((0, 1), (0.0, 1.0)).subset([0])
