"""Pose propagation by dense optical flow, the baseline of PoseWarper.

The labeled poses of the nearest labeled frame are carried to each
unlabeled frame along OpenCV's DIS optical flow, frame by frame: between
two consecutive frames every keypoint moves by the flow sampled at its
position (bilinear), forward or backward in time towards the target. As
the paper compares PoseWarper with propagation along FlowNet2 flow, this
is the flow row of ``tools.quickstart.eval_propagation``.

The frames and labels are those of
:func:`posewarper_mm.apis.copy_nearest_labels` (same target frames, same
source persons, same joint scores ``1 / (1 + |frame distance|)``), so an
AP comparison with copying measures the moved poses only.
"""
import os.path as osp
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Tuple

import cv2
import numpy as np

from posewarper_mm.apis.label_propagation import distance_prior, label_frames
from posewarper_mm.posetrack import frame_index_from_name


def dis_flow(first: np.ndarray,
             second: np.ndarray,
             preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> np.ndarray:
    """Dense optical flow from ``first`` to ``second`` (OpenCV DIS).

    Args:
        first (np.ndarray): Image (H, W, 3) BGR or (H, W) gray, uint8.
        second (np.ndarray): Image of the same size.
        preset (int): A ``cv2.DISOPTICAL_FLOW_PRESET_*`` value.

    Returns:
        np.ndarray: Flow (H, W, 2), float32: the pixel (x, y) of
        ``first`` moves to (x, y) + flow[y, x] in ``second``.
    """
    gray = [
        cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
        for img in (first, second)
    ]
    return cv2.DISOpticalFlow_create(preset).calc(gray[0], gray[1], None)


def sample_flow(flow: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Flow vectors at sub-pixel points (bilinear, clamped to the image).

    Args:
        flow (np.ndarray): Flow (H, W, 2).
        points (np.ndarray): Points (N, 2) as (x, y) pixels.

    Returns:
        np.ndarray: Flow (N, 2) at the points.
    """
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
    """Carry points through consecutive flows.

    Args:
        points (np.ndarray): Points (N, 2) as (x, y) in the first frame.
        flows (list[np.ndarray]): Flows (H, W, 2) from each frame to the
            next.

    Returns:
        np.ndarray: The points (N, 2) in the last frame.
    """
    points = np.asarray(points, dtype=np.float64).copy()
    for flow in flows:
        points += sample_flow(flow, points)
    return points


class FlowPropagator:
    """``make_poses`` of the label loop: poses moved along DIS flow.

    Args:
        coco (dict): Merged PoseTrack18 json (``images`` with
            ``file_name``).
        img_root (str): Folder that ``file_name`` is relative to.
        cache_size (int): Flows kept for reuse (a source frame serves
            targets on both sides, at growing distances).
    """

    def __init__(self, coco: dict, img_root: str, cache_size: int = 8) -> None:
        self.img_root = img_root
        self.cache_size = cache_size
        self.names: Dict[Tuple[str, int], str] = {
            (osp.dirname(img['file_name']),
             frame_index_from_name(img['file_name'])):
            img['file_name']
            for img in coco['images']
        }
        self.flows: 'OrderedDict[Tuple[str, str], np.ndarray]' = \
            OrderedDict()

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


def flow_propagate_labels(coco: dict,
                          img_root: str,
                          max_distance: Optional[int] = None,
                          progress: Optional[Callable[[],
                                                      None]] = None) -> dict:
    """Pseudo-labels for the unlabeled frames moved along optical flow.

    Args:
        coco (dict): Merged PoseTrack18 json with sparse labels.
        img_root (str): Folder that ``file_name`` is relative to.
        max_distance (int, optional): Only label frames this close to a
            labeled frame.
        progress (callable, optional): Called after each target frame.

    Returns:
        dict: A new json object, as
        :func:`posewarper_mm.apis.copy_nearest_labels` returns.
    """
    return label_frames(coco, max_distance, FlowPropagator(coco, img_root),
                        progress)
