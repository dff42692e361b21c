"""PoseTrack multi-person AP (the PoseTrack18 "AP" / mAP), numpy only.

Frames, as in the reference evaluation: each GT file (in sorted name
order; the reference's file-system order only matters for tied scores) is
paired with the prediction file of the same name and their images by
POSITION (ids are not compared). Frames whose GT has no person are
dropped with their predictions; then persons without joints; in frames
with ignore regions, joints strictly inside a region and the persons left
without joints.

Per frame, predictions are matched to GT persons by PCKh@0.5 (a joint
matches within half the head size ``0.6 * diagonal(bbox_head)``):
``pck[p, g]`` is the share of the annotated joints of g that p matches;
each prediction keeps its best GT (first on ties), each GT then takes the
prediction with the highest ``pck`` among those that kept it (first on
ties, none if 0). Scores play no role here.

Every predicted joint is one (score, true positive) entry of its joint;
unmatched predictions are false positives. Per joint, the entries of all
frames (files, then frames, then predictions in order) are ranked by
``np.argsort(scores)[::-1]`` and scored by the all-points interpolated
(VOC2010+) AP against the number of GT joints: 0 without entries, NaN with
entries but no GT. Groups average their joints (NaN propagates); ``Total``
is the mean of the 15 joints ignoring NaN.
"""
import os.path as osp
from dataclasses import dataclass, replace
from typing import Dict, List, Tuple

import numpy as np

from ...errors import InputFileError
from ...posetrack import (EVAL_JOINT_NAMES, JOINT_GROUPS, NUM_EVAL_JOINTS,
                          PoseTrackFrame, PoseTrackPerson, list_gt_files,
                          load_posetrack_video)
from .point_in_polygon import points_in_polygon

DIST_THRESH = 0.5
HEAD_SIZE_FACTOR = 0.6


@dataclass
class FramePair:
    """A GT frame and the prediction frame at the same position."""
    gt: PoseTrackFrame
    pred: PoseTrackFrame


def load_frame_pairs(gt_dir: str, pred_dir: str) -> List[FramePair]:
    """All GT and prediction frames of two folders, paired, uncleaned.

    Args:
        gt_dir (str): Folder of official per-video GT files.
        pred_dir (str): Folder with a prediction file of the same name for
            every GT file (other files there are ignored).
    """
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
        pairs.extend(FramePair(g, p) for g, p in zip(gt.frames, pred.frames))
    return pairs


def _with_joints(persons: List[PoseTrackPerson]) -> List[PoseTrackPerson]:
    return [p for p in persons if p.present.any()]


def _remove_ignored(persons: List[PoseTrackPerson],
                    regions: List[np.ndarray]) -> List[PoseTrackPerson]:
    """Drop joints inside any region, then persons without joints."""
    kept = []
    for person in persons:
        inside = np.zeros(len(person.present), dtype=bool)
        for region in regions:
            inside |= points_in_polygon(person.coords, region)
        present = person.present & ~inside
        if present.any():
            kept.append(replace(person, present=present))
    return kept


def clean_frame_pairs(pairs: List[FramePair]) -> List[FramePair]:
    """New pairs without unlabeled frames, persons without joints and
    joints inside ignore regions (the inputs are not modified)."""
    cleaned = []
    for pair in pairs:
        if not pair.gt.persons:
            continue
        gt_persons = _with_joints(pair.gt.persons)
        pred_persons = _with_joints(pair.pred.persons)
        regions = pair.gt.ignore_regions
        if regions:
            gt_persons = _remove_ignored(gt_persons, regions)
            pred_persons = _remove_ignored(pred_persons, regions)
        cleaned.append(
            FramePair(
                replace(pair.gt, persons=gt_persons),
                replace(pair.pred, ignore_regions=[], persons=pred_persons)))
    return cleaned


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
                f'{frame.where()}, annotation #{person.record}: "bbox_head" '
                'is required to evaluate a frame with GT and predictions')
        x1, y1, x2, y2 = person.head_box
        sizes.append(HEAD_SIZE_FACTOR * np.sqrt((x2 - x1)**2 + (y2 - y1)**2))
    return np.array(sizes, dtype=np.float64)


def assign_predictions(pair: FramePair) -> np.ndarray:
    """Whether each joint of the P predictions of a cleaned frame pair is
    a true positive, bool (P, 15) (False for joints that do not exist)."""
    gt_xy, gt_has = _stack(pair.gt)
    pr_xy, pr_has = _stack(pair.pred)
    num_pred, num_gt = len(pr_xy), len(gt_xy)
    if num_pred == 0 or num_gt == 0:
        return np.zeros((num_pred, NUM_EVAL_JOINTS), dtype=bool)

    head = _head_sizes(pair.gt)
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

    labels = np.zeros((num_pred, NUM_EVAL_JOINTS), dtype=bool)
    for gt_idx, pred_idx in enumerate(pred_of_gt):
        if pred_idx >= 0:
            labels[pred_idx] = match[pred_idx, gt_idx]
    return labels & pr_has


def voc_ap(scores: np.ndarray, labels: np.ndarray, num_gt: float) -> float:
    """All-points interpolated AP of one joint, in percent.

    Args:
        scores (np.ndarray): Scores of the predicted joints (N,).
        labels (np.ndarray): Whether each is a true positive (N,).
        num_gt (float): Number of GT joints.

    Returns:
        float: AP in [0, 100]; 0 when N == 0; NaN when N > 0 and
        ``num_gt == 0``.
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
    joint_ids: List[np.ndarray] = []
    scores: List[np.ndarray] = []
    labels: List[np.ndarray] = []
    num_gt = np.zeros(NUM_EVAL_JOINTS, dtype=np.float64)
    for pair in pairs:
        if pair.gt.persons:
            num_gt += np.sum([p.present for p in pair.gt.persons], axis=0)
        if not pair.pred.persons:
            continue
        tp = assign_predictions(pair)
        for person, person_tp in zip(pair.pred.persons, tp):
            has = np.nonzero(person.present)[0]
            joint_ids.append(has)
            scores.append(person.scores[has])
            labels.append(person_tp[has])
    if joint_ids:
        all_ids = np.concatenate(joint_ids)
        all_scores = np.concatenate(scores)
        all_labels = np.concatenate(labels)
    else:
        all_ids = np.zeros(0, dtype=np.int64)
        all_scores = np.zeros(0, dtype=np.float64)
        all_labels = np.zeros(0, dtype=bool)
    aps = np.zeros(NUM_EVAL_JOINTS, dtype=np.float64)
    for joint in range(NUM_EVAL_JOINTS):
        sel = all_ids == joint
        aps[joint] = voc_ap(all_scores[sel], all_labels[sel], num_gt[joint])
    return aps


def summarize_joint_aps(aps: np.ndarray) -> Dict[str, float]:
    """``Head, Shoulder, Elbow, Wrist, Hip, Knee, Ankle, Total``, then each
    joint by name (``'right_ankle'``, ...), from the 15 joint APs (15,)."""
    aps = np.asarray(aps, dtype=np.float64)
    result: Dict[str, float] = {}
    for name, ids in JOINT_GROUPS:
        result[name] = float(aps[list(ids)].mean())
    valid = aps[~np.isnan(aps)]
    result['Total'] = float(valid.mean()) if len(valid) else float('nan')
    for joint, name in enumerate(EVAL_JOINT_NAMES):
        result[name] = float(aps[joint])
    return result


def evaluate_posetrack(gt_dir: str, pred_dir: str) -> Dict[str, float]:
    """The PoseTrack AP of official per-video prediction files.

    Args:
        gt_dir (str): Folder of official per-video GT files.
        pred_dir (str): A prediction file of the same name for each.

    Returns:
        dict[str, float]: AP in percent, see :func:`summarize_joint_aps`.

    Raises:
        FileNotFoundError: For a missing folder or file.
        InputFileError: Naming the file (and frame or annotation) at fault.
    """
    pairs = clean_frame_pairs(load_frame_pairs(gt_dir, pred_dir))
    return summarize_joint_aps(compute_joint_aps(pairs))
