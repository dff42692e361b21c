"""PoseTrack multi-person AP (the PoseTrack18 "AP" / mAP), numpy only.

Per frame, predicted persons are matched to GT persons by PCKh@0.5 (a
joint matches when its distance to the GT joint is at most half of the
reference head size ``0.6 * diagonal(bbox_head)``):

- ``pck[p, g]`` = matched joints of prediction p with GT g divided by the
  number of annotated joints of g;
- each prediction keeps only its best GT (first on ties); each GT then
  takes, among the predictions that kept it, the one with the highest
  ``pck`` (first on ties; none if that is 0). Scores play no role here.

Every existing predicted joint then yields one (score, is-true-positive)
entry for its joint type; unmatched predictions and predictions on frames
whose GT became empty are all false positives. Per joint, entries of all
frames (GT files in sorted order, then frame order, then prediction order)
are ranked by ``np.argsort(scores)[::-1]`` and scored with the all-points
(VOC2010+) interpolated AP against the number of GT joints. A joint with
no entries has AP 0; a joint with entries but no GT has AP NaN. Group
columns average their joints (NaN propagates); ``Total`` is the mean over
the 15 joints ignoring NaN.
"""
from typing import Dict, List, Tuple

import numpy as np

from ...errors import InputFileError
from .posetrack_frames import FramePair, clean_frame_pairs, load_frame_pairs
from .posetrack_io import PoseTrackFrame
from .posetrack_joints import EVAL_JOINT_NAMES, JOINT_GROUPS, NUM_EVAL_JOINTS

DIST_THRESH = 0.5
HEAD_SIZE_FACTOR = 0.6


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
    """Assign each prediction of a frame to at most one GT person.

    Args:
        pair (FramePair): A cleaned frame pair with P predictions and G GT
            persons.

    Returns:
        np.ndarray: Bool array (P, 15): whether each predicted joint is a
        true positive (False for joints that do not exist).
    """
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
    """All-points interpolated average precision of one joint, in percent.

    Args:
        scores (np.ndarray): Scores of all predicted joints, shape (N,).
        labels (np.ndarray): Whether each is a true positive, shape (N,).
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
    """Per-joint AP over cleaned frame pairs.

    Args:
        pairs (list[FramePair]): Pairs after :func:`clean_frame_pairs`, in
            evaluation order.

    Returns:
        np.ndarray: AP (percent) of the 15 evaluation joints, shape (15,).
    """
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
    """Summary columns and per-joint values from the 15 joint APs.

    Args:
        aps (np.ndarray): AP per evaluation joint, shape (15,).

    Returns:
        dict[str, float]: ``Head, Shoulder, Elbow, Wrist, Hip, Knee, Ankle,
        Total`` followed by one entry per joint name (e.g.
        ``'right_ankle'``).
    """
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
    """Evaluate official per-video prediction files with the PoseTrack AP.

    Args:
        gt_dir (str): Folder of official PoseTrack18 per-video GT files.
        pred_dir (str): Folder holding a prediction file of the same name
            for every GT file.

    Returns:
        dict[str, float]: AP in percent: ``Head, Shoulder, Elbow, Wrist,
        Hip, Knee, Ankle, Total`` and the 15 joints by name.

    Raises:
        InputFileError: A file is missing, malformed or inconsistent;
            the message names the file (and frame / annotation).
    """
    pairs = clean_frame_pairs(load_frame_pairs(gt_dir, pred_dir))
    return summarize_joint_aps(compute_joint_aps(pairs))
