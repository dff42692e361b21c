"""A 17-joint walker in the PoseTrack18 keypoint order.

A figure is a 3D stick model (``x`` to the person's left, ``y`` down, ``z``
forward) swinging hips, knees, shoulders and elbows with a gait phase,
turned by its yaw about the vertical axis and projected orthographically.
"""
from dataclasses import dataclass
from typing import Tuple

import numpy as np

from posewarper_mm.posetrack import POSETRACK18_KEYPOINT_NAMES

KEYPOINT_NAMES = POSETRACK18_KEYPOINT_NAMES
NUM_KEYPOINTS = len(KEYPOINT_NAMES)
NOSE, HEAD_BOTTOM, HEAD_TOP, L_EAR, R_EAR = 0, 1, 2, 3, 4
L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 5, 6, 7, 8, 9, 10
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 11, 12, 13, 14, 15, 16


@dataclass
class BodyShape:
    """Proportions, fractions of the standing height."""
    hip_half_width: float = 0.085
    shoulder_half_width: float = 0.115
    thigh: float = 0.245
    shin: float = 0.235
    upper_arm: float = 0.165
    forearm: float = 0.155
    torso: float = 0.29
    neck: float = 0.045
    head_radius: float = 0.065

    @classmethod
    def sample(cls, rng: np.random.Generator) -> 'BodyShape':
        """Each proportion varied by up to 10%."""
        base = cls()
        jitter = rng.uniform(0.9, 1.1, size=9)
        return cls(*(v * j for v, j in zip(base.__dict__.values(), jitter)))


def _limb(length: float, flexion: float, abduction: float,
          side: float) -> np.ndarray:
    """Segment vector (3,) hanging from its joint, swung forward by
    ``flexion`` and raised sideways by ``abduction`` (radians); ``side``
    is +1 for the left, -1 for the right."""
    down = np.array([side * np.sin(abduction), np.cos(abduction), 0.0])
    cos_f, sin_f = np.cos(flexion), np.sin(flexion)
    # rotate the (y, z) part about the x axis: forward swing moves to +z
    vec = np.array([down[0], down[1] * cos_f, down[1] * sin_f])
    return length * vec


def body_joints_3d(shape: BodyShape, phase: float, arm_raise: float,
                   stride: float) -> np.ndarray:
    """The joints (17, 3) at one gait phase, pelvis at the origin, unit
    height; ``stride`` in [0, 1] scales the swing (0: standing)."""
    joints = np.zeros((NUM_KEYPOINTS, 3))
    hip_swing = np.deg2rad(28.0) * stride
    knee_bend = np.deg2rad(40.0) * stride
    arm_swing = np.deg2rad(30.0) * stride
    for side, hip, knee, ankle, ph in ((1.0, L_HIP, L_KNEE, L_ANKLE, phase),
                                       (-1.0, R_HIP, R_KNEE, R_ANKLE,
                                        phase + np.pi)):
        joints[hip] = (side * shape.hip_half_width, 0.0, 0.0)
        flex = hip_swing * np.sin(ph)
        joints[knee] = joints[hip] + _limb(shape.thigh, flex, 0.03, side)
        bend = knee_bend * max(0.0, np.sin(ph + 1.3)) + np.deg2rad(4.0)
        joints[ankle] = joints[knee] + _limb(shape.shin, flex - bend, 0.0,
                                             side)
    shoulder_y = -shape.torso
    for side, sho, elb, wri, ph in ((1.0, L_SHOULDER, L_ELBOW, L_WRIST,
                                     phase + np.pi),
                                    (-1.0, R_SHOULDER, R_ELBOW, R_WRIST,
                                     phase)):
        joints[sho] = (side * shape.shoulder_half_width, shoulder_y, 0.0)
        flex = arm_swing * np.sin(ph)
        abd = 0.08 + arm_raise * (1.0 if side > 0 else 0.6)
        joints[elb] = joints[sho] + _limb(shape.upper_arm, flex, abd, side)
        elbow_bend = np.deg2rad(15.0) + 0.5 * arm_swing * (1 + np.sin(ph))
        joints[wri] = joints[elb] + _limb(shape.forearm, flex + elbow_bend,
                                          abd * 1.2, side)
    head_bottom_y = shoulder_y - shape.neck
    head_center_y = head_bottom_y - shape.head_radius * 1.05
    joints[HEAD_BOTTOM] = (0.0, head_bottom_y, 0.0)
    joints[HEAD_TOP] = (0.0, head_center_y - shape.head_radius, 0.0)
    joints[NOSE] = (0.0, head_center_y + 0.2 * shape.head_radius,
                    0.9 * shape.head_radius)
    joints[L_EAR] = (0.85 * shape.head_radius, head_center_y,
                     -0.1 * shape.head_radius)
    joints[R_EAR] = (-0.85 * shape.head_radius, head_center_y,
                     -0.1 * shape.head_radius)
    return joints


def pose_keypoints(
        shape: BodyShape, phase: float, yaw: float, arm_raise: float,
        stride: float, height_px: float,
        root_xy: Tuple[float, float]) -> Tuple[np.ndarray, np.ndarray]:
    """Image keypoints (17, 2) and depths (17,) of one posed figure.

    ``yaw = 0`` faces the camera, ``pi / 2`` the image right; a larger
    depth (pixels) is nearer the camera; ``root_xy`` is the pelvis.
    """
    joints = body_joints_3d(shape, phase, arm_raise, stride)
    cos_y, sin_y = np.cos(yaw), np.sin(yaw)
    x, y, z = joints[:, 0], joints[:, 1], joints[:, 2]
    img_x = x * cos_y + z * sin_y
    depth = -x * sin_y + z * cos_y
    keypoints = np.stack([img_x, y], axis=1) * height_px
    keypoints += np.asarray(root_xy, dtype=np.float64)[None]
    return keypoints, depth * height_px
