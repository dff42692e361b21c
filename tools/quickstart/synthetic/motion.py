"""Per-frame motion of figures, occluders, blur and crowds.

Every sampler draws from the video's ``numpy.random.Generator``, so a
video is determined by its seed; tracks are arrays over its T frames.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np

from .skeleton import BodyShape

PELVIS_HEIGHT = 0.48  # above the ankles, a fraction of the standing height
# defaults: occluder speed (frame widths per frame, about the figures'
# own), occluders per video at most, camera-shake blur length (widths)
OCCLUDER_SPEED = (0.01, 0.03)
MAX_OCCLUDERS = 2
SHAKE_BLUR_STRENGTH = (0.05, 0.09)


@dataclass
class PersonTrack:
    """One walking figure: pelvis position, standing height, gait phase,
    yaw, stride in [0, 1], arm raise and ankle line (depth order), each
    an array (T,) in pixels or radians."""
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
    """A striped shape passing in front of the figures: an int32 (N, 2)
    polygon per frame, BGR colours and the stripe spacing (pixels)."""
    polygons: List[np.ndarray]
    color: Tuple[int, int, int]
    stripe_color: Tuple[int, int, int]
    stripe_step: int


@dataclass
class CrowdRegion:
    """Small unlabeled figures inside an ignore polygon (N, 2) on a run of
    frames."""
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


def sample_person_track(rng: np.random.Generator, num_frames: int,
                        width: int, height: int,
                        height_range: Tuple[float, float] = (0.45, 0.8),
                        region: Optional[Tuple[float, ...]] = None,
                        max_speed: float = 0.014) -> PersonTrack:
    """A smooth walking figure, ``height_range`` (a fraction of the image
    height) tall, at most ``max_speed`` image widths per frame fast; with
    ``region`` (x1, y1, x2, y2) a crowd figure standing in it."""
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
    return PersonTrack(BodyShape.sample(rng), root_x, root_y, size, phase,
                       yaw, stride, arm_raise, ground_y)


def sample_occluders(
        rng: np.random.Generator, num_frames: int, width: int, height: int,
        max_count: int = MAX_OCCLUDERS,
        speed_range: Tuple[float, float] = OCCLUDER_SPEED) -> List[Occluder]:
    """0 to ``max_count`` poles and boards sliding across the frame at a
    constant speed drawn from ``speed_range`` (frame widths per frame)."""
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


def sample_blur_frames(rng: np.random.Generator, num_frames: int,
                       max_segments: int = 2) -> dict:
    """Short runs of motion-blurred frames: frame -> (length factor,
    angle in degrees)."""
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
    """Frames blurred by a camera shake, each with probability ``prob`` on
    its own: frame -> (length factor, angle in degrees)."""
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
    """A group of small figures on a run of frames, inside an irregular
    octagon."""
    reg_w = rng.uniform(0.25, 0.4) * width
    reg_h = rng.uniform(0.22, 0.32) * height
    x1 = rng.uniform(0, width - reg_w)
    y1 = rng.uniform(0.02, 0.2) * height
    region = (x1, y1, x1 + reg_w, y1 + reg_h)
    start = int(rng.integers(0, max(1, num_frames // 2)))
    stop = int(rng.integers(start + max(1, num_frames // 3), num_frames + 1))
    members = [sample_person_track(rng, num_frames, width, height, (0.6, 0.8),
                                   region=region)
               for _ in range(int(rng.integers(2, 5)))]
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    angles += rng.uniform(-0.15, 0.15, size=8)
    cx, cy = x1 + reg_w / 2, y1 + reg_h / 2
    rx = reg_w * 0.62 * rng.uniform(0.95, 1.1, size=8)
    ry = reg_h * 0.68 * rng.uniform(0.95, 1.1, size=8)
    poly = np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], 1)
    poly[:, 0] = np.clip(poly[:, 0], 0, width - 1)
    poly[:, 1] = np.clip(poly[:, 1], 0, height - 1)
    return CrowdRegion(range(start, stop), np.round(poly), members)
