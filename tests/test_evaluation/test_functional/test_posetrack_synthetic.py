"""PoseTrack AP on generated PoseTrack18-format videos."""
import json
import os

import pytest

from posewarper_mm.evaluation.functional import evaluate_posetrack
from posewarper_mm.posetrack import EVAL_JOINT_NAMES, SUMMARY_KEYS
from tests.testing.posetrack_files import copy_gt_as_pred
from tools.quickstart.synthetic import generate_posetrack_dataset


@pytest.fixture(scope='module')
def synthetic_gt(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthetic')
    paths = generate_posetrack_dataset(
        str(root),
        num_videos=3,
        num_frames=4,
        width=96,
        height=72,
        persons_per_video=(1, 3),
        splits=('val', ),
        crowd_prob=1.0,
        seed=3)
    return paths['video_ann_dirs']['val']


def test_gt_as_prediction_is_perfect(synthetic_gt, tmp_path):
    assert len(os.listdir(synthetic_gt)) == 3
    copy_gt_as_pred(synthetic_gt, str(tmp_path / 'pred'))
    result = evaluate_posetrack(synthetic_gt, str(tmp_path / 'pred'))
    for key in SUMMARY_KEYS + EVAL_JOINT_NAMES:
        assert result[key] == 100.0, key


def test_dropping_frames_lowers_recall(synthetic_gt, tmp_path):
    # predictions only on the first frame of each video: no false
    # positives, so every joint's AP is the share of its GT found
    pred_dir = tmp_path / 'pred'
    pred_dir.mkdir()
    for name in os.listdir(synthetic_gt):
        with open(os.path.join(synthetic_gt, name)) as f:
            data = json.load(f)
        first = data['images'][0]['id']
        data['annotations'] = [
            a for a in data['annotations'] if a['image_id'] == first
        ]
        with open(pred_dir / name, 'w') as f:
            json.dump(data, f)
    result = evaluate_posetrack(synthetic_gt, str(pred_dir))
    assert 0 < result['Total'] < 100
