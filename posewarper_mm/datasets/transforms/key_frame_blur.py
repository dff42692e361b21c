"""Motion blur on the key frame of a multi-frame crop."""
from typing import Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS


def motion_blur(img: np.ndarray, length: int,
                angle_deg: float) -> np.ndarray:
    """Blur along a line: the camera or the scene moved during exposure.

    Also the generator's blur (``posewarper_mm.datasets.synthetic``).

    Args:
        img (np.ndarray): Image (H, W, 3) or (H, W).
        length (int): Line kernel length in pixels (made odd, at least 3).
        angle_deg (float): Line direction in degrees.

    Returns:
        np.ndarray: The blurred image, same shape and dtype.
    """
    length = max(3, int(length) | 1)
    kernel = np.zeros((length, length), dtype=np.float32)
    c = length // 2
    dx = np.cos(np.deg2rad(angle_deg)) * c
    dy = np.sin(np.deg2rad(angle_deg)) * c
    cv2.line(kernel, (int(round(c - dx)), int(round(c - dy))),
             (int(round(c + dx)), int(round(c + dy))), 1.0, 1)
    kernel /= kernel.sum()
    return cv2.filter2D(img, -1, kernel)


@TRANSFORMS.register_module()
class RandomKeyFrameBlur(BaseTransform):
    """Blur the key frame, and only the key frame, along a random line.

    A training augmentation for the temporal model, the blurred
    counterpart of ``RandomKeyFrameOcclusion``: the key frame's labels stay
    where they are, so the warping neck must find its offsets from a
    blurred key frame and a sharp supporting frame, as on a frame that a
    camera shake blurred on its own. Place it after ``TopdownAffine`` (it
    works on the crops) and before ``GenerateTarget``.

    Required keys: ``img`` (list of T crops (H, W, 3), key frame first).
    Modified keys: ``img`` (the key frame only).

    Args:
        prob (float): Chance that a sample's key frame is blurred.
        length_range (tuple[float, float]): Blur length range, as fractions
            of the crop's width (the line kernel has at least 3 pixels).
    """

    def __init__(self,
                 prob: float = 0.5,
                 length_range: Tuple[float, float] = (0.15, 0.3)) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        lo, hi = length_range
        if not 0.0 < lo <= hi <= 1.0:
            raise ValueError(
                f'length_range must satisfy 0 < low <= high <= 1, got '
                f'{tuple(length_range)}')
        self.prob = float(prob)
        self.length_range = (float(lo), float(hi))

    def transform(self, results: dict) -> dict:
        """Blur ``results['img'][0]``."""
        frames = results['img']
        if not isinstance(frames, list):
            raise TypeError(
                f'{type(self).__name__} needs the frames as a list (key '
                f'frame first, from LoadVideoFrames), got '
                f'{type(frames).__name__}')
        if np.random.rand() >= self.prob:
            return results
        key = frames[0]
        length = np.random.uniform(*self.length_range) * key.shape[1]
        frames[0] = motion_blur(key, int(round(length)),
                                np.random.uniform(0.0, 180.0))
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, '
                f'length_range={self.length_range})')
