"""Models and inputs of the PoseWarper benchmark, built from the configs.

The stage-1 model (HRNet + 1x1 head conv) and the stage-2 model
(:class:`PoseWarperEstimator`) are built from the project configs with
random weights. The stage-1 weights are loaded into the stage-2 model (the
head conv becomes ``neck.trans_layer``), so both share the backbone, and
the offset branch of the neck is scaled so that heatmap differences turn
into offsets of a few pixels: a zero-initialised offset branch would make
every warp the identity and the naive/batched comparison meaningless.
"""
import copy
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample
from torch import nn

import posewarper_mm  # noqa: F401  (registers the models)
from posewarper_mm.datasets.temporal_window import (DEFAULT_TEST_OFFSETS,
                                                    TemporalWindow,
                                                    default_train_weights)
# the quick mode's backbone is the test suite's tiny HRNet
from tests.testing.models import TINY_HRNET

HEATMAP_STRIDE = 4
OFFSET_STD_PIXELS = 2.0

QUICK_NECK = dict(
    inner_channels=16,
    res_blocks_cfg=dict(block='BASIC', num_blocks=2),
    dilations=(1, 2))


@dataclass
class BenchConfig:
    """Model configs and frame layout read from the two config files.

    Attributes:
        stage1 (ConfigDict): Stage-1 ``model`` config.
        stage2 (ConfigDict): Stage-2 ``model`` config.
        test_weights (tuple[float]): Key-first 5-frame test weights.
        test_offsets (tuple[int]): Key-first 5-frame test offsets.
        train_weights (tuple[float]): Key-first stage-2 training weights.
    """
    stage1: ConfigDict
    stage2: ConfigDict
    test_weights: Tuple[float, ...]
    test_offsets: Tuple[int, ...]
    train_weights: Tuple[float, ...]

    @property
    def crops_per_pass(self) -> Optional[int]:
        """The PoseWarper model's ``test_cfg.max_crops_per_pass``."""
        return (self.stage2.get('test_cfg', None)
                or {}).get('max_crops_per_pass', None)


def _dataset_cfg(cfg: Config, name: str) -> dict:
    loader = cfg.get(name, None) or {}
    return loader.get('dataset', None) or {}


def load_bench_config(stage2_path: str,
                      stage1_path: str,
                      quick: bool = False,
                      deform_backend: str = None,
                      crops_per_pass: Optional[int] = None) -> BenchConfig:
    """Read both configs, apply the quick-mode and backend overrides.

    Args:
        stage2_path (str): PoseWarper (stage-2) config file.
        stage1_path (str): Single-frame (stage-1) config file.
        quick (bool): Use a tiny HRNet and a 2-block neck.
        deform_backend (str, optional): Override the neck's
            ``deform_backend``.
        crops_per_pass (int, optional): Set the PoseWarper model's
            ``test_cfg.max_crops_per_pass`` (0: None, all crops of a call
            in one pass); None keeps the config's.

    Returns:
        BenchConfig: The model configs and frame layout.
    """
    cfg2 = Config.fromfile(stage2_path)
    cfg1 = Config.fromfile(stage1_path)
    for path, cfg in ((stage2_path, cfg2), (stage1_path, cfg1)):
        if 'model' not in cfg:
            raise ValueError(f'{path}: the config has no `model`')
    stage2, stage1 = copy.deepcopy(cfg2.model), copy.deepcopy(cfg1.model)
    if stage2.get('neck', None) is None:
        raise ValueError(f'{stage2_path}: the model has no neck; expected a '
                         'PoseWarperEstimator with a PoseWarpingNeck')
    if quick:
        for model in (stage1, stage2):
            model.backbone.extra = ConfigDict(
                copy.deepcopy(TINY_HRNET['extra']))
        stage2.neck.update(copy.deepcopy(QUICK_NECK))
    channels = stage2.backbone.extra.stage4.num_channels[0]
    stage2.neck.in_channels = channels
    stage1.head.in_channels = channels
    if deform_backend:
        stage2.neck.deform_backend = deform_backend
    if crops_per_pass is not None:
        stage2.test_cfg = ConfigDict(stage2.get('test_cfg', None) or {})
        stage2.test_cfg.max_crops_per_pass = crops_per_pass or None

    test_ds = _dataset_cfg(cfg2, 'val_dataloader')
    offsets = test_ds.get('frame_offsets', DEFAULT_TEST_OFFSETS)
    weights = test_ds.get('frame_weights', None)
    try:
        window = (
            TemporalWindow.with_default_weights(offsets)
            if weights is None else TemporalWindow(offsets, weights))
    except ValueError as err:
        raise ValueError(f'{stage2_path}: val dataset: {err}') from err
    window = window.key_first()
    train_ds = _dataset_cfg(cfg2, 'train_dataloader')
    train_weights = tuple(
        float(w) for w in train_ds.get(
            'frame_weights',
            default_train_weights(train_ds.get('num_sampled_frames', 1))))
    return BenchConfig(stage1, stage2, window.weights, window.offsets,
                       train_weights)


def build_model(model_cfg: ConfigDict, seed: int) -> nn.Module:
    """Build a model with PyTorch's default (seeded) random weights."""
    init_default_scope('mmpose')
    torch.manual_seed(seed)
    return MODELS.build(copy.deepcopy(model_cfg))


def random_frames(batch: int, num_frames: int, input_size: Tuple[int, int],
                  seed: int) -> torch.Tensor:
    """Normalised-looking frames (B, T, 3, H, W); input_size is (H, W)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, num_frames, 3, *input_size, generator=gen)


def inference_samples(batch: int, frame_weights: Sequence[float]) -> List:
    """Data samples carrying only the per-sample frame weights."""
    weights = np.asarray(frame_weights, dtype=np.float32)
    return [
        PoseDataSample(metainfo=dict(frame_weights=weights.copy()))
        for _ in range(batch)
    ]


def training_samples(batch: int, num_keypoints: int,
                     heatmap_size: Tuple[int, int], device: torch.device,
                     frame_weights: Sequence[float], seed: int) -> List:
    """Data samples with random key-frame targets for ``model.loss``.

    Args:
        batch (int): Number of samples.
        num_keypoints (int): K.
        heatmap_size (tuple[int, int]): (h, w) of the target heatmaps.
        device (torch.device): Where the targets live.
        frame_weights (Sequence[float]): Per-frame weights (metainfo).
        seed (int): Random seed of the targets.

    Returns:
        list[PoseDataSample]: ``gt_fields.heatmaps`` (K, h, w),
        ``gt_instance_labels.keypoint_weights`` (1, K) and metainfo.
    """
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(batch):
        sample = PoseDataSample(
            metainfo=dict(
                frame_weights=np.asarray(frame_weights, dtype=np.float32)))
        sample.gt_fields = PixelData(
            heatmaps=torch.rand(num_keypoints, *heatmap_size,
                                generator=gen).to(device))
        sample.gt_instance_labels = InstanceData(
            keypoint_weights=torch.ones(1, num_keypoints, device=device))
        samples.append(sample)
    return samples


@torch.no_grad()
def _scale_to_std(conv: nn.Conv2d, output: torch.Tensor,
                  target_std: float) -> None:
    std = float(output.float().std())
    if std > 0:
        conv.weight.mul_(target_std / std)
        if conv.bias is not None:
            conv.bias.mul_(target_std / std)


@torch.no_grad()
def prepare_models(stage1: nn.Module, stage2: nn.Module,
                   key_frames: torch.Tensor, other_frames: torch.Tensor,
                   seed: int) -> dict:
    """Share weights between the models and make the warp non-trivial.

    1. The stage-1 head conv is scaled so key-frame heatmaps have unit
       standard deviation.
    2. The stage-1 weights are loaded into the stage-2 model (its load
       hook moves ``head.final_layer`` to ``neck.trans_layer``).
    3. The convs of the neck's offset branch get PyTorch's default random
       init and each offset conv is scaled so that its offsets have a
       standard deviation of ``OFFSET_STD_PIXELS``.

    Args:
        stage1 (nn.Module): Stage-1 ``TopdownPoseEstimator`` (eval mode).
        stage2 (nn.Module): Stage-2 ``PoseWarperEstimator`` (eval mode).
        key_frames (Tensor): (B, 3, H, W) key frames.
        other_frames (Tensor): (B, 3, H, W) supporting frames.
        seed (int): Seed of the offset-branch init.

    Returns:
        dict: ``heatmap_std``, ``offset_std`` and the stage-2 modules
        that did not receive weights from stage 1.
    """
    final = stage1.head.final_layer
    _scale_to_std(final, stage1._forward(key_frames), 1.0)
    result = stage2.load_state_dict(stage1.state_dict(), strict=False)
    if result.unexpected_keys:
        raise RuntimeError('stage-1 keys not used by the stage-2 model: '
                           f'{result.unexpected_keys}')
    neck = stage2.neck
    torch.manual_seed(seed)
    for module in [*neck.offset_feats.modules(), *neck.offset_layers]:
        if isinstance(module, nn.Conv2d):
            module.reset_parameters()
    heatmaps = neck.heatmaps(
        stage2.backbone(torch.cat([key_frames, other_frames])))
    key, other = heatmaps.chunk(2)
    feats = neck.offset_feats(key - other)
    for layer in neck.offset_layers:
        _scale_to_std(layer, layer(feats), OFFSET_STD_PIXELS)
    offsets = neck.compute_offsets(key - other)
    neck.clear_key_offsets_cache()
    return dict(
        heatmap_std=float(key.std()),
        offset_std=[float(o.std()) for o in offsets],
        not_from_stage1=sorted(
            {'.'.join(k.split('.')[:2])
             for k in result.missing_keys}))


def count_parameters(model: nn.Module) -> dict:
    """Total and trainable parameter counts."""
    params = list(model.parameters())
    return dict(
        total=sum(p.numel() for p in params),
        trainable=sum(p.numel() for p in params if p.requires_grad))


def set_memory_format(module: nn.Module, channels_last: bool) -> None:
    """Put the weights of ordinary convolutions (not the deformable ones,
    whose kernels read contiguous weights) in the requested layout."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    for sub in module.modules():
        if isinstance(sub, (nn.Conv2d, nn.ConvTranspose2d)):
            sub.weight.data = sub.weight.data.contiguous(memory_format=fmt)
