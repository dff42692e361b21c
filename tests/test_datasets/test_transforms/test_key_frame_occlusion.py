import numpy as np
import pytest
from mmpose.registry import TRANSFORMS

import posewarper_mm  # noqa: F401
from posewarper_mm.datasets.transforms import RandomKeyFrameOcclusion


def _sample(num_frames=3, height=96, width=64):
    """Uniform grey crops and three labeled joints (one unlabeled)."""
    frames = [
        np.full((height, width, 3), 128, dtype=np.uint8)
        for _ in range(num_frames)
    ]
    joints = np.array([[[20.0, 30.0], [40.0, 60.0], [32.0, 80.0],
                        [5.0, 5.0]]])
    return dict(
        img=frames,
        transformed_keypoints=joints,
        keypoints=joints + 100.0,
        keypoints_visible=np.array([[1.0, 1.0, 1.0, 0.0]]))


def _changed(frame):
    """(H, W) mask of the pixels that are no longer the grey of _sample."""
    return np.any(frame != 128, axis=-1)


def _centre(mask):
    """(x, y) mean of a mask's pixels."""
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()])


def test_registered_in_mmpose():
    t = TRANSFORMS.build(dict(type='RandomKeyFrameOcclusion', prob=1.0))
    assert isinstance(t, RandomKeyFrameOcclusion)


def test_covers_a_labeled_joint_of_the_key_frame_only():
    np.random.seed(0)
    t = RandomKeyFrameOcclusion(prob=1.0, max_bars=1, size_range=(0.2, 0.2))
    for _ in range(20):
        results = _sample()
        supports = [f.copy() for f in results['img'][1:]]
        out = t(results)
        changed = _changed(out['img'][0])
        assert changed.any()
        # one bar, centred on a labeled joint (never the unlabeled one)
        centre = _centre(changed)
        dist = np.linalg.norm(
            out['transformed_keypoints'][0, :3] - centre, axis=1)
        assert dist.min() < 2.0
        # the bar is about 20% of each side (13 x 19 px), clipped inside
        assert changed.sum() <= 14 * 20
        # the supporting frames and the labels are untouched
        for before, after in zip(supports, out['img'][1:]):
            np.testing.assert_array_equal(before, after)
        np.testing.assert_array_equal(out['keypoints_visible'],
                                      [[1.0, 1.0, 1.0, 0.0]])


def test_prob_zero_and_no_labeled_joint_change_nothing():
    np.random.seed(0)
    results = _sample()
    out = RandomKeyFrameOcclusion(prob=0.0)(results)
    assert all(np.all(f == 128) for f in out['img'])
    results = _sample()
    results['keypoints_visible'][:] = 0
    out = RandomKeyFrameOcclusion(prob=1.0)(results)
    assert all(np.all(f == 128) for f in out['img'])


def test_visibility_with_weights_is_read():
    """(N, K, 2) visibility: only the labeled joints can be covered."""
    np.random.seed(2)
    t = RandomKeyFrameOcclusion(prob=1.0, max_bars=1, size_range=(0.1, 0.1))
    for _ in range(10):
        results = _sample()
        vis = np.zeros((1, 4, 2))
        vis[0, 1] = 1.0  # only the second joint, (40, 60), is labeled
        results['keypoints_visible'] = vis
        centre = _centre(_changed(t(results)['img'][0]))
        assert np.all(np.abs(centre - [40.0, 60.0]) < 2.0)


def test_prob_sets_the_share_of_covered_samples():
    np.random.seed(1)
    t = RandomKeyFrameOcclusion(prob=0.8)
    covered = [_changed(t(_sample())['img'][0]).any() for _ in range(500)]
    assert abs(np.mean(covered) - 0.8) < 0.06


def test_single_image_is_refused_with_a_clear_error():
    results = _sample()
    results['img'] = results['img'][0]
    with pytest.raises(TypeError, match='list'):
        RandomKeyFrameOcclusion(prob=1.0)(results)


@pytest.mark.parametrize('kwargs, match', [
    (dict(prob=1.5), 'prob'),
    (dict(max_bars=0), 'max_bars'),
    (dict(size_range=(0.0, 0.2)), 'size_range'),
    (dict(size_range=(0.3, 0.2)), 'size_range'),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RandomKeyFrameOcclusion(**kwargs)
