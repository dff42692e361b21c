"""PoseTrack AP of propagated pose labels against the held-back dense GT.

The sparse labels of generated data go to the unlabeled frames three ways:
copied from the nearest labeled frame, moved along optical flow
(:mod:`.flow_propagation`) and warped by the model; with
``--single-frame``, a single-frame model also estimates the poses on the
unlabeled frames (pseudo-labeling). Each is scored on the unlabeled frames
(those beyond ``--max-distance`` count as misses). Example::

    python -m tools.quickstart.eval_propagation \
        configs/quickstart/posewarper_hrnet-tiny_synthetic.py \
        work_dirs/quickstart/stage2/iter_450.pth \
        --data-root data/quickstart --work-dir work_dirs/propagation \
        --single-frame \
        configs/quickstart/posewarper-stage1_hrnet-tiny_synthetic.py \
        work_dirs/quickstart/stage1/iter_1900.pth
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.utils import ProgressBar
from torch import nn

from posewarper_mm.apis import (build_test_pipeline, copy_nearest_labels,
                                count_targets, inference_posewarper,
                                label_frames, propagate_labels)
from posewarper_mm.apis.label_propagation import distance_prior
from posewarper_mm.engine import init_inference_model
from posewarper_mm.errors import InputFileError
from posewarper_mm.evaluation.functional import (evaluate_posetrack,
                                                 format_posetrack_table,
                                                 summary_only)
from posewarper_mm.posetrack import load_json, write_posetrack_predictions
from .flow_propagation import FlowPropagator
from .gt_subsets import restrict_gt_dir

COPY_ROW = 'copy nearest labeled pose'
PSEUDO_ROW = 'pseudo-labeling (single-frame HRNet)'
FLOW_ROW = 'optical flow (DIS) propagation'
WARP_ROW = 'PoseWarper propagation'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='AP of propagated labels vs. copying the nearest label')
    add = parser.add_argument
    add('config', help='PoseWarper config')
    add('checkpoint', help='PoseWarper checkpoint')
    add('--data-root', required=True, help='generated data')
    add('--split', default='train',
        help='its sparse-label json and its dense GT files')
    add('--work-dir', required=True, help='output folder')
    add('--out-json', help='write the result rows here')
    add('--max-distance', type=int)
    add('--max-videos', type=int,
        help='only the first N videos (by folder name)')
    add('--decode', choices=['absolute', 'displacement'], default='absolute',
        help='absolute: decode the warped heatmaps; displacement: move the '
        'labels by decode(warped) - decode(labels)')
    add('--single-frame', nargs=2, metavar=('CONFIG', 'CHECKPOINT'),
        help='also score this single-frame model run on the unlabeled '
        'frames (pseudo-labeling)')
    add('--device', default='cuda:0' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args(argv)
    annotations = osp.join(args.data_root, 'annotations')
    args.sparse_ann = osp.join(annotations,
                               f'posetrack18_{args.split}_sparse.json')
    args.gt_dir = osp.join(annotations, args.split)
    if args.max_videos is not None and args.max_videos < 1:
        parser.error(f'--max-videos must be >= 1, got {args.max_videos}')
    return args


def first_videos(coco: dict, count: int) -> dict:
    """A copy of a PoseTrack18 json with only its first ``count`` videos
    (by the folder of their frames)."""
    videos = sorted({osp.dirname(img['file_name']) for img in coco['images']})
    images = [img for img in coco['images']
              if osp.dirname(img['file_name']) in videos[:count]]
    kept = {img['id'] for img in images}
    annotations = [a for a in coco['annotations'] if a['image_id'] in kept]
    return dict(coco, images=images, annotations=annotations)


def propagated_predictions(coco: dict) -> Dict[int, List[dict]]:
    """Image id -> persons of the propagated annotations of ``coco``."""
    preds: Dict[int, List[dict]] = {}
    for ann in coco['annotations']:
        if 'propagated_from' not in ann:
            continue
        triples = np.asarray(ann['keypoints'], dtype=np.float64).reshape(-1, 3)
        visible = triples[:, 2] > 0
        scores = np.where(visible, np.asarray(ann['scores']), 0.0)
        preds.setdefault(ann['image_id'], []).append(dict(
            keypoints=np.where(visible[:, None], triples[:, :2], 0.0),
            keypoint_scores=scores,
            score=float(scores[visible].mean()) if visible.any() else 0))
    return preds


class SingleFramePoser:
    """``make_poses`` of ``posewarper_mm.apis.label_frames`` for
    pseudo-labeling: a single-frame ``model`` estimates each source person
    on the target frame (read from ``img_root``) in the source box that
    PoseWarper propagation crops, and the scores are the other rows':
    the heatmap maximum times ``1 / (1 + |frame distance|)``, 0 on the
    source's unlabeled joints."""

    def __init__(self, model: nn.Module, img_root: str) -> None:
        self.model = model
        self.img_root = img_root
        self.pipeline = build_test_pipeline(model)

    def __call__(self, src_img: dict, tgt_img: dict,
                 persons: tuple) -> Tuple[np.ndarray, np.ndarray]:
        """Keypoints (N, K, 2) and scores (N, K) of the source persons
        estimated on the target frame."""
        path = osp.join(self.img_root, tgt_img['file_name'])
        frame = cv2.imread(path, cv2.IMREAD_COLOR)
        if frame is None:
            raise FileNotFoundError(f'{path}: frame missing or unreadable')
        samples = inference_posewarper(self.model, [frame], persons[3],
                                       pipeline=self.pipeline)
        kpts = np.stack([s.pred_instances.keypoints[0] for s in samples])
        scores = np.stack(
            [s.pred_instances.keypoint_scores[0] for s in samples])
        scores = np.where(persons[2] > 0, scores, 0.0)
        return kpts, scores * distance_prior(src_img, tgt_img)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, dict]:
    """Propagate each way, score, print the table; returns the rows."""
    args = parse_args(argv)
    coco = load_json(args.sparse_ann)
    frames = None
    if args.max_videos:
        coco = first_videos(coco, args.max_videos)
        frames = {img['id'] for img in coco['images']}
    os.makedirs(args.work_dir, exist_ok=True)
    gt_dir = osp.join(args.work_dir, 'gt_unlabeled_frames')
    annotated = {a['image_id'] for a in coco['annotations']}
    labeled = {img['id'] for img in coco['images']
               if img.get('is_labeled', img['id'] in annotated)}
    _, num_gt = restrict_gt_dir(  # the unlabeled frames' persons
        args.gt_dir, gt_dir, lambda image: image['id'] not in labeled and
        (frames is None or image['id'] in frames))
    num_targets = count_targets(coco, args.max_distance)
    print(f'{args.sparse_ann}: {num_targets} unlabeled frames, {num_gt} GT '
          'persons on unlabeled frames')
    # a checkpoint that leaves model weights unloaded is an error
    model = init_inference_model(args.config, args.checkpoint,
                                 device=args.device)
    rows = {COPY_ROW: copy_nearest_labels(coco, args.max_distance)}
    if args.single_frame:
        single = init_inference_model(*args.single_frame, device=args.device)
        rows[PSEUDO_ROW] = label_frames(
            coco, args.max_distance, SingleFramePoser(single, args.data_root))
    rows[FLOW_ROW] = label_frames(coco, args.max_distance,
                                  FlowPropagator(coco, args.data_root))
    bar = ProgressBar(num_targets)
    rows[WARP_ROW] = propagate_labels(model, coco, args.data_root,
                                      args.max_distance, bar.update,
                                      args.decode)
    print()
    results = {}
    for name, pseudo in rows.items():
        slug = name.split()[0].lower()
        with open(osp.join(args.work_dir, f'{slug}.json'), 'w',
                  encoding='utf-8') as f:
            json.dump(pseudo, f)
        pred_dir = osp.join(args.work_dir, 'pred_' + slug)
        write_posetrack_predictions(
            propagated_predictions(pseudo), gt_dir, pred_dir)
        results[name] = summary_only(evaluate_posetrack(gt_dir, pred_dir))
    print('PoseTrack AP on the unlabeled frames:')
    print(format_posetrack_table(results))
    if args.out_json:
        os.makedirs(osp.dirname(osp.abspath(args.out_json)), exist_ok=True)
        with open(args.out_json, 'w', encoding='utf-8') as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, InputFileError) as error:
        sys.exit(f'eval_propagation: error: {error}')
