"""Save images of dataset samples: key frame and supporting frames.

Example::

    python tools/browse_dataset.py CONFIG --output-dir vis --phase train \
        --max-samples 20

Each image shows the frames of one sample side by side (key frame first,
labeled with offset and weight) with the key frame's keypoints, skeleton
and box on every frame, after the pipeline without packing (``--mode
transformed``) or after loading (``--mode original``).
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional, Sequence

import cv2
import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS
from mmpose.structures.bbox import get_warp_matrix

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from posewarper_mm.errors import OutputLocationError, run_command  # noqa
from posewarper_mm.utils import prepare_output_dir  # noqa: E402

LOADING_TYPES = ('LoadVideoFrames', 'LoadImage')
PACKING_TYPES = ('PackVideoPoseInputs', 'PackPoseInputs')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Browse a dataset')
    add = parser.add_argument
    add('config', help='config file path')
    add('--output-dir', required=True, help='folder for the images')
    add('--phase', default='train', choices=['train', 'val', 'test'],
        help='which dataloader of the config to browse')
    add('--mode', default='transformed', choices=['transformed', 'original'],
        help='draw after the whole pipeline (without packing) or on the '
        'loaded frames')
    add('--max-samples', type=int, default=20, help='number of samples')
    add('--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. key=value')
    return parser.parse_args(argv)


def _type_name(t) -> str:
    if isinstance(t, dict):
        t = t.get('type', '')
    return t if isinstance(t, str) else getattr(t, '__name__', '')


def browse_pipeline(pipeline: List, mode: str) -> List:
    """``pipeline`` without packing (in ``original`` mode, only up to the
    loading transform)."""
    out = []
    for t in pipeline:
        name = _type_name(t)
        if name in PACKING_TYPES:
            continue
        out.append(t)
        if mode == 'original' and name in LOADING_TYPES:
            break
    return out


def _warp_points(points: np.ndarray, results: dict) -> np.ndarray:
    """Map image points into the cropped input like TopdownAffine."""
    w, h = results['input_size']
    rot = float(np.asarray(results.get('bbox_rotation', [0.0])).ravel()[0])
    mat = get_warp_matrix(
        np.asarray(results['input_center'], dtype=np.float32).ravel(),
        np.asarray(results['input_scale'], dtype=np.float32).ravel(), rot,
        output_size=(w, h))
    return points @ mat[:, :2].T + mat[:, 2]


def draw_sample(results: dict, metainfo: dict) -> np.ndarray:
    """The frames of ``results`` side by side with keypoints, skeleton and
    box: a BGR image (H + 16, T * W + 4 * (T - 1), 3)."""
    frames = results['img']
    if isinstance(frames, np.ndarray):
        frames = [frames]
    transformed = 'input_center' in results
    key = 'transformed_keypoints' if transformed else 'keypoints'
    kpts = results.get(key, results['keypoints'])[0]
    visible = results['keypoints_visible'][0] > 0
    if not np.any(results['keypoints']):
        visible[:] = False  # detection boxes carry dummy keypoints
    box = np.asarray(results['bbox'][0], dtype=np.float64)
    corners = np.array([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]],
                        [box[0], box[3]]])
    if transformed:
        corners = _warp_points(corners, results)
    links = metainfo.get('skeleton_links', [])
    link_colors = metainfo.get('skeleton_link_colors')
    kpt_colors = metainfo.get('keypoint_colors')
    offsets = results.get('frame_offsets', np.zeros(len(frames)))
    weights = results.get('frame_weights', np.ones(len(frames)))
    tiles = []
    for t, frame in enumerate(frames):
        img = np.ascontiguousarray(frame.astype(np.uint8))
        radius = max(1, min(img.shape[:2]) // 80)
        for i, (a, b) in enumerate(links):
            if visible[a] and visible[b]:
                cv2.line(img, tuple(int(v) for v in kpts[a]),
                         tuple(int(v) for v in kpts[b]),
                         _color(link_colors, i, (0, 255, 0)), 1, cv2.LINE_AA)
        for k, (x, y) in enumerate(kpts):
            if visible[k]:
                cv2.circle(img, (int(x), int(y)), radius,
                           _color(kpt_colors, k, (0, 0, 255)), -1)
        cv2.polylines(img, [np.round(corners).astype(np.int32)], True,
                      (255, 255, 0), 1)
        bar = np.zeros((16, img.shape[1], 3), dtype=np.uint8)
        label = ('key' if t == 0 else f'{int(offsets[t]):+d}') + \
            f' w={float(weights[t]):.2f}'
        cv2.putText(bar, label, (2, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                    (255, 255, 255), 1)
        tiles.append(np.concatenate([bar, img], axis=0))
        if t + 1 < len(frames):
            tiles.append(np.full((tiles[-1].shape[0], 4, 3), 128, np.uint8))
    return np.concatenate(tiles, axis=1)


def _color(colors, k: int, default: tuple) -> tuple:
    """Entry ``k`` (cyclic) of the metainfo's ``colors``, or ``default``."""
    if colors is None:
        return default
    colors = np.asarray(colors)
    return tuple(int(c) for c in colors[k % len(colors)])


def main(argv: Optional[Sequence[str]] = None) -> List[str]:
    """Write the images; return their paths."""
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    loader = cfg.get(f'{args.phase}_dataloader')
    if loader is None:
        raise KeyError(f'{args.config} has no {args.phase}_dataloader')
    dataset_cfg = loader['dataset'].copy()
    dataset_cfg['pipeline'] = browse_pipeline(
        list(dataset_cfg.get('pipeline', [])), args.mode)
    prepare_output_dir(args.output_dir, '--output-dir')
    dataset = DATASETS.build(dataset_cfg)
    written = []
    for idx in range(min(args.max_samples, len(dataset))):
        results = dataset[idx]
        vis = draw_sample(results, dataset.metainfo)
        name = f'{idx:05d}_img{results.get("img_id", "")}_' \
            f'id{results.get("id", "")}.jpg'
        path = osp.join(args.output_dir, name)
        if not cv2.imwrite(path, vis):
            raise OutputLocationError(f'{path}: OpenCV could not write it')
        written.append(path)
    print(f'wrote {len(written)} images to {args.output_dir}')
    return written


def cli(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry: one-line errors for bad inputs and outputs."""
    return run_command('browse_dataset', lambda: main(argv))


if __name__ == '__main__':
    sys.exit(cli())
