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
