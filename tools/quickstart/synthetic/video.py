"""Render one synthetic video and build its dense annotations."""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Tuple

import cv2
import numpy as np

from . import annotations as anno
from .motion import (MAX_OCCLUDERS, OCCLUDER_SPEED, SHAKE_BLUR_STRENGTH,
                     sample_blur_frames, sample_crowd_region, sample_occluders,
                     sample_person_track, sample_shake_frames)
from .renderer import (Appearance, draw_occluders, draw_person,
                       make_background, motion_blur)
from .skeleton import pose_keypoints


@dataclass
class VideoAnnotations:
    """Records produced for one video.

    Attributes:
        images (list[dict]): One ``images`` entry per frame.
        annotations (list[dict]): Person annotations of all frames.
        distractor_boxes (dict): Image id -> xywh boxes of the unlabeled
            crowd figures (used to simulate detections).
    """
    images: List[dict] = field(default_factory=list)
    annotations: List[dict] = field(default_factory=list)
    distractor_boxes: Dict[int,
                           List[List[float]]] = field(default_factory=dict)


def _kpt_box(kpts: np.ndarray, width: int, height: int) -> List[float]:
    x1, y1 = np.clip(kpts.min(axis=0), 0, [width - 1, height - 1])
    x2, y2 = np.clip(kpts.max(axis=0), 0, [width - 1, height - 1])
    return [float(x1), float(y1), float(x2 - x1), float(y2 - y1)]


def render_video(
    rng: np.random.Generator,
    split: str,
    video_num: int,
    num_frames: int,
    width: int,
    height: int,
    persons_range: Tuple[int, int],
    save_frame: Callable[[int, np.ndarray], None],
    crowd_prob: float = 0.4,
    occluder_speed: Tuple[float, float] = OCCLUDER_SPEED,
    max_occluders: int = MAX_OCCLUDERS,
    shake_blur_prob: float = 0.0,
    shake_blur_strength: Tuple[float, float] = SHAKE_BLUR_STRENGTH
) -> VideoAnnotations:
    """Render all frames of a video and return its annotations.

    Args:
        rng (np.random.Generator): Generator owned by this video.
        split (str): Split name used in file names.
        video_num (int): Video number (< 10000).
        num_frames (int): Number of frames.
        width (int): Frame width.
        height (int): Frame height.
        persons_range (tuple): Inclusive (min, max) labeled figures.
        save_frame (callable): ``save_frame(frame_idx, bgr_image)``.
        crowd_prob (float): Probability of an ignore region with a crowd.
        occluder_speed (tuple): Occluder speed range, frame widths per
            frame.
        max_occluders (int): At most this many occluders (drawn
            uniformly from 0 to it).
        shake_blur_prob (float): Chance that a frame is blurred by a camera
            shake on its own (see :func:`sample_shake_frames`).
        shake_blur_strength (tuple): Shake blur length range, frame widths.

    Returns:
        VideoAnnotations: Image records, annotations and crowd boxes.
    """
    lo, hi = persons_range
    n_persons = int(rng.integers(lo, hi + 1))
    pan_extent = int(0.15 * width)
    background = make_background(rng, width + pan_extent, height)
    pan = (0.5 + 0.5 * np.sin(
        np.arange(num_frames) * rng.uniform(0.02, 0.06) +
        rng.uniform(0, 2 * np.pi))) * pan_extent
    persons = [
        sample_person_track(rng, num_frames, width, height)
        for _ in range(n_persons)
    ]
    looks = [Appearance.sample(rng) for _ in persons]
    occluders = sample_occluders(
        rng,
        num_frames,
        width,
        height,
        max_count=max_occluders,
        speed_range=occluder_speed)
    blur = sample_blur_frames(rng, num_frames)
    crowd = (
        sample_crowd_region(rng, num_frames, width, height)
        if rng.random() < crowd_prob else None)
    crowd_looks = ([Appearance.sample(rng)
                    for _ in crowd.members] if crowd else [])
    noise = [
        rng.normal(0, 4, (height, width, 3)).astype(np.int16) for _ in range(3)
    ]
    # drawn last, so that without shakes a seed gives the same videos; a
    # frame of a blur run keeps its blur
    for f, shake in sample_shake_frames(rng, num_frames, shake_blur_prob,
                                        shake_blur_strength).items():
        blur.setdefault(f, shake)
    result = VideoAnnotations()
    for f in range(num_frames):
        off = int(pan[f])
        img = np.ascontiguousarray(background[:, off:off + width])
        img_id = anno.image_id(video_num, f)
        ignore = []
        if crowd is not None and f in crowd.frames:
            ignore.append(crowd.polygon.astype(np.int64))
            boxes = []
            for member, look in zip(crowd.members, crowd_looks):
                kpts, depth = _pose(member, f)
                draw_person(img, kpts, depth, look, member.height[f])
                boxes.append(_kpt_box(kpts, width, height))
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
            kpts = posed[idx]
            occluded = _occluded_joints(kpts, mask)
            rec = anno.person_record(kpts, occluded, persons[idx].height[f],
                                     idx, img_id, width, height)
            if rec is None:
                continue
            frame_occluded |= bool(np.any(rec['keypoints_occluded']))
            result.annotations.append(rec)
        result.images.append(
            anno.image_record(split, video_num, f, num_frames, width, height,
                              ignore, frame_occluded, f in blur))
    return result


def _pose(track, f: int) -> Tuple[np.ndarray, np.ndarray]:
    return pose_keypoints(track.shape, track.phase[f], track.yaw[f],
                          track.arm_raise[f], track.stride[f], track.height[f],
                          (track.root_x[f], track.root_y[f]))


def _occluded_joints(kpts: np.ndarray, mask: np.ndarray) -> np.ndarray:
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
