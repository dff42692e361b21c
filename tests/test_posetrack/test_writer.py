"""Writing predictions as official PoseTrack18 per-video files."""
import json

import numpy as np
import pytest

from posewarper_mm.evaluation.functional import evaluate_posetrack
from posewarper_mm.posetrack import (PoseTrackVideoResults,
                                     load_posetrack_video,
                                     write_posetrack_predictions)
from tests.testing.posetrack_files import (NAMES, gt_person, image, image_id,
                                           video_name, write_file)


def _person(xy, score=0.5, scale=1.0):
    kpts = np.zeros((17, 2))
    kpts[NAMES.index('nose')] = xy
    kpts[NAMES.index('head_top')] = (xy[0], xy[1] - 20)
    scores = np.linspace(0.1, 0.9, 17) * scale
    return dict(keypoints=kpts, keypoint_scores=scores, score=score)


def test_written_files_follow_the_gt_files(tmp_path):
    gt_dir, pred_dir = str(tmp_path / 'gt'), str(tmp_path / 'pred')
    write_file(gt_dir, video_name(1), [image(1, 0), image(1, 1)], [
        gt_person(
            image_id(1, 1), 0, dict(nose=(100, 100), head_top=(100, 80)))
    ])
    write_file(gt_dir, video_name(2), [image(2, 0)], [])
    predictions = {
        image_id(1, 1):
        [_person((100, 100), 0.7),
         _person((300, 100), 0.2, scale=0.5)],
        np.int64(image_id(2, 0)): [_person((5, 5))],
        12345: [_person((1, 1))],
    }
    written, unmatched = write_posetrack_predictions(predictions, gt_dir,
                                                     pred_dir)
    assert [p.split('/')[-1]
            for p in written] == [video_name(1), video_name(2)]
    assert unmatched == [12345]
    with open(written[0]) as f:
        data = json.load(f)
    assert [img['id'] for img in data['images']
            ] == [image_id(1, 0),
                  image_id(1, 1)]  # frames without predictions are listed too
    assert data['images'][0]['file_name'] == image(1, 0)['file_name']
    assert data['categories'][0]['keypoints'] == NAMES
    anns = data['annotations']
    assert [a['track_id'] for a in anns] == [0, 1]
    assert all(a['image_id'] == image_id(1, 1) for a in anns)
    assert [a['score'] for a in anns] == [0.7, 0.2]
    first = np.array(anns[0]['keypoints']).reshape(17, 3)
    assert first[0].tolist() == [100, 100, 0.1]  # nose (x, y, score)
    assert anns[0]['scores'] == pytest.approx(np.linspace(0.1, 0.9, 17))
    assert first[:, 2] == pytest.approx(anns[0]['scores'])
    with open(written[1]) as f:
        assert json.load(f)['annotations'][0]['image_id'] == image_id(2, 0)
    # the files evaluate: nose and head_top of the GT person are found,
    # ranked above the joints of the second (false positive) person
    result = evaluate_posetrack(gt_dir, pred_dir)
    assert result['nose'] == 100.0 and result['head_top'] == 100.0


def test_refuses_to_overwrite_gt(tmp_path):
    write_file(str(tmp_path), video_name(1), [image(1, 0)], [])
    with pytest.raises(ValueError, match='must differ'):
        write_posetrack_predictions({}, str(tmp_path), str(tmp_path))


def test_rejects_bad_shapes(tmp_path):
    gt_dir = str(tmp_path / 'gt')
    write_file(gt_dir, video_name(1), [image(1, 0)], [])
    bad = dict(keypoints=np.zeros((15, 2)), keypoint_scores=np.zeros(15))
    with pytest.raises(ValueError, match='17'):
        write_posetrack_predictions({image_id(1, 0): [bad]}, gt_dir,
                                    str(tmp_path / 'pred'))


def test_video_results_one_image_per_frame(tmp_path):
    results = PoseTrackVideoResults('000001_mpiinew_test')
    persons = [
        dict(
            keypoints=np.arange(34.0).reshape(17, 2) + offset,
            keypoint_scores=np.linspace(0, 1, 17),
            bbox=np.array([10, 20, 50, 100.0]),
            bbox_score=box_score)
        for offset, box_score in ((0, 0.9), (5, 0.4))
    ]
    results.add_frame(0, '000000.jpg', persons)
    results.add_frame(1, '000001.jpg', [])  # no person on this frame
    results.add_frame(2, '000002.jpg', persons[:1])
    results.add_frame(3, '000003.jpg', [dict(p, track_id=t) for p, t in
                                        zip(persons, (7, 3))])
    path = tmp_path / 'out' / 'video.json'
    results.dump(str(path))
    data = json.loads(path.read_text())
    assert [img['id'] for img in data['images']] == \
        [10000010000, 10000010001, 10000010002, 10000010003]
    assert data['images'][1]['file_name'] == \
        '000001_mpiinew_test/000001.jpg'
    assert all(img['nframes'] == 4 for img in data['images'])
    anns = data['annotations']
    assert [a['id'] for a in anns] == [0, 1, 2, 3, 4]
    assert [a['image_id'] for a in anns] == \
        [10000010000, 10000010000, 10000010002, 10000010003, 10000010003]
    # the index in the frame, or the person's own track id
    assert [a['track_id'] for a in anns] == [0, 1, 0, 7, 3]
    assert anns[1]['keypoints'][:3] == [5.0, 6.0, 0.0]
    assert anns[0]['bbox'] == [10.0, 20.0, 40.0, 80.0]
    assert anns[1]['score'] == 0.4
    assert len(anns[0]['keypoints']) == 51
    # the evaluation reads it as a prediction file
    video = load_posetrack_video(str(path), is_prediction=True)
    assert [len(f.persons) for f in video.frames] == [2, 0, 1, 2]
