"""OpenCV drawing of backgrounds, figures, occluders and blur."""
from dataclasses import dataclass
from typing import List, Tuple

import cv2
import numpy as np

from . import skeleton as sk
from .motion import Occluder

Color = Tuple[int, int, int]


@dataclass
class Appearance:
    """Colours (BGR) of a figure, the same on both sides: which side is
    left shows from the way it faces (face and badge in front), so a
    mirrored frame is another valid figure."""
    shirt: Color
    pants: Color
    skin: Color
    hair: Color
    shoes: Color
    stripe: Color
    badge: Color

    @classmethod
    def sample(cls, rng: np.random.Generator) -> 'Appearance':
        """Draw random clothing, skin and hair colours."""

        def color(low: int, high: int) -> Color:
            return tuple(int(c) for c in rng.integers(low, high, 3))

        skin_tone = rng.uniform(0.45, 1.0)
        skin = tuple(int(c * skin_tone) for c in (150, 185, 230))
        # shirt, pants, skin, hair, shoes, stripe, badge (drawn in order)
        return cls(
            color(40, 230), color(20, 200), skin, color(10, 90),
            color(0, 70), color(0, 255), color(0, 255))


def shade(color: Color, factor: float) -> Color:
    """Lighten (``factor > 1``) or darken (``factor < 1``) a colour."""
    c = np.asarray(color, dtype=np.float64)
    if factor >= 1:
        c = c + (255 - c) * min(1.0, factor - 1.0)
    else:
        c = c * factor
    return tuple(int(v) for v in np.clip(c, 0, 255))


def make_background(rng: np.random.Generator, width: int,
                    height: int) -> np.ndarray:
    """A cluttered static scene, BGR uint8 (height, width, 3)."""
    top = rng.integers(60, 220, 3).astype(np.float64)
    floor = rng.integers(40, 200, 3).astype(np.float64)
    horizon = int(rng.uniform(0.3, 0.55) * height)
    ramp = np.linspace(0, 1, height)[:, None, None]
    img = top * (1 - ramp) + floor * ramp
    img = np.repeat(img, width, axis=1)
    img[horizon:] = img[horizon:] * 0.8 + floor * 0.2
    img = img.astype(np.uint8)
    # floor tiles in a cheap perspective
    tile_col = tuple(int(c) for c in (floor * 0.7))
    for k in range(1, 8):
        y = int(horizon + (height - horizon) * (k / 8)**1.6)
        cv2.line(img, (0, y), (width, y), tile_col, 1)
    for k in range(-6, 7):
        x_top = width / 2 + k * width / 14
        x_bot = width / 2 + k * width / 4
        cv2.line(img, (int(x_top), horizon), (int(x_bot), height), tile_col, 1)
    scale = max(width, height) / 320.0
    for _ in range(int(rng.integers(35, 60))):
        col = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.uniform(4, 40) * scale)
        kind = rng.integers(0, 5)
        if kind == 0:
            cv2.rectangle(img, (x, y), (x + size, y + int(size * 0.7)), col,
                          -1)
        elif kind == 1:
            cv2.circle(img, (x, y), max(2, size // 2), col, -1)
        elif kind == 2:
            # limb-like distractor strokes
            ang = rng.uniform(0, np.pi)
            end = (int(x + size * np.cos(ang)), int(y + size * np.sin(ang)))
            cv2.line(img, (x, y), end, col, max(2, int(size * 0.2)))
        elif kind == 3:
            cv2.ellipse(img, (x, y), (size, max(2, size // 3)),
                        float(rng.uniform(0, 180)), 0, 360, col, 2)
        else:
            cv2.putText(img, chr(int(rng.integers(65, 91))), (x, y),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.4 * scale, col, 1)
    noise = rng.normal(0, 7, img.shape)
    img = np.clip(img + noise, 0, 255).astype(np.uint8)
    return cv2.GaussianBlur(img, (3, 3), 0)


def _pt(p: np.ndarray) -> Tuple[int, int]:
    return int(round(p[0])), int(round(p[1]))


def draw_person(img: np.ndarray, kpts: np.ndarray, depth: np.ndarray,
                app: Appearance, height_px: float) -> None:
    """Draw one figure into ``img`` (H, W, 3): keypoints (17, 2) and
    depths (17,) in pixels; the standing height sets the thickness."""
    unit = max(height_px, 8.0)

    def thick(frac: float) -> int:
        return max(2, int(round(frac * unit)))

    # lighting: -1 (left side far) .. 1 (left side near the camera)
    hip_span = 2 * sk.BodyShape.hip_half_width * unit
    near = float(np.clip((depth[sk.L_HIP] - depth[sk.R_HIP]) / hip_span, -1,
                         1))
    light = {1: 1.0 + 0.4 * near, -1: 1.0 - 0.4 * near}
    limbs = [
        # (joint a, joint b, colour, thickness fraction, side)
        (sk.L_HIP, sk.L_KNEE, app.pants, 0.075, 1),
        (sk.L_KNEE, sk.L_ANKLE, app.pants, 0.06, 1),
        (sk.R_HIP, sk.R_KNEE, app.pants, 0.075, -1),
        (sk.R_KNEE, sk.R_ANKLE, app.pants, 0.06, -1),
        (sk.L_SHOULDER, sk.L_ELBOW, app.shirt, 0.055, 1),
        (sk.L_ELBOW, sk.L_WRIST, app.skin, 0.045, 1),
        (sk.R_SHOULDER, sk.R_ELBOW, app.shirt, 0.055, -1),
        (sk.R_ELBOW, sk.R_WRIST, app.skin, 0.045, -1)]
    far_side = 1 if near < 0 else -1
    # the far limbs, the torso, then the near limbs
    for group in (far_side, 0, -far_side):
        if group == 0:
            _draw_torso(img, kpts, depth, app, thick)
        for a, b, col, frac, side in (lb for lb in limbs if lb[4] == group):
            # a thick rounded segment with a seam along it
            ends = _pt(kpts[a]), _pt(kpts[b])
            cv2.line(img, *ends, shade(col, light[side]), thick(frac),
                     cv2.LINE_AA)
            cv2.line(img, *ends, app.stripe, max(1, thick(frac) // 4),
                     cv2.LINE_AA)
            if b in (sk.L_ANKLE, sk.R_ANKLE):
                _draw_foot(img, kpts, depth, kpts[b], app, thick)
            if b in (sk.L_WRIST, sk.R_WRIST):
                cv2.circle(img, _pt(kpts[b]), thick(0.028),
                           shade(app.skin, light[side]), -1)
    _draw_head(img, kpts, depth, app)


def _front_shows(depth: np.ndarray) -> bool:
    """Whether the nose is nearer the camera than the neck."""
    return bool(depth[sk.NOSE] - depth[sk.HEAD_BOTTOM] >= 0)


def _forward(kpts: np.ndarray) -> np.ndarray:
    """The nose's sideways offset from the neck: the body's forward
    direction seen from the camera (``y`` 0, largest in profile)."""
    forward = kpts[sk.NOSE] - kpts[sk.HEAD_BOTTOM]
    forward[1] = 0.0
    return forward


def _draw_foot(img: np.ndarray, kpts: np.ndarray, depth: np.ndarray,
               ankle: np.ndarray, app: Appearance, thick) -> None:
    """A shoe pointing forward: a light toe cap in front, a dark heel
    from behind."""
    toe = ankle + _forward(kpts) * 1.1
    cv2.line(img, _pt(ankle), _pt(toe), app.shoes, thick(0.045), cv2.LINE_AA)
    cv2.circle(img, _pt(ankle), thick(0.035), app.shoes, -1)
    if _front_shows(depth):
        cv2.circle(img, _pt(toe), thick(0.022), (235, 235, 235), -1)
    else:
        cv2.circle(img, _pt(ankle), thick(0.022), (15, 15, 15), -1)


def _draw_torso(img: np.ndarray, kpts: np.ndarray, depth: np.ndarray,
                app: Appearance, thick) -> None:
    quad = kpts[[sk.L_SHOULDER, sk.R_SHOULDER, sk.R_HIP, sk.L_HIP]]
    centre = quad.mean(axis=0)
    grown = centre + (quad - centre) * 1.15
    width_px = np.linalg.norm(quad[0] - quad[1])
    if width_px < thick(0.12):
        # side view: a thick bar from the shoulders to the hips
        top = (quad[0] + quad[1]) / 2
        bottom = (quad[2] + quad[3]) / 2
        cv2.line(img, _pt(top), _pt(bottom), app.shirt, thick(0.15),
                 cv2.LINE_AA)
    else:
        cv2.fillConvexPoly(img, np.round(grown).astype(np.int32), app.shirt,
                           cv2.LINE_AA)
    # horizontal stripes as texture
    for k in range(1, 5):
        a = quad[0] + (quad[3] - quad[0]) * k / 5
        b = quad[1] + (quad[2] - quad[1]) * k / 5
        cv2.line(img, _pt(a), _pt(b), app.stripe, max(1, thick(0.012)))
    shoulder_mid = (kpts[sk.L_SHOULDER] + kpts[sk.R_SHOULDER]) / 2
    cv2.line(img, _pt(shoulder_mid), _pt(kpts[sk.HEAD_BOTTOM]), app.skin,
             thick(0.04), cv2.LINE_AA)
    _draw_front_and_back(img, kpts, depth, app, thick)


def _draw_front_and_back(img: np.ndarray, kpts: np.ndarray, depth: np.ndarray,
                         app: Appearance, thick) -> None:
    """A badge on the chest when the front shows, else a backpack, both
    moved sideways with :func:`_forward` (near the outline in profile)."""
    shoulder_mid = (kpts[sk.L_SHOULDER] + kpts[sk.R_SHOULDER]) / 2
    hip_mid = (kpts[sk.L_HIP] + kpts[sk.R_HIP]) / 2
    forward = _forward(kpts)
    chest = shoulder_mid + (hip_mid - shoulder_mid) * 0.3
    if _front_shows(depth):
        # badge: a disc with a white ring on the front of the shirt
        centre = chest + forward
        cv2.circle(img, _pt(centre), thick(0.04), (245, 245, 245), -1,
                   cv2.LINE_AA)
        cv2.circle(img, _pt(centre), thick(0.028), app.badge, -1, cv2.LINE_AA)
    else:
        # backpack: a dark block on the back, shoulders to mid-back
        centre = chest - forward
        half = np.array([thick(0.045), thick(0.07)], dtype=np.float64)
        cv2.rectangle(img, _pt(centre - half), _pt(centre + half),
                      shade(app.shirt, 0.35), -1, cv2.LINE_AA)


def _draw_head(img: np.ndarray, kpts: np.ndarray, depth: np.ndarray,
               app: Appearance) -> None:
    centre = (kpts[sk.HEAD_TOP] + kpts[sk.HEAD_BOTTOM]) / 2
    span = np.linalg.norm(kpts[sk.HEAD_TOP] - kpts[sk.HEAD_BOTTOM])
    radius = max(2, int(round(span / 2)))
    cv2.circle(img, _pt(centre), radius, app.hair, -1, cv2.LINE_AA)
    facing = depth[sk.NOSE] - depth[sk.HEAD_TOP]
    face_shift = (kpts[sk.NOSE] - centre) * 0.35
    if facing > -0.3 * radius:
        face_centre = centre + face_shift + np.array([0, 0.18 * radius])
        cv2.circle(img, _pt(face_centre), max(1, int(radius * 0.8)), app.skin,
                   -1, cv2.LINE_AA)
    if facing > 0.2 * radius:
        eye_dx = (kpts[sk.L_EAR] - kpts[sk.R_EAR]) * 0.22
        eye_y = centre + face_shift
        eye_r = max(1, int(radius * 0.12))
        cv2.circle(img, _pt(eye_y + eye_dx), eye_r, (20, 20, 20), -1)
        cv2.circle(img, _pt(eye_y - eye_dx), eye_r, (20, 20, 20), -1)
        cv2.circle(img, _pt(kpts[sk.NOSE]), max(1, eye_r), (40, 60, 150), -1)
    for ear in (sk.L_EAR, sk.R_EAR):
        if depth[ear] > -0.5 * radius:
            cv2.circle(img, _pt(kpts[ear]), max(1, int(radius * 0.22)),
                       app.skin, -1)


def draw_occluders(img: np.ndarray, mask: np.ndarray,
                   occluders: List[Occluder], frame: int) -> None:
    """Draw striped occluders in place and mark them in ``mask``."""
    for occ in occluders:
        poly = occ.polygons[frame]
        cv2.fillPoly(img, [poly], occ.color)
        cv2.fillPoly(mask, [poly], 255)
        x1, y1 = poly.min(axis=0)
        x2, y2 = poly.max(axis=0)
        stripes = np.zeros_like(mask)
        for y in range(int(y1), int(y2), occ.stripe_step * 2):
            cv2.line(stripes, (int(x1), y), (int(x2), y + occ.stripe_step),
                     255, max(1, occ.stripe_step // 2))
        inside = np.zeros_like(mask)
        cv2.fillPoly(inside, [poly], 255)
        img[(stripes > 0) & (inside > 0)] = occ.stripe_color


def motion_blur(img: np.ndarray, length: int, angle_deg: float) -> np.ndarray:
    """Blur with a line kernel of ``length`` pixels at ``angle_deg``."""
    length = max(3, int(length) | 1)
    kernel = np.zeros((length, length), dtype=np.float32)
    c = length // 2
    dx = np.cos(np.deg2rad(angle_deg)) * c
    dy = np.sin(np.deg2rad(angle_deg)) * c
    cv2.line(kernel, (int(round(c - dx)), int(round(c - dy))),
             (int(round(c + dx)), int(round(c + dy))), 1.0, 1)
    kernel /= kernel.sum()
    return cv2.filter2D(img, -1, kernel)
