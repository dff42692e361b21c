"""tools.quickstart.label_quality: propagated labels against the truth."""
import json

import numpy as np
import pytest

from posewarper_mm.posetrack import POSETRACK18_KEYPOINT_NAMES
from tools.quickstart import label_quality

HEAD = 0.6 * np.hypot(30.0, 40.0)  # 0.6 * diagonal of a 30x40 head box


def _person(ann_id, image_id, points, **extra):
    keypoints = []
    for x, y in points:
        keypoints += [float(x), float(y), 2]
    return dict(id=ann_id, image_id=image_id, track_id=0, category_id=1,
                keypoints=keypoints, bbox_head=[0, 0, 30, 40], **extra)


def _data():
    """Frame 1 labeled, frame 2 propagated from it; the truth moves every
    joint 0.4 head sizes right on frame 2; the propagated wrists stay
    behind (0.6 head sizes off), the rest lands on the truth."""
    k = len(POSETRACK18_KEYPOINT_NAMES)
    frame1 = np.stack([np.arange(k) * 10.0, np.full(k, 50.0)], axis=1)
    frame2 = frame1 + [0.4 * HEAD, 0]
    labels = frame2.copy()
    wrists = [POSETRACK18_KEYPOINT_NAMES.index(n)
              for n in ('left_wrist', 'right_wrist')]
    labels[wrists] = frame1[wrists] - [0.2 * HEAD, 0]
    scores = np.full(k, 0.5)
    scores[wrists] = 0.1
    dense = dict(categories=[dict(keypoints=list(POSETRACK18_KEYPOINT_NAMES))],
                 annotations=[_person(1, 1, frame1), _person(2, 2, frame2)])
    merged = dict(annotations=[
        _person(1, 1, frame1),
        _person(5, 2, labels, propagated_from=1, scores=scores.tolist())])
    return merged, dense


def test_label_errors_and_shares():
    joints, unmatched = label_quality.label_errors(*_data())
    assert unmatched == 0 and len(joints) == 15  # the ears are not scored
    labels = label_quality.share_within(joints, 2)
    copies = label_quality.share_within(joints, 3)
    assert labels['Wrist'] == 0 and labels['Head'] == 100
    assert labels['Total'] == pytest.approx(100 * 13 / 15)
    assert copies['Total'] == 100  # 0.4 head sizes: within the threshold
    text = label_quality.report(joints, unmatched, [0.3])
    assert '| propagated labels, share within' in text
    # 13 joints on the truth, the wrists 0.6 head sizes left of it
    dx = -2 * 0.6 * HEAD / 15
    assert f'mean offset from the truth ({dx:+.2f}, +0.00) pixels' in text
    # the wrists score 0.1: the threshold keeps the 13 right joints
    assert ('propagated_min_score=0.3: 86.7% of the joints kept, 100.0% '
            'of them within PCKh@0.5') in text


def test_cli_and_bad_input(tmp_path, capsys):
    merged, dense = _data()
    files = {}
    for name, data in (('merged', merged), ('dense', dense)):
        files[name] = tmp_path / f'{name}.json'
        files[name].write_text(json.dumps(data))
    label_quality.main([str(files['merged']), str(files['dense'])])
    assert 'source labels not moved (copy)' in capsys.readouterr().out
    merged['annotations'] = merged['annotations'][:1]
    with pytest.raises(ValueError, match='no propagated person'):
        label_quality.label_errors(merged, dense)
