"""Tiny model configs, inputs and data samples of the model tests."""
import copy
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample
from torch import nn

import posewarper_mm  # noqa: F401  (registers the models)

NUM_KEYPOINTS = 17
INPUT_SIZE = (32, 64)  # (w, h); HRNet needs multiples of 32
HEATMAP_SIZE = (8, 16)  # (w, h)
FLIP_INDICES = [0, 1, 2, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]

TINY_HRNET = dict(
    type='HRNet',
    in_channels=3,
    extra=dict(
        stage1=dict(
            num_modules=1,
            num_branches=1,
            block='BOTTLENECK',
            num_blocks=(1, ),
            num_channels=(8, )),
        stage2=dict(
            num_modules=1,
            num_branches=2,
            block='BASIC',
            num_blocks=(1, 1),
            num_channels=(8, 16)),
        stage3=dict(
            num_modules=1,
            num_branches=3,
            block='BASIC',
            num_blocks=(1, 1, 1),
            num_channels=(8, 16, 32)),
        stage4=dict(
            num_modules=1,
            num_branches=4,
            block='BASIC',
            num_blocks=(1, 1, 1, 1),
            num_channels=(8, 16, 32, 64))))

CODEC = dict(
    type='MSRAHeatmap',
    input_size=INPUT_SIZE,
    heatmap_size=HEATMAP_SIZE,
    sigma=2)


def hrnet_cfg(frozen_stages: int = -1) -> dict:
    """Tiny HRNet (branch 0 has 8 channels, output stride 4)."""
    cfg = copy.deepcopy(TINY_HRNET)
    cfg['frozen_stages'] = frozen_stages
    return cfg


def small_neck_cfg(**overrides) -> dict:
    """A fast PoseWarpingNeck on the tiny HRNet."""
    cfg = dict(
        type='PoseWarpingNeck',
        in_channels=8,
        out_channels=NUM_KEYPOINTS,
        inner_channels=16,
        res_blocks_cfg=dict(block='BASIC', num_blocks=2),
        dilations=(3, 6))
    cfg.update(overrides)
    return cfg


def estimator_cfg(stage2: bool = True,
                  neck: Optional[dict] = None,
                  test_cfg: Optional[dict] = None,
                  **overrides) -> dict:
    """Tiny PoseWarperEstimator config (stage 2 freezing by default)."""
    neck_cfg = small_neck_cfg(freeze_trans_layer=stage2)
    neck_cfg.update(neck or {})
    cfg = dict(
        type='PoseWarperEstimator',
        backbone=hrnet_cfg(frozen_stages=4 if stage2 else -1),
        neck=neck_cfg,
        head=dict(type='TemporalAggregationHead', decoder=CODEC),
        test_cfg=test_cfg or dict(flip_test=False, shift_heatmap=True),
        data_preprocessor=dict(
            type='MultiFramePoseDataPreprocessor',
            mean=MEAN,
            std=STD,
            bgr_to_rgb=True))
    cfg.update(overrides)
    return cfg


def stage1_cfg() -> dict:
    """Tiny single-frame TopdownPoseEstimator (HeatmapHead 8 -> 17)."""
    return dict(
        type='TopdownPoseEstimator',
        backbone=hrnet_cfg(),
        head=dict(
            type='HeatmapHead',
            in_channels=8,
            out_channels=NUM_KEYPOINTS,
            deconv_out_channels=None,
            decoder=CODEC),
        test_cfg=dict(flip_test=False))


def build(cfg: dict) -> nn.Module:
    """Build from mmpose's registry with mmpose as default scope (as the
    runner does, so nested builds such as the data preprocessor resolve)."""
    init_default_scope('mmpose')
    return MODELS.build(copy.deepcopy(cfg))


@torch.no_grad()
def randomize_(module: nn.Module, seed: int = 0, scale: float = 0.1) -> None:
    """Fill every parameter and BN statistic with random values."""
    gen = torch.Generator().manual_seed(seed)
    for name, tensor in module.state_dict().items():
        if not tensor.is_floating_point():
            continue
        rand = torch.randn(tensor.shape, generator=gen)
        if name.endswith('running_var'):
            tensor.copy_(rand.abs() * 0.5 + 0.5)
        elif name.endswith('running_mean'):
            tensor.copy_(rand * 0.1)
        elif name.endswith('.weight') and tensor.dim() == 1:  # norm scale
            tensor.copy_(1.0 + rand * 0.2)
        else:
            tensor.copy_(rand * scale)


def make_data_samples(batch_size: int,
                      frame_weights: Optional[Sequence] = None,
                      seed: int = 0,
                      heatmap_size: Sequence[int] = HEATMAP_SIZE) -> list:
    """PoseDataSamples with key-frame targets and top-down metainfo.

    ``frame_weights`` is one sequence per sample (or None: no weights);
    ``heatmap_size`` is the targets' (w, h).
    """
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for idx in range(batch_size):
        metainfo = dict(
            input_size=INPUT_SIZE,
            input_center=np.array([100.0 + idx, 80.0], dtype=np.float32),
            input_scale=np.array([96.0, 128.0], dtype=np.float32),
            flip_indices=FLIP_INDICES,
            img_shape=(240, 320),
            ori_shape=(240, 320))
        if frame_weights is not None:
            metainfo['frame_weights'] = np.asarray(
                frame_weights[idx], dtype=np.float32)
        sample = PoseDataSample(metainfo=metainfo)
        sample.gt_fields = PixelData(
            heatmaps=torch.rand(
                NUM_KEYPOINTS, heatmap_size[1], heatmap_size[0],
                generator=gen))
        sample.gt_instance_labels = InstanceData(
            keypoint_weights=torch.ones(1, NUM_KEYPOINTS))
        sample.gt_instances = InstanceData(
            bboxes=np.array([[52.0, 16.0, 148.0, 144.0]], dtype=np.float32),
            bbox_scores=np.ones(1, dtype=np.float32))
        samples.append(sample)
    return samples


def make_inputs(batch_size: int, num_frames: int, seed: int = 0):
    """Normalised-looking float frames (B, T, 3, 64, 32)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(
        batch_size, num_frames, 3, INPUT_SIZE[1], INPUT_SIZE[0], generator=gen)


def plain_msra_codec(codec: dict) -> dict:
    """Plain MSRA decoding (argmax plus a quarter-pixel step) of the same
    input and heatmap sizes as ``codec``.

    The quickstart's UDP codec refines the maximum with a Newton step on the
    log-heatmap. On an untrained model's non-Gaussian heatmaps that step
    may move a keypoint beyond the crop and magnify last-bit rounding,
    which says nothing about what the tests using this check (coordinate
    mapping, identity warps).
    """
    return dict(
        type='MSRAHeatmap',
        input_size=tuple(codec['input_size']),
        heatmap_size=tuple(codec['heatmap_size']),
        sigma=codec['sigma'])


def train_steps(model: nn.Module, steps: int, num_frames: int,
                lr: float = 1e-2, seed: int = 0) -> nn.Module:
    """``steps`` Adam steps of ``model`` (a config's model, e.g. the
    quickstart's) on random frames and targets, so that its trainable
    weights (the warping neck's offsets) are no longer their initial
    values; returns it in eval mode."""
    width, height = model.cfg.codec.input_size
    heatmap_size = model.cfg.codec.heatmap_size
    weights = [[0.0] + [1.0 / (num_frames - 1)] * (num_frames - 1)] * 2 \
        if num_frames > 1 else None
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for step in range(steps):
        inputs = torch.randn(2, num_frames, 3, height, width, generator=gen)
        if num_frames == 1:
            inputs = inputs[:, 0]
        samples = make_data_samples(2, weights, seed + step, heatmap_size)
        loss = model.loss(inputs, samples)['loss_kpt']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()
