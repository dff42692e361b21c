"""Stage 1 then stage 2 training with the quickstart configs, no manual step.

Stage 2's ``load_from`` is the stage-1 checkpoint. The stage-2 model moves
``head.final_layer.*`` into ``neck.trans_layer.*`` when loading, and keeps
the backbone and ``trans_layer`` frozen, so after stage-2 training those
weights must still equal the stage-1 ones. Stage 2 is started with
``--resume`` on an empty work directory: it must start from ``load_from``
(not from random weights) and a second call must resume stage 2 itself.
"""
import os.path as osp
import sys

import pytest
import torch

from posewarper_mm.engine import allow_mmengine_checkpoint_globals
from tests.testing import tiny_quickstart as qs
from tests.testing import tiny_topdown_experiment as tiny

MISSING = qs.missing_pieces()
pytestmark = pytest.mark.skipif(
    MISSING is not None, reason=f'quickstart pieces missing: {MISSING}')


def _train(config, work_dir, cwd, *extra):
    return tiny.run_tool([
        sys.executable,
        osp.join(tiny.TOOLS_DIR, 'train.py'), config, '--work-dir', work_dir,
        '--no-validate', *extra
    ],
                         tiny.tool_env(),
                         cwd=cwd,
                         timeout=300)


def test_stage1_then_stage2(tmp_path):
    allow_mmengine_checkpoint_globals()
    root = qs.generate_tiny_videos(str(tmp_path / 'data'))
    data = qs.data_options(root)
    cwd = str(tmp_path)

    stage1_dir = str(tmp_path / 'stage1')
    _train(qs.STAGE1_CFG, stage1_dir, cwd, '--cfg-options', *data,
           *qs.short_schedule(2, batch_size=4))
    stage1_ckpt = osp.join(stage1_dir, 'iter_2.pth')
    stage1 = torch.load(stage1_ckpt)['state_dict']

    # a stage-2 config whose load_from is the stage-1 checkpoint
    stage2_cfg = tmp_path / 'stage2.py'
    stage2_cfg.write_text(f'_base_ = [{qs.STAGE2_CFG!r}]\n'
                          f'load_from = {stage1_ckpt!r}\n')
    stage2_dir = str(tmp_path / 'stage2')
    proc = _train(
        str(stage2_cfg), stage2_dir, cwd, '--resume', '--cfg-options', *data,
        *qs.short_schedule(2, batch_size=2))
    assert f'Load checkpoint from {stage1_ckpt}' in proc.stdout
    stage2 = torch.load(osp.join(stage2_dir, 'iter_2.pth'))['state_dict']

    # the stage-1 head conv became the (frozen) warping-neck trans_layer
    for name in ('weight', 'bias'):
        assert torch.equal(stage2[f'neck.trans_layer.{name}'],
                           stage1[f'head.final_layer.{name}'])
    assert not any(key.startswith('head.final_layer') for key in stage2)
    # the frozen backbone kept the stage-1 weights
    backbone = [key for key in stage1 if key.startswith('backbone.')]
    assert backbone
    for key in backbone:
        assert torch.equal(stage2[key], stage1[key]), key
    # a second --resume continues stage 2 from its own checkpoint
    proc = _train(
        str(stage2_cfg), stage2_dir, cwd, '--resume', '--cfg-options', *data,
        *qs.short_schedule(3, batch_size=2))
    assert 'resumed epoch: 0, iter: 2' in proc.stdout
    resumed = torch.load(osp.join(stage2_dir, 'iter_3.pth'))
    assert resumed['meta']['iter'] == 3
    # the warping neck trains while the backbone stays frozen
    trained = [
        key for key in stage2 if key.startswith('neck.offset')
        and not torch.equal(stage2[key], resumed['state_dict'][key])
    ]
    assert trained
    for key in backbone:
        assert torch.equal(resumed['state_dict'][key], stage1[key]), key
    records = tiny.read_train_scalars(stage2_dir)
    assert [r['iter'] for r in records] == [1, 2, 3]
