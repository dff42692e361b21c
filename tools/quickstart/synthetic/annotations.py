"""PoseTrack18 annotation records: ids, images, persons, detections."""
import copy
from typing import Dict, List, Optional, Sequence

import numpy as np

from posewarper_mm.posetrack import (frame_index_from_name, frame_path,
                                     image_id, video_folder)
from . import skeleton as sk


def annotation_id(img_id: int, person_idx: int) -> int:
    """Annotation id ``<image id><person:02d>`` as in PoseTrack18 files."""
    return img_id * 100 + person_idx


def categories() -> List[dict]:
    """The single PoseTrack18 ``person`` category."""
    return [
        dict(
            supercategory='person',
            id=1,
            name='person',
            keypoints=list(sk.KEYPOINT_NAMES),
            skeleton=[list(p) for p in sk.SKELETON_1BASED])
    ]


def image_record(split: str, video_num: int, frame_idx: int, nframes: int,
                 width: int, height: int, ignore_polys: Sequence[np.ndarray],
                 occluded: bool, blurred: bool) -> dict:
    """One entry of ``images`` (all frames are labeled in the dense GT)."""
    img_id = image_id(video_num, frame_idx)
    return dict(
        has_no_densepose=True,
        is_labeled=True,
        file_name=frame_path(split, video_folder(video_num, split), frame_idx),
        nframes=nframes,
        frame_id=img_id,
        vid_id=f'{video_num:06d}',
        ignore_regions_x=[[int(v) for v in p[:, 0]] for p in ignore_polys],
        ignore_regions_y=[[int(v) for v in p[:, 1]] for p in ignore_polys],
        id=img_id,
        width=width,
        height=height,
        occluded=bool(occluded),
        blurred=bool(blurred))


def person_record(kpts: np.ndarray, occluded: np.ndarray, height_px: float,
                  track_id: int, img_id: int, width: int,
                  height: int) -> Optional[dict]:
    """Annotation of one figure, or None if fewer than 2 joints are inside.

    Joints outside the image get ``(0, 0, 0)``; joints hidden by occluders
    keep their true position with visibility 1 (PoseTrack convention) and
    are listed in the extra key ``keypoints_occluded``.

    Args:
        kpts (np.ndarray): Keypoints (17, 2) in pixels.
        occluded (np.ndarray): Bool (17,), joint covered by an occluder.
        height_px (float): Standing height (sets the box margins).
        track_id (int): Track id, stable over the video.
        img_id (int): Image id.
        width (int): Image width.
        height (int): Image height.
    """
    inside = ((kpts[:, 0] >= 0) & (kpts[:, 0] <= width - 1) & (kpts[:, 1] >= 0)
              & (kpts[:, 1] <= height - 1))
    if inside.sum() < 2:
        return None
    flat = []
    for (x, y), ok in zip(kpts, inside):
        flat += [round(float(x), 2), round(float(y), 2), 1
                 ] if ok else [0, 0, 0]
    pts = kpts[inside]
    margin = 0.06 * height_px
    x1 = max(0.0, pts[:, 0].min() - margin)
    y1 = max(0.0, pts[:, 1].min() - margin)
    x2 = min(width - 1.0, pts[:, 0].max() + margin)
    y2 = min(height - 1.0, pts[:, 1].max() + margin)
    head_c = (kpts[sk.HEAD_TOP] + kpts[sk.HEAD_BOTTOM]) / 2
    side = max(2.0,
               float(np.linalg.norm(kpts[sk.HEAD_TOP] - kpts[sk.HEAD_BOTTOM])))
    bbox_head = [
        round(float(head_c[0] - side / 2), 2),
        round(float(head_c[1] - side / 2), 2),
        round(side, 2),
        round(side, 2)
    ]
    return dict(
        bbox_head=bbox_head,
        keypoints=flat,
        track_id=int(track_id),
        image_id=int(img_id),
        bbox=[
            round(float(x1), 2),
            round(float(y1), 2),
            round(float(x2 - x1), 2),
            round(float(y2 - y1), 2)
        ],
        scores=[],
        category_id=1,
        id=annotation_id(img_id, track_id),
        iscrowd=False,
        num_keypoints=int(inside.sum()),
        keypoints_occluded=[int(v) for v in (occluded & inside)])


def sparsify(coco: dict, every: int) -> dict:
    """Keep labels only on every ``every``-th frame of each video.

    Frames stay in ``images`` (``is_labeled`` False, no annotations) so
    they can still serve as supporting frames.
    """
    if every < 1:
        raise ValueError(f'sparse_every must be >= 1, got {every}')
    out = copy.deepcopy(coco)
    keep = set()
    for img in out['images']:
        frame_idx = frame_index_from_name(img['file_name'])
        img['is_labeled'] = frame_idx % every == 0
        if img['is_labeled']:
            keep.add(img['id'])
    out['annotations'] = [
        a for a in out['annotations'] if a['image_id'] in keep
    ]
    return out


def _jitter_box(rng: np.random.Generator, box: Sequence[float], width: int,
                height: int, amount: float) -> Optional[List[float]]:
    x, y, w, h = box
    cx = x + w / 2 + rng.normal(0, amount * w)
    cy = y + h / 2 + rng.normal(0, amount * h)
    w = w * np.exp(rng.normal(0, amount * 1.5))
    h = h * np.exp(rng.normal(0, amount * 1.5))
    x1, y1 = max(0.0, cx - w / 2), max(0.0, cy - h / 2)
    x2, y2 = min(width - 1.0, cx + w / 2), min(height - 1.0, cy + h / 2)
    if x2 - x1 < 2 or y2 - y1 < 2:
        return None
    return [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)]


def simulate_detections(rng: np.random.Generator, images: List[dict],
                        annotations: List[dict],
                        distractor_boxes: Dict[int, List[List[float]]],
                        width: int, height: int) -> List[dict]:
    """Noisy person detections with a spread of scores.

    True persons give jittered boxes with mostly high scores (lower on
    occluded or blurred frames, a few misses and duplicates); each frame
    also gets random low-score false positives, and crowd figures inside
    ignore regions get medium-score boxes.

    Returns:
        list[dict]: Records with ``image_id``, ``bbox`` (xywh), ``score``
        and ``category_id``.
    """
    by_image: Dict[int, List[dict]] = {}
    for ann in annotations:
        by_image.setdefault(ann['image_id'], []).append(ann)
    dets = []

    def add(img_id: int, box: Optional[List[float]], score: float) -> None:
        if box is not None:
            dets.append(
                dict(
                    image_id=img_id,
                    bbox=box,
                    score=round(float(np.clip(score, 0.01, 1.0)), 4),
                    category_id=1))

    for img in images:
        img_id = img['id']
        penalty = 0.15 * img['occluded'] + 0.2 * img['blurred']
        for ann in by_image.get(img_id, []):
            frac = ann['num_keypoints'] / sk.NUM_KEYPOINTS
            if rng.random() < 0.04 + 0.1 * (1 - frac):
                continue
            score = 0.98 - penalty - 0.3 * (1 - frac) - abs(
                rng.normal(0, 0.12))
            add(img_id, _jitter_box(rng, ann['bbox'], width, height, 0.05),
                score)
            if rng.random() < 0.06:
                add(img_id, _jitter_box(rng, ann['bbox'], width, height, 0.15),
                    score * rng.uniform(0.3, 0.7))
        for box in distractor_boxes.get(img_id, []):
            add(img_id, _jitter_box(rng, box, width, height, 0.08),
                rng.uniform(0.2, 0.7))
        for _ in range(int(rng.poisson(1.0))):
            w = rng.uniform(0.08, 0.35) * width
            h = rng.uniform(0.15, 0.6) * height
            box = [rng.uniform(0, width - w), rng.uniform(0, height - h), w, h]
            add(img_id, _jitter_box(rng, box, width, height, 0.0),
                rng.beta(1.3, 5.0))
    return dets
