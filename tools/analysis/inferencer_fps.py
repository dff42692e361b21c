"""Frames per second of PoseWarperInferencer beside mmpose's single-frame
``Pose2DInferencer`` on the same generated video and person boxes.

A generated video (``--size``, ``--frames``, ``--persons``: walking
figures, its ground-truth boxes given to both) runs through
:class:`~posewarper_mm.apis.PoseWarperInferencer` (every key frame from its
temporal window) and through mmpose's ``Pose2DInferencer`` one frame at a
time, nothing written. Each is timed ``--repeats`` times after one warm-up
pass over the first frames; the table gives the median and range of the
frames per second and the ratio of the medians. Without checkpoints the
models keep their initial weights (the speed does not depend on them).

Example::

    python tools/analysis/inferencer_fps.py \\
        configs/quickstart/posewarper_hrnet-tiny_synthetic.py \\
        configs/quickstart/posewarper-stage1_hrnet-tiny_synthetic.py
"""
import argparse
import os.path as osp
import statistics
import sys
import tempfile
import time
from typing import Callable, List

import mmcv
import numpy as np
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmpose.apis.inferencers import Pose2DInferencer  # noqa: E402

from posewarper_mm.apis import PoseWarperInferencer  # noqa: E402
from posewarper_mm.posetrack import load_json  # noqa: E402
from tools.quickstart.synthetic import generate_posetrack_dataset  # noqa

WARMUP_FRAMES = 3


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add = parser.add_argument
    add('config', help='the PoseWarper config')
    add('single_config', help='the single-frame config')
    add('--weights', help='PoseWarper checkpoint (default: initial weights)')
    add('--single-weights', help='single-frame checkpoint')
    add('--frames', type=int, default=20, help='frames of the video')
    add('--size', type=int, nargs=2, default=[640, 360], metavar=('W', 'H'))
    add('--persons', type=int, default=2, help='figures in the video')
    add('--repeats', type=int, default=3, help='timed passes of each')
    add('--threads', type=int, default=2, help='CPU threads (torch)')
    add('--device', default='cpu')
    args = parser.parse_args(argv)
    if args.frames <= WARMUP_FRAMES or args.repeats < 1:
        parser.error(f'--frames must exceed {WARMUP_FRAMES} and --repeats '
                     'be at least 1')
    return args


def generated_video(root: str, args) -> tuple:
    """Frames (T BGR (H, W, 3)) and per-frame boxes (N, 4) xyxy of one
    generated video."""
    width, height = args.size
    data = generate_posetrack_dataset(
        root, num_frames=args.frames, width=width, height=height,
        persons_per_video=args.persons, splits=('val', ),
        videos_per_split=(1, ), sparse_splits=(), crowd_prob=0.0, seed=0)
    coco = load_json(data['ann_files']['val'])
    boxes = {img['id']: [] for img in coco['images']}
    for ann in coco['annotations']:
        x, y, w, h = ann['bbox']
        boxes[ann['image_id']].append([x, y, x + w, y + h])
    images = sorted(coco['images'], key=lambda img: img['frame_id'])
    frames = [mmcv.imread(osp.join(root, img['file_name']))
              for img in images]
    return frames, [np.asarray(boxes[img['id']], np.float32).reshape(-1, 4)
                    for img in images]


def frames_per_second(run: Callable[[int], None], num_frames: int,
                      repeats: int) -> List[float]:
    """``run(n)`` once on the first frames, then timed on all."""
    run(WARMUP_FRAMES)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(num_frames)
        rates.append(num_frames / (time.perf_counter() - start))
    return rates


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as root:
        frames, boxes = generated_video(root, args)
    warper = PoseWarperInferencer(args.config, args.weights, args.device)
    single = Pose2DInferencer(args.single_config, args.single_weights,
                              args.device)

    def run_warper(n: int) -> None:
        for _ in warper(frames[:n], bboxes=boxes[:n], tracking=None):
            pass

    def run_single(n: int) -> None:
        for frame, frame_boxes in zip(frames[:n], boxes[:n]):
            for _ in single(frame, bboxes=[frame_boxes]):
                pass

    rates = {name: frames_per_second(run, len(frames), args.repeats)
             for name, run in (('single-frame (mmpose Pose2DInferencer)',
                                run_single),
                               ('PoseWarperInferencer', run_warper))}
    persons = sum(len(b) for b in boxes) / len(boxes)
    print(f'{len(frames)} frames of {args.size[0]}x{args.size[1]}, '
          f'{persons:.1f} persons per frame, {args.device}, '
          f'{args.threads} threads, {args.repeats} repeats\n')
    print('| inferencer | frames/s, median (min-max) |\n|---|---|')
    for name, values in rates.items():
        print(f'| {name} | {statistics.median(values):.2f} '
              f'({min(values):.2f}-{max(values):.2f}) |')
    ratio = statistics.median(rates['PoseWarperInferencer']) / \
        statistics.median(rates['single-frame (mmpose Pose2DInferencer)'])
    print(f'\nPoseWarper / single-frame frames per second: {ratio:.2f}')


if __name__ == '__main__':
    main()
