"""Track ids of persons across the frames of a video, with mmpose's greedy
matching of each person to the last frame's (``mmpose.apis``'s
``_track_by_iou`` on boxes, ``_track_by_oks`` on keypoints)."""
from typing import List, Optional

import numpy as np
from mmengine.structures import InstanceData
from mmpose.apis import _track_by_iou, _track_by_oks
from mmpose.structures import PoseDataSample

TRACKING_METHODS = ('iou', 'oks')


class PoseTracker:
    """Gives each person of a frame the track id of its best match in the
    previous frame (IoU of the boxes or OKS of the keypoints above
    ``thr``), else a new id (0, 1, ...), as mmpose's video inferencers do.

    Args:
        method (str): ``'iou'`` or ``'oks'``.
        thr (float): The least IoU or OKS of a match.
        sigmas (np.ndarray, optional): (K,) OKS sigmas (the dataset's;
            COCO's when None).
    """

    def __init__(self, method: str = 'iou', thr: float = 0.3,
                 sigmas: Optional[np.ndarray] = None) -> None:
        if method not in TRACKING_METHODS:
            raise ValueError(f'tracking must be one of {TRACKING_METHODS}, '
                             f'got {method!r}')
        self.method, self.thr = method, float(thr)
        self.sigmas = None if sigmas is None else np.asarray(sigmas)
        self.reset()

    def reset(self) -> None:
        """Forget the previous frame and restart the ids at 0."""
        self.last: List[PoseDataSample] = []
        self.next_id = 0

    def __call__(self, instances: InstanceData) -> np.ndarray:
        """Track ids int64 (N,) of a frame's N persons: ``keypoints``
        (N, K, 2), ``keypoint_scores`` (N, K) and ``bboxes`` (N, 4) xyxy.
        The persons are matched in order, each to one of the last frame."""
        persons = []
        for i in range(len(instances)):
            person = instances[i:i + 1]
            boxes = np.asarray(person.bboxes, dtype=np.float64)
            person.areas = (boxes[:, 2:] - boxes[:, :2]).prod(-1)
            persons.append(PoseDataSample(pred_instances=person))
        candidates = list(self.last)
        ids = np.empty(len(persons), dtype=np.int64)
        for i, person in enumerate(persons):
            if self.method == 'oks':
                track_id, candidates, _ = _track_by_oks(
                    person, candidates, self.thr, self.sigmas)
            else:
                track_id, candidates, _ = _track_by_iou(
                    person, candidates, self.thr)
            if track_id == -1:
                track_id, self.next_id = self.next_id, self.next_id + 1
            person.set_field(int(track_id), 'track_id')
            ids[i] = track_id
        self.last = persons
        return ids
