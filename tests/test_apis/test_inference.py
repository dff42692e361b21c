"""Multi-frame top-down inference (``inference_posewarper``)."""
import cv2
import numpy as np
import pytest
from mmengine.dataset import pseudo_collate
from mmengine.structures import InstanceData
from mmpose.structures import PoseDataSample

from posewarper_mm.apis import (build_test_pipeline, inference_posewarper,
                                instances_to_persons)
from posewarper_mm.datasets import PoseTrackVideoPairDataset
from tests.testing.clips import TINY_INPUT_SIZE, clip_frames

WEIGHTS = [0.3, 0.1, 0.25, 0.25, 0.1]
OFFSETS = [0, -2, -1, 1, 2]


@pytest.fixture(scope='module')
def frames(synthetic):
    return [cv2.imread(f) for f in clip_frames(synthetic)[:5]]


@pytest.fixture(scope='module')
def boxes():
    return np.array([[20, 10, 70, 110], [80, 5, 140, 115]], np.float32)


@pytest.fixture
def msra_decoding(tiny_model, monkeypatch):
    """The tiny model decodes with plain MSRA while a test runs (see
    :func:`tests.testing.models.plain_msra_codec`)."""
    from mmpose.registry import KEYPOINT_CODECS

    from tests.testing.models import plain_msra_codec
    codec = plain_msra_codec(tiny_model.cfg.codec)
    monkeypatch.setattr(tiny_model.head, 'decoder',
                        KEYPOINT_CODECS.build(codec))
    return tiny_model


def test_one_prediction_per_box_in_image_coordinates(tiny_model, frames, boxes,
                                                     msra_decoding):
    # plain MSRA decoding: every keypoint lies within one heatmap pixel of
    # the crop
    results = inference_posewarper(
        tiny_model, frames, boxes, WEIGHTS, OFFSETS, bbox_scores=[0.9, 0.4])
    assert len(results) == 2
    for result, box, score in zip(results, boxes, (0.9, 0.4)):
        inst = result.pred_instances
        assert inst.keypoints.shape == (1, 17, 2)
        assert inst.keypoint_scores.shape == (1, 17)
        assert np.allclose(inst.bboxes[0], box)
        assert inst.bbox_scores[0] == pytest.approx(score)
        # every keypoint lies in the crop (box padded by 1.25, widened to
        # the crop's aspect), up to one heatmap pixel (stride 4)
        width, height = TINY_INPUT_SIZE
        aspect = width / height
        pad_w, pad_h = (box[2:] - box[:2]) * 1.25
        crop_w = max(pad_w, pad_h * aspect)
        crop_h = max(pad_h, pad_w / aspect)
        center = (box[:2] + box[2:]) / 2
        dist = np.abs(inst.keypoints[0] - center)
        assert np.all(dist[:, 0] <= crop_w / 2 + crop_w * 4 / width)
        assert np.all(dist[:, 1] <= crop_h / 2 + crop_h * 4 / height)
        assert np.allclose(result.metainfo['frame_weights'], WEIGHTS)
        assert list(result.metainfo['frame_offsets']) == OFFSETS


def test_identity_warp_of_identical_frames_equals_single_frame(
        tiny_model, frames, boxes, msra_decoding):
    """A fresh neck warps with identity filters and zero offsets, so five
    copies of the key frame aggregate to the key frame's own heatmaps."""
    multi = inference_posewarper(tiny_model, [frames[0]] * 5, boxes, WEIGHTS)
    single = inference_posewarper(tiny_model, [frames[0]], boxes)
    for a, b in zip(multi, single):
        assert np.allclose(a.pred_instances.keypoints,
                           b.pred_instances.keypoints)
        assert np.allclose(
            a.pred_instances.keypoint_scores,
            b.pred_instances.keypoint_scores,
            atol=1e-6)


def test_supporting_frames_change_the_result(tiny_model, frames, boxes):
    multi = inference_posewarper(tiny_model, frames, boxes[:1], WEIGHTS)
    single = inference_posewarper(tiny_model, frames[:1], boxes[:1])
    assert not np.allclose(multi[0].pred_instances.keypoint_scores,
                           single[0].pred_instances.keypoint_scores)


def test_same_crops_as_the_dataset(tiny_model, synthetic):
    """The test dataset's sample and the api give the same prediction."""
    model = tiny_model
    cfg = model.cfg.test_dataloader.dataset
    dataset = PoseTrackVideoPairDataset(
        ann_file=synthetic['ann_files']['val'],
        data_root=synthetic['root'],
        frame_sampler_mode='fixed',
        frame_offsets=(-2, -1, 0, 1, 2),
        test_mode=True,
        pipeline=cfg.pipeline)
    # an instance of frame 4: its five frames are distinct
    index = next(
        i for i in range(len(dataset))
        if dataset.get_data_info(i)['frame_index'] == 4)
    info = dataset.get_data_info(index)
    assert len(set(info['img_path'])) == 5
    expected = model.test_step(pseudo_collate([dataset[index]]))[0]
    frames = [cv2.imread(p) for p in info['img_path']]
    got = inference_posewarper(
        model,
        frames,
        info['bbox'],
        info['frame_weights'],
        info['frame_offsets'],
        pipeline=build_test_pipeline(model))[0]
    assert np.allclose(got.pred_instances.keypoints,
                       expected.pred_instances.keypoints)
    assert np.allclose(got.pred_instances.keypoint_scores,
                       expected.pred_instances.keypoint_scores)
    by_path = inference_posewarper(model, info['img_path'], info['bbox'],
                                   info['frame_weights'])[0]
    assert np.allclose(by_path.pred_instances.keypoints,
                       expected.pred_instances.keypoints)


def test_box_formats_and_defaults(tiny_model, frames):
    xyxy = inference_posewarper(tiny_model, frames[:1], [[10, 20, 60, 100]])
    xywh = inference_posewarper(
        tiny_model, frames[:1], [[10, 20, 50, 80]], bbox_format='xywh')
    assert np.allclose(xyxy[0].pred_instances.keypoints,
                       xywh[0].pred_instances.keypoints)
    whole = inference_posewarper(tiny_model, frames[:1])
    assert np.allclose(whole[0].pred_instances.bboxes, [[0, 0, 160, 120]])
    assert inference_posewarper(tiny_model, frames, np.zeros((0, 4)),
                                WEIGHTS) == []


def test_bad_inputs(tiny_model, frames, boxes):
    with pytest.raises(ValueError, match='frame_weights'):
        inference_posewarper(tiny_model, frames, boxes)
    with pytest.raises(ValueError, match='5 values'):
        inference_posewarper(tiny_model, frames, boxes, [0.5, 0.5])
    with pytest.raises(ValueError, match='sum to 1'):
        inference_posewarper(tiny_model, frames, boxes, [0.5] * 5)
    small = cv2.resize(frames[1], (80, 60))
    with pytest.raises(ValueError, match='frame 1 has shape'):
        inference_posewarper(tiny_model, [frames[0], small], boxes, [0.5, 0.5])
    with pytest.raises(ValueError, match='2 boxes but 1 bbox_scores'):
        inference_posewarper(tiny_model, frames[:1], boxes, bbox_scores=[1.0])
    with pytest.raises(ValueError, match='empty'):
        inference_posewarper(tiny_model, [], boxes)


def test_non_finite_boxes_and_scores_are_errors(tiny_model, frames, boxes):
    """NaN boxes used to produce NaN keypoints (and crash the drawing)."""
    bad = boxes.copy()
    bad[0, 1] = np.nan
    with pytest.raises(ValueError, match='bboxes must be finite'):
        inference_posewarper(tiny_model, frames[:1], bad)
    bad[0, 1] = np.inf
    with pytest.raises(ValueError, match='bboxes must be finite'):
        inference_posewarper(tiny_model, frames[:1], bad, bbox_format='xywh')
    with pytest.raises(ValueError, match='bbox_scores must be finite'):
        inference_posewarper(
            tiny_model, frames[:1], boxes, bbox_scores=[1.0, np.nan])


def _sample(offset: float, box_score: float) -> PoseDataSample:
    inst = InstanceData()
    inst.keypoints = np.arange(34, dtype=np.float32).reshape(1, 17, 2) + \
        offset
    inst.keypoint_scores = np.linspace(0, 1, 17)[None]
    inst.bboxes = np.array([[10, 20, 50, 100]], np.float32)
    inst.bbox_scores = np.array([box_score], np.float32)
    return PoseDataSample(pred_instances=inst)


def test_instances_to_persons():
    persons = instances_to_persons([_sample(0, 0.9), _sample(5, 0.4)])
    assert len(persons) == 2
    assert persons[1]['keypoints'].shape == (17, 2)
    assert persons[1]['keypoints'][0].tolist() == [5, 6]
    assert persons[1]['bbox_score'] == np.float32(0.4)
    assert persons[0]['bbox'].tolist() == [10, 20, 50, 100]
    assert instances_to_persons([]) == []
