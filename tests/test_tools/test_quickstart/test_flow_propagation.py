"""tools.quickstart.flow_propagation: poses moved along DIS flow."""
import cv2
import numpy as np
import pytest

from tools.quickstart.flow_propagation import (FlowPropagator, dis_flow,
                                               move_along_flows, sample_flow)


def _texture(size=(160, 200), seed=0):
    """Smooth random texture (uint8 BGR), trackable by optical flow."""
    noise = np.random.default_rng(seed).random((*size, 3)) * 255
    return cv2.GaussianBlur(noise, (0, 0), 2.0).clip(0, 255).astype(np.uint8)


def _shifted(image, dx, dy):
    """``image`` translated by (dx, dy) pixels, edges replicated."""
    mat = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(
        image,
        mat, (image.shape[1], image.shape[0]),
        borderMode=cv2.BORDER_REFLECT)


def test_flow_moves_a_keypoint_by_the_known_shift():
    first = _texture()
    second = _shifted(first, 3.0, -2.0)
    flow = dis_flow(first, second)
    assert flow.shape == (*first.shape[:2], 2)
    points = np.array([[100.0, 80.0], [60.5, 50.25]])
    np.testing.assert_allclose(
        sample_flow(flow, points), [[3.0, -2.0]] * 2, atol=0.3)


def test_chained_flows_add_up_forward_and_backward():
    frames = [_texture()]
    for _ in range(3):
        frames.append(_shifted(frames[-1], 2.0, 1.0))
    start = np.array([[90.0, 70.0]])
    forward = [dis_flow(a, b) for a, b in zip(frames, frames[1:])]
    np.testing.assert_allclose(
        move_along_flows(start, forward), [[96.0, 73.0]], atol=0.6)
    backward = [dis_flow(a, b) for a, b in zip(frames[::-1], frames[::-1][1:])]
    np.testing.assert_allclose(
        move_along_flows([[96.0, 73.0]], backward), start, atol=0.6)


def test_sample_flow_is_bilinear_and_clamped():
    flow = np.zeros((4, 5, 2), np.float32)
    flow[..., 0] = np.arange(5)[None, :]  # x component = column
    flow[..., 1] = np.arange(4)[:, None]  # y component = row
    got = sample_flow(flow, np.array([[1.5, 2.25], [-3.0, 10.0]]))
    np.testing.assert_allclose(got, [[1.5, 2.25], [0.0, 3.0]])


def test_propagator_chains_through_every_frame(tmp_path):
    video = 'images/train/000001_mpii_train'
    (tmp_path / video).mkdir(parents=True)
    frames = [_texture(seed=1)]
    for _ in range(2):
        frames.append(_shifted(frames[-1], -2.0, 1.5))
    images = []
    for index, frame in enumerate(frames):
        name = f'{video}/{index:06d}.jpg'
        cv2.imwrite(
            str(tmp_path / name), frame, [cv2.IMWRITE_JPEG_QUALITY, 100])
        images.append(dict(id=index, file_name=name))
    propagate = FlowPropagator(dict(images=images), str(tmp_path))
    keypoints = np.array([[[100.0, 60.0], [120.0, 90.0]]])
    visible = np.ones((1, 2))
    moved, scores = propagate(images[0], images[2],
                              ([{}], keypoints, visible, None))
    np.testing.assert_allclose(moved, keypoints + [-4.0, 3.0], atol=0.6)
    # the prior of copying: 1 / (1 + frame distance)
    np.testing.assert_allclose(scores, [[1 / 3, 1 / 3]])
    assert len(propagate.flows) == 2
    with pytest.raises(ValueError, match='frame 3'):
        propagate.frames_between(images[0]['file_name'], f'{video}/000004.jpg')
