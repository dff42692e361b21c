"""tools/analysis/hidden_joints.py: the share of hidden joints found."""
import json
import os.path as osp

import pytest
from gt_subsets import restrict_joints_gt_dir
from hidden_joints import hidden_joint_table, main

from posewarper_mm.testing.posetrack_files import (MATCH_RADIUS, NAMES,
                                                   gt_person, image, image_id,
                                                   video_name, write_file)

# the 15 joints the PoseTrack AP scores (all but the ears); five of them
# are hidden on frame 0
HIDDEN = ['left_wrist', 'right_wrist', 'left_knee', 'nose', 'left_ankle']
JOINTS = {
    name: (40.0 + 11 * i, 30.0 + 7 * i)
    for i, name in enumerate(NAMES) if not name.endswith('_ear')
}


def _write_gt(folder, hidden_flags=True):
    anns = []
    for frame in range(2):
        ann = gt_person(image_id(1, frame), 0, JOINTS)
        if hidden_flags:
            ann['keypoints_occluded'] = [
                int(frame == 0 and n in HIDDEN) for n in NAMES
            ]
        anns.append(ann)
    write_file(folder, video_name(1), [image(1, 0), image(1, 1)], anns)


def _write_pred(folder, moved):
    """The GT as prediction, with the joints ``moved`` (frame 0) off."""
    anns = []
    for frame in range(2):
        joints = dict(JOINTS)
        if frame == 0:
            for name in moved:
                x, y = joints[name]
                joints[name] = (x + 2 * MATCH_RADIUS, y)
        ann = gt_person(image_id(1, frame), 0, joints)
        ann['scores'] = [1.0] * len(NAMES)
        anns.append(ann)
    write_file(folder, video_name(1), [image(1, 0), image(1, 1)], anns)


def test_restricting_joints_keeps_the_flagged_ones(tmp_path):
    gt, out = str(tmp_path / 'gt'), str(tmp_path / 'out')
    _write_gt(gt)
    assert restrict_joints_gt_dir(gt, out, hidden=True) == (1, len(HIDDEN))
    with open(osp.join(out, video_name(1))) as f:
        (ann, ) = json.load(f)['annotations']
    kept = [n for k, n in enumerate(NAMES) if ann['keypoints'][3 * k + 2]]
    assert sorted(kept) == sorted(HIDDEN)
    # the others: ten on frame 0, all 15 on frame 1
    persons, joints = restrict_joints_gt_dir(gt, out, hidden=False)
    assert persons == 2 and joints == 2 * len(JOINTS) - len(HIDDEN)


def test_shares_count_the_hidden_and_the_other_joints_apart(tmp_path):
    gt = str(tmp_path / 'gt')
    _write_gt(gt)
    # two hidden joints and one other joint missed
    _write_pred(str(tmp_path / 'a'), ['left_wrist', 'nose', 'right_hip'])
    _write_pred(str(tmp_path / 'perfect'), [])
    table = hidden_joint_table(gt, {
        'a': str(tmp_path / 'a'),
        'perfect': str(tmp_path / 'perfect')
    }, str(tmp_path / 'work'))
    row = table['a']
    assert row['hidden_n'] == len(HIDDEN)
    assert row['hidden'] == pytest.approx(100 * 3 / 5)
    assert row['Wrist'] == pytest.approx(50.0)
    assert row['Knee'] == pytest.approx(100.0)
    assert row['Head'] == 0.0  # the nose, the only hidden head joint
    visible = row['visible_n']
    assert row['visible'] == pytest.approx(100 * (visible - 1) / visible)
    assert table['perfect']['hidden'] == 100.0
    assert table['perfect']['visible'] == 100.0


def test_gt_without_hidden_flags_is_an_error_naming_the_file(tmp_path, capsys):
    gt = str(tmp_path / 'gt')
    _write_gt(gt, hidden_flags=False)
    _write_pred(str(tmp_path / 'p'), [])
    assert main(['--gt-dir', gt, '--pred', f'p={tmp_path / "p"}']) == 1
    err = capsys.readouterr().err
    assert video_name(1) in err and 'keypoints_occluded' in err
