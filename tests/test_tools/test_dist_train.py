"""2-process CPU data-parallel training through tools/dist_train.sh."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from posewarper_mm.engine import allow_mmengine_checkpoint_globals
from tests.testing import tiny_topdown_experiment as tiny

pytestmark = pytest.mark.skipif(
    torch.cuda.is_available(),
    reason='tests the gloo path of machines without CUDA')


def test_two_process_cpu_training(tmp_path):
    data_root = tiny.write_tiny_coco(str(tmp_path / 'data'), num_images=16)
    tiny.write_test_hooks(str(tmp_path))
    dump_dir = tmp_path / 'weights'
    dump_dir.mkdir()
    max_iters = 8
    config = tiny.write_tiny_config(
        str(tmp_path / 'tiny.py'),
        data_root,
        max_iters=max_iters,
        ckpt_interval=max_iters,
        lr=5e-3,
        extra_hooks=[
            dict(type='TestRankWeightsDumpHook', out_dir=str(dump_dir))
        ])
    work_dir = str(tmp_path / 'work')
    env = tiny.tool_env(extra_pythonpath=str(tmp_path), port=tiny.free_port())
    proc = tiny.run_tool([
        'bash',
        osp.join(tiny.TOOLS_DIR, 'dist_train.sh'), config, '2', '--work-dir',
        work_dir, '--auto-scale-lr'
    ],
                         env,
                         cwd=str(tmp_path),
                         timeout=300)
    assert 'Distributed training: True' in proc.stdout
    assert 'coco/AP' in proc.stdout  # validation ran on both processes
    # both ranks met at the end and timed the teardown
    assert 'process group (gloo) torn down: barrier' in proc.stdout

    dumped = Config.fromfile(
        osp.join(work_dir, 'tiny.py'), import_custom_modules=False)
    assert dumped.env_cfg.dist_cfg.backend == 'gloo'
    assert dumped.launcher == 'pytorch'

    # both ranks end with identical weights (parameters and BN buffers)
    rank0 = torch.load(str(dump_dir / 'rank0_weights.pth'))
    rank1 = torch.load(str(dump_dir / 'rank1_weights.pth'))
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    # ... and the saved checkpoint holds the same parameters
    allow_mmengine_checkpoint_globals()
    ckpt = torch.load(osp.join(work_dir, f'iter_{max_iters}.pth'))
    assert ckpt['meta']['iter'] == max_iters
    for key, value in ckpt['state_dict'].items():
        if 'running_' not in key:
            assert torch.equal(value, rank0[key]), key

    records = tiny.read_train_scalars(work_dir)
    assert [r['iter'] for r in records] == list(range(1, max_iters + 1))
    # --auto-scale-lr: 2 processes x batch 2 equals base batch 4 -> x1
    assert records[0]['lr'] == pytest.approx(5e-3)
    losses = [r['loss'] for r in records]
    first, last = sum(losses[:2]) / 2, sum(losses[-2:]) / 2
    assert last < 0.8 * first, losses
