"""Render one synthetic video and build its dense PoseTrack18 records."""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from posewarper_mm.posetrack import frame_path, image_id, video_folder
from . import skeleton as sk
from .motion import (sample_blur_frames, sample_crowd_region, sample_occluders,
                     sample_person_track, sample_shake_frames)
from .renderer import (Appearance, draw_occluders, draw_person,
                       make_background, motion_blur)

SaveFrame = Callable[[int, np.ndarray], None]


@dataclass
class VideoAnnotations:
    """A video's image records, person records and image id -> xywh boxes
    of its unlabeled crowd figures (for the simulated detections)."""
    images: List[dict] = field(default_factory=list)
    annotations: List[dict] = field(default_factory=list)
    distractor_boxes: Dict[int, List[List[float]]] = field(
        default_factory=dict)


def render_video(rng: np.random.Generator, split: str, video_num: int,
                 num_frames: int, width: int, height: int,
                 persons_range: Tuple[int, int], save_frame: SaveFrame,
                 crowd_prob: float, occluder_speed: Tuple[float, float],
                 max_occluders: int, shake_blur_prob: float,
                 shake_blur_strength: Tuple[float, float]) -> VideoAnnotations:
    """Render a video's frames (``save_frame(index, bgr_image)``) and
    records with its own ``rng`` (arguments: see the generator)."""
    lo, hi = persons_range
    n_persons = int(rng.integers(lo, hi + 1))
    pan_extent = int(0.15 * width)
    background = make_background(rng, width + pan_extent, height)
    pan = (0.5 + 0.5 * np.sin(np.arange(num_frames) * rng.uniform(
        0.02, 0.06) + rng.uniform(0, 2 * np.pi))) * pan_extent
    persons = [sample_person_track(rng, num_frames, width, height)
               for _ in range(n_persons)]
    looks = [Appearance.sample(rng) for _ in persons]
    occluders = sample_occluders(rng, num_frames, width, height,
                                 max_occluders, occluder_speed)
    blur = sample_blur_frames(rng, num_frames)
    crowd = sample_crowd_region(rng, num_frames, width, height) \
        if rng.random() < crowd_prob else None
    crowd_looks = [Appearance.sample(rng) for _ in crowd.members] \
        if crowd else []
    noise = [rng.normal(0, 4, (height, width, 3)).astype(np.int16)
             for _ in range(3)]
    # drawn last, so that without shakes a seed gives the same videos; a
    # frame of a blur run keeps its blur
    for f, shake in sample_shake_frames(rng, num_frames, shake_blur_prob,
                                        shake_blur_strength).items():
        blur.setdefault(f, shake)
    result = VideoAnnotations()
    for f in range(num_frames):
        off = int(pan[f])
        img = np.ascontiguousarray(background[:, off:off + width])
        img_id = image_id(video_num, f)
        ignore = []
        if crowd is not None and f in crowd.frames:
            ignore.append(crowd.polygon.astype(np.int64))
            boxes = []
            for member, look in zip(crowd.members, crowd_looks):
                kpts, depth = _pose(member, f)
                draw_person(img, kpts, depth, look, member.height[f])
                x1, y1 = np.clip(kpts.min(axis=0), 0, [width - 1, height - 1])
                x2, y2 = np.clip(kpts.max(axis=0), 0, [width - 1, height - 1])
                boxes.append([float(v) for v in (x1, y1, x2 - x1, y2 - y1)])
            result.distractor_boxes[img_id] = boxes
        order = np.argsort([p.ground_y[f] for p in persons])
        posed = {}
        for idx in order:
            kpts, depth = _pose(persons[idx], f)
            posed[idx] = kpts
            draw_person(img, kpts, depth, looks[idx], persons[idx].height[f])
        mask = np.zeros((height, width), dtype=np.uint8)
        draw_occluders(img, mask, occluders, f)
        if f in blur:
            strength, angle = blur[f]
            img = motion_blur(img, strength * width, angle)
        img = np.clip(img.astype(np.int16) + noise[f % len(noise)], 0,
                      255).astype(np.uint8)
        save_frame(f, img)
        frame_occluded = False
        for idx in range(n_persons):
            rec = person_record(
                posed[idx], _occluded_joints(posed[idx], mask),
                persons[idx].height[f], idx, img_id, width, height)
            if rec is not None:
                frame_occluded |= bool(np.any(rec['keypoints_occluded']))
                result.annotations.append(rec)
        result.images.append(
            image_record(split, video_num, f, num_frames, width, height,
                         ignore, frame_occluded, f in blur))
    return result


def image_record(split: str, video_num: int, frame_idx: int, nframes: int,
                 width: int, height: int, ignore_polys: Sequence[np.ndarray],
                 occluded: bool, blurred: bool) -> dict:
    """One entry of ``images`` (all frames are labeled in the dense GT)."""
    img_id = image_id(video_num, frame_idx)
    return dict(
        has_no_densepose=True, is_labeled=True,
        file_name=frame_path(split, video_folder(video_num, split), frame_idx),
        nframes=nframes, frame_id=img_id, vid_id=f'{video_num:06d}',
        ignore_regions_x=[[int(v) for v in p[:, 0]] for p in ignore_polys],
        ignore_regions_y=[[int(v) for v in p[:, 1]] for p in ignore_polys],
        id=img_id, width=width, height=height, occluded=bool(occluded),
        blurred=bool(blurred))


def person_record(kpts: np.ndarray, occluded: np.ndarray, height_px: float,
                  track_id: int, img_id: int, width: int,
                  height: int) -> Optional[dict]:
    """A figure's record from its keypoints (17, 2) and which of them an
    occluder covers (17,), or None if fewer than 2 are inside the image.
    Outside joints are ``(0, 0, 0)``, covered ones visible (as in
    PoseTrack) and listed in ``keypoints_occluded``."""
    inside = ((kpts[:, 0] >= 0) & (kpts[:, 0] <= width - 1) & (kpts[:, 1] >= 0)
              & (kpts[:, 1] <= height - 1))
    if inside.sum() < 2:
        return None
    flat = []
    for (x, y), ok in zip(kpts, inside):
        flat += [round(float(x), 2), round(float(y), 2), 1] if ok else [0] * 3
    pts = kpts[inside]
    margin = 0.06 * height_px
    x1 = max(0.0, pts[:, 0].min() - margin)
    y1 = max(0.0, pts[:, 1].min() - margin)
    x2 = min(width - 1.0, pts[:, 0].max() + margin)
    y2 = min(height - 1.0, pts[:, 1].max() + margin)
    head_c = (kpts[sk.HEAD_TOP] + kpts[sk.HEAD_BOTTOM]) / 2
    side = max(2.0,
               float(np.linalg.norm(kpts[sk.HEAD_TOP] - kpts[sk.HEAD_BOTTOM])))
    head = (head_c[0] - side / 2, head_c[1] - side / 2, side, side)
    return dict(
        bbox_head=[round(float(v), 2) for v in head], keypoints=flat,
        track_id=int(track_id), image_id=int(img_id),
        bbox=[round(float(v), 2) for v in (x1, y1, x2 - x1, y2 - y1)],
        scores=[], category_id=1, id=img_id * 100 + track_id,  # + 2 digits
        iscrowd=False, num_keypoints=int(inside.sum()),
        keypoints_occluded=[int(v) for v in (occluded & inside)])


def _pose(track, f: int) -> Tuple[np.ndarray, np.ndarray]:
    return sk.pose_keypoints(track.shape, track.phase[f], track.yaw[f],
                             track.arm_raise[f], track.stride[f],
                             track.height[f],
                             (track.root_x[f], track.root_y[f]))


def _occluded_joints(kpts: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Which keypoints (K, 2) fall on the occluder ``mask`` (H, W)."""
    h, w = mask.shape
    xs = np.round(kpts[:, 0]).astype(np.int64)
    ys = np.round(kpts[:, 1]).astype(np.int64)
    inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
    occluded = np.zeros(len(kpts), dtype=bool)
    occluded[inside] = mask[ys[inside], xs[inside]] > 0
    return occluded


def encode_jpeg(img: np.ndarray, quality: int = 90) -> bytes:
    """Encode a BGR image as JPEG bytes."""
    ok, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError('JPEG encoding failed')
    return buf.tobytes()
