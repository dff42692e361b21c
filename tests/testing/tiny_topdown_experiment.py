"""A self-contained tiny top-down experiment for engine and tool tests.

It writes a small COCO-format keypoint dataset (random textured images with
one person box and 17 keypoints each), a config that trains mmpose's own
``TopdownPoseEstimator`` with a tiny HRNet and ``HeatmapHead`` on it with an
iteration-based loop, and an optional hook module that dumps each rank's
weights. Only mmpose pieces are used, so the training mechanics (gloo DDP,
safe resume) are tested independently of the PoseWarper modules.
"""
import json
import os
import os.path as osp
import re
import socket
import subprocess
import sys
from typing import Dict, List, Optional

import cv2
import numpy as np

from . import REPO_ROOT as _ROOT

REPO_ROOT = str(_ROOT)
TOOLS_DIR = osp.join(REPO_ROOT, 'tools')

IMG_W, IMG_H = 96, 72
TEST_HOOKS_MODULE = 'engine_test_hooks'

_CONFIG_TEMPLATE = '''\
_base_ = ['mmpose::_base_/default_runtime.py']
custom_imports = dict(imports={imports!r}, allow_failed_imports=False)

data_root = {data_root!r}
# iteration-based; without --no-validate the run ends with a validation
train_cfg = dict(by_epoch=False, max_iters={max_iters}, val_interval=1000)
randomness = dict(seed=0, deterministic=True)
optim_wrapper = dict(optimizer=dict(type='Adam', lr={lr}))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[1000], gamma=0.1)
]
auto_scale_lr = dict(base_batch_size={base_batch_size})
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(
        type='CheckpointHook', interval={ckpt_interval}, by_epoch=False,
        max_keep_ckpts=-1))
custom_hooks = [dict(type='SyncBuffersHook')]{extra_hooks}
log_processor = dict(
    type='LogProcessor', window_size=1, by_epoch=False, num_digits=6)

codec = dict(
    type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=2)
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='HRNet',
        in_channels=3,
        extra=dict(
            stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                        num_blocks=(1, ), num_channels=(8, )),
            stage2=dict(num_modules=1, num_branches=2, block='BASIC',
                        num_blocks=(1, 1), num_channels=(8, 16)),
            stage3=dict(num_modules=1, num_branches=3, block='BASIC',
                        num_blocks=(1, 1, 1), num_channels=(8, 16, 32)),
            stage4=dict(num_modules=1, num_branches=4, block='BASIC',
                        num_blocks=(1, 1, 1, 1),
                        num_channels=(8, 16, 32, 64)))),
    head=dict(
        type='HeatmapHead',
        in_channels=8,
        out_channels=17,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    test_cfg=dict(flip_test=False))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
test_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]
dataset = dict(
    type='CocoDataset',
    data_root=data_root,
    data_mode='topdown',
    ann_file='annotations/keypoints.json',
    data_prefix=dict(img='images/'))
train_dataloader = dict(
    batch_size={batch_size},
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(**dataset, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(**dataset, test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='CocoMetric', ann_file=data_root + '/annotations/keypoints.json')
test_evaluator = val_evaluator
'''

_TEST_HOOKS = '''\
"""Hooks that only the engine/tool tests use."""
import os.path as osp
import resource
import signal
import time

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS


@HOOKS.register_module()
class TestRankWeightsDumpHook(Hook):
    """Write ``rank<R>_weights.pth`` into ``out_dir`` after training."""

    def __init__(self, out_dir):
        self.out_dir = out_dir

    def after_train(self, runner):
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        torch.save(model.state_dict(),
                   osp.join(self.out_dir, f'rank{get_rank()}_weights.pth'))


@HOOKS.register_module()
class TestPauseAfterIterHook(Hook):
    """After iteration ``at_iter`` (and its checkpoint), touch
    ``ready_file`` and sleep, so that a test can kill the process."""

    priority = 'LOWEST'

    def __init__(self, at_iter, ready_file, seconds=120):
        self.at_iter = at_iter
        self.ready_file = ready_file
        self.seconds = seconds

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.at_iter:
            open(self.ready_file, 'w').close()
            time.sleep(self.seconds)


@HOOKS.register_module()
class TestFileSizeLimitHook(Hook):
    """From iteration ``from_iter`` on, no file of this process may grow
    beyond ``max_bytes`` (as on a full disk): writes fail with EFBIG."""

    def __init__(self, from_iter, max_bytes):
        self.from_iter = from_iter
        self.max_bytes = max_bytes

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.from_iter:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE,
                               (self.max_bytes, resource.RLIM_INFINITY))
'''


def write_tiny_coco(root: str, num_images: int = 8, seed: int = 0) -> str:
    """Write a tiny COCO keypoint dataset under ``root``.

    Args:
        root (str): Output directory; gets ``images/`` and
            ``annotations/keypoints.json``.
        num_images (int): Number of images, one person each.
        seed (int): Random seed.

    Returns:
        str: ``root``.
    """
    rng = np.random.RandomState(seed)
    os.makedirs(osp.join(root, 'images'), exist_ok=True)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    images, annotations = [], []
    for idx in range(num_images):
        img = (rng.rand(IMG_H, IMG_W, 3) * 60).astype(np.uint8)
        x0, y0 = rng.randint(4, 20), rng.randint(2, 10)
        w, h = rng.randint(36, 60), rng.randint(48, 58)
        kpts = np.stack([
            rng.uniform(x0 + 2, x0 + w - 2, 17),
            rng.uniform(y0 + 2, y0 + h - 2, 17)
        ], 1)
        for k, (x, y) in enumerate(kpts):
            colour = (40 + 12 * k, 255 - 10 * k, 128 + 7 * k)
            cv2.circle(img, (int(x), int(y)), 3, colour, -1)
        file_name = f'{idx:06d}.jpg'
        cv2.imwrite(osp.join(root, 'images', file_name), img)
        images.append(
            dict(id=idx + 1, file_name=file_name, width=IMG_W, height=IMG_H))
        keypoints = np.concatenate([kpts, np.full((17, 1), 2.0)], 1)
        annotations.append(
            dict(
                id=idx + 1,
                image_id=idx + 1,
                category_id=1,
                bbox=[float(x0), float(y0),
                      float(w), float(h)],
                area=float(w * h),
                iscrowd=0,
                num_keypoints=17,
                keypoints=keypoints.reshape(-1).round(2).tolist()))
    coco = dict(
        images=images,
        annotations=annotations,
        categories=[dict(id=1, name='person', supercategory='person')])
    with open(osp.join(root, 'annotations', 'keypoints.json'), 'w') as f:
        json.dump(coco, f)
    return root


def write_tiny_config(path: str,
                      data_root: str,
                      max_iters: int = 6,
                      ckpt_interval: int = 2,
                      batch_size: int = 2,
                      lr: float = 2e-3,
                      base_batch_size: int = 4,
                      extra_hooks: Optional[List[dict]] = None) -> str:
    """Write the tiny experiment config to ``path``.

    Args:
        path (str): Config file path (``.py``).
        data_root (str): Dataset written by :func:`write_tiny_coco`.
        max_iters (int): Training iterations.
        ckpt_interval (int): Checkpoint every this many iterations.
        batch_size (int): Samples per process and iteration.
        lr (float): Adam learning rate.
        base_batch_size (int): ``auto_scale_lr.base_batch_size``.
        extra_hooks (list[dict], optional): Hooks from the module that
            :func:`write_test_hooks` writes, e.g.
            ``dict(type='TestRankWeightsDumpHook', out_dir=...)``; the config
            then imports that module (its directory must be on
            ``PYTHONPATH``).

    Returns:
        str: ``path``.
    """
    imports = ['posewarper_mm']
    hooks_text = ''
    if extra_hooks:
        imports.append(TEST_HOOKS_MODULE)
        hooks_text = f' + {extra_hooks!r}'
    text = _CONFIG_TEMPLATE.format(
        imports=imports,
        data_root=data_root,
        max_iters=max_iters,
        ckpt_interval=ckpt_interval,
        batch_size=batch_size,
        lr=lr,
        base_batch_size=base_batch_size,
        extra_hooks=hooks_text)
    with open(path, 'w') as f:
        f.write(text)
    return path


def write_test_hooks(directory: str) -> str:
    """Write the test hook module into ``directory`` and return its path."""
    path = osp.join(directory, f'{TEST_HOOKS_MODULE}.py')
    with open(path, 'w') as f:
        f.write(_TEST_HOOKS)
    return path


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def tool_env(extra_pythonpath: Optional[str] = None,
             port: Optional[int] = None) -> Dict[str, str]:
    """Environment for running the tools in a subprocess.

    Args:
        extra_pythonpath (str, optional): Directory prepended to
            ``PYTHONPATH`` (e.g. where a test hook module lives).
        port (int, optional): ``PORT`` for the dist scripts.

    Returns:
        dict: A copy of ``os.environ`` with ``PYTHON`` set to this
        interpreter and one thread per process.
    """
    env = dict(os.environ)
    env['PYTHON'] = sys.executable
    env['OMP_NUM_THREADS'] = '1'
    env['MKL_NUM_THREADS'] = '1'
    if extra_pythonpath:
        env['PYTHONPATH'] = os.pathsep.join(
            p for p in (extra_pythonpath, env.get('PYTHONPATH')) if p)
    if port is not None:
        env['PORT'] = str(port)
    return env


def run_tool(args: List[str],
             env: Dict[str, str],
             cwd: str,
             timeout: float = 240) -> subprocess.CompletedProcess:
    """Run a tool command and fail with its output if it fails."""
    proc = subprocess.run(
        args,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(
            f'{" ".join(args)} exited with {proc.returncode}:\n'
            f'{proc.stdout[-6000:]}')
    return proc


def read_train_scalars(work_dir: str) -> List[dict]:
    """Read the training records of every run in ``work_dir``.

    Args:
        work_dir (str): The runner's work directory.

    Returns:
        list[dict]: Records with a ``loss`` key from all
        ``<timestamp>/vis_data/scalars.json`` files, in run order.
    """
    records = []
    runs = sorted(
        d for d in os.listdir(work_dir) if re.fullmatch(r'\d{8}_\d{6}', d))
    for run in runs:
        path = osp.join(work_dir, run, 'vis_data', 'scalars.json')
        if not osp.isfile(path):
            continue
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if 'loss' in record:
                    records.append(record)
    return records
