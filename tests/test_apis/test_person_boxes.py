"""Person-box providers: whole frame and PoseTrack-style detection json."""
import json

import numpy as np
import pytest

from posewarper_mm.apis import (DetectionJsonBoxes, WholeFrameBoxes,
                                posetrack_image_id)
from posewarper_mm.posetrack import frame_index_from_image_id

FRAME = np.zeros((120, 160, 3), np.uint8)


def _write(tmp_path, records, name='boxes.json'):
    path = tmp_path / name
    path.write_text(json.dumps(records))
    return str(path)


def test_whole_frame():
    boxes = WholeFrameBoxes()(3, FRAME)
    assert boxes.tolist() == [[0, 0, 160, 120, 1.0]]


def test_posetrack_image_ids():
    assert posetrack_image_id('000001_mpiinew_test', 3) == 10000010003
    assert posetrack_image_id('012834_mpii_test', 0) == 10128340000
    assert posetrack_image_id('my_clip', 7) == 7
    assert posetrack_image_id('000001_mpii', 12345) == 12345
    assert frame_index_from_image_id(10128340012) == 12
    assert frame_index_from_image_id(12) is None


def test_records_resolved_by_every_frame_key(tmp_path):
    records = [
        dict(frame_index=0, bbox=[10, 20, 30, 40], score=0.9),
        dict(image_name='images/val/x/000001.jpg', bbox=[1, 2, 3, 4],
             score=0.8),
        dict(image_id=10000010002, bbox=[5, 5, 10, 10], score=0.7),
        dict(frame_id=10000010002, bbox=[6, 6, 10, 10], score=0.6,
             category_id=1),
        dict(file_name='frame_b.png', bbox=[0, 0, 5, 5], score=0.5),
        dict(frame_index=0, bbox=[0, 0, 9, 9], score=0.9, category_id=2),
    ]
    boxes = DetectionJsonBoxes(
        _write(tmp_path, records),
        frame_names=['frame_a.png', 'frame_b.png', 'frame_c.png'])
    assert np.allclose(boxes(0, FRAME), [[10, 20, 40, 60, 0.9]])
    assert np.allclose(boxes(1, FRAME), [[1, 2, 4, 6, 0.8],
                                         [0, 0, 5, 5, 0.5]])
    assert np.allclose(boxes(2, FRAME), [[5, 5, 15, 15, 0.7],
                                         [6, 6, 16, 16, 0.6]])
    empty = boxes(5, FRAME)
    assert empty.shape == (0, 5) and empty.dtype == np.float32


def test_score_threshold_and_custom_ids(tmp_path):
    records = [
        dict(image_id=7, bbox=[0, 0, 10, 10], score=0.1),
        dict(image_id=7, bbox=[0, 0, 20, 20], score=0.5),
    ]
    boxes = DetectionJsonBoxes(
        _write(tmp_path, records), score_thr=0.3, image_ids=[5, 7])
    assert np.allclose(boxes(1, FRAME), [[0, 0, 20, 20, 0.5]])


def test_unresolvable_record_names_file_and_record(tmp_path):
    path = _write(tmp_path, [dict(bbox=[0, 0, 1, 1], score=1.0)])
    with pytest.raises(
            ValueError, match=r'boxes.json: detection #0 .*not name a frame'):
        DetectionJsonBoxes(path)
    path = _write(tmp_path, [
        dict(frame_index=0, bbox=[0, 0, 1, 1]),
        dict(image_id='x', bbox=[0, 0, 1, 1])
    ])
    with pytest.raises(
            ValueError, match=r'boxes.json: detection #1: "image_id" must'):
        DetectionJsonBoxes(path)


@pytest.mark.parametrize('content, message', [
    ('{"bbox": [1, 2, 3, 4]}', 'expected a list'),
    ('[{"frame_index": 0, "bbox": [1, 2]}]',
     r'detection #0: "bbox" must have at least 4'),
    ('[1, 2', 'malformed JSON'),
])
def test_malformed_files(tmp_path, content, message):
    path = tmp_path / 'bad.json'
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        DetectionJsonBoxes(str(path))


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='none.json'):
        DetectionJsonBoxes(str(tmp_path / 'none.json'))


def test_records_of_other_videos_are_not_applied(tmp_path):
    """A detections file of videos 3 and 7, named by image id, file name
    or vid_id: each video gets its own boxes."""
    records = [
        dict(image_id=10000030001, bbox=[0, 0, 10, 10], score=0.9),
        dict(image_id=10000070001, bbox=[0, 0, 20, 20], score=0.9),
        dict(image_name='images/val/000003_mpii_val/000001.jpg',
             bbox=[0, 0, 30, 30], score=0.9),
        dict(file_name='images/val/000007_mpii_val/000001.jpg',
             bbox=[0, 0, 40, 40], score=0.9),
        dict(frame_index=1, vid_id='000007', bbox=[0, 0, 50, 50], score=0.9),
        dict(frame_index=1, bbox=[0, 0, 60, 60], score=0.9),  # no video
    ]
    path = _write(tmp_path, records)
    widths = {}
    for name in ('000003_mpii_val', '000007', '7_clip'):
        boxes = DetectionJsonBoxes(path, video_name=name)
        widths[name] = (boxes(1, FRAME)[:, 2]).tolist()
    assert widths == {'000003_mpii_val': [10, 30, 60],
                      '000007': [20, 40, 50, 60],
                      '7_clip': [20, 40, 50, 60]}
    assert DetectionJsonBoxes(path, video_name='000003_mpii_val') \
        .num_other_video_boxes == 3
    # without a video name every record applies by its frame (as before)
    assert len(DetectionJsonBoxes(path)(1, FRAME)) == 6


def test_video_named_without_number(tmp_path):
    """A one-video file applies to a video named without a number; a
    file of several videos applies none of theirs and says so."""
    one = _write(tmp_path, [dict(image_id=10000030001, bbox=[0, 0, 5, 5])],
                 'one.json')
    assert len(DetectionJsonBoxes(one, video_name='my_clip')(1, FRAME)) == 1
    two = _write(tmp_path, [
        dict(image_id=10000030001, bbox=[0, 0, 5, 5]),
        dict(image_id=10000070001, bbox=[0, 0, 5, 5])
    ], 'two.json')
    with pytest.warns(UserWarning, match="none of its boxes is of video"):
        boxes = DetectionJsonBoxes(two, video_name='my_clip')
    assert len(boxes(1, FRAME)) == 0
    assert len(DetectionJsonBoxes(two, video_name='000007')(1, FRAME)) == 1
