"""PoseTrackAPMetric on fake top-down data samples."""
import json
import os
from pathlib import Path

import numpy as np
import pytest
from mmengine.evaluator import Evaluator
from mmengine.logging import MessageHub
from mmengine.structures import InstanceData
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.registry import METRICS
from mmpose.structures import PoseDataSample

from posewarper_mm.evaluation.functional import evaluate_posetrack
from posewarper_mm.evaluation.metrics import (PoseTrackAPMetric,
                                              gt_folder_from_ann_file)
from tests.testing import load_tool
from tests.testing.posetrack_files import (image, image_id, video_name,
                                           write_file)

REPO = Path(__file__).resolve().parents[3]
KEYS = [
    'posetrack18/Head AP', 'posetrack18/Shou AP', 'posetrack18/Elb AP',
    'posetrack18/Wri AP', 'posetrack18/Hip AP', 'posetrack18/Knee AP',
    'posetrack18/Ankl AP', 'posetrack18/AP'
]
META = parse_pose_metainfo(
    dict(from_file='configs/_base_/datasets/posetrack18.py'))
# shoulders, head_bottom in PoseTrack18 (mmpose) keypoint order
L_SHO, R_SHO, HEAD_BOTTOM = 5, 6, 1


def _skeleton(cx, cy):
    """17 distinct joints around (cx, cy); head_bottom is not between the
    shoulders."""
    offsets = np.array([(0, -60), (0, -40), (0, -90), (-8, -62), (8, -62),
                        (-25, -20), (25, -20), (-35, 10), (35, 10), (-40, 40),
                        (40, 40), (-15, 50), (15, 50), (-15, 90), (15, 90),
                        (-15, 130), (15, 130)],
                       dtype=np.float64)
    return offsets + (cx, cy)


def _gt_ann(img_id, track_id, kpts):
    triples = np.concatenate([kpts, np.ones((17, 1))], axis=1)
    return dict(
        image_id=img_id,
        track_id=track_id,
        keypoints=triples.reshape(-1).tolist(),
        bbox_head=[kpts[2, 0] - 15, kpts[2, 1], 30, 40],
        scores=[])


@pytest.fixture
def gt_dir(tmp_path):
    """Video 1: frame 0 one person, frame 1 unlabeled; video 2: frame 0
    two persons. Every GT joint is annotated."""
    folder = str(tmp_path / 'annotations' / 'val')
    write_file(folder, video_name(1), [image(1, 0), image(1, 1)],
               [_gt_ann(image_id(1, 0), 0, _skeleton(100, 100))])
    write_file(folder, video_name(2), [image(2, 0)], [
        _gt_ann(image_id(2, 0), 0, _skeleton(100, 100)),
        _gt_ann(image_id(2, 0), 1, _skeleton(300, 100))
    ])
    return folder


PERSONS = [  # (instance id, image id, center, bbox score)
    (1, image_id(1, 0), (100, 100), 0.9),
    (2, image_id(2, 0), (100, 100), 0.8),
    (3, image_id(2, 0), (300, 100), 0.7),
]


def _sample(inst_id, img_id, kpts, kpt_scores, bbox_score):
    """A top-down data sample as PoseWarperEstimator/PackPoseInputs give."""
    sample = PoseDataSample(
        metainfo=dict(
            id=inst_id,
            img_id=img_id,
            category_id=1,
            ori_shape=(240, 320),
            img_shape=(240, 320)))
    gt = InstanceData()
    gt.bbox_scales = np.array([[150.0, 200.0]])
    gt.bbox_scores = np.array([bbox_score])
    sample.gt_instances = gt
    pred = InstanceData()
    pred.keypoints = kpts[None].astype(np.float32)
    pred.keypoint_scores = np.asarray(kpt_scores, np.float32)[None]
    pred.bbox_scores = np.array([bbox_score], np.float32)
    sample.pred_instances = pred
    return sample


def _exact_samples():
    """One exact prediction per GT person, distinct joint scores."""
    samples = []
    for k, (inst_id, img_id, center, box) in enumerate(PERSONS):
        scores = 0.5 + 0.01 * np.arange(17) + 0.2 * k
        samples.append(
            _sample(inst_id, img_id, _skeleton(*center), scores, box))
    return samples


def _evaluate(samples, **kwargs):
    metric = METRICS.build(dict(type='PoseTrackAPMetric', **kwargs))
    evaluator = Evaluator([metric])
    evaluator.dataset_meta = META
    evaluator.process(data_samples=samples, data_batch=None)
    return evaluator.evaluate(len(samples))


def _read_dir(folder):
    out = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as f:
            out[name] = json.load(f)
    return out


def test_registered_and_built():
    assert METRICS.get('PoseTrackAPMetric') is PoseTrackAPMetric
    assert METRICS.get('PoseTrack18Metric') is not PoseTrackAPMetric


def test_exact_predictions_files_and_keys(gt_dir, tmp_path):
    out = str(tmp_path / 'preds')
    res = _evaluate(_exact_samples(), gt_folder=gt_dir, outfile_prefix=out)
    assert list(res) == KEYS
    assert all(v == 100.0 for v in res.values()), res

    files = _read_dir(out)
    assert list(files) == [video_name(1), video_name(2)]
    v1, v2 = files[video_name(1)], files[video_name(2)]
    # every GT image, same order; the unlabeled frame has no predictions
    assert [i['id'] for i in v1['images']] == [image_id(1, 0), image_id(1, 1)]
    assert [i['file_name'] for i in v1['images']
            ] == [image(1, 0)['file_name'],
                  image(1, 1)['file_name']]
    assert v1['categories'][0]['keypoints'] == [
        META['keypoint_id2name'][i] for i in range(17)
    ]
    assert [a['image_id'] for a in v1['annotations']] == [image_id(1, 0)]
    assert sorted(a['track_id'] for a in v2['annotations']) == [0, 1]
    ann = v1['annotations'][0]
    kpts = np.array(ann['keypoints']).reshape(17, 3)
    np.testing.assert_allclose(kpts[:, :2], _skeleton(100, 100), atol=1e-4)
    scores = 0.5 + 0.01 * np.arange(17)
    np.testing.assert_allclose(ann['scores'], scores, atol=1e-6)
    np.testing.assert_allclose(kpts[:, 2], scores, atol=1e-6)
    # bbox_keypoint rescoring: box score x mean of joint scores > 0.2
    assert ann['score'] == pytest.approx(0.9 * scores.mean(), abs=1e-6)


def test_head_bottom_and_joint_score_options(gt_dir, tmp_path):
    out = str(tmp_path / 'preds')
    res = _evaluate(
        _exact_samples(),
        gt_folder=gt_dir,
        outfile_prefix=out,
        head_bottom='shoulder_midpoint',
        joint_score='keypoint_x_box')
    ann = _read_dir(out)[video_name(1)]['annotations'][0]
    kpts = np.array(ann['keypoints']).reshape(17, 3)
    skel = _skeleton(100, 100)
    scores = (0.5 + 0.01 * np.arange(17)) * 0.9  # x box score 0.9
    np.testing.assert_allclose(kpts[HEAD_BOTTOM, :2],
                               (skel[L_SHO] + skel[R_SHO]) / 2)
    assert ann['scores'][HEAD_BOTTOM] == pytest.approx(
        (scores[L_SHO] + scores[R_SHO]) / 2, abs=1e-6)
    np.testing.assert_allclose(
        np.delete(ann['scores'], HEAD_BOTTOM),
        np.delete(scores, HEAD_BOTTOM),
        atol=1e-6)
    # the shoulder midpoint is 20 px from the GT head_bottom, beyond the
    # 15 px radius: head_bottom AP 0, Head = (100 + 0 + 100) / 3
    assert res['posetrack18/Head AP'] == pytest.approx(200 / 3)
    assert res['posetrack18/AP'] == pytest.approx(14 * 100 / 15)
    assert res['posetrack18/Shou AP'] == 100.0


def test_nms_removes_a_duplicate_and_ids_deduplicate(gt_dir, tmp_path):
    samples = _exact_samples()
    # a near copy of person 3 (0.5 px off) with HIGHER joint scores but a
    # lower box score, and a second copy of sample 1 (same instance id)
    dup = _sample(4, image_id(2, 0),
                  _skeleton(300, 100) + 0.5, np.full(17, 0.99), 0.3)
    samples += [dup, _exact_samples()[0]]
    out = str(tmp_path / 'nms')
    res = _evaluate(samples, gt_folder=gt_dir, outfile_prefix=out)
    files = _read_dir(out)
    assert len(files[video_name(1)]['annotations']) == 1  # same id once
    assert len(files[video_name(2)]['annotations']) == 2  # duplicate gone
    assert res['posetrack18/AP'] == 100.0

    out = str(tmp_path / 'no_nms')
    res = _evaluate(
        samples, gt_folder=gt_dir, outfile_prefix=out, nms_mode='none')
    anns = _read_dir(out)[video_name(2)]['annotations']
    assert len(anns) == 3
    assert sorted(a['track_id'] for a in anns) == [0, 1, 2]
    # written by instance id: the duplicate (id 4) comes after person 3,
    # loses the tie on pck and is a false positive ranked first
    assert res['posetrack18/AP'] < 100.0


def test_round_trip_with_the_cli(gt_dir, tmp_path):
    samples = _exact_samples()
    # perturb: person 2 far off on its arms, person 3 missing
    kpts = _skeleton(100, 100)
    kpts[7:11] += 40
    samples[1] = _sample(2, image_id(2, 0), kpts, np.linspace(.3, .9, 17), 0.8)
    out = str(tmp_path / 'preds')
    res = _evaluate(samples[:2], gt_folder=gt_dir, outfile_prefix=out)
    assert 0 < res['posetrack18/AP'] < 100

    # the command-line tool, run in-process on the written files
    tool = load_tool('tools/eval_posetrack.py')
    json_out = tmp_path / 'cli.json'
    assert tool.main(
        ['--gt-dir', gt_dir, '--pred-dir', out, '--json',
         str(json_out)]) == 0
    with open(json_out) as f:
        cli = json.load(f)
    assert list(cli.values()) == pytest.approx(list(res.values()), abs=1e-12)


def test_format_only_and_temporary_folder(gt_dir, tmp_path):
    out = str(tmp_path / 'submission')
    res = _evaluate(
        _exact_samples(),
        gt_folder=gt_dir,
        outfile_prefix=out,
        format_only=True)
    assert res == {}
    assert evaluate_posetrack(gt_dir, out)['Total'] == 100.0
    # without outfile_prefix a temporary folder is used
    res = _evaluate(_exact_samples(), gt_folder=gt_dir)
    assert res['posetrack18/AP'] == 100.0


def test_gt_folder_resolution(gt_dir, tmp_path):
    ann_file = os.path.join(os.path.dirname(gt_dir), 'posetrack18_val.json')
    assert gt_folder_from_ann_file(ann_file) == gt_dir
    assert PoseTrackAPMetric(ann_file=ann_file).gt_folder == gt_dir
    explicit = PoseTrackAPMetric(ann_file=ann_file, gt_folder=str(tmp_path))
    assert explicit.gt_folder == str(tmp_path)
    with pytest.raises(FileNotFoundError, match='nowhere'):
        PoseTrackAPMetric(gt_folder=str(tmp_path / 'nowhere'))
    with pytest.raises(ValueError, match='head_bottom'):
        PoseTrackAPMetric(gt_folder=gt_dir, head_bottom='neck')
    with pytest.raises(ValueError, match='joint_score'):
        PoseTrackAPMetric(gt_folder=gt_dir, joint_score='box')

    # from the test dataset's annotation file recorded in the MessageHub
    hub = MessageHub.get_current_instance()
    key = 'posetrack18_ann_file'
    old = hub.get_info(key)
    hub.update_info(key, ann_file)
    try:
        metric = PoseTrackAPMetric()
        assert metric.gt_folder is None
        metric.dataset_meta = META
        assert metric.gt_folder == gt_dir
    finally:
        if old is None:
            hub.pop_info(key)
        else:
            hub.update_info(key, old)
    with pytest.raises(ValueError, match='gt_folder'):
        PoseTrackAPMetric().compute_metrics([])


def test_original_posetrack_ids_on_real_samples(posetrack18_sample, tmp_path):
    ann_file = str(posetrack18_sample / 'annotations' /
                   'test_posetrack18_val.json')
    with open(ann_file) as f:
        merged = json.load(f)
    samples = []
    for k, ann in enumerate(merged['annotations']):
        kpts = np.array(ann['keypoints'], dtype=np.float64).reshape(17, 3)
        # annotated joints: exact with high scores; the others guessed at
        # the box centre with low scores (ranked below every true joint)
        x, y, w, h = ann['bbox']
        guess = kpts[:, 2] == 0
        kpts[guess, :2] = (x + w / 2, y + h / 2)
        scores = np.where(guess, 0.01, 0.5 + 0.001 * k)
        samples.append(
            _sample(ann['id'], ann['image_id'], kpts[:, :2], scores, 1.0))
    out = str(tmp_path / 'preds')
    res = _evaluate(samples, ann_file=ann_file, outfile_prefix=out)
    assert all(v == pytest.approx(100.0) for v in res.values()), res
    files = _read_dir(out)
    for name, data in files.items():
        with open(posetrack18_sample / 'annotations' / 'val' / name) as f:
            gt = json.load(f)
        assert [i['id']
                for i in data['images']] == [i['id'] for i in gt['images']]
        assert len(data['annotations']) == len(gt['annotations'])
        assert {a['image_id']
                for a in data['annotations']
                } == {a['image_id']
                      for a in gt['annotations']}
    assert files['012834_mpii_test.json']['images'][0]['id'] == 10128340000
