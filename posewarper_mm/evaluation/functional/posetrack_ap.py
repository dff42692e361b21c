"""PoseTrack multi-person AP (the PoseTrack18 "AP" / mAP), numpy only.

As the reference evaluation: each GT file (sorted by name) is paired with
the prediction file of the same name, their images by position. Frames
whose GT has no person are dropped, then persons without joints, and
joints strictly inside ignore regions. Per frame, predictions match GT
persons by PCKh@0.5 (head size ``0.6 * diagonal(bbox_head)``): each
prediction keeps its best GT, each GT the best prediction that kept it
(first on ties). Per joint, the entries of all frames are ranked by
``np.argsort(scores)[::-1]`` and scored by the all-points interpolated AP:
0 without entries, NaN without GT. Groups average their joints; ``Total``
is the mean of the 15 joints ignoring NaN.
"""
import os.path as osp
from dataclasses import replace
from typing import Dict, List, Tuple

import numpy as np

from ...errors import InputFileError
from ...posetrack import (EVAL_JOINT_NAMES, JOINT_GROUPS, NUM_EVAL_JOINTS,
                          PoseTrackFrame, PoseTrackPerson, list_gt_files,
                          load_posetrack_video)
from .point_in_polygon import points_in_polygon

DIST_THRESH = 0.5
HEAD_SIZE_FACTOR = 0.6
FramePair = Tuple[PoseTrackFrame, PoseTrackFrame]  # (GT, prediction)


def load_frame_pairs(gt_dir: str, pred_dir: str) -> List[FramePair]:
    """The (GT, prediction) frames of the files of the same name in two
    folders, paired by position."""
    pairs: List[FramePair] = []
    for name in list_gt_files(gt_dir):
        gt_path = osp.join(gt_dir, name)
        pred_path = osp.join(pred_dir, name)
        gt = load_posetrack_video(gt_path, is_prediction=False)
        if not osp.isfile(pred_path):
            raise FileNotFoundError(
                f'{pred_path}: prediction file not found (every GT file '
                f'needs one of the same name; GT: {gt_path})')
        pred = load_posetrack_video(pred_path, is_prediction=True)
        if len(pred.frames) != len(gt.frames):
            raise InputFileError(
                f'{pred_path}: has {len(pred.frames)} images but the GT file '
                f'{gt_path} has {len(gt.frames)}; list every GT image, in '
                'the same order')
        if pred.frames and gt.video_folder.split('_')[0] != \
                pred.video_folder.split('_')[0]:
            raise InputFileError(
                f'{pred_path}: images belong to video {pred.video_folder!r}'
                f' but the GT file {gt_path} is video {gt.video_folder!r}')
        pairs.extend(zip(gt.frames, pred.frames))
    return pairs


def _clean(persons: List[PoseTrackPerson],
           regions: List[np.ndarray]) -> List[PoseTrackPerson]:
    """Drop joints inside any region, then persons without joints."""
    kept = []
    for person in persons:
        present = person.present.copy()
        for region in regions:
            present &= ~points_in_polygon(person.coords, region)
        if present.any():
            kept.append(replace(person, present=present))
    return kept


def clean_frame_pairs(pairs: List[FramePair]) -> List[FramePair]:
    """New pairs without unlabeled frames, persons without joints and
    joints inside ignore regions (the inputs are not modified)."""
    return [(replace(gt, persons=_clean(gt.persons, gt.ignore_regions)),
             replace(pred, ignore_regions=[],
                     persons=_clean(pred.persons, gt.ignore_regions)))
            for gt, pred in pairs if gt.persons]


def _stack(frame: PoseTrackFrame) -> Tuple[np.ndarray, np.ndarray]:
    """Coordinates (N, 15, 2) and presence (N, 15) of a frame's persons."""
    coords = np.array([p.coords for p in frame.persons],
                      dtype=np.float64).reshape(-1, NUM_EVAL_JOINTS, 2)
    present = np.array([p.present for p in frame.persons],
                       dtype=bool).reshape(-1, NUM_EVAL_JOINTS)
    return coords, present


def _head_sizes(frame: PoseTrackFrame) -> np.ndarray:
    """Reference head sizes (G,) of the GT persons of a frame."""
    sizes = []
    for person in frame.persons:
        if person.head_box is None:
            raise InputFileError(
                f'{frame.path}: image #{frame.index} (id {frame.image_id}, '
                f'{frame.file_name!r}), annotation #{person.record}: '
                '"bbox_head" '
                'is required to evaluate a frame with GT and predictions')
        x1, y1, x2, y2 = person.head_box
        sizes.append(HEAD_SIZE_FACTOR * np.sqrt((x2 - x1)**2 + (y2 - y1)**2))
    return np.array(sizes, dtype=np.float64)


def match_persons(gt: PoseTrackFrame,
                  pred: PoseTrackFrame) -> Tuple[np.ndarray, np.ndarray]:
    """PoseTrack's matching of the P predictions and G GT persons of a
    cleaned frame pair: the prediction that each GT person takes, int
    (G,) (-1: none), and the joint distances in head sizes, float64 (P,
    G, 15) (inf where either lacks the joint); a joint is found within
    :data:`DIST_THRESH`."""
    gt_xy, gt_has = _stack(gt)
    pr_xy, pr_has = _stack(pred)
    num_pred, num_gt = len(pr_xy), len(gt_xy)
    if num_pred == 0 or num_gt == 0:
        return (np.full(num_gt, -1, dtype=np.int64),
                np.full((num_pred, num_gt, NUM_EVAL_JOINTS), np.inf))

    head = _head_sizes(gt)
    diff = gt_xy[None] - pr_xy[:, None]  # (P, G, 15, 2)
    length = np.sqrt(diff[..., 0]**2 + diff[..., 1]**2)
    with np.errstate(divide='ignore', invalid='ignore'):
        dist = length / head[None, :, None]
    both = pr_has[:, None, :] & gt_has[None, :, :]
    dist = np.where(both, dist, np.inf)
    match = dist <= DIST_THRESH  # (P, G, 15)

    num_gt_joints = gt_has.sum(axis=1)
    pck = match.sum(axis=2).astype(np.float64)
    labelled = num_gt_joints > 0
    pck[:, labelled] /= num_gt_joints[labelled]

    # each prediction keeps only its best GT (first on ties)
    best_gt = np.argmax(pck, axis=1)
    only_best = np.zeros_like(pck)
    rows = np.arange(num_pred)
    only_best[rows, best_gt] = pck[rows, best_gt]
    # each GT takes the best of the predictions that kept it
    pred_of_gt = np.argmax(only_best, axis=0)
    pred_of_gt[only_best.max(axis=0) == 0] = -1
    return pred_of_gt, dist


def assign_predictions(gt: PoseTrackFrame,
                       pred: PoseTrackFrame) -> np.ndarray:
    """Whether each joint of the P predictions of a cleaned frame pair is
    a true positive, bool (P, 15) (False for joints that do not exist)."""
    pred_of_gt, dist = match_persons(gt, pred)
    labels = np.zeros((len(dist), NUM_EVAL_JOINTS), dtype=bool)
    for gt_idx, pred_idx in enumerate(pred_of_gt):
        if pred_idx >= 0:
            labels[pred_idx] = dist[pred_idx, gt_idx] <= DIST_THRESH
    return labels


def voc_ap(scores: np.ndarray, labels: np.ndarray, num_gt: float) -> float:
    """All-points interpolated AP of one joint, in percent.

    Args:
        scores (np.ndarray): Scores of the predicted joints (N,).
        labels (np.ndarray): Whether each is a true positive (N,).
        num_gt (float): Number of GT joints.

    Returns:
        float: AP in [0, 100]; 0 when N == 0, else NaN if ``num_gt == 0``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if len(scores) == 0:
        return 0.0
    if num_gt == 0:
        return float('nan')
    order = np.array(scores).argsort()[::-1]
    tp = np.cumsum(np.asarray(labels)[order].astype(np.int64))
    recall = tp / float(num_gt)
    precision = tp / np.arange(1, len(tp) + 1, dtype=np.float64)
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    idx = np.nonzero(mrec[1:] != mrec[:-1])[0] + 1
    return float(np.sum((mrec[idx] - mrec[idx - 1]) * mpre[idx]) * 100)


def compute_joint_aps(pairs: List[FramePair]) -> np.ndarray:
    """AP (percent) of the 15 evaluation joints (15,) over cleaned frame
    pairs, in evaluation order."""
    ids = [np.zeros(0, dtype=np.int64)]
    scores = [np.zeros(0, dtype=np.float64)]
    labels = [np.zeros(0, dtype=bool)]
    num_gt = np.zeros(NUM_EVAL_JOINTS, dtype=np.float64)
    for gt, pred in pairs:
        if gt.persons:
            num_gt += np.sum([p.present for p in gt.persons], axis=0)
        if not pred.persons:
            continue
        for person, tp in zip(pred.persons, assign_predictions(gt, pred)):
            has = np.nonzero(person.present)[0]
            ids.append(has)
            scores.append(person.scores[has])
            labels.append(tp[has])
    ids, scores, labels = (np.concatenate(x) for x in (ids, scores, labels))
    return np.array([voc_ap(scores[ids == j], labels[ids == j], num_gt[j])
                     for j in range(NUM_EVAL_JOINTS)], dtype=np.float64)


def summarize_joint_aps(aps: np.ndarray) -> Dict[str, float]:
    """``Head, Shoulder, Elbow, Wrist, Hip, Knee, Ankle, Total``, then each
    joint by name (``'right_ankle'``, ...), from the 15 joint APs (15,)."""
    aps = np.asarray(aps, dtype=np.float64)
    result = {name: float(aps[list(ids)].mean()) for name, ids in JOINT_GROUPS}
    valid = aps[~np.isnan(aps)]
    result['Total'] = float(valid.mean()) if len(valid) else float('nan')
    result.update(zip(EVAL_JOINT_NAMES, map(float, aps)))
    return result


def evaluate_posetrack(gt_dir: str, pred_dir: str) -> Dict[str, float]:
    """The PoseTrack AP of official per-video prediction files.

    Args:
        gt_dir (str): Folder of official per-video GT files.
        pred_dir (str): A prediction file of the same name for each.

    Returns:
        dict[str, float]: AP in percent (:func:`summarize_joint_aps`).

    Raises:
        FileNotFoundError: For a missing folder or file.
        InputFileError: Naming the file (and frame or annotation) at fault.
    """
    pairs = clean_frame_pairs(load_frame_pairs(gt_dir, pred_dir))
    return summarize_joint_aps(compute_joint_aps(pairs))
