"""Unit tests of offsets, weights and the supporting-frame path rule."""
import numpy as np
import pytest

from posewarper_mm.datasets.frame_sampling import (DEFAULT_TEST_FRAME_INDICES,
                                                   DEFAULT_TEST_FRAME_WEIGHTS,
                                                   check_frame_weights,
                                                   frame_index_from_name,
                                                   key_first,
                                                   normalize_frame_range,
                                                   support_frame_path)


def test_normalize_frame_range():
    assert normalize_frame_range(2) == (-2, 2)
    assert normalize_frame_range([-3, 1]) == (-3, 1)
    for bad in (-1, [2, -2], [1, 2, 3], [0.5, 1]):
        with pytest.raises(ValueError, match='frame_range'):
            normalize_frame_range(bad)


def test_default_test_weights_key_first():
    offsets, weights = key_first(DEFAULT_TEST_FRAME_INDICES,
                                 np.array(DEFAULT_TEST_FRAME_WEIGHTS))
    np.testing.assert_array_equal(offsets, [0, -2, -1, 1, 2])
    np.testing.assert_allclose(weights, [0.3, 0.1, 0.25, 0.25, 0.1])
    assert offsets.dtype == np.int64


def test_check_frame_weights():
    w = check_frame_weights([0.0, 1.0], 2, 'x')
    assert w.dtype == np.float32 and w.shape == (2, )
    with pytest.raises(ValueError, match='sum to 1'):
        check_frame_weights([0.5, 0.6], 2, 'x')
    with pytest.raises(ValueError, match='non-negative'):
        check_frame_weights([-0.5, 1.5], 2, 'x')
    with pytest.raises(ValueError, match='must have 3 values'):
        check_frame_weights([0.5, 0.5], 3, 'x')


def test_support_frame_path_posetrack18():
    key = 'data/images/val/000001_mpii_val/000001.jpg'
    path, idx = support_frame_path(key, 1, -2, nframes=10)
    assert (path, idx) == ('data/images/val/000001_mpii_val/000000.jpg', 0)
    path, idx = support_frame_path(key, 1, 20, nframes=10)
    assert (path, idx) == ('data/images/val/000001_mpii_val/000009.jpg', 9)


def test_support_frame_path_posetrack17_style():
    key = 'v/00000001.jpg'
    path, idx = support_frame_path(
        key, 1, -1, nframes=5, digits=8, index_base=1)
    assert (path, idx) == ('v/00000001.jpg', 1)
    path, idx = support_frame_path(
        key, 1, 7, nframes=5, digits=8, index_base=1)
    assert (path, idx) == ('v/00000005.jpg', 5)


def test_frame_index_from_name():
    assert frame_index_from_name('images/x/000012.jpg') == 12
    with pytest.raises(ValueError, match='frame_a.jpg'):
        frame_index_from_name('images/x/frame_a.jpg')
