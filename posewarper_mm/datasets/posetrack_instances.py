"""Build top-down data infos from PoseTrack18 image / person records."""
import os.path as osp
from copy import deepcopy
from typing import Optional, Tuple

import numpy as np

from .posetrack_naming import frame_index_or_none
from .posetrack_parsing import clip_xywh_to_xyxy


def image_info(img: dict, img_prefix: str) -> dict:
    """Key-frame fields of a data info from an ``images`` record.

    ``img_id`` is the original PoseTrack image id; ``frame_index`` is read
    from the file name (None if it is not numeric).
    """
    file_name = img['file_name']
    frame_index = frame_index_or_none(file_name)
    folder = osp.basename(osp.dirname(file_name))
    return dict(
        img_id=img['id'],
        img_path=osp.join(img_prefix, file_name),
        file_name=file_name,
        frame_index=frame_index,
        nframes=int(img.get('nframes', 1)),
        vid_id=img.get('vid_id', folder.split('_')[0]),
        frame_id=img.get('frame_id', img['id']))


def gt_instance(ann: dict, img: dict,
                img_prefix: str) -> Tuple[Optional[dict], bool]:
    """Data info of a labeled person.

    Returns:
        tuple: (data info or None, whether the instance was dropped for a
        box without area inside the image). Crowd instances and persons
        without labeled joints give ``(None, False)``.
    """
    kpts = np.asarray(ann['keypoints'], dtype=np.float32).reshape(1, -1, 3)
    visible = np.minimum(1, kpts[..., 2])
    if ann.get('iscrowd', 0) or visible.max() <= 0:
        return None, False
    bbox = clip_xywh_to_xyxy(ann['bbox'], img['width'], img['height'])
    if bbox is None:
        return None, True
    info = image_info(img, img_prefix)
    x1, y1, x2, y2 = bbox[0]
    info.update(
        id=ann['id'],
        bbox=bbox,
        bbox_score=np.ones(1, dtype=np.float32),
        keypoints=kpts[..., :2],
        keypoints_visible=visible,
        num_keypoints=int(ann.get('num_keypoints',
                                  np.count_nonzero(visible))),
        category_id=int(ann.get('category_id', 1)),
        iscrowd=0,
        area=np.array(
            ann.get('area', max(1.0, (x2 - x1) * (y2 - y1) * 0.53)),
            dtype=np.float32),
        raw_ann_info=deepcopy(ann))
    return info, False


def detection_instance(det: dict, img: dict, img_prefix: str,
                       num_keypoints: int, inst_id: int) -> Optional[dict]:
    """Data info of a detected box (dummy keypoints), None if degenerate.
    """
    bbox = clip_xywh_to_xyxy(det['bbox'], img['width'], img['height'])
    if bbox is None:
        return None
    info = image_info(img, img_prefix)
    if 'nframes' in det:
        info['nframes'] = int(det['nframes'])
    info.update(
        id=inst_id,
        bbox=bbox,
        bbox_score=np.array([det['score']], dtype=np.float32),
        keypoints=np.zeros((1, num_keypoints, 2), dtype=np.float32),
        keypoints_visible=np.ones((1, num_keypoints), dtype=np.float32),
        num_keypoints=0,
        category_id=1)
    return info
