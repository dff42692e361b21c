"""Pseudo-label the unlabeled frames of a sparsely labeled dataset.

Each unlabeled frame takes the poses of the nearest labeled frame of its
video, moved by PoseWarper's warping module along the heatmap difference
of the two frames in each person's box (``--method copy``: copied). The
output json is the input plus one annotation per propagated person:
``is_propagated`` true (false on the input's labels), ``propagated_from``
(the source annotation's id), the joint ``scores`` (warped heatmap maximum
times ``1 / (1 + |frame distance|)``) and the person ``score`` (their mean
over the labeled joints). ``PoseTrackVideoPairDataset`` loads it as
``ann_file``, the propagated persons as labeled ones (its
``propagated_min_score`` drops the joints scored lower).

Example, then the single-frame model trained on sparse + propagated labels::

    python tools/propagate_poses.py \
        configs/quickstart/posewarper_hrnet-tiny_synthetic.py \
        work_dirs/quickstart/stage2/iter_450.pth \
        --ann-file data/quickstart/annotations/posetrack18_train_sparse.json \
        --img-root data/quickstart \
        --out data/quickstart/annotations/propagated.json
    python tools/train.py \
        configs/quickstart/posewarper-stage1_hrnet-tiny_synthetic.py \
        --cfg-options \
        train_dataloader.dataset.ann_file=annotations/propagated.json
"""
import argparse
import json
import os.path as osp
import sys
import time
from typing import Optional, Sequence

import torch
from mmengine.utils import ProgressBar

from posewarper_mm.apis import (copy_nearest_labels, count_targets,
                                mark_propagated, propagate_labels)
from posewarper_mm.engine import ALLOW_PARTIAL_FLAG, init_inference_model
from posewarper_mm.errors import run_command
from posewarper_mm.posetrack import check_coco_dict, load_json
from posewarper_mm.utils import prepare_output_file, write_file_atomically


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Propagate sparse pose labels to unlabeled frames')
    add = parser.add_argument
    add('config', help='PoseWarper config')
    add('checkpoint', help='trained PoseWarper checkpoint')
    add('--ann-file', required=True, help='merged json with sparse labels')
    add('--img-root', required=True,
        help='folder that the image file names are relative to')
    add('--out', required=True, help='output json')
    add('--max-distance', type=int,
        help='only label frames at most this many frames from a label')
    add('--method', choices=['warp', 'copy'], default='warp',
        help='warp with PoseWarper (default) or copy the nearest labels')
    add('--decode', choices=['absolute', 'displacement'], default='absolute',
        help='absolute: decode the warped heatmaps (default); '
        'displacement: move the labels by decode(warped) - decode(labels)')
    add('--device', default='cuda:0' if torch.cuda.is_available() else 'cpu')
    add(ALLOW_PARTIAL_FLAG, action='store_true',
        help='run even if the checkpoint leaves model weights unloaded '
        '(by default that is an error: another architecture or stage)')
    return parser.parse_args(argv)


def load_sparse_json(path: str) -> dict:
    """Read and check a merged PoseTrack18 json (17 keypoints)."""
    coco = load_json(path)
    check_coco_dict(coco, path, 17, ('id', 'file_name', 'width', 'height'))
    return coco


def run(args: argparse.Namespace) -> dict:
    """Propagate and write ``args.out``; returns the new json object."""
    coco = load_sparse_json(args.ann_file)
    if not osp.isdir(args.img_root):
        raise FileNotFoundError(f'{args.img_root}: image root not found')
    prepare_output_file(args.out, '--out')
    num_targets = count_targets(coco, args.max_distance)
    print(f'{args.ann_file}: {len(coco["images"])} images, '
          f'{num_targets} unlabeled frames to label ({args.method})')
    start = time.time()
    if args.method == 'copy':
        out = copy_nearest_labels(coco, args.max_distance)
    else:
        model = init_inference_model(
            args.config, args.checkpoint, device=args.device,
            allow_partial=args.allow_partial_checkpoint)
        bar = ProgressBar(num_targets)
        out = propagate_labels(model, coco, args.img_root, args.max_distance,
                               bar.update, args.decode)
        print()
    mark_propagated(out)
    added = len(out['annotations']) - len(coco['annotations'])
    # complete or absent: the quickstart reuses the file when it is there
    write_file_atomically(args.out, json.dumps(out))
    print(f'added {added} pseudo-label annotations on {num_targets} frames '
          f'in {time.time() - start:.1f} s -> {args.out}')
    return out


def main(argv: Optional[Sequence[str]] = None) -> dict:
    return run(parse_args(argv))


def cli(argv: Optional[Sequence[str]] = None) -> int:
    """Run :func:`main`; print a bad input or output as one line and
    return 1."""
    return run_command('propagate_poses', lambda: main(argv))


if __name__ == '__main__':
    sys.exit(cli())
