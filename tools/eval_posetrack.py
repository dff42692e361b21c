"""Evaluate official PoseTrack18 per-video prediction files (PoseTrack AP).

Example::

    python tools/eval_posetrack.py \
        --gt-dir data/posetrack18/annotations/val \
        --pred-dir work_dirs/posewarper/val_predictions \
        --name PoseWarper --json work_dirs/posewarper/posetrack_ap.json

Prints a table of the AP per joint group and the mean. Every
``<video>.json`` in ``--gt-dir`` needs a prediction file of the same name
in ``--pred-dir``. A missing or malformed file (any NaN, ``Infinity`` or
``null`` included) or an unwritable ``--json`` is one line on stderr and
exit status 1, before evaluating.
"""
import argparse
import json
import os.path as osp
import sys

from posewarper_mm.errors import InputFileError, OutputLocationError
from posewarper_mm.evaluation.functional import (evaluate_posetrack,
                                                 format_posetrack_table,
                                                 summary_only)
from posewarper_mm.utils import prepare_output_file


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='PoseTrack18 multi-person AP of per-video files')
    add = parser.add_argument
    add('--gt-dir', required=True, help='folder of per-video GT files')
    add('--pred-dir', required=True,
        help='folder with a prediction file of the same name per GT file')
    add('--json', help='write {"Head", "Shoulder", "Elbow", "Wrist", "Hip", '
        '"Knee", "Ankle", "Total"} to this file')
    add('--name', default=None,
        help='method name in the table (default: the prediction folder)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run the evaluation; return the exit status."""
    args = parse_args(argv)
    try:
        if args.json:  # before the evaluation, not after it
            prepare_output_file(args.json, '--json')
        result = evaluate_posetrack(args.gt_dir, args.pred_dir)
    except (FileNotFoundError, InputFileError, OutputLocationError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    name = args.name or osp.basename(osp.normpath(args.pred_dir))
    print(format_posetrack_table({name: result}))
    if args.json:
        with open(args.json, 'w', encoding='utf-8') as f:
            json.dump(summary_only(result), f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
