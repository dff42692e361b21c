"""PoseTrack AP of propagated pose labels against held-back dense GT.

On data with dense ground truth and a sparse-label variant (as written by
``python -m tools.quickstart.generate``), the sparse labels are
propagated to the unlabeled frames three ways:

- ``copy nearest labeled pose``: the poses of the nearest labeled frame;
- ``optical flow (DIS) propagation``: the same poses moved frame by frame
  along dense optical flow (``flow_propagation.py``, the paper's flow
  baseline);
- ``PoseWarper propagation``: the same poses warped by the model
  (``tools/propagate_poses.py``).

All are written as official per-video prediction files and evaluated
with the PoseTrack AP against the dense GT restricted to the unlabeled
frames (the labeled frames lose their GT persons, so the evaluation skips
them). Unlabeled frames farther than ``--max-distance`` from a label get
no prediction and count as misses for every row.

Example::

    python -m tools.quickstart.eval_propagation \
        configs/quickstart/posewarper_hrnet-tiny_synthetic.py \
        work_dirs/quickstart/stage2/last.pth \
        --data-root data/quickstart --work-dir work_dirs/propagation
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.utils import ProgressBar

from posewarper_mm.apis import (copy_nearest_labels, count_targets,
                                propagate_labels)
from posewarper_mm.engine import init_inference_model
from posewarper_mm.errors import InputFileError
from posewarper_mm.evaluation.functional import (evaluate_posetrack,
                                                 format_posetrack_table,
                                                 summary_only)
from posewarper_mm.posetrack import load_json, write_posetrack_predictions
from .flow_propagation import flow_propagate_labels
from .gt_subsets import restrict_gt_dir
from .synthetic import generate_posetrack_dataset

COPY_ROW = 'copy nearest labeled pose'
FLOW_ROW = 'optical flow (DIS) propagation'
WARP_ROW = 'PoseWarper propagation'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='AP of propagated labels vs. copying the nearest label')
    parser.add_argument('config', help='PoseWarper config')
    parser.add_argument('checkpoint', help='PoseWarper checkpoint')
    parser.add_argument(
        '--data-root',
        required=True,
        help='dataset root (images/, annotations/ as generated)')
    parser.add_argument('--split', default='train')
    parser.add_argument(
        '--sparse-ann',
        help='sparse-label json (default: <root>/annotations/'
        'posetrack18_<split>_sparse.json)')
    parser.add_argument(
        '--gt-dir',
        help='dense per-video GT files (default: <root>/annotations/'
        '<split>)')
    parser.add_argument(
        '--work-dir', required=True, help='output folder for all files')
    parser.add_argument('--out-json', help='write the result rows here')
    parser.add_argument('--max-distance', type=int)
    parser.add_argument(
        '--max-videos',
        type=int,
        help='use only the first N videos of the split (by video folder '
        'name); default: all')
    parser.add_argument(
        '--generate',
        action='store_true',
        help='first generate synthetic data into --data-root if it has '
        'no sparse json')
    parser.add_argument(
        '--decode',
        choices=['absolute', 'displacement'],
        default='absolute',
        help='absolute: decode the warped heatmaps (default); '
        'displacement: move the labels by decode(warped) - decode(labels)')
    parser.add_argument(
        '--device', default='cuda:0' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args(argv)
    annotations = osp.join(args.data_root, 'annotations')
    args.sparse_ann = args.sparse_ann or osp.join(
        annotations, f'posetrack18_{args.split}_sparse.json')
    args.gt_dir = args.gt_dir or osp.join(annotations, args.split)
    if args.max_videos is not None and args.max_videos < 1:
        parser.error(f'--max-videos must be >= 1, got {args.max_videos}')
    return args


def first_videos(coco: dict, count: int) -> dict:
    """``coco`` restricted to its first ``count`` videos.

    Videos are ordered by the folder of their frames (``file_name``).

    Args:
        coco (dict): A PoseTrack18 COCO-style json.
        count (int): Videos to keep.

    Returns:
        dict: A copy with the images and annotations of those videos only.
    """
    videos = sorted({osp.dirname(img['file_name']) for img in coco['images']})
    kept_videos = set(videos[:count])
    images = [
        img for img in coco['images']
        if osp.dirname(img['file_name']) in kept_videos
    ]
    kept = {img['id'] for img in images}
    return dict(
        coco,
        images=images,
        annotations=[a for a in coco['annotations'] if a['image_id'] in kept])


def labeled_image_ids(coco: dict) -> set:
    """Ids of the frames that carry labels in the sparse json."""
    annotated = {a['image_id'] for a in coco['annotations']}
    return {
        img['id']
        for img in coco['images']
        if img.get('is_labeled', img['id'] in annotated)
    }


def write_unlabeled_gt(gt_dir: str,
                       labeled: set,
                       out_dir: str,
                       frames: Optional[set] = None) -> int:
    """Copy the GT files without the persons of the labeled frames.

    Args:
        gt_dir (str): Folder of per-video GT files.
        labeled (set): Ids of the labeled frames.
        out_dir (str): Output folder.
        frames (set, optional): Ids of the frames to evaluate at all
            (default: every frame).

    Returns:
        int: The number of GT persons left (on unlabeled frames).
    """
    _, persons = restrict_gt_dir(
        gt_dir, out_dir, lambda image: image['id'] not in labeled and
        (frames is None or image['id'] in frames))
    return persons


def propagated_predictions(coco: dict) -> Dict[int, List[dict]]:
    """Image id -> persons of the propagated annotations of ``coco``."""
    preds: Dict[int, List[dict]] = {}
    for ann in coco['annotations']:
        if 'propagated_from' not in ann:
            continue
        triples = np.asarray(ann['keypoints'], dtype=np.float64).reshape(-1, 3)
        visible = triples[:, 2] > 0
        scores = np.where(visible, np.asarray(ann['scores']), 0.0)
        preds.setdefault(ann['image_id'], []).append(
            dict(
                keypoints=np.where(visible[:, None], triples[:, :2], 0.0),
                keypoint_scores=scores,
                score=float(scores[visible].mean()) if visible.any() else 0))
    return preds


def evaluate_rows(rows: Dict[str, dict], gt_dir: str,
                  work_dir: str) -> Dict[str, Dict[str, float]]:
    """Write each row's prediction files and evaluate them."""
    results = {}
    for name, coco in rows.items():
        pred_dir = osp.join(work_dir, 'pred_' + name.split()[0].lower())
        write_posetrack_predictions(
            propagated_predictions(coco), gt_dir, pred_dir)
        results[name] = summary_only(evaluate_posetrack(gt_dir, pred_dir))
    return results


def run(args: argparse.Namespace) -> Dict[str, Dict[str, float]]:
    """Propagate each way, evaluate, print the table."""
    if args.generate and not osp.isfile(args.sparse_ann):
        generate_posetrack_dataset(
            args.data_root,
            num_videos=4,
            num_frames=20,
            videos_per_split=(3, 1))
    coco = load_json(args.sparse_ann)
    frames = None
    if args.max_videos:
        coco = first_videos(coco, args.max_videos)
        frames = {img['id'] for img in coco['images']}
    os.makedirs(args.work_dir, exist_ok=True)
    gt_dir = osp.join(args.work_dir, 'gt_unlabeled_frames')
    num_gt = write_unlabeled_gt(args.gt_dir, labeled_image_ids(coco), gt_dir,
                                frames)
    num_targets = count_targets(coco, args.max_distance)
    print(f'{args.sparse_ann}: {num_targets} unlabeled frames, {num_gt} GT '
          'persons on unlabeled frames')
    # a checkpoint that leaves model weights unloaded is an error
    model = init_inference_model(
        args.config, args.checkpoint, device=args.device)
    bar = ProgressBar(num_targets)
    rows = {
        COPY_ROW:
        copy_nearest_labels(coco, args.max_distance),
        FLOW_ROW:
        flow_propagate_labels(coco, args.data_root, args.max_distance),
        WARP_ROW:
        propagate_labels(model, coco, args.data_root, args.max_distance,
                         bar.update, args.decode),
    }
    print()
    for name, pseudo in rows.items():
        with open(
                osp.join(args.work_dir, f'{name.split()[0].lower()}.json'),
                'w',
                encoding='utf-8') as f:
            json.dump(pseudo, f)
    results = evaluate_rows(rows, gt_dir, args.work_dir)
    print('PoseTrack AP on the unlabeled frames:')
    print(format_posetrack_table(results))
    if args.out_json:
        folder = osp.dirname(args.out_json)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with open(args.out_json, 'w', encoding='utf-8') as f:
            json.dump(results, f, indent=1)
    return results


def main(argv: Optional[Sequence[str]] = None):
    """Command-line entry point."""
    return run(parse_args(argv))


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, InputFileError) as error:
        sys.exit(f'eval_propagation: error: {error}')
