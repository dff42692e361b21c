"""Builders of small official-format PoseTrack18 per-video files."""
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from posewarper_mm.posetrack import POSETRACK18_KEYPOINT_NAMES

NAMES = list(POSETRACK18_KEYPOINT_NAMES)
CATEGORY = dict(supercategory='person', id=1, name='person', keypoints=NAMES)
# head box 30 x 40 -> diagonal 50 -> head size 0.6 * 50 = 30 -> a joint
# matches within 15 px
HEAD_BOX = [0.0, 0.0, 30.0, 40.0]
MATCH_RADIUS = 15.0

Joints = Dict[str, Tuple[float, float]]


def image_id(video: int, frame: int) -> int:
    """PoseTrack-style image id of frame ``frame`` of video ``video``."""
    return 10000000000 + video * 10000 + frame


def image(video: int,
          frame: int,
          regions: Optional[Sequence[Sequence[Tuple[float,
                                                    float]]]] = None) -> dict:
    """An image record; ``regions`` are polygons as lists of (x, y)."""
    rec = dict(
        id=image_id(video, frame),
        file_name=f'images/val/{video:06d}_mpii_test/{frame:06d}.jpg',
        frame_id=image_id(video, frame),
        vid_id=f'{video:06d}',
        nframes=1)
    if regions is not None:
        rec['ignore_regions_x'] = [[p[0] for p in r] for r in regions]
        rec['ignore_regions_y'] = [[p[1] for p in r] for r in regions]
    return rec


def gt_person(img_id: int,
              track_id: int,
              joints: Joints,
              head_box: Optional[Sequence[float]] = HEAD_BOX) -> dict:
    """A GT annotation with the named joints visible, others (0, 0, 0)."""
    kpts = np.zeros((17, 3))
    for name, xy in joints.items():
        kpts[NAMES.index(name)] = (xy[0], xy[1], 1)
    ann = dict(
        image_id=img_id,
        track_id=track_id,
        keypoints=kpts.reshape(-1).tolist(),
        scores=[],
        category_id=1)
    if head_box is not None:
        ann['bbox_head'] = list(head_box)
    return ann


def pred_person(img_id: int, track_id: int,
                joints: Dict[str, Tuple[float, float, float]]) -> dict:
    """A predicted person: joint name -> (x, y, score); others absent."""
    kpts = np.zeros((17, 3))
    for name, xys in joints.items():
        kpts[NAMES.index(name)] = xys
    return dict(
        image_id=img_id,
        track_id=track_id,
        keypoints=kpts.reshape(-1).tolist(),
        scores=kpts[:, 2].tolist(),
        score=1.0,
        category_id=1)


def write_file(folder: str, name: str, images: List[dict],
               annotations: List[dict]) -> str:
    """Write one per-video file; return its path."""
    os.makedirs(folder, exist_ok=True)
    path = osp.join(folder, name)
    with open(path, 'w') as f:
        json.dump(
            dict(
                images=images, annotations=annotations, categories=[CATEGORY]),
            f)
    return path


def video_name(video: int) -> str:
    """File name of a video's per-video file."""
    return f'{video:06d}_mpii_test.json'


def copy_gt_as_pred(gt_dir: str, pred_dir: str) -> None:
    """Copy every GT file into ``pred_dir`` (GT used as prediction)."""
    os.makedirs(pred_dir, exist_ok=True)
    for name in os.listdir(gt_dir):
        if name.endswith('.json'):
            shutil.copy(osp.join(gt_dir, name), osp.join(pred_dir, name))
