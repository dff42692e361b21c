"""PoseWarper multi-frame pose estimation on a video or a frame folder.

For every frame the supporting frames (offline: offsets -2..2 with weights
0.1 / 0.25 / 0.3 / 0.25 / 0.1; ``--online``: past frames only, weights
renormalised) are cropped with the key frame's person boxes, warped onto
the key frame and aggregated; persons keep a track id across frames.
Writes an annotated video and the per-frame predictions as a PoseTrack18
json under ``--output-root``, both only once complete. A command line over
:class:`~posewarper_mm.apis.PoseWarperInferencer` (see also
``demo/posewarper_inferencer_demo.py``, with mmpose's flags).

Examples::

    # whole frame as the person box
    python demo/posewarper_video_demo.py CONFIG CHECKPOINT \
        --input video.mp4 --output-root vis_results

    # boxes from an mmdet detector, online (causal) aggregation
    python demo/posewarper_video_demo.py CONFIG CHECKPOINT \
        --input frames_dir --output-root vis_results \
        --det-config DET_CONFIG --det-checkpoint DET_CHECKPOINT --online

    # boxes from a PoseTrack-style detection json
    python demo/posewarper_video_demo.py CONFIG CHECKPOINT \
        --input video.mp4 --output-root vis_results --bbox-json boxes.json
"""
import argparse
import os.path as osp
import sys
import time
from typing import Dict, Optional, Sequence

import torch

from posewarper_mm.apis import (ALLOW_SHORT_VIDEO_FLAG, PoseWarperInferencer,
                                open_frame_source)
from posewarper_mm.datasets.temporal_window import (DEFAULT_TEST_OFFSETS,
                                                    TemporalWindow)
from posewarper_mm.engine import ALLOW_PARTIAL_FLAG
from posewarper_mm.errors import run_command
from posewarper_mm.utils import prepare_output_dir, raise_on_sigterm

PROG = 'posewarper_video_demo'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='PoseWarper video pose estimation demo')
    parser.add_argument('config', help='PoseWarper config file')
    parser.add_argument(
        'checkpoint',
        help='PoseWarper checkpoint, or the .onnx file of --backend '
        'onnxruntime')
    parser.add_argument(
        '--backend', default='pytorch', choices=['pytorch', 'onnxruntime'],
        help='onnxruntime: the network of tools/deployment/pytorch2onnx.py '
        '(CPU); its keypoints agree with PyTorch\'s within a pixel')
    parser.add_argument(
        '--input', required=True, help='video file or folder of frames')
    parser.add_argument(
        '--output-root', required=True, help='folder for the outputs')
    parser.add_argument(
        '--name', help='output/video name (default: input name)')
    parser.add_argument(
        '--device',
        default='cuda:0' if torch.cuda.is_available() else 'cpu',
        help='torch device')
    boxes = parser.add_argument_group('person boxes (default: whole frame)')
    boxes.add_argument('--det-config', help='mmdet detector config')
    boxes.add_argument('--det-checkpoint', help='mmdet detector checkpoint')
    boxes.add_argument(
        '--bbox-json', help='PoseTrack-style detection json (xywh + score)')
    boxes.add_argument(
        '--det-cat-id', type=int, default=0, help='detector person class')
    boxes.add_argument(
        '--bbox-thr', type=float, default=0.3, help='box score threshold')
    boxes.add_argument(
        '--nms-thr', type=float, default=0.3, help='box NMS IoU threshold')
    frames = parser.add_argument_group('temporal aggregation')
    frames.add_argument(
        '--offsets',
        type=int,
        nargs='+',
        default=list(DEFAULT_TEST_OFFSETS),
        help='supporting-frame offsets (must include 0)')
    frames.add_argument(
        '--weights',
        type=float,
        nargs='+',
        help='one weight per offset (default: PoseWarper weights for '
        '-2..2, uniform otherwise)')
    frames.add_argument(
        '--online',
        action='store_true',
        help='use past frames only: drop offsets > 0, renormalise weights')
    vis = parser.add_argument_group('visualisation')
    vis.add_argument(
        '--no-video', action='store_true', help='do not write a video')
    vis.add_argument('--fps', type=float, help='output frame rate')
    vis.add_argument('--kpt-thr', type=float, default=0.3)
    vis.add_argument('--radius', type=int, default=3)
    vis.add_argument('--thickness', type=int, default=1)
    vis.add_argument('--alpha', type=float, default=0.8)
    vis.add_argument('--draw-bbox', action='store_true')
    vis.add_argument(
        '--skeleton-style', default='mmpose', choices=['mmpose', 'openpose'])
    parser.add_argument(
        '--tracking', default='iou', choices=['iou', 'oks', 'none'],
        help='track ids by box IoU, joint OKS, or none (index in the frame)')
    parser.add_argument(
        ALLOW_SHORT_VIDEO_FLAG, action='store_true',
        help='warn, not fail, when a video decodes fewer frames than its '
        'container announces')
    parser.add_argument(
        ALLOW_PARTIAL_FLAG,
        action='store_true',
        help='run even if the checkpoint leaves model weights unloaded '
        '(by default that is an error: another architecture or stage)')
    args = parser.parse_args(argv)
    if args.det_config and args.bbox_json:
        parser.error('give --det-config or --bbox-json, not both')
    try:
        window = TemporalWindow.with_default_weights(args.offsets)
    except ValueError as err:
        parser.error(f'--offsets: {err}')
    if args.weights is not None:
        try:
            window = TemporalWindow(window.offsets, args.weights)
        except ValueError as err:
            parser.error(f'--weights: {err}')
    if args.online:
        try:
            window = window.online()
        except ValueError as err:
            parser.error(f'--online: {err}')
    args.offsets, args.weights = list(window.offsets), list(window.weights)
    return args


def build_inferencer(args: argparse.Namespace) -> PoseWarperInferencer:
    """The inferencer of the command line (model, window, detector)."""
    inferencer = PoseWarperInferencer(
        args.config, args.checkpoint, args.device,
        det_model=args.det_config, det_weights=args.det_checkpoint,
        det_cat_ids=args.det_cat_id, backend=args.backend,
        window=TemporalWindow(args.offsets, args.weights),
        online=args.online, allow_partial=args.allow_partial_checkpoint)
    inferencer.visualizer.alpha = args.alpha
    return inferencer


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, object]:
    """Run the demo; returns the output paths and counts."""
    args = parse_args(argv)
    name = args.name or open_frame_source(args.input).name
    video_path = osp.join(args.output_root, f'{name}.mp4')
    json_path = osp.join(args.output_root, f'{name}.json')
    # outputs first: an unwritable location must not cost the inference
    prepare_output_dir(args.output_root, '--output-root')
    inferencer = build_inferencer(args)
    window = inferencer.window
    print(f'{args.input}: offsets {list(window.offsets)}, weights '
          f'{[round(w, 4) for w in window.weights]}')
    results = inferencer(
        args.input, video_name=name, bbox_json=args.bbox_json,
        bbox_thr=args.bbox_thr, nms_thr=args.nms_thr, kpt_thr=args.kpt_thr,
        radius=args.radius, thickness=args.thickness,
        draw_bbox=args.draw_bbox, skeleton_style=args.skeleton_style,
        vis_out_dir='' if args.no_video else video_path,
        posetrack_out=json_path, fps=args.fps,
        tracking=args.tracking,
        allow_short_video=args.allow_short_video)
    start = time.time()
    num_frames = num_persons = 0
    for result in results:
        num_frames += 1
        num_persons += len(result['predictions'][0])
    elapsed = time.time() - start
    print(f'{num_frames} frames, {num_persons} persons in {elapsed:.1f} s '
          f'({num_frames / max(elapsed, 1e-6):.2f} frames/s)')
    print(f'predictions: {json_path}')
    if not args.no_video:
        print(f'video: {video_path}')
    return dict(
        json=json_path,
        video=None if args.no_video else video_path,
        num_frames=num_frames,
        num_persons=num_persons)


def cli(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry: one-line errors for bad inputs and outputs;
    SIGTERM and Ctrl-C remove the unfinished outputs.

    Returns:
        int: The exit status (0, or 1 after printing the error).
    """
    raise_on_sigterm()
    return run_command(PROG, lambda: main(argv))


if __name__ == '__main__':
    sys.exit(cli())
