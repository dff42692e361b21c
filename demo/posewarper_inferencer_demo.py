"""PoseWarper on a video, a folder of frames or a webcam, with the flags of
mmpose's ``demo/inferencer_demo.py`` (:class:`PoseWarperInferencer`).

Every key frame is estimated from its temporal window (the config's test
window; ``--online``: past frames only), person boxes come from
``--bbox-json``, an mmdet ``--det-model`` or the whole frame, and persons
keep their track id across frames. Outputs (``--vis-out-dir``,
``--pred-out-dir``, ``--posetrack-out``) appear only when complete.

Examples::

    python demo/posewarper_inferencer_demo.py video.mp4 \
        --pose2d CONFIG --pose2d-weights CKPT --vis-out-dir out \
        --pred-out-dir out/predictions --posetrack-out out/posetrack

    # boxes from a detector, online, OKS tracking, the exported model
    python demo/posewarper_inferencer_demo.py frames_dir --pose2d CONFIG \
        --pose2d-weights model.onnx --backend onnxruntime \
        --det-model DET_CONFIG --det-weights DET_CKPT --online \
        --tracking oks --vis-out-dir out
"""
import sys
import time
from argparse import ArgumentParser
from typing import Dict, Optional, Sequence, Tuple

from posewarper_mm.apis import ALLOW_SHORT_VIDEO_FLAG, PoseWarperInferencer
from posewarper_mm.engine import ALLOW_PARTIAL_FLAG
from posewarper_mm.errors import run_command
from posewarper_mm.utils import raise_on_sigterm

PROG = 'posewarper_inferencer_demo'
INIT_ARGS = ('pose2d', 'pose2d_weights', 'device', 'scope', 'det_model',
             'det_weights', 'det_cat_ids', 'show_progress', 'backend',
             'online', 'allow_partial_checkpoint')


def _flag(value: str) -> bool:
    return value.lower() in ('true', 'yes', 't', 'y', '1')


def parse_args(argv: Optional[Sequence[str]] = None) -> Tuple[dict, dict]:
    """The inferencer's init and call arguments of the command line."""
    parser = ArgumentParser(
        description='PoseWarper on a video, a folder of frames or a webcam, '
        "with the flags of mmpose's demo/inferencer_demo.py")
    add = parser.add_argument
    add('inputs', help="video file, folder of frames or 'webcam:<id>'")
    add('--pose2d', required=True, help='PoseWarper config file')
    add('--pose2d-weights', help='checkpoint, or the .onnx file of '
        '--backend onnxruntime')
    add('--det-model', help='mmdet config (default: whole-frame boxes)')
    add('--det-weights', help='mmdet checkpoint')
    add('--det-cat-ids', type=int, nargs='+', default=[0],
        help='detector person classes')
    add('--scope', default='mmpose', help='registry scope')
    add('--device', help='torch device (default: the available one)')
    add('--show-progress', action='store_true', help='a progress bar')
    add('--show', action='store_true', help='show the frames in a window')
    add('--draw-bbox', action='store_true', help='draw the person boxes')
    add('--bbox-thr', type=float, default=0.3, help='box score threshold')
    add('--nms-thr', type=float, default=0.3, help='detector box NMS IoU')
    add('--pose-based-nms', type=_flag, default=False,
        help='drop persons whose joints overlap another\'s (true/false)')
    add('--kpt-thr', type=float, default=0.3, help='joints drawn above it')
    add('--tracking-thr', type=float, default=0.3,
        help='least IoU / OKS of a track match')
    add('--use-oks-tracking', action='store_true',
        help='as mmpose: same as --tracking oks')
    add('--radius', type=int, default=3, help='keypoint radius')
    add('--thickness', type=int, default=1, help='link thickness')
    add('--skeleton-style', default='mmpose', choices=['mmpose', 'openpose'])
    add('--black-background', action='store_true',
        help='draw on a black frame')
    add('--vis-out-dir', default='', help='folder (or .mp4) of the video')
    add('--pred-out-dir', default='',
        help="folder of mmpose's prediction json (<video>.json)")
    ours = parser.add_argument_group('PoseWarper')
    ours.add_argument('--online', action='store_true',
                      help='past frames only (no frame after the key)')
    ours.add_argument('--bbox-json',
                      help='PoseTrack-style detections; the records of '
                      'this video apply (by its number or folder name)')
    ours.add_argument('--backend', default='pytorch',
                      choices=['pytorch', 'onnxruntime'])
    ours.add_argument('--tracking', default='iou',
                      choices=['iou', 'oks', 'none'],
                      help='track ids by box IoU, joint OKS, or none (the '
                      'index in the frame)')
    ours.add_argument('--posetrack-out',
                      help='PoseTrack18 result file, or its folder')
    ours.add_argument('--name', help='video name (default: input name)')
    ours.add_argument('--fps', type=float, help='frame rate of the video')
    ours.add_argument(ALLOW_SHORT_VIDEO_FLAG, action='store_true',
                      help='warn, not fail, when a video decodes fewer '
                      'frames than its container announces')
    ours.add_argument(ALLOW_PARTIAL_FLAG, action='store_true',
                      help='run even if the checkpoint leaves weights '
                      'unloaded')
    args = vars(parser.parse_args(argv))
    if args['det_model'] and args['bbox_json']:
        parser.error('give --det-model or --bbox-json, not both')
    init = {key: args.pop(key) for key in INIT_ARGS}
    if args.pop('use_oks_tracking'):
        args['tracking'] = 'oks'
    args['video_name'] = args.pop('name')
    return init, args


def build_inferencer(init: dict) -> PoseWarperInferencer:
    """The inferencer of the init arguments of :func:`parse_args`."""
    return PoseWarperInferencer(
        init['pose2d'], init['pose2d_weights'], init['device'],
        init['scope'], init['det_model'], init['det_weights'],
        tuple(init['det_cat_ids']), init['show_progress'],
        backend=init['backend'], online=init['online'],
        allow_partial=init['allow_partial_checkpoint'])


def run(inferencer: PoseWarperInferencer, call: dict) -> Dict[str, object]:
    """Run on one input; prints and returns the frame and person counts."""
    start = time.time()
    num_frames = num_persons = 0
    for result in inferencer(**call):
        num_frames += 1
        num_persons += len(result['predictions'][0])
    elapsed = time.time() - start
    print(f'{num_frames} frames, {num_persons} persons in {elapsed:.1f} s '
          f'({num_frames / max(elapsed, 1e-6):.2f} frames/s)')
    return dict(num_frames=num_frames, num_persons=num_persons,
                seconds=elapsed)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, object]:
    """Parse, build and run; returns the counts."""
    init, call = parse_args(argv)
    return run(build_inferencer(init), call)


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
