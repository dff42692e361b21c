"""Write predictions as official PoseTrack18 per-video JSON files."""
import json
import os
import os.path as osp
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import numpy as np

from ...errors import InputFileError
from .posetrack_frames import list_gt_files
from .posetrack_io import read_json
from .posetrack_joints import POSETRACK18_KEYPOINT_NAMES

# 1-based limb pairs of the PoseTrack18 person category.
POSETRACK18_SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13],
                        [6, 12], [7, 13], [6, 7], [6, 8], [7, 9], [8, 10],
                        [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5],
                        [4, 6], [5, 7]]

# image fields copied from the GT file besides ``id`` and ``file_name``
_IMAGE_FIELDS = ('vid_id', 'frame_id', 'nframes')


def posetrack18_category() -> dict:
    """The ``person`` category of PoseTrack18 files (17 keypoints)."""
    return dict(
        supercategory='person',
        id=1,
        name='person',
        keypoints=list(POSETRACK18_KEYPOINT_NAMES),
        skeleton=[list(pair) for pair in POSETRACK18_SKELETON])


def _annotation(image_id: Any, track_id: int, pred: Mapping) -> dict:
    xy = np.asarray(pred['keypoints'], dtype=np.float64)[:, :2]
    scores = np.asarray(pred['keypoint_scores'], dtype=np.float64)
    if xy.shape != (len(POSETRACK18_KEYPOINT_NAMES), 2) \
            or scores.shape != (len(xy), ):
        raise ValueError(
            f'prediction for image {image_id}: expected keypoints (17, 2+) '
            f'and keypoint_scores (17,), got {xy.shape}, {scores.shape}')
    triples = np.concatenate([xy, scores[:, None]], axis=1)
    return dict(
        image_id=image_id,
        category_id=1,
        track_id=track_id,
        keypoints=[float(v) for v in triples.reshape(-1)],
        scores=[float(v) for v in scores],
        score=float(pred.get('score', 1.0)))


def write_posetrack_predictions(predictions: Mapping[Any, Sequence[Mapping]],
                                gt_dir: str,
                                pred_dir: str) -> Tuple[List[str], List[Any]]:
    """Write one official-format prediction file per GT file.

    For every ``<video>.json`` in ``gt_dir``, ``pred_dir/<video>.json``
    gets the GT file's images (same ids, names and order, also frames
    without predictions), the PoseTrack18 ``person`` category and one
    annotation per predicted person: ``image_id``, ``keypoints`` (17 x
    ``[x, y, score]``), ``scores`` (17 joint scores, used for ranking),
    ``score`` and a ``track_id`` unique within the frame (0, 1, ... in the
    given order).

    Args:
        predictions (Mapping): Image id -> persons. Each person maps
            ``'keypoints'`` to an array (17, 2) (extra columns ignored),
            ``'keypoint_scores'`` to an array (17,) and optionally
            ``'score'`` (person score, default 1.0).
        gt_dir (str): Folder of official per-video GT files.
        pred_dir (str): Output folder (created if needed); must not be
            ``gt_dir``.

    Returns:
        tuple[list[str], list]: The written files, and the image ids of
        ``predictions`` that no GT file lists (their persons are not
        written).
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
        gt = read_json(gt_path)
        if not isinstance(gt, dict) or not isinstance(gt.get('images'), list):
            raise InputFileError(f'{gt_path}: missing "images" list')
        images: List[Dict[str, Any]] = []
        annotations: List[Dict[str, Any]] = []
        for index, gt_image in enumerate(gt['images']):
            if not isinstance(gt_image, dict) or 'id' not in gt_image \
                    or 'file_name' not in gt_image:
                raise InputFileError(
                    f'{gt_path}: image #{index} needs "id" and "file_name"')
            image = dict(id=gt_image['id'], file_name=gt_image['file_name'])
            image.update(
                {k: gt_image[k]
                 for k in _IMAGE_FIELDS if k in gt_image})
            images.append(image)
            seen.add(image['id'])
            for track_id, pred in enumerate(predictions.get(image['id'], ())):
                annotations.append(_annotation(image['id'], track_id, pred))
        out_path = osp.join(pred_dir, name)
        with open(out_path, 'w', encoding='utf-8') as f:
            json.dump(
                dict(
                    images=images,
                    annotations=annotations,
                    categories=[posetrack18_category()]), f)
        written.append(out_path)
    unmatched = [img_id for img_id in predictions if img_id not in seen]
    return written, unmatched
