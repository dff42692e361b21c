"""PoseTrack18-format json of per-frame video predictions."""
import json

import numpy as np
from mmengine.structures import InstanceData
from mmpose.structures import PoseDataSample

from posewarper_mm.apis import PoseTrackVideoResults, instances_to_persons
from posewarper_mm.evaluation.functional import load_posetrack_video


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
    assert instances_to_persons([]) == []


def test_one_image_per_frame_and_official_layout(tmp_path):
    results = PoseTrackVideoResults('000001_mpiinew_test')
    persons = instances_to_persons([_sample(0, 0.9), _sample(5, 0.4)])
    results.add_frame(0, '000000.jpg', persons)
    results.add_frame(1, '000001.jpg', [])  # no person on this frame
    results.add_frame(2, '000002.jpg', persons[:1])
    path = tmp_path / 'out' / 'video.json'
    results.dump(str(path))
    data = json.loads(path.read_text())
    assert [img['id'] for img in data['images']] == \
        [10000010000, 10000010001, 10000010002]
    assert data['images'][1]['file_name'] == \
        '000001_mpiinew_test/000001.jpg'
    assert all(img['nframes'] == 3 for img in data['images'])
    anns = data['annotations']
    assert [a['image_id'] for a in anns] == \
        [10000010000, 10000010000, 10000010002]
    assert [a['track_id'] for a in anns] == [0, 1, 0]
    assert anns[1]['keypoints'][:3] == [5.0, 6.0, 0.0]
    assert anns[0]['bbox'] == [10.0, 20.0, 40.0, 80.0]
    assert anns[1]['score'] == np.float32(0.4)
    assert len(anns[0]['keypoints']) == 51
    # the evaluation package reads it as a prediction file
    video = load_posetrack_video(str(path), is_prediction=True)
    assert [len(f.persons) for f in video.frames] == [2, 0, 1]
