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
    merged = dict(
        images=[dict(id=i, file_name=f'images/train/000001_mpii_train/'
                     f'{i:06d}.jpg') for i in (1, 2)],
        annotations=[
            _person(1, 1, frame1),
            _person(5, 2, labels, propagated_from=1,
                    scores=scores.tolist())])
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
    # one frame from the source: 13 of 15 right, every copy right
    assert '| 1 | 15 | 86.7 | 100.0 | 0.00 / 0.40 |' in text


def test_shares_by_frame_distance():
    merged, dense = _data()
    # the same person again on frame 3, two frames from its source, its
    # labels the truth of frame 2 (0.4 head sizes behind the truth of 3)
    dense['annotations'].append(_person(
        3, 3, np.reshape(dense['annotations'][1]['keypoints'], (-1, 3))
        [:, :2] + [0.4 * HEAD, 0]))
    merged['images'].append(dict(
        id=3, file_name='images/train/000001_mpii_train/000003.jpg'))
    merged['annotations'].append(
        dict(merged['annotations'][1], id=6, image_id=3))
    joints, _ = label_quality.label_errors(merged, dense)
    assert sorted(set(joints[:, 6])) == [1, 2]
    text = label_quality.report(joints, 0)
    assert '| 1 | 15 | 86.7 | 100.0 |' in text
    # frame 3: the labels 0.4 head sizes off (wrists 1.0); the copies of
    # frame 1 0.8 head sizes off: all wrong
    assert '| 2 | 15 | 86.7 | 0.0 | 0.40 / 0.80 |' in text


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
    merged, dense = _data()
    merged['images'] = merged['images'][:1]
    with pytest.raises(ValueError, match='no image id 2 in its "images"'):
        label_quality.label_errors(merged, dense)
