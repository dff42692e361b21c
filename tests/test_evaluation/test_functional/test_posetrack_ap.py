"""Hand-computed PoseTrack AP cases (head size 30 px -> match radius 15)."""
import math
import os

import numpy as np
import pytest

from posewarper_mm.evaluation.functional import evaluate_posetrack, voc_ap
from posewarper_mm.posetrack import EVAL_JOINT_NAMES
from tests.testing.posetrack_files import (gt_person, image, image_id,
                                           pred_person, video_name, write_file)

UNTOUCHED = ('head_bottom', 'left_shoulder', 'right_shoulder', 'left_elbow',
             'right_elbow', 'right_wrist', 'left_hip', 'right_hip',
             'left_knee', 'right_knee')


def _evaluate_frame(tmp_path, gts, preds):
    """Evaluate one frame (video 1, frame 0) given joint dicts."""
    img = image_id(1, 0)
    gt_anns = [gt_person(img, t, joints) for t, joints in enumerate(gts)]
    pred_anns = [pred_person(img, t, joints) for t, joints in enumerate(preds)]
    write_file(str(tmp_path / 'gt'), video_name(1), [image(1, 0)], gt_anns)
    write_file(str(tmp_path / 'pred'), video_name(1), [image(1, 0)], pred_anns)
    return evaluate_posetrack(str(tmp_path / 'gt'), str(tmp_path / 'pred'))


def test_voc_ap_by_hand():
    # ranked: TP (P=1, R=1/2), FP (P=1/2, R=1/2), TP (P=2/3, R=1)
    # envelope: R 0->1/2 at P 1, R 1/2->1 at P 2/3
    ap = voc_ap(np.array([0.9, 0.8, 0.7]), np.array([True, False, True]), 2)
    assert ap == pytest.approx(100 * (0.5 * 1 + 0.5 * 2 / 3), abs=1e-12)
    # the same entries given in another order rank the same way
    ap = voc_ap(np.array([0.7, 0.9, 0.8]), np.array([True, True, False]), 2)
    assert ap == pytest.approx(100 * (0.5 + 0.5 * 2 / 3), abs=1e-12)
    # no entries -> 0 (not NaN); entries but no GT -> NaN
    assert voc_ap(np.zeros(0), np.zeros(0, bool), 3) == 0.0
    assert math.isnan(voc_ap(np.array([0.5]), np.array([False]), 0))
    # a miss of half the GT caps recall: 1 TP of 2 GT ranked first
    ap = voc_ap(np.array([0.9, 0.1]), np.array([True, False]), 2)
    assert ap == pytest.approx(100 * 0.5 * 1, abs=1e-12)


def test_two_persons_false_positive_and_dropped_joint(tmp_path):
    gts = [
        # person A: 3 joints
        dict(nose=(100, 100), head_top=(100, 80), right_ankle=(100, 300)),
        # person B: 4 joints
        dict(
            nose=(300, 100),
            head_top=(300, 80),
            right_ankle=(300, 300),
            left_ankle=(320, 300)),
    ]
    preds = [
        # P1 -> A: nose 2 px off (TP), head_top exact (TP), right_ankle
        # 30 px off (> 15: FP); pck(P1, A) = 2/3
        dict(
            nose=(102, 100, 0.9),
            head_top=(100, 80, 0.6),
            right_ankle=(100, 330, 0.8)),
        # P2 -> B: all three TP, B's left_ankle is not predicted (a miss);
        # pck(P2, B) = 3/4
        dict(
            nose=(300, 100, 0.7),
            head_top=(300, 82, 0.95),
            right_ankle=(300, 305, 0.5)),
        # P3: far from everyone -> all its joints are false positives;
        # left_wrist has no GT anywhere
        dict(
            nose=(600, 600, 0.8),
            head_top=(600, 580, 0.3),
            left_wrist=(600, 650, 0.4)),
    ]
    res = _evaluate_frame(tmp_path, gts, preds)

    # nose, 2 GT: ranked .9 TP, .8 FP, .7 TP
    # P = 1, 1/2, 2/3; R = 1/2, 1/2, 1 -> AP = 1/2 * 1 + 1/2 * 2/3
    nose = 100 * (0.5 * 1 + 0.5 * 2 / 3)
    # head_top, 2 GT: ranked .95 TP, .6 TP, .3 FP -> AP = 1
    head_top = 100.0
    # right_ankle, 2 GT: ranked .8 FP, .5 TP
    # P = 0, 1/2; R = 0, 1/2 -> AP = 1/2 * 1/2
    right_ankle = 100 * (0.5 * 0.5)
    # left_ankle: 1 GT, no prediction -> no entries -> 0
    left_ankle = 0.0
    assert res['nose'] == pytest.approx(nose, abs=1e-9)
    assert res['head_top'] == pytest.approx(head_top, abs=1e-9)
    assert res['right_ankle'] == pytest.approx(right_ankle, abs=1e-9)
    assert res['left_ankle'] == left_ankle
    # left_wrist: a false positive but no GT -> NaN; its column is NaN
    assert math.isnan(res['left_wrist'])
    assert math.isnan(res['Wrist'])
    for name in UNTOUCHED:
        assert res[name] == 0.0, name
    assert res['Head'] == pytest.approx((head_top + 0 + nose) / 3)
    assert res['Ankle'] == pytest.approx((right_ankle + left_ankle) / 2)
    assert res['Shoulder'] == 0.0
    # Total: mean over the 14 joints that are not NaN
    assert res['Total'] == pytest.approx(
        (nose + head_top + right_ankle) / 14, abs=1e-9)


def test_matching_uses_pck_not_scores(tmp_path):
    gts = [dict(nose=(100, 100), head_top=(100, 80))]
    preds = [
        # P0: nose exact (score .9) but head_top far -> pck 1/2
        dict(nose=(100, 100, 0.9), head_top=(200, 200, 0.8)),
        # P1: both joints match -> pck 1: the GT takes P1
        dict(nose=(101, 100, 0.2), head_top=(100, 80, 0.7)),
    ]
    res = _evaluate_frame(tmp_path, gts, preds)
    # nose, 1 GT: ranked .9 FP (P0 unmatched), .2 TP
    # P = 0, 1/2; R = 0, 1 -> AP = 1 * 1/2
    assert res['nose'] == pytest.approx(100 * 0.5, abs=1e-9)
    # head_top: ranked .8 FP, .7 TP -> AP = 1 * 1/2
    assert res['head_top'] == pytest.approx(100 * 0.5, abs=1e-9)


def test_pck_tie_goes_to_first_prediction(tmp_path):
    gts = [dict(nose=(100, 100))]
    # both match the only joint (pck 1): the first in the file is taken
    first_far = [dict(nose=(105, 100, 0.3)), dict(nose=(101, 100, 0.6))]
    res = _evaluate_frame(tmp_path, gts, first_far)
    # ranked .6 FP, .3 TP -> P = 0, 1/2; R = 0, 1 -> AP = 1/2
    assert res['nose'] == pytest.approx(100 * 0.5, abs=1e-9)
    res = _evaluate_frame(tmp_path, gts, first_far[::-1])
    # ranked .6 TP, .3 FP -> AP = 1
    assert res['nose'] == pytest.approx(100.0, abs=1e-9)


@pytest.mark.parametrize('dx,expected', [(15.0, 100.0), (15.5, 0.0)])
def test_match_radius_is_half_of_0_6_head_diagonal(tmp_path, dx, expected):
    # head box 30 x 40: 0.5 * 0.6 * 50 = 15 px; <= 15 matches
    res = _evaluate_frame(tmp_path, [dict(nose=(100, 100))],
                          [dict(nose=(100 + dx, 100, 0.9))])
    assert res['nose'] == expected


def test_joint_existence_and_missing_scores(tmp_path):
    gts = [dict(nose=(100, 100), head_top=(100, 80))]
    # score 0 at non-zero coordinates still counts (TP); (0, 0, 0) is absent
    res = _evaluate_frame(tmp_path, gts,
                          [dict(nose=(100, 100, 0.0), head_top=(0, 0, 0))])
    assert res['nose'] == 100.0
    assert res['head_top'] == 0.0  # no entry at all
    # (0, 0) with a non-zero score is a predicted joint (a FP here)
    res = _evaluate_frame(tmp_path, gts,
                          [dict(nose=(100, 100, 0.5), head_top=(0, 0, 0.5))])
    assert res['head_top'] == 0.0
    # without "scores" every joint gets -9999: it ranks below scored ones
    img = image_id(1, 0)
    unscored = pred_person(img, 1, dict(nose=(100, 100, 0.9)))
    unscored['scores'] = []
    scored_fp = pred_person(img, 0, dict(nose=(400, 400, 0.1)))
    write_file(
        str(tmp_path / 'pred'), video_name(1), [image(1, 0)],
        [scored_fp, unscored])
    res = evaluate_posetrack(str(tmp_path / 'gt'), str(tmp_path / 'pred'))
    # ranked .1 FP, -9999 TP -> P = 0, 1/2; R = 0, 1 -> AP = 1/2
    assert res['nose'] == pytest.approx(100 * 0.5, abs=1e-9)


def test_unlabeled_frames_and_ignore_regions(tmp_path):
    gt_dir, pred_dir = str(tmp_path / 'gt'), str(tmp_path / 'pred')
    square = [(0, 0), (200, 0), (200, 200), (0, 200)]
    # video 1: frame 0 labeled with one TP; frame 1 unlabeled, where a
    # confident prediction is ignored (not a false positive)
    write_file(gt_dir, video_name(1), [image(1, 0), image(1, 1)],
               [gt_person(image_id(1, 0), 0, dict(nose=(100, 100)))])
    write_file(pred_dir, video_name(1), [image(1, 0), image(1, 1)], [
        pred_person(image_id(1, 0), 0, dict(nose=(100, 100, 0.5))),
        pred_person(image_id(1, 1), 0, dict(nose=(50, 50, 0.99))),
    ])
    # video 2, frame 0: the GT nose is inside the region (removed), the GT
    # head_top lies ON the region's edge (kept). Prediction Q mirrors it;
    # R is a false positive outside the region.
    # frame 1: the only GT joint is inside the region -> the GT person is
    # removed and the prediction S (outside) is a false positive.
    write_file(
        gt_dir, video_name(2),
        [image(2, 0, [square]), image(2, 1, [square])], [
            gt_person(
                image_id(2, 0), 0, dict(nose=(100, 100), head_top=(200, 100))),
            gt_person(image_id(2, 1), 0, dict(nose=(50, 50))),
        ])
    write_file(pred_dir, video_name(2), [image(2, 0), image(2, 1)], [
        pred_person(
            image_id(2, 0), 0,
            dict(nose=(100, 100, 0.8), head_top=(200, 100, 0.6))),
        pred_person(image_id(2, 0), 1, dict(nose=(300, 300, 0.7))),
        pred_person(image_id(2, 1), 0, dict(nose=(400, 400, 0.4))),
    ])
    # video 3: no labeled frame at all -> its predictions count for nothing
    write_file(gt_dir, video_name(3), [image(3, 0)], [])
    write_file(pred_dir, video_name(3), [image(3, 0)],
               [pred_person(image_id(3, 0), 0, dict(nose=(10, 10, 0.95)))])
    res = evaluate_posetrack(gt_dir, pred_dir)
    # nose: 1 GT (video 1); entries .5 TP, .7 FP (R), .4 FP (S); .99, .95
    # ignored (unlabeled frames), .8 removed (in region)
    # ranked .7 F, .5 T, .4 F -> P = 0, 1/2, 1/3; R = 0, 1, 1 -> AP = 1/2
    assert res['nose'] == pytest.approx(100 * 0.5, abs=1e-9)
    # head_top: the boundary GT joint and Q's joint stay -> AP = 1
    assert res['head_top'] == 100.0
    others = [n for n in EVAL_JOINT_NAMES if n not in ('nose', 'head_top')]
    assert all(res[n] == 0.0 for n in others)


def _random_dataset(rng, gt_dir, pred_dir, order, names):
    """Separated persons, distinct scores; ``order`` permutes instances."""
    scores = iter(rng.permutation(5000) / 5000.0 + 1e-4)
    for v, name in zip(range(1, 4), names):
        images = [image(v, f) for f in range(3)]
        gts, preds = [], []
        for f in range(3):
            img = image_id(v, f)
            for p in range(3):
                center = np.array([150.0 + 300 * p, 150.0 + 10 * f])
                joints = {
                    n: tuple(center + rng.uniform(-100, 100, 2))
                    for n in rng.choice(EVAL_JOINT_NAMES, 10, replace=False)
                }
                gts.append(gt_person(img, p, joints))
                if rng.random() < 0.8:
                    preds.append(
                        pred_person(
                            img, p, {
                                n: (x + rng.normal(0, 8), y + rng.normal(0, 8),
                                    next(scores))
                                for n, (x, y) in joints.items()
                                if rng.random() < 0.9
                            }))
            preds.append(
                pred_person(
                    img, 9, {
                        n: (2000 + 50 * k, 2000.0, next(scores))
                        for k, n in enumerate(EVAL_JOINT_NAMES[:6])
                    }))
        write_file(gt_dir, name, images, order(gts))
        write_file(pred_dir, name, images, order(preds))


def test_order_independence_with_distinct_scores(tmp_path):
    names = [video_name(v) for v in range(1, 4)]
    _random_dataset(
        np.random.default_rng(0), str(tmp_path / 'g1'), str(tmp_path / 'p1'),
        lambda x: x, names)
    shuffle = np.random.default_rng(1)
    # the same content, instances shuffled, files renamed (new sort order)
    _random_dataset(
        np.random.default_rng(0), str(tmp_path / 'g2'), str(tmp_path / 'p2'),
        lambda x: [x[i] for i in shuffle.permutation(len(x))],
        ['c.json', 'b.json', 'a.json'])
    res1 = evaluate_posetrack(str(tmp_path / 'g1'), str(tmp_path / 'p1'))
    res2 = evaluate_posetrack(str(tmp_path / 'g2'), str(tmp_path / 'p2'))
    assert sorted(os.listdir(tmp_path /
                             'g2')) == ['a.json', 'b.json', 'c.json']
    assert 10 < res1['Total'] < 100  # a non-trivial result
    for key in res1:
        assert res1[key] == pytest.approx(res2[key], abs=1e-9), key
