"""Per-video PoseTrack18 result files, for the metric and the video demo."""
import json
import os
import os.path as osp
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..errors import InputFileError
from .joints import POSETRACK18_KEYPOINT_NAMES, posetrack18_category
from .naming import posetrack_image_id
from .reader import list_gt_files, load_json

# image fields copied from the GT file besides ``id`` and ``file_name``
_GT_IMAGE_FIELDS = ('vid_id', 'frame_id', 'nframes')


def _floats(values: np.ndarray, digits: Optional[int]) -> List[float]:
    return [float(v) if digits is None else round(float(v), digits)
            for v in values]


def person_annotation(image_id: Any, track_id: int, keypoints: np.ndarray,
                      keypoint_scores: np.ndarray, score: float = 1.0,
                      ann_id: Optional[int] = None,
                      bbox: Optional[np.ndarray] = None,
                      digits: Optional[Tuple[int, int]] = None) -> dict:
    """The annotation of one predicted person.

    Args:
        keypoints (np.ndarray): (17, 2+) image (x, y), written with the
            joint scores (17,) as 17 ``[x, y, score]``.
        ann_id (int, optional): Annotation ``id`` (none when None).
        bbox (np.ndarray, optional): xyxy box, written as xywh (2 decimals).
        digits (tuple[int, int], optional): Decimals of the keypoints and
            of the scores (no rounding when None).

    Raises:
        ValueError: For keypoints or scores of another shape.
    """
    xy = np.asarray(keypoints, dtype=np.float64)[:, :2]
    scores = np.asarray(keypoint_scores, dtype=np.float64)
    if xy.shape != (len(POSETRACK18_KEYPOINT_NAMES), 2) \
            or scores.shape != (len(xy), ):
        raise ValueError(
            f'prediction for image {image_id}: expected keypoints (17, 2+) '
            f'and keypoint_scores (17,), got {xy.shape}, {scores.shape}')
    triples = np.concatenate([xy, scores[:, None]], axis=1).reshape(-1)
    kpt_digits, score_digits = digits or (None, None)
    ann = {} if ann_id is None else dict(id=ann_id)
    ann.update(image_id=image_id, category_id=1, track_id=track_id,
               keypoints=_floats(triples, kpt_digits),
               scores=_floats(scores, score_digits), score=float(score))
    if bbox is not None:
        x1, y1, x2, y2 = (float(v) for v in bbox[:4])
        ann['bbox'] = [round(v, 2) for v in (x1, y1, x2 - x1, y2 - y1)]
    return ann


def dump_video_file(path: str, images: List[dict],
                    annotations: List[dict]) -> None:
    """Write a per-video file (parent folders are created)."""
    folder = osp.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(dict(images=images, annotations=annotations,
                       categories=[posetrack18_category()]), f)


def write_posetrack_predictions(predictions: Mapping[Any, Sequence[Mapping]],
                                gt_dir: str,
                                pred_dir: str) -> Tuple[List[str], List[Any]]:
    """Write ``pred_dir/<video>.json`` for each ``gt_dir/<video>.json``:
    the GT file's images and the persons of ``predictions`` (image id ->
    mappings with ``keypoints`` (17, 2), ``keypoint_scores`` (17,), optional
    ``score``) with ``track_id`` 0, 1, ... in order.

    Returns:
        tuple[list[str], list]: The written files, and the image ids of
        ``predictions`` that no GT file lists (not written).
    """
    names = list_gt_files(gt_dir)
    if osp.realpath(pred_dir) == osp.realpath(gt_dir):
        raise ValueError(f'{pred_dir}: the prediction folder must differ '
                         'from the GT folder (files would be overwritten)')
    os.makedirs(pred_dir, exist_ok=True)
    written: List[str] = []
    seen = set()
    for name in names:
        gt_path = osp.join(gt_dir, name)
        gt = load_json(gt_path)
        if not isinstance(gt, dict) or not isinstance(gt.get('images'), list):
            raise InputFileError(f'{gt_path}: missing "images" list')
        images, annotations = [], []
        for index, gt_image in enumerate(gt['images']):
            if not isinstance(gt_image, dict) or 'id' not in gt_image \
                    or 'file_name' not in gt_image:
                raise InputFileError(
                    f'{gt_path}: image #{index} needs "id" and "file_name"')
            image = dict(id=gt_image['id'], file_name=gt_image['file_name'])
            image.update((k, gt_image[k]) for k in _GT_IMAGE_FIELDS
                         if k in gt_image)
            images.append(image)
            seen.add(image['id'])
            for track_id, pred in enumerate(predictions.get(image['id'], ())):
                annotations.append(person_annotation(
                    image['id'], track_id, pred['keypoints'],
                    pred['keypoint_scores'], pred.get('score', 1.0)))
        out_path = osp.join(pred_dir, name)
        dump_video_file(out_path, images, annotations)
        written.append(out_path)
    unmatched = [img_id for img_id in predictions if img_id not in seen]
    return written, unmatched


class PoseTrackVideoResults:
    """The per-frame predictions of video ``video_name`` as a per-video
    file: an image per frame, ids from
    :func:`~.naming.posetrack_image_id`, and per person an annotation
    (keypoints and scores with 3 and 5 decimals, its ``track_id``, by
    default its index in the frame)."""

    def __init__(self, video_name: str) -> None:
        self.video_name = video_name
        self.images: List[Dict[str, Any]] = []
        self.annotations: List[Dict[str, Any]] = []

    def add_frame(self, frame_index: int, frame_name: str,
                  persons: Sequence[dict]) -> int:
        """Record a frame and its persons, each a dict with ``keypoints``
        (17, 2), ``keypoint_scores`` (17,), ``bbox`` (xyxy or None),
        ``bbox_score`` and optionally ``track_id``; returns the frame's
        image id."""
        image_id = posetrack_image_id(self.video_name, frame_index)
        self.images.append(
            dict(id=image_id, file_name=f'{self.video_name}/{frame_name}',
                 frame_id=image_id, frame_index=int(frame_index),
                 vid_id=self.video_name.split('_')[0]))
        for index, person in enumerate(persons):
            self.annotations.append(person_annotation(
                image_id, int(person.get('track_id', index)),
                person['keypoints'],
                person['keypoint_scores'], person.get('bbox_score', 1.0),
                ann_id=len(self.annotations), bbox=person.get('bbox'),
                digits=(3, 5)))
        return image_id

    def dump(self, path: str) -> None:
        """Write the file; ``nframes`` is the number of recorded frames."""
        images = [dict(img, nframes=len(self.images)) for img in self.images]
        dump_video_file(path, images, list(self.annotations))
