"""The shipped configs agree with each other where inheritance cannot.

- Stage 1 and stage 2 write their backbone, codec, pipelines, data and
  evaluation separately (recipes and quickstart): they must stay equal.
- The quickstart replaces the recipes' pipelines wholesale (lists do not
  merge): they must keep the recipes' steps, stage 2 adding its key-frame
  occluders.
- Each config inherits one base, with no ``{{_base_.x}}`` placeholders,
  and packs with the package's meta keys.
"""
import re
from pathlib import Path
from typing import Any, Set

import pytest
from mmengine.config import Config

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs'
CONFIGS = sorted(CONFIG_DIR.rglob('*.py'))
STAGE1 = 'posewarper-stage1_hrnet-w48_posetrack18.py'
STAGE2 = 'posewarper_hrnet-w48_posetrack18.py'
QUICK1 = 'quickstart/posewarper-stage1_hrnet-tiny_synthetic.py'
QUICK2 = 'quickstart/posewarper_hrnet-tiny_synthetic.py'
SHARED_BY_STAGES = [
    'custom_imports', 'randomness', 'default_scope', 'log_processor',
    'env_cfg', 'codec', 'model.backbone.type', 'model.backbone.extra',
    'model.data_preprocessor.mean', 'model.data_preprocessor.std',
    'model.data_preprocessor.channels_last', 'model.head.decoder',
    'model.head.loss', 'dataset_type', 'data_mode', 'data_root',
    'val_pipeline', 'train_dataloader.num_workers',
    'train_dataloader.sampler', 'train_dataloader.dataset.data_root',
    'train_dataloader.dataset.ann_file', 'val_dataloader.num_workers',
    'val_dataloader.dataset', 'val_evaluator', 'test_evaluator'
]
KEY_FRAME_OCCLUSION = 'RandomKeyFrameOcclusion'


def _load(name: str) -> Config:
    return Config.fromfile(str(CONFIG_DIR / name))


def _get(cfg: Config, path: str) -> Any:
    for key in path.split('.'):
        cfg = cfg.get(key, '<unset>')
    return cfg


def _steps(pipeline) -> list:
    return [step['type'] for step in pipeline]


def _without(value: Any, keys: Set[str]) -> Any:
    """A dataset's settings without one stage's own ``keys``."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in keys}
    return value


@pytest.mark.parametrize('stage1, stage2', [(STAGE1, STAGE2),
                                            (QUICK1, QUICK2)])
def test_stages_share_model_data_and_evaluation(stage1, stage2):
    first, second = _load(stage1), _load(stage2)
    window = second.val_dataloader.dataset.keys() - \
        first.val_dataloader.dataset.keys()
    assert window <= {'frame_sampler_mode', 'frame_offsets', 'frame_weights'}
    for path in SHARED_BY_STAGES:
        one = _without(_get(first, path), {'single_frame'})
        two = _without(_get(second, path), window)
        assert one == two, f'{path} differs between {stage1} and {stage2}'
    # stage 2 may add its key-frame occluders, nothing else
    assert list(first.train_pipeline) == [
        step for step in second.train_pipeline
        if step['type'] != KEY_FRAME_OCCLUSION
    ]


@pytest.mark.parametrize('quick, recipe', [(QUICK1, STAGE1), (QUICK2, STAGE2)])
def test_quickstart_keeps_the_recipes_pipeline_steps(quick, recipe):
    quick_cfg, recipe_cfg = _load(quick), _load(recipe)
    for name in ('train', 'val', 'test'):
        loader = f'{name}_dataloader'
        steps = _steps(quick_cfg[loader].dataset.pipeline)
        if name == 'train' and quick == QUICK2:
            steps.remove(KEY_FRAME_OCCLUSION)
        assert steps == _steps(recipe_cfg[loader].dataset.pipeline), loader


@pytest.mark.parametrize(
    'path', CONFIGS, ids=lambda p: str(p.relative_to(CONFIG_DIR)))
def test_config_has_one_base_no_placeholders_and_package_meta_keys(path):
    text = path.read_text()
    assert '{{' not in text and '_base_.' not in text, path
    bases = re.findall(r"^_base_ = \[([^\]]*)\]", text, re.M)
    assert len(bases) == 1, f'{path}: expected one `_base_ = [...]` line'
    assert len(re.findall(r"'[^']+'", bases[0])) == 1, path
    cfg = Config.fromfile(str(path))
    for loader in ('train', 'val', 'test'):
        packs = [
            step for step in cfg[f'{loader}_dataloader'].dataset.pipeline
            if 'Pack' in step['type']
        ]
        assert [s['type'] for s in packs] == ['PackVideoPoseInputs'], path
        assert 'meta_keys' not in packs[0], path
