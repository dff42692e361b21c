"""PoseTracker: mmpose's IoU and OKS matching across frames."""
import numpy as np
import pytest
from mmengine.structures import InstanceData

from posewarper_mm.apis import PoseTracker
from tests.testing.clips import crossing_clip

# PoseTrack18 / COCO OKS sigmas
SIGMAS = np.array([
    .026, .025, .025, .035, .035, .079, .079, .072, .072, .062, .062, .107,
    .107, .087, .087, .089, .089
])


def _instances(keypoints: np.ndarray, boxes: np.ndarray) -> InstanceData:
    return InstanceData(
        keypoints=np.asarray(keypoints, np.float32),
        keypoint_scores=np.ones(keypoints.shape[:2], np.float32),
        bboxes=np.asarray(boxes, np.float32))


@pytest.fixture(scope='module')
def crossing():
    return crossing_clip(num_frames=24)


@pytest.mark.parametrize('method', ['iou', 'oks'])
def test_ids_stay_with_people_walking_past_each_other(crossing, method):
    """The persons come left to right, so their order swaps mid-clip."""
    tracker = PoseTracker(method, 0.3, SIGMAS)
    owners = {}
    for t, (boxes, kpts) in enumerate(zip(crossing['boxes'],
                                          crossing['keypoints'])):
        order = np.argsort(boxes[:, 0])
        ids = tracker(_instances(kpts[order], boxes[order]))
        for who, track_id in zip(order, ids):
            assert owners.setdefault(int(who), int(track_id)) == track_id, \
                f'frame {t}'
    assert sorted(owners.values()) == [0, 1]
    assert list(crossing['boxes'][0][:, 0].argsort()) != \
        list(crossing['boxes'][-1][:, 0].argsort())


def test_new_people_get_new_ids_and_reset_restarts(crossing):
    tracker = PoseTracker('iou')
    boxes, kpts = crossing['boxes'][0], crossing['keypoints'][0]
    assert tracker(_instances(kpts[:1], boxes[:1])).tolist() == [0]
    assert tracker(_instances(kpts, boxes)).tolist() == [0, 1]
    far = boxes[:1] + np.float32([200, 0, 200, 0])  # no overlap: new person
    assert tracker(_instances(kpts[:1], far)).tolist() == [2]
    assert tracker(_instances(kpts[:0], boxes[:0])).tolist() == []
    tracker.reset()
    assert tracker(_instances(kpts, boxes)).tolist() == [0, 1]
    with pytest.raises(ValueError, match='tracking must be one of'):
        PoseTracker('sift')
