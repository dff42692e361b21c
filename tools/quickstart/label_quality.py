"""How good propagated labels are as training labels, joint by joint.

Each propagated person of a merged json (``tools/propagate_poses.py``) is
matched to the true person of the same frame and track in the dense json;
a joint counts as right within PCKh@0.5 (the AP's threshold: half of
``0.6 * diagonal(bbox_head)``). The same is done for the source labels
left where they were (copying the nearest labeled pose), then for the
joints kept by each ``propagated_min_score`` and by the frame distance to
the source label (``--max-distance`` of ``tools/propagate_poses.py``).
Example::

    python -m tools.quickstart.label_quality \
        work_dirs/quickstart/posetrack18_train_propagated.json \
        data/quickstart/annotations/posetrack18_train.json
"""
import argparse
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from posewarper_mm.evaluation.functional import (format_posetrack_table,
                                                 summary_only)
from posewarper_mm.evaluation.functional.posetrack_ap import (
    HEAD_SIZE_FACTOR, summarize_joint_aps)
from posewarper_mm.posetrack import (NUM_EVAL_JOINTS, frame_index_from_name,
                                     load_json)
from posewarper_mm.posetrack.joints import keypoint_names_to_eval_ids
from posewarper_mm.utils import write_file_atomically

PROPAGATED = 'propagated labels, share within PCKh@0.5 (%)'
COPIED = 'source labels not moved (copy), share within PCKh@0.5 (%)'
MIN_SCORES = (0.2, 0.3, 0.35, 0.4)

# per joint: (eval joint id, score, error of the label, error of the copy,
# the label's x and y offsets, frames from the source label), errors in
# head sizes, offsets in pixels
Joints = np.ndarray
COLUMNS = 7


def true_persons(dense: dict) -> Dict[Tuple[int, int], dict]:
    """(image id, track id) -> the true annotation, of ``dense``."""
    return {(a['image_id'], a.get('track_id')): a
            for a in dense['annotations']}


def label_errors(merged: dict, dense: dict) -> Tuple[Joints, int]:
    """The labeled joints of the propagated persons of ``merged`` against
    the true persons of ``dense``.

    Returns:
        tuple: Joints (M, 7) as ``(eval id, score, error, copy error, dx,
        dy, distance)`` and the number of propagated persons without a
        true person.

    Raises:
        ValueError: ``merged`` has no propagated person, or one whose
            frame or source frame is not among its ``images``.
    """
    names = dense['categories'][0]['keypoints']
    eval_ids = keypoint_names_to_eval_ids(names)
    truth = true_persons(dense)
    by_id = {a['id']: a for a in merged['annotations']}
    frames = {img['id']: img['file_name'] for img in merged.get('images', [])}

    def frame_index(image_id) -> int:
        if image_id not in frames:
            raise ValueError(f'the merged json has no image id {image_id} '
                             'in its "images": the frame distance of its '
                             'propagated persons is unknown')
        return frame_index_from_name(frames[image_id])

    rows: List[Tuple[float, ...]] = []
    unmatched = propagated = 0
    for ann in merged['annotations']:
        if 'propagated_from' not in ann:
            continue
        propagated += 1
        true = truth.get((ann['image_id'], ann.get('track_id')))
        if true is None or not true.get('bbox_head'):
            unmatched += 1
            continue
        head = HEAD_SIZE_FACTOR * float(np.hypot(*true['bbox_head'][2:4]))
        label = np.asarray(ann['keypoints'], float).reshape(-1, 3)
        gt = np.asarray(true['keypoints'], float).reshape(-1, 3)
        src = by_id[ann['propagated_from']]
        source = np.asarray(src['keypoints'], float).reshape(-1, 3)
        distance = abs(frame_index(ann['image_id']) -
                       frame_index(src['image_id']))
        for k, eval_id in enumerate(eval_ids):
            if eval_id is None or label[k, 2] <= 0 or gt[k, 2] <= 0:
                continue
            offset = label[k, :2] - gt[k, :2]
            rows.append((eval_id, float(ann['scores'][k]),
                         np.hypot(*offset) / head,
                         np.hypot(*(source[k, :2] - gt[k, :2])) / head,
                         *offset, distance))
    if not propagated:
        raise ValueError('no propagated person (no "propagated_from") in '
                         'the merged json')
    return np.asarray(rows, dtype=np.float64).reshape(-1, COLUMNS), unmatched


def with_true_labels(merged: dict, dense: dict) -> dict:
    """A copy of ``merged`` whose propagated joints sit at their true
    positions (those unlabeled stay unlabeled; a propagated person without
    a true person is left out): the labels of a perfect propagation."""
    truth = true_persons(dense)
    out = dict(merged, annotations=[])
    for ann in merged['annotations']:
        if 'propagated_from' in ann:
            true = truth.get((ann['image_id'], ann.get('track_id')))
            if true is None:
                continue
            label = np.asarray(ann['keypoints'], float).reshape(-1, 3)
            gt = np.asarray(true['keypoints'], float).reshape(-1, 3)
            label[:, :2] = np.where(label[:, 2:] > 0, gt[:, :2], 0)
            ann = dict(ann, keypoints=label.reshape(-1).tolist())
        out['annotations'].append(ann)
    return out


def percent_right(errors: np.ndarray) -> float:
    """The share (%) of ``errors`` (head sizes) within PCKh@0.5."""
    return 100.0 * float((errors <= 0.5).mean())


def share_within(joints: Joints, column: int) -> Dict[str, float]:
    """Per joint group, the share (%) of errors in ``column`` within
    half a head size (:func:`summarize_joint_aps`'s keys)."""
    shares = np.full(NUM_EVAL_JOINTS, np.nan)
    for j in range(NUM_EVAL_JOINTS):
        errors = joints[joints[:, 0] == j, column]
        if len(errors):
            shares[j] = percent_right(errors)
    return summarize_joint_aps(shares)


def by_distance(joints: Joints) -> List[str]:
    """A table of the labels' and the copies' shares within PCKh@0.5 and
    median errors per frame distance to the source label."""
    lines = ['| frames from the source label | joints | propagated, within '
             'PCKh@0.5 (%) | copy, within PCKh@0.5 (%) | median error, '
             'propagated / copy (head sizes) |', '|---|---|---|---|---|']
    for distance in np.unique(joints[:, 6]):
        at = joints[joints[:, 6] == distance]
        lines.append(
            f'| {int(distance)} | {len(at)} | '
            f'{percent_right(at[:, 2]):.1f} | {percent_right(at[:, 3]):.1f} | '
            f'{np.median(at[:, 2]):.2f} / {np.median(at[:, 3]):.2f} |')
    return lines


def report(joints: Joints, unmatched: int,
           min_scores: Sequence[float] = MIN_SCORES) -> str:
    """The three tables and one line per ``propagated_min_score``."""
    lines = [format_posetrack_table({
        PROPAGATED: summary_only(share_within(joints, 2)),
        COPIED: summary_only(share_within(joints, 3))}), '',
        f'{len(joints)} labeled joints of propagated persons; median error '
        f'{np.median(joints[:, 2]):.2f} head sizes (copy: '
        f'{np.median(joints[:, 3]):.2f}); mean offset from the truth '
        f'({joints[:, 4].mean():+.2f}, {joints[:, 5].mean():+.2f}) pixels '
        '(x, y: a bias that a single-frame model learns); '
        f'{unmatched} propagated persons have no true person in their '
        'frame.', '', *by_distance(joints), '']
    for score in min_scores:
        kept = joints[joints[:, 1] >= score]
        share = percent_right(kept[:, 2]) if len(kept) else 0
        lines.append(f'- propagated_min_score={score:g}: '
                     f'{100.0 * len(kept) / len(joints):.1f}% of the joints '
                     f'kept, {share:.1f}% of them within PCKh@0.5')
    return '\n'.join(lines)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('merged', help='json of tools/propagate_poses.py')
    parser.add_argument('dense', help='the true labels of every frame')
    parser.add_argument('--min-scores', type=float, nargs='*',
                        default=list(MIN_SCORES))
    parser.add_argument('--out', help='also write the report here')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    joints, unmatched = label_errors(load_json(args.merged),
                                     load_json(args.dense))
    text = report(joints, unmatched, args.min_scores)
    print(text)
    if args.out:  # complete or absent: the quickstart reuses it when there
        write_file_atomically(args.out, text + '\n')


if __name__ == '__main__':
    main()
