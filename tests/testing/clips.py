"""Tiny PoseWarper model, generated clips and videos (api, demo tests)."""
import os
from pathlib import Path
from typing import List, Sequence

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmpose.apis import init_model

from tools.quickstart.synthetic import generate_posetrack_dataset
from . import REPO_ROOT

TINY_CONFIG = str(REPO_ROOT / 'configs' / 'quickstart' /
                  'posewarper_hrnet-tiny_synthetic.py')
# (width, height) of the tiny model's input crops
TINY_INPUT_SIZE = tuple(Config.fromfile(TINY_CONFIG).codec.input_size)
SAMPLE_DATA = REPO_ROOT.parent / 'shared' / 'data' / 'posetrack18_sample'
SAMPLE_VIDEO_DIR = SAMPLE_DATA / 'videos' / '000001_mpiinew_test'


def build_tiny_model():
    """The quickstart stage-2 model (tiny HRNet), random weights."""
    return init_model(TINY_CONFIG, None, device='cpu')


def save_tiny_checkpoint(model, path: str) -> str:
    """Save ``model`` as an mmpose 1.x checkpoint with its dataset meta."""
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=model.dataset_meta)), path)
    return path


def write_video(frames: Sequence[np.ndarray],
                path: str,
                fps: float = 10.0) -> str:
    """Write BGR frames as an mp4 (mp4v) video."""
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (w, h))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def read_video(path: str) -> List[np.ndarray]:
    """All frames of a video, decoded with OpenCV."""
    cap = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def make_synthetic(root: str) -> dict:
    """2 train + 1 val videos x 10 frames of 160x120, sparse labels every
    5th frame in train."""
    return generate_posetrack_dataset(
        root,
        num_frames=10,
        width=160,
        height=120,
        persons_per_video=(1, 2),
        videos_per_split=(2, 1),
        sparse_every=5,
        crowd_prob=0.0,
        seed=3)


def clip_frames(data: dict) -> List[str]:
    """Frame files of the generated val video, in order."""
    return sorted(data['frame_files']['val'])


def sample_video_dir() -> Path:
    """The real 10-frame PoseTrack clip, or skip."""
    import pytest
    if not SAMPLE_VIDEO_DIR.is_dir():
        pytest.skip(f'PoseTrack18 sample data not found at {SAMPLE_DATA}')
    return SAMPLE_VIDEO_DIR


def subprocess_env() -> dict:
    """Environment for child processes: one CPU thread."""
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    return env


def crossing_clip(num_frames: int = 12, width: int = 160, height: int = 120,
                  seed: int = 0) -> dict:
    """Two generated figures walking past each other: A (tall, near)
    left to right, B (short, far) right to left, crossing mid-clip.

    Returns:
        dict: ``frames`` (T BGR (H, W, 3)), ``boxes`` (T, 2, 4) xyxy and
        ``keypoints`` (T, 2, 17, 2) of A and B.
    """
    from tools.quickstart.synthetic import renderer, skeleton
    rng = np.random.default_rng(seed)
    background = renderer.make_background(rng, width, height)
    looks = [renderer.Appearance.sample(rng) for _ in range(2)]
    shapes = [skeleton.BodyShape.sample(rng) for _ in range(2)]
    # (start x, end x, ground y, height), as fractions of the frame
    paths = [(0.3, 0.7, 0.95, 0.8), (0.7, 0.3, 0.7, 0.5)]
    frames, boxes, keypoints = [], [], []
    for f in range(num_frames):
        img = background.copy()
        frame_boxes, frame_kpts = [], []
        for person in (1, 0):  # the far figure first, the near one on top
            x0, x1, ground, size = paths[person]
            x = (x0 + (x1 - x0) * f / (num_frames - 1)) * width
            size_px = size * height
            root = (x, ground * height - 0.48 * size_px)
            yaw = np.pi / 2 if x1 > x0 else -np.pi / 2
            kpts, depth = skeleton.pose_keypoints(shapes[person], 0.8 * f,
                                                  yaw, 0.1, 0.8, size_px,
                                                  root)
            renderer.draw_person(img, kpts, depth, looks[person], size_px)
            margin = 0.06 * size_px
            box = np.concatenate([kpts.min(0) - margin, kpts.max(0) + margin])
            frame_boxes.insert(0, np.clip(box, 0, [width, height] * 2))
            frame_kpts.insert(0, kpts)
        frames.append(img)
        boxes.append(frame_boxes)
        keypoints.append(frame_kpts)
    return dict(frames=frames, boxes=np.asarray(boxes, np.float32),
                keypoints=np.asarray(keypoints, np.float32))


def write_truncated_avi(frames: Sequence[np.ndarray], path: str,
                        keep: float = 0.5) -> str:
    """An MJPG avi of ``frames`` cut to its first ``keep`` of bytes: its
    header still announces every frame."""
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 10.0,
                             (w, h))
    for frame in frames:
        writer.write(frame)
    writer.release()
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])
    return path
