"""Synthetic occluders pasted on the key frame of a multi-frame crop."""
from typing import Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomKeyFrameOcclusion(BaseTransform):
    """Cover joints of the key frame, and only it, with bars of a random
    size, colour and noise centred on labeled joints: a covered joint must
    be found in the supporting frames. Place it after ``TopdownAffine``.

    Required keys: ``img`` (list of T crops (H, W, 3), key first),
    ``transformed_keypoints`` (N, K, 2), ``keypoints_visible`` (N, K) or
    (N, K, 2). Modified keys: ``img`` (the key frame only).

    Args:
        prob (float): Chance that a sample's key frame gets 1 to
            ``max_bars`` bars.
        size_range (tuple[float, float]): Bar size range, as fractions of
            the crop's size.
    """

    def __init__(self, prob: float = 0.5, max_bars: int = 2,
                 size_range: Tuple[float, float] = (0.1, 0.3)) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        if int(max_bars) < 1:
            raise ValueError(f'max_bars must be >= 1, got {max_bars}')
        lo, hi = size_range
        if not 0.0 < lo <= hi <= 1.0:
            raise ValueError('size_range must satisfy 0 < low <= high <= 1, '
                             f'got {tuple(size_range)}')
        self.prob = float(prob)
        self.max_bars = int(max_bars)
        self.size_range = (float(lo), float(hi))

    def transform(self, results: dict) -> dict:
        """Paste the bars on ``results['img'][0]``."""
        frames = results['img']
        if not isinstance(frames, list):
            raise TypeError(f'{type(self).__name__} needs the frames as a '
                            'list (key frame first, from LoadVideoFrames), '
                            f'got {type(frames).__name__}')
        if np.random.rand() >= self.prob:
            return results
        joints = np.asarray(results['transformed_keypoints'])[..., :2]
        visible = np.asarray(results['keypoints_visible'])
        if visible.ndim == joints.ndim:
            # (N, K, 2): mmpose's visibility and weight; take the visibility
            visible = visible[..., 0]
        labeled = (visible > 0).reshape(joints.shape[:-1])
        centres = joints[labeled]
        if len(centres) == 0:
            return results
        key = frames[0].copy()
        height, width = key.shape[:2]
        for _ in range(np.random.randint(1, self.max_bars + 1)):
            cx, cy = centres[np.random.randint(len(centres))]
            bar_w = np.random.uniform(*self.size_range) * width
            bar_h = np.random.uniform(*self.size_range) * height
            x0, x1 = _span(cx, bar_w, width)
            y0, y1 = _span(cy, bar_h, height)
            if x1 <= x0 or y1 <= y0:
                continue
            colour = np.random.randint(0, 256, 3)
            noise = np.random.randint(-20, 21, (y1 - y0, x1 - x0, 3))
            key[y0:y1, x0:x1] = np.clip(colour + noise, 0,
                                        255).astype(key.dtype)
        frames[0] = key
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, '
                f'max_bars={self.max_bars}, size_range={self.size_range})')


def _span(centre: float, size: float, limit: int) -> Tuple[int, int]:
    """Integer pixel range of length ``size`` around ``centre``, clipped."""
    return (max(0, int(round(centre - size / 2))),
            min(limit, int(round(centre + size / 2))))
