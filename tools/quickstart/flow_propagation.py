"""Pose propagation along dense optical flow, PoseWarper's baseline.

The poses of the nearest labeled frame move to each unlabeled frame frame
by frame: each keypoint by OpenCV's DIS flow sampled (bilinear) at its
position. The target frames, source persons and scores are those of
``posewarper_mm.apis.copy_nearest_labels``, so comparing the two measures
the motion alone.
"""
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Tuple

import cv2
import numpy as np

from posewarper_mm.apis.label_propagation import distance_prior
from posewarper_mm.posetrack import frame_index_from_name


def dis_flow(first: np.ndarray, second: np.ndarray,
             preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> np.ndarray:
    """DIS optical flow (H, W, 2) from ``first`` to ``second`` (uint8,
    (H, W, 3) BGR or (H, W) gray): pixel (x, y) of ``first`` moves to
    (x, y) + flow[y, x]."""
    gray = [cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
            for img in (first, second)]
    return cv2.DISOpticalFlow_create(preset).calc(gray[0], gray[1], None)


def sample_flow(flow: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Flow (N, 2) at (x, y) points (N, 2), bilinear, clamped to the image."""
    height, width = flow.shape[:2]
    x = np.clip(points[:, 0], 0, width - 1)
    y = np.clip(points[:, 1], 0, height - 1)
    x0 = np.minimum(np.floor(x).astype(np.int64), width - 2).clip(0)
    y0 = np.minimum(np.floor(y).astype(np.int64), height - 2).clip(0)
    x1 = np.minimum(x0 + 1, width - 1)
    y1 = np.minimum(y0 + 1, height - 1)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    return (flow[y0, x0] * (1 - fx) * (1 - fy) + flow[y0, x1] * fx * (1 - fy) +
            flow[y1, x0] * (1 - fx) * fy + flow[y1, x1] * fx * fy)


def move_along_flows(points: np.ndarray,
                     flows: List[np.ndarray]) -> np.ndarray:
    """Points (N, 2) carried through the flows (H, W, 2) from each frame
    to the next."""
    points = np.asarray(points, dtype=np.float64).copy()
    for flow in flows:
        points += sample_flow(flow, points)
    return points


class FlowPropagator:
    """``make_poses`` of ``posewarper_mm.apis.label_frames``: the source
    poses moved along DIS flow to the target frame, the frames read from
    ``img_root`` by the ``file_name`` of ``coco``'s images; the last
    ``cache_size`` flows are kept."""

    def __init__(self, coco: dict, img_root: str, cache_size: int = 8) -> None:
        self.img_root = img_root
        self.cache_size = cache_size
        self.names: Dict[Tuple[str, int], str] = {
            (osp.dirname(name), frame_index_from_name(name)): name
            for name in (img['file_name'] for img in coco['images'])}
        self.flows: 'OrderedDict[Tuple[str, str], np.ndarray]' = OrderedDict()

    def _read(self, file_name: str) -> np.ndarray:
        path = osp.join(self.img_root, file_name)
        frame = cv2.imread(path, cv2.IMREAD_COLOR)
        if frame is None:
            raise FileNotFoundError(f'{path}: frame missing or unreadable')
        return frame

    def flow(self, first: str, second: str) -> np.ndarray:
        """Flow (H, W, 2) from frame ``first`` to ``second`` (cached)."""
        key = (first, second)
        if key not in self.flows:
            self.flows[key] = dis_flow(self._read(first), self._read(second))
            if len(self.flows) > self.cache_size:
                self.flows.popitem(last=False)
        return self.flows[key]

    def frames_between(self, source: str, target: str) -> List[str]:
        """File names from ``source`` to ``target``, both included."""
        video = osp.dirname(source)
        start = frame_index_from_name(source)
        stop = frame_index_from_name(target)
        step = 1 if stop >= start else -1
        names = []
        for index in range(start, stop + step, step):
            if (video, index) not in self.names:
                raise ValueError(f'{video}: frame {index} between {source} '
                                 f'and {target} is not in the json')
            names.append(self.names[(video, index)])
        return names

    def __call__(self, src_img: dict, tgt_img: dict,
                 persons: tuple) -> Tuple[np.ndarray, np.ndarray]:
        """Keypoints (N, K, 2) and scores (N, K) of the source persons
        on the target frame."""
        names = self.frames_between(src_img['file_name'], tgt_img['file_name'])
        flows = [self.flow(a, b) for a, b in zip(names, names[1:])]
        keypoints = persons[1]
        moved = move_along_flows(keypoints.reshape(-1, 2), flows)
        scores = distance_prior(src_img, tgt_img) * persons[2]
        return moved.reshape(keypoints.shape), scores
