"""Draw what PoseWarper's warping does for one key frame and one person.

One PNG with a row per frame of the temporal window (by offset; the key
frame too, which the model also warps): its crop with its heatmaps (max
over joints), the learned offsets per dilation (the mean over kernel taps
and deformable groups, from each location to where the deformable conv
samples) and the heatmaps warped onto the key frame; a last row with the
key frame and the aggregate (the model's output without flip test) with
its decoded keypoints. Each piece is the model's own: test pipeline,
``frame_heatmaps``, the neck's ``compute_offsets`` and ``deform``, head
and codec. Example::

    python tools/analysis/visualize_warping.py \\
        configs/quickstart/posewarper_hrnet-tiny_synthetic.py \\
        work_dirs/quickstart/stage2/iter_450.pth \\
        data/quickstart/images/val/000097_mpii_val --key-frame 12 \\
        --gt-json data/quickstart/annotations/val/000097_mpii_val.json \\
        --track-id 1 --joint left_wrist --out warping.png
"""
import argparse
import os.path as osp
import sys
from collections import namedtuple
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dataset import pseudo_collate

from posewarper_mm.apis import (TemporalWindow, build_instance_data,
                                build_test_pipeline, image_to_input,
                                open_frame_source, pipeline_uses_udp)
from posewarper_mm.datasets.temporal_window import clamped_frame_numbers
from posewarper_mm.engine import init_inference_model
from posewarper_mm.errors import USER_ERRORS, InputFileError, run_command
from posewarper_mm.posetrack import load_json
from posewarper_mm.utils import prepare_output_file

QUIVER_STEP = 2  # heatmap pixels between drawn offset vectors


WarpingArrays = namedtuple('WarpingArrays', [
    'crops', 'frame_numbers', 'frame_offsets', 'weights', 'heatmaps',
    'offsets', 'warped', 'aggregate', 'keypoints', 'scores', 'dilations',
    'center', 'scale', 'input_size'])
WarpingArrays.__doc__ = """What the figure draws, T frames in window order
(key first): crops uint8 RGB (T, H, W, 3); frame_numbers, frame_offsets
int (T,); weights (T,); heatmaps, warped (T, K, h, w) before and after
warping; offsets (T, D, 2, h, w): mean (dy, dx) per dilation in heatmap
pixels; aggregate (K, h, w); keypoints (K, 2) in crop pixels, scores
(K,); dilations (D,); the crop's center, scale and input_size."""


def make_window(offsets: Optional[Sequence[int]],
                weights: Optional[Sequence[float]]) -> TemporalWindow:
    """The window of ``offsets`` (None: PoseWarper's test window) and
    ``weights`` (None: their default), key first."""
    if offsets is None and weights is not None:
        raise ValueError(f'frame weights {list(weights)} without offsets')
    if offsets is None:
        return TemporalWindow().key_first()
    return (TemporalWindow.with_default_weights(offsets) if weights is None
            else TemporalWindow(tuple(offsets), tuple(weights))).key_first()


def config_window(model) -> TemporalWindow:
    """The window of the model config's test dataset, key first."""
    dataset = model.cfg.test_dataloader.dataset
    return make_window(dataset.get('frame_offsets'),
                       dataset.get('frame_weights'))


@torch.no_grad()
def warping_arrays(model, frames: Sequence, key: int, bbox: np.ndarray,
                   window: Optional[TemporalWindow] = None) -> WarpingArrays:
    """Run the model's pieces on one person's crops of a clip.

    Args:
        model: A :class:`PoseWarperEstimator` in eval mode.
        frames (Sequence[np.ndarray | str]): The clip's BGR frames or
            their paths, in order.
        key (int): Index of the key frame in ``frames``.
        bbox (np.ndarray): xyxy box (4,) on the key frame.
        window (TemporalWindow, optional): Default: :func:`config_window`.
    """
    window = (window or config_window(model)).key_first()
    numbers = clamped_frame_numbers(key, window.offsets, len(frames))
    data = build_test_pipeline(model)(build_instance_data(
        [frames[n] for n in numbers], bbox, window.weights_array(),
        window.offsets_array(), 1.0, model.dataset_meta))
    crops = data['inputs'].numpy()[:, ::-1].transpose(0, 2, 3, 1)  # RGB
    batch = model.data_preprocessor(pseudo_collate([data]), False)
    inputs, sample = batch['inputs'], batch['data_samples'][0]
    neck = model.neck
    heatmaps = model.frame_heatmaps(inputs)[:, 0]  # (T, K, h, w)
    warped, offsets = [], []
    for frame in heatmaps:
        layers = neck.compute_offsets(heatmaps[:1] - frame[None])
        warped.append(neck.deform(frame[None], layers)[0])
        offsets.append(torch.stack([
            o[0].view(neck.deform_groups, -1, 2, *o.shape[2:]).mean((0, 1))
            for o in layers]))
    weights = torch.as_tensor(window.weights_array()).to(heatmaps.device)
    aggregate = model.head.forward((torch.stack(warped)[None], weights[None]))
    aggregate = aggregate[0].float().cpu().numpy()
    keypoints, scores = model.head.decoder.decode(aggregate)
    return WarpingArrays(
        np.ascontiguousarray(crops), np.asarray(numbers),
        window.offsets_array(), window.weights_array(),
        heatmaps.cpu().numpy(), torch.stack(offsets).cpu().numpy(),
        torch.stack(warped).cpu().numpy(), aggregate, keypoints[0],
        scores[0], tuple(neck.dilations), sample.metainfo['input_center'],
        sample.metainfo['input_scale'], tuple(sample.metainfo['input_size']))


def _overlay(ax, crop: np.ndarray, maps: Optional[np.ndarray], title: str):
    """The crop, dimmed under the heatmaps' max over joints (if given)."""
    height, width = crop.shape[:2]
    ax.imshow((crop * 0.7).astype(np.uint8))
    if maps is not None:
        ax.imshow(maps.max(0), cmap='inferno', alpha=0.55,
                  interpolation='bilinear',
                  extent=(-0.5, width - 0.5, height - 0.5, -0.5))
    ax.set_title(title, fontsize=7)
    ax.set_axis_off()


def draw(arrays: WarpingArrays, out: str, title: str = '',
         joint: Optional[int] = None,
         gt_point: Optional[np.ndarray] = None) -> List[str]:
    """Draw ``arrays`` into the PNG ``out``; ``joint`` (keypoint index)
    is ringed, ``gt_point`` (2,) in crop pixels marked. Returns the panel
    titles, row by row."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    a = arrays
    num_frames, num_dil = len(a.crops), len(a.dilations)
    height, width = a.crops.shape[1:3]
    map_h, map_w = a.heatmaps.shape[2:]
    sx, sy = width / map_w, height / map_h
    fig, axes = plt.subplots(num_frames + 1, num_dil + 2, squeeze=False,
                             figsize=(1.3 * (num_dil + 2),
                                      1.9 * (num_frames + 1)))
    titles = []
    ys, xs = np.mgrid[0:map_h:QUIVER_STEP, 0:map_w:QUIVER_STEP]
    for row, t in enumerate(np.argsort(a.frame_offsets, kind='stable')):
        name = f'frame {a.frame_numbers[t]} ({a.frame_offsets[t]:+d})'
        cells = [(f'{name}, w={a.weights[t]:.2f}', a.heatmaps[t])]
        cells += [(f'dilation {d}: max {np.hypot(*a.offsets[t, i]).max():.2f}'
                   ' px', None) for i, d in enumerate(a.dilations)]
        cells.append(('warped', a.warped[t]))
        for col, (text, maps) in enumerate(cells):
            ax = axes[row, col]
            titles.append(text)
            _overlay(ax, a.crops[t], maps, text)
            if maps is None:
                dy, dx = a.offsets[t, col - 1][:, ys, xs]
                ax.quiver((xs + 0.5) * sx - 0.5, (ys + 0.5) * sy - 0.5,
                          dx * sx, dy * sy, color='cyan', angles='xy',
                          scale_units='xy', scale=1, width=0.012)
    key = int(np.flatnonzero(a.frame_offsets == 0)[0])
    last = [('key frame', None), ('aggregate, decoded', a.aggregate)]
    for col, (text, maps) in enumerate(last):
        ax = axes[num_frames, col]
        titles.append(text)
        _overlay(ax, a.crops[key], maps, text)
        if gt_point is not None:
            ax.plot(*gt_point, 'x', color='lime', ms=7, mew=2)
    ax = axes[num_frames, 1]
    ax.scatter(*a.keypoints.T, s=6, c='white')
    if joint is not None:
        ax.scatter(*a.keypoints[joint], s=60, facecolors='none',
                   edgecolors='cyan', linewidths=1.5)
    for ax in axes[num_frames, 2:]:
        ax.set_axis_off()
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return titles


def gt_person(path: str, frame_name: str,
              track_id: int) -> Tuple[np.ndarray, np.ndarray]:
    """The xyxy box (4,) and keypoints (K, 3) of ``track_id`` on the image
    named ``frame_name`` of a PoseTrack per-video GT file."""
    data = load_json(path)
    ids = [img.get('id') for img in data.get('images', [])
           if osp.basename(str(img.get('file_name'))) == frame_name]
    for idx, ann in enumerate(data.get('annotations', [])):
        if ann.get('image_id') in ids and ann.get('track_id') == track_id:
            try:
                x, y, w, h = (float(v) for v in ann['bbox'])
                kpts = np.asarray(ann['keypoints'], float).reshape(-1, 3)
            except (KeyError, TypeError, ValueError):
                raise InputFileError(f'{path}: annotation #{idx}: needs '
                                     '"bbox" (4) and "keypoints"') from None
            return np.array([x, y, x + w, y + h]), kpts
    raise InputFileError(f'{path}: image {frame_name}: no annotation with '
                         f'"track_id" {track_id}')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add = parser.add_argument
    add('config', help='PoseWarper config')
    add('checkpoint', help='trained PoseWarper checkpoint')
    add('frames', help='folder of frames or video file')
    add('--key-frame', type=int, required=True, help='index in the clip')
    person = parser.add_mutually_exclusive_group(required=True)
    person.add_argument('--bbox', type=float, nargs=4, metavar='XYWH',
                        help='person box on the key frame: x y w h')
    person.add_argument('--gt-json', help='PoseTrack per-video GT file')
    add('--track-id', type=int, default=0, help='person of --gt-json')
    add('--joint', help='keypoint name to ring (and mark in the GT)')
    add('--offsets', type=int, nargs='+', help='window offsets (default: '
        "the config's test window)")
    add('--weights', type=float, nargs='+', help='weights of --offsets')
    add('--out', required=True, help='output PNG')
    add('--device', default='cuda:0' if torch.cuda.is_available() else 'cpu')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> List[str]:
    """Draw the figure of the command line; returns the panel titles."""
    args = parse_args(argv)
    prepare_output_file(args.out, '--out')
    source = open_frame_source(args.frames)
    frames = list(getattr(source, 'files', None) or source)
    if not 0 <= args.key_frame < len(frames):
        raise SystemExit(f'visualize_warping: error: --key-frame '
                         f'{args.key_frame} is not in the {len(frames)} '
                         f'frames of {args.frames}')
    gt_kpts = None
    if args.gt_json:
        box, gt_kpts = gt_person(args.gt_json,
                                 source.frame_name(args.key_frame),
                                 args.track_id)
    else:
        x, y, w, h = args.bbox
        box = np.array([x, y, x + w, y + h])
    window = make_window(args.offsets, args.weights) \
        if args.offsets or args.weights else None
    model = init_inference_model(args.config, args.checkpoint, args.device)
    names = list(model.dataset_meta['keypoint_id2name'].values())
    if args.joint is not None and args.joint not in names:
        raise SystemExit(f'visualize_warping: error: --joint {args.joint} '
                         f'is not one of {names}')
    joint = names.index(args.joint) if args.joint else None
    arrays = warping_arrays(model, frames, args.key_frame, box, window)
    gt_point = None
    if joint is not None and gt_kpts is not None and gt_kpts[joint, 2] > 0:
        gt_point = image_to_input(
            gt_kpts[joint, :2], arrays.center, arrays.scale,
            arrays.input_size, pipeline_uses_udp(build_test_pipeline(model)))
    title = (f'{source.name}, frame {args.key_frame}'
             f'{f", {args.joint}" if args.joint else ""}; arrows: from each '
             'location to where the warp samples'
             f'{"; x: ground truth" if gt_point is not None else ""}')
    titles = draw(arrays, args.out, title, joint, gt_point)
    print(f'{len(titles)} panels -> {args.out}')
    return titles


def cli(argv: Optional[Sequence[str]] = None) -> int:
    """Run :func:`main`; print a bad input as one line and return 1."""
    return run_command('visualize_warping', lambda: main(argv),
                       USER_ERRORS + (ValueError, ))


if __name__ == '__main__':
    sys.exit(cli())
