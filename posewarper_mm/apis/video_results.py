"""Collect per-frame pose predictions of a video as a PoseTrack18 file."""
import json
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmpose.structures import PoseDataSample

from posewarper_mm.datasets.posetrack_naming import posetrack_image_id
from posewarper_mm.evaluation.functional import posetrack18_category


def instances_to_persons(samples: Sequence[PoseDataSample]) -> List[dict]:
    """Flatten the ``pred_instances`` of top-down results into persons.

    Args:
        samples (Sequence[PoseDataSample]): One data sample per box (as
            returned by :func:`inference_posewarper`).

    Returns:
        list[dict]: ``keypoints`` (K, 2), ``keypoint_scores`` (K,),
        ``bbox`` (4,) xyxy and ``bbox_score`` per person.
    """
    persons = []
    for sample in samples:
        inst = sample.pred_instances
        kpts = np.asarray(inst.keypoints, dtype=np.float64)
        scores = np.asarray(inst.keypoint_scores, dtype=np.float64)
        boxes = np.asarray(
            inst.bboxes, dtype=np.float64) if 'bboxes' in inst else None
        box_scores = np.asarray(inst.bbox_scores, dtype=np.float64) \
            if 'bbox_scores' in inst else np.ones(len(kpts))
        for i in range(len(kpts)):
            persons.append(
                dict(
                    keypoints=kpts[i, :, :2],
                    keypoint_scores=scores[i],
                    bbox=None if boxes is None else boxes[i],
                    bbox_score=float(box_scores[i])))
    return persons


class PoseTrackVideoResults:
    """Per-frame predictions of one video in the PoseTrack18 json format.

    The file has one ``images`` entry per frame (``id``, ``file_name``
    ``<video>/<frame file>``, ``frame_id``, ``vid_id``, ``nframes``,
    ``frame_index``), the PoseTrack18 ``person`` category and one
    annotation per predicted person: ``keypoints`` (K x ``[x, y,
    score]``), ``scores`` (K joint scores), ``score`` (box score),
    ``bbox`` (``[x, y, w, h]``), ``track_id`` (index within the frame;
    no tracking) and ``category_id`` 1.

    Args:
        video_name (str): Video name (e.g. ``000001_mpiinew_test``); a
            leading number gives PoseTrack image ids
            ``1<video:06d><frame:04d>``.
    """

    def __init__(self, video_name: str) -> None:
        self.video_name = video_name
        self.images: List[Dict[str, Any]] = []
        self.annotations: List[Dict[str, Any]] = []

    def image_id(self, frame_index: int) -> int:
        """Image id of frame ``frame_index``."""
        return posetrack_image_id(self.video_name, frame_index)

    def add_frame(self, frame_index: int, frame_name: str,
                  persons: Sequence[dict]) -> int:
        """Record a frame and its persons (see :func:`instances_to_persons`).

        Returns:
            int: The frame's image id.
        """
        image_id = self.image_id(frame_index)
        self.images.append(
            dict(
                id=image_id,
                file_name=f'{self.video_name}/{frame_name}',
                frame_id=image_id,
                frame_index=int(frame_index),
                vid_id=self.video_name.split('_')[0]))
        for track_id, person in enumerate(persons):
            self.annotations.append(
                self._annotation(image_id, track_id, person))
        return image_id

    def _annotation(self, image_id: int, track_id: int,
                    person: dict) -> dict:
        xy = np.asarray(person['keypoints'], dtype=np.float64)[:, :2]
        scores = np.asarray(person['keypoint_scores'], dtype=np.float64)
        triples = np.concatenate([xy, scores[:, None]], axis=1)
        ann = dict(
            id=len(self.annotations),
            image_id=image_id,
            category_id=1,
            track_id=track_id,
            keypoints=[round(float(v), 3) for v in triples.reshape(-1)],
            scores=[round(float(v), 5) for v in scores],
            score=float(person.get('bbox_score', 1.0)))
        box: Optional[np.ndarray] = person.get('bbox')
        if box is not None:
            x1, y1, x2, y2 = (float(v) for v in box[:4])
            ann['bbox'] = [
                round(x1, 2),
                round(y1, 2),
                round(x2 - x1, 2),
                round(y2 - y1, 2)
            ]
        return ann

    def to_dict(self) -> dict:
        """The json object (``nframes`` = number of recorded frames)."""
        images = [dict(img, nframes=len(self.images)) for img in self.images]
        return dict(
            images=images,
            annotations=list(self.annotations),
            categories=[posetrack18_category()])

    def dump(self, path: str) -> None:
        """Write the json file (parent folders are created)."""
        folder = osp.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(self.to_dict(), f)
