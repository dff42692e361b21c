"""PoseWarper multi-frame pose estimation on a video or a frame folder.

For every frame the supporting frames (offline: offsets -2..2 with weights
0.1 / 0.25 / 0.3 / 0.25 / 0.1; ``--online``: past frames only, weights
renormalised) are cropped with the key frame's person boxes, warped onto
the key frame and aggregated. Writes an annotated video and the per-frame
predictions as a PoseTrack18 json.

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
import os
import os.path as osp
import sys
import time
from typing import Dict, Optional, Sequence

import cv2
import mmcv
import torch
from mmengine.utils import ProgressBar
from mmpose.registry import VISUALIZERS
from mmpose.structures import merge_data_samples

from posewarper_mm.apis import (DetectionJsonBoxes, DetectorBoxes,
                                FrameWindowStream, PoseTrackVideoResults,
                                WholeFrameBoxes, build_test_pipeline,
                                inference_posewarper, instances_to_persons,
                                open_frame_source, posetrack_image_id)
from posewarper_mm.apis.deployment import init_onnx_model
from posewarper_mm.datasets.temporal_window import (DEFAULT_TEST_OFFSETS,
                                                    TemporalWindow)
from posewarper_mm.engine import ALLOW_PARTIAL_FLAG, init_inference_model
from posewarper_mm.errors import (ConfigError, InputFileError,
                                  OutputLocationError)
from posewarper_mm.utils import prepare_output_dir, prepare_output_file

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


def build_boxes(args: argparse.Namespace, source, name: str):
    """The person-box provider chosen on the command line."""
    if args.det_config:
        return DetectorBoxes(args.det_config, args.det_checkpoint, args.device,
                             args.det_cat_id, args.bbox_thr, args.nms_thr)
    if args.bbox_json:
        files = getattr(source, 'files', None)
        names = [osp.basename(f) for f in files] if files else None
        ids = [posetrack_image_id(name, i)
               for i in range(len(files))] if files else None
        return DetectionJsonBoxes(args.bbox_json, args.bbox_thr, names, ids)
    return WholeFrameBoxes()


def build_visualizer(model, args: argparse.Namespace):
    """mmpose's visualizer of the model config, with the demo settings."""
    cfg = model.cfg.visualizer
    cfg.radius = args.radius
    cfg.alpha = args.alpha
    cfg.line_width = args.thickness
    visualizer = VISUALIZERS.build(cfg)
    visualizer.set_dataset_meta(
        model.dataset_meta, skeleton_style=args.skeleton_style)
    return visualizer


def draw_frame(visualizer, frame, samples, args: argparse.Namespace):
    """Annotated BGR frame (the frame itself when there is no person)."""
    if not samples:
        return frame
    visualizer.add_datasample(
        'result',
        mmcv.bgr2rgb(frame),
        data_sample=merge_data_samples(samples),
        draw_gt=False,
        draw_heatmap=False,
        draw_bbox=args.draw_bbox,
        skeleton_style=args.skeleton_style,
        show=False,
        kpt_thr=args.kpt_thr)
    return mmcv.rgb2bgr(visualizer.get_image())


def open_video_writer(path: str, fps: float, size) -> cv2.VideoWriter:
    """An mp4 writer for frames of ``size`` (w, h); an error if it fails.

    Raises:
        OutputLocationError: If OpenCV cannot open the file for writing (no
            mp4 encoder, unwritable location).
    """
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (int(size[0]), int(size[1])))
    if not writer.isOpened():
        raise OutputLocationError(
            f'{path}: OpenCV cannot write an mp4v video here (no encoder in '
            'this OpenCV build, or the location is not writable); use '
            '--no-video to write the predictions only')
    return writer


def close_video_writer(writer: cv2.VideoWriter, path: str) -> None:
    """Release ``writer`` and check that the video file was written."""
    writer.release()
    if not osp.isfile(path) or osp.getsize(path) == 0:
        raise OutputLocationError(
            f'{path}: the video file is missing or empty after writing')


def _run(args: argparse.Namespace, source, name: str, writer, json_path: str):
    """Inference over all frames; writes the json (and video frames)."""
    boxes = build_boxes(args, source, name)
    if args.backend == 'onnxruntime':
        model = init_onnx_model(args.config, args.checkpoint)
    else:
        model = init_inference_model(
            args.config,
            args.checkpoint,
            device=args.device,
            allow_partial=args.allow_partial_checkpoint)
    pipeline = build_test_pipeline(model)
    visualizer = None if args.no_video else build_visualizer(model, args)
    windows = FrameWindowStream(source,
                                TemporalWindow(args.offsets, args.weights))
    results = PoseTrackVideoResults(name)
    num_persons = 0
    print(f"{source}: offsets {windows.offsets.tolist()}, weights "
          f'{[round(float(w), 4) for w in windows.weights]}')
    progress = ProgressBar(source.num_frames or 0)
    start = time.time()
    for window in windows:
        dets = boxes(window.index, window.key_frame)
        samples = inference_posewarper(
            model,
            window.frames,
            dets[:, :4],
            window.weights,
            window.offsets,
            dets[:, 4],
            pipeline=pipeline)
        persons = instances_to_persons(samples)
        num_persons += len(persons)
        results.add_frame(window.index, source.frame_name(window.index),
                          persons)
        if visualizer is not None:
            vis = draw_frame(visualizer, window.key_frame, samples, args)
            if (vis.shape[1], vis.shape[0]) != tuple(source.frame_size):
                vis = cv2.resize(vis, tuple(source.frame_size))
            writer.write(vis)
        progress.update()
    results.dump(json_path)
    return results, num_persons, time.time() - start


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, object]:
    """Run the demo; returns the output paths and counts."""
    args = parse_args(argv)
    source = open_frame_source(args.input)
    name = args.name or source.name
    video_path = osp.join(args.output_root, f'{name}.mp4')
    json_path = osp.join(args.output_root, f'{name}.json')
    # outputs first: an unwritable location must not cost the inference
    prepare_output_dir(args.output_root, '--output-root')
    prepare_output_file(json_path, 'predictions')
    writer = None
    if not args.no_video:
        prepare_output_file(video_path, 'video')
        writer = open_video_writer(video_path, args.fps or source.fps,
                                   source.frame_size)
    try:
        results, num_persons, elapsed = _run(args, source, name, writer,
                                             json_path)
    except BaseException:
        if writer is not None:  # no half-written video is left behind
            writer.release()
            if osp.isfile(video_path):
                os.remove(video_path)
        raise
    if writer is not None:
        close_video_writer(writer, video_path)
    num_frames = len(results.images)
    print(f'\n{num_frames} frames, {num_persons} persons in {elapsed:.1f} s '
          f'({num_frames / max(elapsed, 1e-6):.2f} frames/s)')
    print(f'predictions: {json_path}')
    if writer is not None:
        print(f'video: {video_path}')
    return dict(
        json=json_path,
        video=None if writer is None else video_path,
        num_frames=num_frames,
        num_persons=num_persons)


def cli(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry: one-line errors for bad inputs and outputs.

    Returns:
        int: The exit status (0, or 1 after printing the error).
    """
    try:
        main(argv)
    except (FileNotFoundError, InputFileError, ConfigError,
            OutputLocationError) as error:
        print(f'{PROG}: error: {error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(cli())
