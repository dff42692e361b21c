"""Every config under ``configs/`` loads, builds and runs on CPU.

Each model is built exactly as configured (W48 included) and runs one
training forward/backward and one prediction at a small input size.
"""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

import posewarper_mm  # noqa: F401
from posewarper_mm.datasets.temporal_window import TemporalWindow

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs'
CONFIGS = sorted(
    p for p in CONFIG_DIR.rglob('*.py') if '_base_' not in p.parts)
INPUT_HW = (64, 64)  # HRNet needs multiples of 32
NUM_KEYPOINTS = 17


def _config_id(path: Path) -> str:
    return str(path.relative_to(CONFIG_DIR))


def _frame_weights(cfg: Config, train: bool) -> np.ndarray:
    dataset = (cfg.train_dataloader if train else cfg.test_dataloader).dataset
    if dataset.get('single_frame', False):
        return np.array([1.0], dtype=np.float32)
    if train:
        return np.asarray(dataset.frame_weights, dtype=np.float32)
    window = TemporalWindow(dataset.frame_offsets, dataset.frame_weights)
    return window.key_first().weights_array()


def _batch(weights: np.ndarray, batch_size: int = 2) -> dict:
    h, w = INPUT_HW
    inputs, samples = [], []
    rng = np.random.default_rng(0)
    for _ in range(batch_size):
        inputs.append(
            torch.from_numpy(
                rng.integers(0, 255, (len(weights), 3, h, w), dtype=np.uint8)))
        sample = PoseDataSample(
            metainfo=dict(
                img_id=1,
                img_shape=(h, w),
                ori_shape=(h, w),
                input_size=(w, h),
                input_center=np.array([w / 2, h / 2], dtype=np.float32),
                input_scale=np.array([w, h], dtype=np.float32),
                flip_indices=list(range(NUM_KEYPOINTS)),
                frame_weights=weights,
                frame_offsets=np.arange(len(weights))))
        sample.gt_instances = InstanceData(
            bboxes=np.array([[0, 0, w, h]], dtype=np.float32),
            bbox_scores=np.ones(1, dtype=np.float32))
        sample.gt_instance_labels = InstanceData(
            keypoint_weights=torch.ones(1, NUM_KEYPOINTS))
        sample.gt_fields = PixelData(
            heatmaps=torch.rand(NUM_KEYPOINTS, h // 4, w // 4))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def test_configs_found():
    names = {p.name for p in CONFIGS}
    assert 'posewarper_hrnet-w48_posetrack18.py' in names
    assert 'posewarper-stage1_hrnet-w48_posetrack18.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=_config_id)
def test_config_builds_and_runs(path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'mmpose'
    assert cfg.custom_imports.imports == ['posewarper_mm']
    assert cfg.custom_imports.allow_failed_imports is False
    assert cfg.data_mode == 'topdown'
    assert 'auto_scale_lr' in cfg
    init_default_scope('mmpose')
    model = MODELS.build(cfg.model)

    torch.manual_seed(0)
    model.train()
    data = model.data_preprocessor(_batch(_frame_weights(cfg, True)), True)
    losses = model(**data, mode='loss')
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(loss)
    loss.backward()
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert trainable
    assert all(p.grad is not None for p in trainable)

    model.eval()
    with torch.no_grad():
        results = model.test_step(_batch(_frame_weights(cfg, False)))
    assert len(results) == 2
    for result in results:
        keypoints = result.pred_instances.keypoints
        assert keypoints.shape == (1, NUM_KEYPOINTS, 2)
        assert np.isfinite(keypoints).all()


@pytest.mark.parametrize('path', CONFIGS, ids=_config_id)
def test_config_sets_a_seed(path):
    """Without a seed, a resumed run cannot repeat an uninterrupted one."""
    cfg = Config.fromfile(str(path))
    seed = cfg.get('randomness', {}).get('seed', None)
    assert isinstance(seed, int) and not isinstance(seed, bool), seed
