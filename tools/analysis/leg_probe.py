"""Does a single-frame model tell the left leg from the right?

The generated figures wear the same colours on both sides; which leg is
the left one follows from the way a figure faces. A model that has not
learned that puts both knee (and both ankle) maps on whichever leg looks
likelier, and its knee and ankle AP stays low whatever else it learns.
This probe renders figures walking sideways in mid-stride (the legs
apart, facing left or right, seen from the near or the far side), runs a
single-frame model (stage 1) on the crops and counts, per figure and leg
joint pair (knees, ankles), whether the left map is higher at the left
joint than at the right one and the right map at the right joint: the
share of pairs where both maps pick their own leg.

Example::

    python tools/analysis/leg_probe.py \\
        configs/quickstart/posewarper-stage1_hrnet-tiny_synthetic.py \\
        work_dirs/quickstart/stage1/iter_1900.pth

Prints the share in percent and the number of pairs scored.
"""
import argparse
import sys
from typing import List, Optional, Tuple

import numpy as np
import torch

from posewarper_mm.datasets.synthetic import renderer
from posewarper_mm.datasets.synthetic import skeleton as sk

# (left, right) keypoint indices of the leg joints the probe scores
LEG_PAIRS = ((sk.L_KNEE, sk.R_KNEE), (sk.L_ANKLE, sk.R_ANKLE))


def render_probe_figures(num: int, width: int, height: int,
                         seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """Figures walking sideways in mid-stride, one per crop.

    Args:
        num (int): Number of crops.
        width (int): Crop width (the model's input width).
        height (int): Crop height.
        seed (int): Random seed of shapes, clothes, backgrounds and poses.

    Returns:
        tuple[np.ndarray, np.ndarray]: BGR crops (num, height, width, 3)
        uint8 and their keypoints (num, 17, 2) in crop pixels.
    """
    rng = np.random.default_rng(seed)
    crops = np.zeros((num, height, width, 3), dtype=np.uint8)
    keypoints = np.zeros((num, len(sk.KEYPOINT_NAMES), 2))
    for i in range(num):
        shape = sk.BodyShape.sample(rng)
        clothes = renderer.Appearance.sample(rng)
        # facing left or right, near or far leg forward
        yaw = rng.choice([1, -1]) * np.pi / 2 + rng.normal(0, 0.2)
        phase = np.pi / 2 + rng.normal(0, 0.3) + rng.choice([0, np.pi])
        crops[i] = rng.integers(60, 200, 3)
        figure_px = 0.75 * height
        kpts, depth = sk.pose_keypoints(shape, phase, yaw, 0.0, 1.0,
                                        figure_px,
                                        (width / 2, 0.54 * height))
        renderer.draw_person(crops[i], kpts, depth, clothes, figure_px)
        keypoints[i] = kpts
    return crops, keypoints


def leg_split_hits(heatmaps: np.ndarray, keypoints: np.ndarray,
                   stride: float) -> List[bool]:
    """Per figure and leg pair, whether both maps pick their own leg.

    Args:
        heatmaps (np.ndarray): (N, 17, h, w) model output.
        keypoints (np.ndarray): (N, 17, 2) keypoints in crop pixels.
        stride (float): Crop pixels per heatmap cell.

    Returns:
        list[bool]: One entry per figure and pair in :data:`LEG_PAIRS`;
        pairs whose two joints fall in the same heatmap cell are skipped.
    """
    height, width = heatmaps.shape[-2:]
    cells = np.clip(
        np.round(keypoints / stride).astype(int), 0, [width - 1, height - 1])
    hits = []
    for maps, cell in zip(heatmaps, cells):
        for left, right in LEG_PAIRS:
            (lx, ly), (rx, ry) = cell[left], cell[right]
            if (lx, ly) == (rx, ry):
                continue
            hits.append(
                bool(maps[left, ly, lx] > maps[left, ry, rx]
                     and maps[right, ry, rx] > maps[right, ly, lx]))
    return hits


@torch.no_grad()
def model_heatmaps(model: torch.nn.Module, crops: np.ndarray,
                   batch_size: int = 50) -> np.ndarray:
    """Heatmaps of a top-down single-frame model for BGR crops.

    The model's data preprocessor normalises (and converts to RGB) as in
    testing; flip test is not applied.

    Returns:
        np.ndarray: (N, K, h, w).
    """
    out = []
    for start in range(0, len(crops), batch_size):
        inputs = [
            torch.from_numpy(crop).permute(2, 0, 1).contiguous()
            for crop in crops[start:start + batch_size]
        ]
        data = model.data_preprocessor(dict(inputs=inputs), training=False)
        feats = model.extract_feat(data['inputs'])
        out.append(model.head.forward(feats).cpu().numpy())
    return np.concatenate(out)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='single-frame (stage-1) config')
    parser.add_argument('checkpoint')
    parser.add_argument('--num', type=int, default=100,
                        help='figures to render')
    parser.add_argument('--seed', type=int, default=5)
    args = parser.parse_args(argv)
    if args.num < 1:
        parser.error(f'--num must be >= 1, got {args.num}')
    return args


def main(argv: Optional[List[str]] = None) -> float:
    """Print and return the share (percent) of pairs split right."""
    args = parse_args(argv)
    from mmengine.config import Config
    from mmpose.apis import init_model

    import posewarper_mm  # noqa: F401
    cfg = Config.fromfile(args.config)
    if cfg.model.get('type') != 'TopdownPoseEstimator':
        sys.exit(f'{args.config}: the probe needs a single-frame '
                 f'TopdownPoseEstimator config, got {cfg.model.get("type")}')
    width, height = cfg.codec['input_size']
    stride = width / cfg.codec['heatmap_size'][0]
    model = init_model(cfg, args.checkpoint, device='cpu')
    crops, keypoints = render_probe_figures(args.num, width, height,
                                            args.seed)
    hits = leg_split_hits(model_heatmaps(model, crops), keypoints, stride)
    if not hits:
        sys.exit('no leg pair was scored: every pair fell in one cell')
    share = 100.0 * float(np.mean(hits))
    print(f'both leg maps on their own leg: {share:.1f}% of {len(hits)} '
          'knee and ankle pairs')
    return share


if __name__ == '__main__':
    main()
