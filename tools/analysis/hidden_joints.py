"""Share of hidden joints that each model finds, on generated videos.

The generated data lists, per person, the joints an occluder covers
(``keypoints_occluded``). This tool scores predictions on those joints
alone and on all other joints: the share of GT joints that the PoseTrack
matching (PCKh@0.5, the one behind the PoseTrack AP) counts as found.
Frame-level subsets such as the occluded frames mix the few hidden joints
with the many visible ones of the same frames; this separates them, which
is where a model that reads neighbouring frames should gain.

Example::

    python tools/analysis/hidden_joints.py \\
        --gt-dir data/quickstart/annotations/val \\
        --pred single=work_dirs/quickstart/preds/single_frame \\
        --pred posewarper=work_dirs/quickstart/preds/posewarper

Prints one row per prediction folder: the share found of the hidden
joints and of the other joints (in percent, with the counts), and the
hidden joints per joint group. Exits with status 1 and a message naming
the file on a missing or malformed file.
"""
import argparse
import os.path as osp
import sys
import tempfile
from typing import Dict, List, Optional, Tuple

import numpy as np
from gt_subsets import restrict_joints_gt_dir

from posewarper_mm.evaluation.functional import (EVAL_JOINT_NAMES,
                                                 JOINT_GROUPS,
                                                 PoseTrackFileError,
                                                 assign_predictions,
                                                 clean_frame_pairs,
                                                 load_frame_pairs)

GROUPS = [name for name, _ in JOINT_GROUPS]


def count_hits(gt_dir: str, pred_dir: str) -> Tuple[np.ndarray, np.ndarray]:
    """GT joints and matched GT joints per evaluation joint.

    Args:
        gt_dir (str): Folder of per-video GT files.
        pred_dir (str): Folder with a prediction file per GT file.

    Returns:
        tuple[np.ndarray, np.ndarray]: Found and GT joint counts, each of
        shape (15,).
    """
    found = np.zeros(len(EVAL_JOINT_NAMES), dtype=np.int64)
    total = np.zeros(len(EVAL_JOINT_NAMES), dtype=np.int64)
    for pair in clean_frame_pairs(load_frame_pairs(gt_dir, pred_dir)):
        total += np.sum([p.present for p in pair.gt.persons], axis=0)
        if pair.pred.persons:
            # each GT person takes at most one prediction, so the true
            # positives count the GT joints found
            found += assign_predictions(pair).sum(axis=0)
    return found, total


def share(found: np.ndarray,
          total: np.ndarray,
          joints: Optional[List[int]] = None) -> float:
    """Percent of the GT joints (of ``joints``; all by default) found."""
    sel = slice(None) if joints is None else list(joints)
    count = int(total[sel].sum())
    return 100.0 * float(found[sel].sum()) / count if count else float('nan')


def hidden_joint_table(gt_dir: str, preds: Dict[str, str],
                       work_dir: str) -> Dict[str, Dict[str, float]]:
    """Shares found per prediction folder.

    Args:
        gt_dir (str): Folder of per-video GT files of generated data.
        preds (dict[str, str]): Row name -> prediction folder.
        work_dir (str): Where the hidden-only and visible-only GT copies
            are written.

    Returns:
        dict: Row name -> ``{'hidden': %, 'hidden_n': count, 'visible': %,
        'visible_n': count, <group>: % of that group's hidden joints}``.
    """
    subsets = {}
    for key, hidden in (('hidden', True), ('visible', False)):
        subsets[key] = osp.join(work_dir, f'gt_{key}_joints')
        restrict_joints_gt_dir(gt_dir, subsets[key], hidden)
    table = {}
    for name, pred_dir in preds.items():
        row: Dict[str, float] = {}
        for key, subset in subsets.items():
            found, total = count_hits(subset, pred_dir)
            row[key] = share(found, total)
            row[f'{key}_n'] = int(total.sum())
            if key == 'hidden':
                for group, ids in JOINT_GROUPS:
                    row[group] = share(found, total, list(ids))
        table[name] = row
    return table


def format_table(table: Dict[str, Dict[str, float]]) -> str:
    """The Markdown table of :func:`hidden_joint_table`."""
    first = next(iter(table.values()))
    lines = [
        f'| Method | hidden joints found, % (of {first["hidden_n"]}) | '
        f'other joints found, % (of {first["visible_n"]}) | ' +
        ' | '.join(f'hidden {g}' for g in GROUPS) + ' |',
        '|---|' + '---|' * (2 + len(GROUPS))
    ]
    for name, row in table.items():
        cells = [f'{row["hidden"]:.1f}', f'{row["visible"]:.1f}'] + [
            f'{row[g]:.1f}' if np.isfinite(row[g]) else '-' for g in GROUPS
        ]
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def _pred_arg(text: str) -> Tuple[str, str]:
    name, sep, folder = text.partition('=')
    if not sep or not name or not folder:
        raise argparse.ArgumentTypeError(f'expected NAME=FOLDER, got {text!r}')
    return name, folder


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='share of hidden and of other joints found, on '
        'generated videos')
    parser.add_argument(
        '--gt-dir',
        required=True,
        help='folder of per-video GT files of generated data')
    parser.add_argument(
        '--pred',
        required=True,
        action='append',
        type=_pred_arg,
        metavar='NAME=FOLDER',
        help='a row: its name and prediction folder (repeat for more)')
    parser.add_argument(
        '--work-dir',
        help='where to write the restricted GT copies (default: a '
        'temporary folder, removed afterwards)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run the tool; return the exit status."""
    args = parse_args(argv)
    preds = dict(args.pred)
    try:
        if args.work_dir:
            table = hidden_joint_table(args.gt_dir, preds, args.work_dir)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                table = hidden_joint_table(args.gt_dir, preds, tmp)
    except (PoseTrackFileError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(format_table(table))
    return 0


if __name__ == '__main__':
    sys.exit(main())
