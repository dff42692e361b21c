"""The shipped configs agree with each other where they should.

Every config is written out (or inherits one base), so the same settings
appear in several files. These tests compare the resolved configs, so a
setting changed in one recipe and forgotten in another fails here:

- the quickstart configs are their PoseTrack18 recipe with only the
  listed settings changed (so the quickstart runs the real code path);
- stage 1 and stage 2 share the backbone, codec, normalisation, pipelines,
  data and evaluation, in the recipes and in the quickstart;
- no config restates the packing meta keys or uses ``{{_base_.x}}``
  placeholders, and each inherits one base.
"""
import re
from pathlib import Path
from typing import Any, Dict, Iterable, Set

import pytest
from mmengine.config import Config

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs'
CONFIGS = sorted(CONFIG_DIR.rglob('*.py'))
STAGE1 = 'posewarper-stage1_hrnet-w48_posetrack18.py'
STAGE2 = 'posewarper_hrnet-w48_posetrack18.py'
QUICK1 = 'quickstart/posewarper-stage1_hrnet-tiny_synthetic.py'
QUICK2 = 'quickstart/posewarper_hrnet-tiny_synthetic.py'


def _load(name: str) -> dict:
    return Config.fromfile(str(CONFIG_DIR / name)).to_dict()


def _flatten(value: Any, prefix: str = '') -> Dict[str, Any]:
    """Leaf paths of a resolved config.

    List items that are typed dicts (pipeline steps, hooks, schedulers) are
    keyed by their type, so a path reads ``train_pipeline.RandomFlip.prob``.
    """
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)) and value and all(
            isinstance(v, dict) and 'type' in v for v in value):
        types = [v['type'] for v in value]
        assert len(set(types)) == len(types), f'{prefix}: repeated types'
        items = zip(types, value)
    else:
        return {prefix: value}
    out = {}
    for key, item in items:
        out.update(_flatten(item, f'{prefix}.{key}' if prefix else str(key)))
    return out


def _differing(a: dict, b: dict) -> Set[str]:
    flat_a, flat_b = _flatten(a), _flatten(b)
    missing = object()
    return {
        path
        for path in set(flat_a) | set(flat_b)
        if flat_a.get(path, missing) != flat_b.get(path, missing)
    }


def _covered(path: str, allowed: Iterable[str]) -> bool:
    return any(path == a or path.startswith(a + '.') for a in allowed)


def _both(*paths: str, loaders=('train', 'val', 'test')) -> list:
    return [f'{loader}_dataloader.{p}' for loader in loaders for p in paths]


TRAIN_PIPELINES = ('train_pipeline', 'train_dataloader.dataset.pipeline')
TEST_PIPELINES = ('val_pipeline', 'val_dataloader.dataset.pipeline',
                  'test_dataloader.dataset.pipeline')

# What the quickstart changes in either recipe: model and input size,
# codec, schedule, rotation range, half-body crops, data path, loaders and
# ground-truth boxes.
QUICKSTART_CHANGES = [
    # schedule (in iterations) and checkpointing
    'train_cfg.by_epoch',
    'train_cfg.max_epochs',
    'train_cfg.max_iters',
    'train_cfg.val_interval',
    'optim_wrapper.optimizer.lr',
    'param_scheduler.MultiStepLR.by_epoch',
    'param_scheduler.MultiStepLR.end',
    'param_scheduler.MultiStepLR.milestones',
    'auto_scale_lr.base_batch_size',
    'default_hooks.checkpoint',
    'log_processor.by_epoch',
    # tiny model, 96x64 input
    'codec',
    'model.backbone.extra',
    'model.head.decoder',
    *[f'{p}.TopdownAffine.input_size' for p in TRAIN_PIPELINES],
    *[f'{p}.GenerateTarget.encoder' for p in TRAIN_PIPELINES],
    *[f'{p}.TopdownAffine.input_size' for p in TEST_PIPELINES],
    # UDP: its affine transform, and its flip test needs no shift
    *[f'{p}.TopdownAffine.use_udp' for p in TRAIN_PIPELINES],
    *[f'{p}.TopdownAffine.use_udp' for p in TEST_PIPELINES],
    'model.test_cfg.shift_heatmap',
    # rotation up to 30 degrees (upright generated figures)
    *[f'{p}.RandomBBoxTransform.rotate_factor' for p in TRAIN_PIPELINES],
    # no half-body crops (they hide which way a figure faces)
    *[f'{p}.RandomHalfBody.prob' for p in TRAIN_PIPELINES],
    # the generated data on a small machine (channels-last frames: faster
    # convolutions on a CPU)
    'model.data_preprocessor.channels_last',
    'data_root',
    *_both('dataset.data_root'),
    'train_dataloader.dataset.ann_file',
    'train_dataloader.batch_size',
    'train_dataloader.sampler.type',
    *_both('num_workers'),
    *_both('persistent_workers', loaders=('val', 'test')),
    *_both('dataset.bbox_file', loaders=('val', 'test')),
    'val_evaluator.ann_file',
    'val_evaluator.gt_folder',
    'test_evaluator.ann_file',
    'test_evaluator.gt_folder',
]
# Stage 2's own augmentation: occluders pasted on the key frame.
KEY_FRAME_OCCLUSION = [
    f'{p}.RandomKeyFrameOcclusion' for p in TRAIN_PIPELINES
]
QUICKSTART_STAGE_CHANGES = {
    QUICK1: [
        'model.head.in_channels',
        'custom_hooks.InitialWeightsCheckHook',
    ],
    QUICK2: [
        'model.neck.in_channels',
        'model.neck.inner_channels',
        'model.neck.dilations',
        'model.neck.res_blocks_cfg.num_blocks',
        'model.neck.deform_backend',
        # occluders pasted on the key frame (the temporal model's training)
        *KEY_FRAME_OCCLUSION,
        # two supporting frames per training sample, the loss on their mean
        'train_dataloader.dataset.num_sampled_frames',
        'train_dataloader.dataset.frame_weights',
        # flip test as in stage 1: the two stages are compared alike
        'model.test_cfg.flip_test',
        'load_from',
        *_both('batch_size', loaders=('val', 'test')),
    ],
}
RECIPE = {QUICK1: STAGE1, QUICK2: STAGE2}

# What the two stages of one family (recipes, quickstart) must share.
SHARED_BY_STAGES = [
    'custom_imports', 'randomness', 'default_scope', 'default_hooks',
    'log_processor', 'env_cfg', 'codec', 'model.backbone.type',
    'model.backbone.in_channels', 'model.backbone.extra',
    'model.data_preprocessor.mean', 'model.data_preprocessor.std',
    'model.data_preprocessor.bgr_to_rgb', 'model.head.decoder',
    'model.head.loss', 'dataset_type', 'data_mode', 'data_root',
    'train_pipeline', 'val_pipeline', 'train_dataloader.num_workers',
    'train_dataloader.persistent_workers', 'train_dataloader.sampler',
    'train_dataloader.dataset.type', 'train_dataloader.dataset.data_root',
    'train_dataloader.dataset.ann_file', 'train_dataloader.dataset.pipeline',
    'val_dataloader.num_workers', 'val_dataloader.persistent_workers',
    'val_dataloader.sampler', 'val_dataloader.dataset.type',
    'val_dataloader.dataset.data_root', 'val_dataloader.dataset.ann_file',
    'val_dataloader.dataset.bbox_file', 'val_dataloader.dataset.filter_cfg',
    'val_dataloader.dataset.pipeline', 'val_evaluator', 'test_evaluator'
]


@pytest.mark.parametrize('quick', [QUICK1, QUICK2])
def test_quickstart_changes_only_the_listed_settings(quick):
    allowed = QUICKSTART_CHANGES + QUICKSTART_STAGE_CHANGES[quick]
    differing = _differing(_load(RECIPE[quick]), _load(quick))
    unexpected = sorted(p for p in differing if not _covered(p, allowed))
    assert not unexpected, (f'{quick} differs from {RECIPE[quick]} in '
                            f'settings it should keep: {unexpected}')
    unused = [
        a for a in allowed if not any(_covered(p, [a]) for p in differing)
    ]
    assert not unused, f'listed as changed but equal: {unused}'


@pytest.mark.parametrize(
    'stage1, stage2, own',
    [
        (STAGE1, STAGE2, []),
        # each quickstart stage checkpoints once, at its own length
        # and only stage 2 pastes occluders on the key frame
        (QUICK1, QUICK2, [
            'default_hooks.checkpoint.interval', *KEY_FRAME_OCCLUSION
        ])
    ])
def test_stages_share_model_data_and_evaluation(stage1, stage2, own):
    first, second = _flatten(_load(stage1)), _flatten(_load(stage2))
    for key in SHARED_BY_STAGES:
        part1, part2 = ({
            p: v
            for p, v in flat.items()
            if _covered(p, [key]) and not _covered(p, own)
        } for flat in (first, second))
        assert part1, f'{stage1}: no {key}'
        assert part1 == part2, f'{key} differs between {stage1} and {stage2}'


@pytest.mark.parametrize(
    'path', CONFIGS, ids=lambda p: str(p.relative_to(CONFIG_DIR)))
def test_config_text_has_one_base_and_no_placeholders(path):
    text = path.read_text()
    assert '{{' not in text and '_base_.' not in text, path
    bases = re.findall(r"^_base_ = \[([^\]]*)\]", text, re.M)
    assert len(bases) == 1, f'{path}: expected one `_base_ = [...]` line'
    assert len(re.findall(r"'[^']+'", bases[0])) == 1, path


@pytest.mark.parametrize(
    'path', [p for p in CONFIGS if '_base_' not in p.parts],
    ids=lambda p: str(p.relative_to(CONFIG_DIR)))
def test_pack_step_uses_the_package_meta_keys(path):
    """Packing keeps MULTI_FRAME_META_KEYS; no config restates a list."""
    flat = _flatten(Config.fromfile(str(path)).to_dict())
    packs = [p for p in flat if '.PackVideoPoseInputs.' in p + '.']
    assert packs, f'{path}: no PackVideoPoseInputs step'
    assert not [p for p in flat if p.endswith('meta_keys')], path
    assert not [p for p in flat if '.PackPoseInputs' in p], path
