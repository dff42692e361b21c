"""Known PoseTrack AP results on the real PoseTrack18 samples."""
import json
import os

import pytest

from posewarper_mm.evaluation.functional import evaluate_posetrack
from posewarper_mm.posetrack import (EVAL_JOINT_NAMES,
                                     POSETRACK18_KEYPOINT_NAMES, SUMMARY_KEYS)

# a point strictly inside ignore region 0 of the labeled frame of each video
INSIDE_REGION_0 = {
    '003418_mpii_test.json': (78.0, 324.0),
    '009473_mpii_test.json': (1484.0, 446.0),
    '012834_mpii_test.json': (376.0, 845.0),
}
# GT joints strictly inside an ignore region (checked with shapely): they
# are removed from GT and predictions alike
GT_IN_REGIONS = {('003418_mpii_test.json', 0, 'right_knee')}


@pytest.fixture
def gt_dir(posetrack18_sample):
    path = posetrack18_sample / 'annotations' / 'val'
    assert sorted(os.listdir(path)) == sorted(INSIDE_REGION_0)
    return str(path)


def _load(gt_dir, name):
    with open(os.path.join(gt_dir, name)) as f:
        return json.load(f)


def _write_predictions(gt_dir, out_dir, make_annotations, strip=False):
    """Write per-video files built from the GT files."""
    os.makedirs(out_dir, exist_ok=True)
    for name in INSIDE_REGION_0:
        data = _load(gt_dir, name)
        data['annotations'] = make_annotations(name, data)
        if strip:
            for img in data['images']:
                img.pop('ignore_regions_x')
                img.pop('ignore_regions_y')
        with open(os.path.join(out_dir, name), 'w') as f:
            json.dump(data, f)
    return out_dir


def _exact(ann, score):
    """GT person as prediction: same triples, every joint score ``score``."""
    return dict(ann, scores=[score] * 17)


def _assert_all(result, value):
    for key in SUMMARY_KEYS + EVAL_JOINT_NAMES:
        assert result[key] == pytest.approx(value, abs=1e-9), key


def test_gt_as_prediction(gt_dir, tmp_path):
    # the GT files themselves (no scores -> all tied)
    _assert_all(evaluate_posetrack(gt_dir, gt_dir), 100.0)

    # scores = visibility
    def with_visibility(name, data):
        return [
            dict(a, scores=a['keypoints'][2::3]) for a in data['annotations']
        ]

    pred_dir = _write_predictions(gt_dir, str(tmp_path / 'pred'),
                                  with_visibility)
    _assert_all(evaluate_posetrack(gt_dir, pred_dir), 100.0)


def _with_region_false_positive(name, data):
    x, y = INSIDE_REGION_0[name]
    anns = [_exact(a, 0.9) for a in data['annotations']]
    for img in data['images']:
        xs, ys = img['ignore_regions_x'][0], img['ignore_regions_y'][0]
        assert min(xs) < x < max(xs) and min(ys) < y < max(ys)
        anns.append(
            dict(
                image_id=img['id'],
                track_id=99,
                keypoints=[x, y, 0.95] * 17,
                scores=[0.95] * 17,
                score=0.95))
    return anns


def test_false_positive_inside_ignore_region_is_removed(gt_dir, tmp_path):
    pred_dir = _write_predictions(gt_dir, str(tmp_path / 'pred'),
                                  _with_region_false_positive)
    _assert_all(evaluate_posetrack(gt_dir, pred_dir), 100.0)

    # without the ignore regions the same person is a confident false
    # positive in each frame, ranked first for every joint
    stripped_gt = _write_predictions(
        gt_dir,
        str(tmp_path / 'gt_without_regions'),
        lambda name, data: data['annotations'],
        strip=True)
    result = evaluate_posetrack(stripped_gt, pred_dir)
    assert result['Total'] < 95.0


def test_exact_coordinates_with_zero_scores(gt_dir, tmp_path):

    def zero_scores(name, data):
        anns = []
        for a in data['annotations']:
            kpts = list(a['keypoints'])
            kpts[2::3] = [0] * 17  # (x, y, 0) still exists unless x = y = 0
            anns.append(dict(a, keypoints=kpts, scores=[0.0] * 17))
        return anns

    pred_dir = _write_predictions(gt_dir, str(tmp_path / 'pred'),
                                  zero_scores)
    _assert_all(evaluate_posetrack(gt_dir, pred_dir), 100.0)


def test_missing_persons_lower_recall(gt_dir, tmp_path):
    # keep only the first person of each frame: every kept joint is a TP
    # and there are no false positives, so AP_j = 100 * kept_j / GT_j
    firsts = set()

    def first_person(name, data):
        seen, anns = set(), []
        for a in data['annotations']:
            if a['image_id'] not in seen:
                seen.add(a['image_id'])
                firsts.add((name, a['track_id']))
                anns.append(_exact(a, 0.9))
        return anns

    pred_dir = _write_predictions(gt_dir, str(tmp_path / 'pred'),
                                  first_person)
    result = evaluate_posetrack(gt_dir, pred_dir)

    kept = {n: 0 for n in EVAL_JOINT_NAMES}
    total = {n: 0 for n in EVAL_JOINT_NAMES}
    for name in INSIDE_REGION_0:
        for a in _load(gt_dir, name)['annotations']:
            for k, joint in enumerate(POSETRACK18_KEYPOINT_NAMES):
                x, y, v = a['keypoints'][3 * k:3 * k + 3]
                if joint not in total or (x == 0 and y == 0 and v == 0) \
                        or (name, a['track_id'], joint) in GT_IN_REGIONS:
                    continue
                total[joint] += 1
                kept[joint] += (name, a['track_id']) in firsts
    assert 0 < result['Total'] < 100
    for joint in EVAL_JOINT_NAMES:
        assert result[joint] == pytest.approx(
            100 * kept[joint] / total[joint], abs=1e-9), joint
