"""Pose propagation by warping known heatmaps (reversed difference)."""
import json

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmpose.codecs import UDPHeatmap
from mmpose.datasets.transforms import GenerateTarget, TopdownAffine
from mmpose.structures.bbox import get_udp_warp_matrix, get_warp_matrix

from posewarper_mm.apis import (build_instance_data, build_test_pipeline,
                                encode_heatmaps, frame_heatmaps,
                                image_to_input, input_to_image,
                                pipeline_uses_udp, propagate_poses)
from tests.testing.clips import TINY_INPUT_SIZE


@pytest.fixture(scope='module')
def labeled(synthetic):
    """Frames 0 and 1 of the first train video with frame 0's GT."""
    coco = json.load(open(synthetic['ann_files']['train']))
    images = {img['id']: img for img in coco['images']}
    first = [
        img for img in coco['images']
        if img['file_name'].endswith('/000000.jpg')
    ][0]
    second = [
        img for img in coco['images']
        if img['file_name'] == first['file_name'].replace(
            '000000.jpg', '000001.jpg')
    ][0]
    anns = [a for a in coco['annotations'] if a['image_id'] == first['id']]
    kpts = np.array([a['keypoints'] for a in anns]).reshape(-1, 17, 3)
    boxes = np.array([a['bbox'] for a in anns], np.float32)
    boxes[:, 2:] += boxes[:, :2]
    root = synthetic['root']
    return dict(
        key=cv2.imread(f'{root}/{first["file_name"]}'),
        target=cv2.imread(f'{root}/{second["file_name"]}'),
        keypoints=kpts[..., :2],
        visible=(kpts[..., 2] > 0).astype(np.float32),
        boxes=boxes,
        images=images)


def test_crop_mapping_round_trip():
    pts = np.array([[10.0, 20.0], [55.5, 3.25]])
    center, scale = np.array([40.0, 30.0]), np.array([60.0, 80.0])
    crop = image_to_input(pts, center, scale, (96, 128))
    assert np.allclose(crop[0], [(10 - 40 + 30) * 96 / 60,
                                 (20 - 30 + 40) * 128 / 80])
    assert np.allclose(input_to_image(crop, center, scale, (96, 128)), pts)


@pytest.mark.parametrize('use_udp', [False, True])
def test_crop_mapping_is_topdown_affines(use_udp):
    """``image_to_input`` maps points as ``TopdownAffine``'s warp matrix
    (unrotated), with and without UDP."""
    rng = np.random.default_rng(0)
    pts = rng.uniform(0, 120, (20, 2))
    center = np.array([50.0, 60.0], np.float32)
    scale = np.array([70.0, 105.0], np.float32)
    size = (64, 96)
    matrix = (get_udp_warp_matrix if use_udp else get_warp_matrix)(
        center, scale, 0.0, output_size=size)
    expected = pts @ matrix[:, :2].T + matrix[:, 2]
    assert np.allclose(
        image_to_input(pts, center, scale, size, use_udp), expected,
        atol=1e-4)


def test_udp_encoding_round_trips_without_offset():
    """Encoded with UDP's crop mapping, a UDP codec's decoding brought back
    by ``input_to_image`` (mmpose's prediction mapping) returns the points;
    the plain mapping would leave an offset that grows across the crop."""
    codec = UDPHeatmap(input_size=(64, 96), heatmap_size=(16, 24), sigma=2)
    center, scale = np.array([50.0, 60.0]), np.array([70.0, 105.0])
    rng = np.random.default_rng(1)
    pts = center + rng.uniform(-0.35, 0.35, (17, 2)) * scale

    def round_trip(use_udp):
        crop = image_to_input(pts, center, scale, (64, 96), use_udp)
        maps = codec.encode(crop[None], np.ones((1, 17)))['heatmaps']
        decoded = codec.decode(maps)[0][0]
        return input_to_image(decoded, center, scale, (64, 96)) - pts

    err = round_trip(True)
    assert np.abs(err).max() < 0.5  # Newton refinement: sub-pixel
    assert np.abs(err.mean(0)).max() < 0.05
    plain = round_trip(False)  # the offset the UDP mapping removes
    assert np.all(plain.mean(0) > 0.3)


def test_known_poses_encoded_as_training_targets(labeled):
    """``encode_heatmaps`` gives the targets of mmpose's training steps
    (``TopdownAffine`` with UDP, ``GenerateTarget``) for the same crop."""
    codec_cfg = dict(
        type='UDPHeatmap', input_size=(64, 96), heatmap_size=(16, 24),
        sigma=2)
    box = labeled['boxes'][0]
    center = (box[:2] + box[2:]) / 2
    scale = np.array([90.0, 135.0], np.float32)
    results = dict(
        img=labeled['key'].copy(),
        bbox_center=center[None].astype(np.float32),
        bbox_scale=scale[None],
        bbox_rotation=np.zeros(1, np.float32),
        keypoints=labeled['keypoints'][:1].astype(np.float32),
        keypoints_visible=labeled['visible'][:1])
    results = TopdownAffine(input_size=(64, 96), use_udp=True)(results)
    results = GenerateTarget(encoder=codec_cfg)(results)
    ours = encode_heatmaps(UDPHeatmap(**{
        k: v
        for k, v in codec_cfg.items() if k != 'type'
    }), labeled['keypoints'][:1], labeled['visible'][:1], center[None],
                           scale[None], (64, 96), use_udp=True)
    assert np.allclose(ours[0], results['heatmaps'], atol=1e-5)
    assert results['heatmaps'].max() > 0.5


def test_pipeline_uses_udp(tiny_model):
    pipeline = build_test_pipeline(tiny_model)
    assert pipeline_uses_udp(pipeline)  # the quickstart's UDP crop
    affine = [
        t for t in pipeline.transforms if type(t).__name__ == 'TopdownAffine'
    ][0]
    assert not pipeline_uses_udp([TopdownAffine(affine.input_size)])
    with pytest.raises(ValueError, match='TopdownAffine'):
        pipeline_uses_udp([t for t in pipeline.transforms if t is not affine])


def test_identity_warp_reproduces_known_poses(tiny_model, labeled):
    """A fresh neck warps with the identity: the key frame's poses come
    back where they were."""
    kpts, scores = propagate_poses(tiny_model, labeled['key'],
                                   labeled['target'], labeled['keypoints'],
                                   labeled['visible'], labeled['boxes'])
    vis = labeled['visible'] > 0
    assert kpts.shape == labeled['keypoints'].shape
    # image pixels per crop pixel: box padded by 1.25 at the crop's aspect
    width, height = TINY_INPUT_SIZE
    size = (labeled['boxes'][:, 2:] - labeled['boxes'][:, :2]) * 1.25
    per_px = np.maximum(size[:, 1], size[:, 0] * height / width) / height
    # UDP encodes at sub-pixel positions and its decoding refines the
    # maximum: the poses come back to a fraction of a crop pixel, unbiased
    signed = (kpts - labeled['keypoints']) / per_px[:, None, None]
    assert np.abs(signed[vis]).max() < 0.25
    assert np.abs(signed[vis].mean(0)).max() < 0.05
    assert np.all(scores[vis] > 0.5)
    assert np.all(scores[~vis] == 0)


def test_warps_key_heatmaps_with_reversed_difference(tiny_model, labeled,
                                                     monkeypatch):
    """``neck.warp`` gets the key frame's encoded poses and
    ``target_heatmaps - key_heatmaps``; its output is what is decoded."""
    model = tiny_model
    calls = []

    def shifted_warp(source, diff):
        calls.append((source.clone(), diff.clone()))
        return torch.roll(source, shifts=2, dims=-1)  # 2 heatmap px right

    monkeypatch.setattr(model.neck, 'warp', shifted_warp)
    pipeline = build_test_pipeline(model)
    kpts, scores = propagate_poses(model, labeled['key'], labeled['target'],
                                   labeled['keypoints'], labeled['visible'],
                                   labeled['boxes'], pipeline)
    assert len(calls) == 1
    source, diff = calls[0]

    weights = np.array([1.0, 0.0], np.float32)
    offsets = np.array([0, 1])
    data = model.data_preprocessor(
        pseudo_collate([
            pipeline(
                build_instance_data([labeled['key'], labeled['target']], box,
                                    weights, offsets, 1.0, model.dataset_meta))
            for box in labeled['boxes']
        ]), False)
    with torch.no_grad():
        maps = frame_heatmaps(model, data['inputs'])
    assert torch.allclose(diff, maps[1] - maps[0])
    assert diff.abs().max() > 0  # two different frames
    samples = data['data_samples']
    centers = np.stack([s.metainfo['input_center'] for s in samples])
    scales = np.stack([s.metainfo['input_scale'] for s in samples])
    known = encode_heatmaps(model.head.decoder, labeled['keypoints'],
                            labeled['visible'], centers, scales,
                            TINY_INPUT_SIZE, use_udp=True)
    assert torch.allclose(source, torch.from_numpy(known))

    # a shift of two heatmap pixels = 8 crop pixels to the right
    vis = labeled['visible'] > 0
    dx = kpts[..., 0] - labeled['keypoints'][..., 0]
    width = TINY_INPUT_SIZE[0]
    expected = 8 * scales[:, :1] / width
    inside = vis & (
        image_to_input(labeled['keypoints'], centers[:, None], scales[:, None],
                       TINY_INPUT_SIZE)[..., 0] < width - 16)
    assert np.allclose(
        dx[inside],
        np.broadcast_to(expected, dx.shape)[inside],
        atol=scales.max() / width * 2.01)


def test_no_person_and_size_mismatch(tiny_model, labeled):
    kpts, scores = propagate_poses(tiny_model, labeled['key'],
                                   labeled['target'], np.zeros((0, 17, 2)),
                                   np.zeros((0, 17)), np.zeros((0, 4)))
    assert kpts.shape == (0, 17, 2) and scores.shape == (0, 17)
    with pytest.raises(ValueError, match='differ in size'):
        propagate_poses(tiny_model, labeled['key'], labeled['target'][:60],
                        labeled['keypoints'], labeled['visible'],
                        labeled['boxes'])


def test_displacement_decoding_cancels_codec_rounding(tiny_model, labeled):
    kpts, scores = propagate_poses(
        tiny_model,
        labeled['key'],
        labeled['target'],
        labeled['keypoints'],
        labeled['visible'],
        labeled['boxes'],
        decode='displacement')
    vis = labeled['visible'] > 0
    assert np.allclose(kpts[vis], labeled['keypoints'][vis], atol=1e-4)
    with pytest.raises(ValueError, match='decode must be one of'):
        propagate_poses(
            tiny_model,
            labeled['key'],
            labeled['target'],
            labeled['keypoints'],
            labeled['visible'],
            labeled['boxes'],
            decode='nearest')
