"""Smooth per-frame motion of figures, occluders, blur and crowd regions.

Every sampler takes a ``numpy.random.Generator`` so a video is fully
determined by its seed. All tracks are arrays over the frames of a video.
"""
from dataclasses import dataclass, field
from typing import List, Tuple

import numpy as np

from .skeleton import BodyShape

# pelvis height above the ankles, as a fraction of the standing height
PELVIS_HEIGHT = 0.48
# default occluder speed range, frame widths per frame: about the figures'
# own speed, so a pole covers a joint for several frames
OCCLUDER_SPEED = (0.01, 0.03)
# default most occluders per video (each video draws 0..this many)
MAX_OCCLUDERS = 2
# default length range of a camera-shake blur, in frame widths
SHAKE_BLUR_STRENGTH = (0.05, 0.09)


@dataclass
class PersonTrack:
    """Per-frame state of one walking figure (arrays of length T).

    Attributes:
        shape (BodyShape): Body proportions.
        root_x (np.ndarray): Pelvis x in pixels, shape (T,).
        root_y (np.ndarray): Pelvis y in pixels, shape (T,).
        height (np.ndarray): Standing height in pixels, shape (T,).
        phase (np.ndarray): Gait phase in radians, shape (T,).
        yaw (np.ndarray): Facing angle in radians, shape (T,).
        stride (np.ndarray): Swing amplitude in [0, 1], shape (T,).
        arm_raise (np.ndarray): Sideways arm raise in radians, shape (T,).
        ground_y (np.ndarray): Ankle line y in pixels (depth order), (T,).
    """
    shape: BodyShape
    root_x: np.ndarray
    root_y: np.ndarray
    height: np.ndarray
    phase: np.ndarray
    yaw: np.ndarray
    stride: np.ndarray
    arm_raise: np.ndarray
    ground_y: np.ndarray


@dataclass
class Occluder:
    """A textured shape that passes in front of the figures.

    Attributes:
        polygons (list[np.ndarray]): Per frame polygon, int32 (N, 2).
        color (tuple): BGR base colour.
        stripe_color (tuple): BGR colour of its stripes.
        stripe_step (int): Stripe spacing in pixels.
    """
    polygons: List[np.ndarray]
    color: Tuple[int, int, int]
    stripe_color: Tuple[int, int, int]
    stripe_step: int


@dataclass
class CrowdRegion:
    """Unlabeled small figures inside an ignore polygon on some frames.

    Attributes:
        frames (range): Frames on which the crowd is visible.
        polygon (np.ndarray): Ignore polygon (N, 2) in pixels.
        members (list[PersonTrack]): The small figures.
    """
    frames: range
    polygon: np.ndarray
    members: List[PersonTrack] = field(default_factory=list)


def _wander(rng: np.random.Generator, t: np.ndarray, amplitude: float,
            period: Tuple[float, float]) -> Tuple[np.ndarray, np.ndarray]:
    """Smooth sinusoidal wander and its derivative over frame times ``t``."""
    omega = 2 * np.pi / rng.uniform(*period)
    offset = rng.uniform(0, 2 * np.pi)
    value = amplitude * np.sin(omega * t + offset)
    deriv = amplitude * omega * np.cos(omega * t + offset)
    return value, deriv


def sample_person_track(rng: np.random.Generator,
                        num_frames: int,
                        width: int,
                        height: int,
                        height_range: Tuple[float, float] = (0.45, 0.8),
                        region: Tuple[float, float, float, float] = None,
                        max_speed: float = 0.014) -> PersonTrack:
    """Sample a smooth walking (or standing) trajectory.

    Args:
        rng (np.random.Generator): Random generator.
        num_frames (int): Number of frames T.
        width (int): Image width in pixels.
        height (int): Image height in pixels.
        height_range (tuple): Figure height as a fraction of the image
            height (or of the region height when ``region`` is given).
        region (tuple, optional): ``(x1, y1, x2, y2)`` box the figure stays
            in (used for the small crowd figures). Default: whole image.
        max_speed (float): Maximal lateral speed as a fraction of the image
            width per frame.

    Returns:
        PersonTrack: The per-frame state.
    """
    t = np.arange(num_frames, dtype=np.float64)
    if region is None:
        x1, y1, x2, y2 = 0.0, 0.0, float(width), float(height)
    else:
        x1, y1, x2, y2 = region
    reg_w, reg_h = x2 - x1, y2 - y1
    base_h = rng.uniform(*height_range) * reg_h
    moving = region is None and rng.random() < 0.8
    speed = rng.uniform(0.25, 1.0) * max_speed * width if moving else 0.0
    vx = speed * rng.choice([-1.0, 1.0])
    vz = rng.uniform(-0.6, 0.6) * speed + rng.normal(0, 0.3)
    wander_x, dwander_x = _wander(rng, t, 0.04 * reg_w, (25, 60))
    wander_z, dwander_z = _wander(rng, t, 0.3, (20, 50))
    x0 = rng.uniform(x1 + 0.08 * reg_w, x2 - 0.08 * reg_w)
    ground0 = rng.uniform(y1 + 0.9 * base_h, y2 + 0.05 * base_h)
    ground0 = min(ground0, y2 + 0.05 * base_h)
    root_x = x0 + vx * t + wander_x
    depth_step = vz + dwander_z
    ground_y = ground0 + 0.25 * np.cumsum(depth_step) + wander_z
    size = base_h * (1.0 + 0.6 * (ground_y - ground0) / max(reg_h, 1.0))
    size = np.clip(size, 0.5 * base_h, 1.6 * base_h)
    root_y = ground_y - PELVIS_HEIGHT * size
    vel_x = vx + dwander_x
    speed_t = np.hypot(vel_x, depth_step)
    if moving:
        yaw = np.arctan2(vel_x, depth_step + rng.normal(0, 0.5))
    else:
        yaw0 = rng.uniform(-np.pi, np.pi)
        yaw = yaw0 + _wander(rng, t, rng.uniform(0.2, 1.2), (30, 80))[0]
    stride = np.clip(speed_t / (0.012 * size + 1e-6), 0.15, 1.0)
    gait_rate = 2 * np.pi * speed_t / (0.75 * size + 1e-6)
    gait_rate = np.maximum(gait_rate, 0.12)
    phase = rng.uniform(0, 2 * np.pi) + np.cumsum(gait_rate)
    if rng.random() < 0.35:
        arm_amp = rng.uniform(0.6, 1.7)
        arm_raise = arm_amp * (0.5 + 0.5 * _wander(rng, t, 1.0, (12, 30))[0])
    else:
        arm_raise = np.full(num_frames, rng.uniform(0.0, 0.25))
    return PersonTrack(
        shape=BodyShape.sample(rng),
        root_x=root_x,
        root_y=root_y,
        height=size,
        phase=phase,
        yaw=yaw,
        stride=stride,
        arm_raise=arm_raise,
        ground_y=ground_y)


def sample_occluders(rng: np.random.Generator,
                     num_frames: int,
                     width: int,
                     height: int,
                     max_count: int = MAX_OCCLUDERS,
                     speed_range: Tuple[float, float] = OCCLUDER_SPEED
                     ) -> List[Occluder]:
    """Sample poles and boards that slide across the frame.

    Each occluder is an axis-aligned or slanted quadrilateral moving at a
    constant speed, so it covers different joints on different frames.

    Args:
        speed_range (tuple): Speed range in frame widths per frame; a pole
            (0.05-0.12 widths wide) passing at 0.04 or more covers a joint
            for about 1-3 frames.
    """
    occluders = []
    for _ in range(int(rng.integers(0, max_count + 1))):
        t = np.arange(num_frames, dtype=np.float64)
        kind = rng.choice(['pole', 'board'])
        if kind == 'pole':
            w = rng.uniform(0.05, 0.12) * width
            top, bottom = -5.0, height + 5.0
        else:
            w = rng.uniform(0.2, 0.35) * width
            top = rng.uniform(0.3, 0.6) * height
            bottom = top + rng.uniform(0.2, 0.35) * height
        direction = rng.choice([-1.0, 1.0])
        speed = rng.uniform(*speed_range) * width
        span = speed * num_frames
        start = rng.uniform(-w, width) - direction * 0.5 * span
        left = start + direction * speed * t
        slant = rng.uniform(-0.15, 0.15) * width
        polys = []
        for x in left:
            quad = np.array([[x + slant, top], [x + w + slant, top],
                             [x + w, bottom], [x, bottom]],
                            dtype=np.float64)
            polys.append(np.round(quad).astype(np.int32))
        color = tuple(int(c) for c in rng.integers(30, 226, 3))
        stripe = tuple(int(c * 0.6) for c in color)
        occluders.append(
            Occluder(polys, color, stripe, int(rng.integers(4, 10))))
    return occluders


def sample_blur_frames(rng: np.random.Generator,
                       num_frames: int,
                       max_segments: int = 2) -> dict:
    """Choose short runs of motion-blurred frames.

    Returns:
        dict: Frame index -> (kernel length factor, angle in degrees).
    """
    blurred = {}
    if rng.random() < 0.3:
        return blurred
    for _ in range(int(rng.integers(1, max_segments + 1))):
        start = int(rng.integers(0, max(1, num_frames)))
        length = int(rng.integers(1, 5))
        strength = rng.uniform(0.02, 0.045)
        angle = rng.uniform(0, 180)
        for f in range(start, min(num_frames, start + length)):
            blurred[f] = (strength, angle)
    return blurred


def sample_shake_frames(rng: np.random.Generator, num_frames: int, prob: float,
                        strength_range: Tuple[float, float]) -> dict:
    """Choose single frames blurred by a camera shake.

    Each frame is shaken independently with probability ``prob``: unlike
    the short runs of :func:`sample_blur_frames`, its neighbours are
    usually sharp, as with a hand-held camera.

    Returns:
        dict: Frame index -> (kernel length factor, angle in degrees).
    """
    shaken = {}
    if prob <= 0:
        return shaken
    draws = rng.random(num_frames)
    strengths = rng.uniform(*strength_range, size=num_frames)
    angles = rng.uniform(0, 180, size=num_frames)
    for f in np.nonzero(draws < prob)[0]:
        shaken[int(f)] = (float(strengths[f]), float(angles[f]))
    return shaken


def sample_crowd_region(rng: np.random.Generator, num_frames: int, width: int,
                        height: int) -> CrowdRegion:
    """Place a group of small unlabeled figures in an ignore polygon.

    The crowd is visible on a contiguous run of frames; the polygon is an
    irregular octagon around the figures.
    """
    reg_w = rng.uniform(0.25, 0.4) * width
    reg_h = rng.uniform(0.22, 0.32) * height
    x1 = rng.uniform(0, width - reg_w)
    y1 = rng.uniform(0.02, 0.2) * height
    region = (x1, y1, x1 + reg_w, y1 + reg_h)
    start = int(rng.integers(0, max(1, num_frames // 2)))
    stop = int(rng.integers(start + max(1, num_frames // 3), num_frames + 1))
    members = [
        sample_person_track(
            rng,
            num_frames,
            width,
            height,
            height_range=(0.6, 0.8),
            region=region) for _ in range(int(rng.integers(2, 5)))
    ]
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    angles += rng.uniform(-0.15, 0.15, size=8)
    cx, cy = x1 + reg_w / 2, y1 + reg_h / 2
    rx = reg_w * 0.62 * rng.uniform(0.95, 1.1, size=8)
    ry = reg_h * 0.68 * rng.uniform(0.95, 1.1, size=8)
    poly = np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], 1)
    poly[:, 0] = np.clip(poly[:, 0], 0, width - 1)
    poly[:, 1] = np.clip(poly[:, 1], 0, height - 1)
    return CrowdRegion(range(start, stop), np.round(poly), members)
