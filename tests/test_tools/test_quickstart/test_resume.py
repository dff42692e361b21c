"""Kill -9 and ``--resume`` repeat an uninterrupted quickstart run exactly.

For both quickstart stages (iteration-based, CPU) a run with ``load_from``
given on the command line is killed with SIGKILL after iteration 3, between
the checkpoints of iterations 2 and 4, and resumed with ``--resume`` and the
same command line. Its final weights must equal, bit for bit, those of a
run that was never interrupted. Before the fix, ``--resume`` resumed from
the ``load_from`` file instead of the work directory's checkpoint (stage 1:
wrong iteration or a crash on a weights-only file; stage 2: a crash on the
stage-1 optimizer state), and the configs set no seed.
"""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config

from posewarper_mm.engine import allow_mmengine_checkpoint_globals
from tests.testing import tiny_quickstart as qs
from tests.testing import tiny_topdown_experiment as tiny

MISSING = qs.missing_pieces()
pytestmark = pytest.mark.skipif(
    MISSING is not None, reason=f'quickstart pieces missing: {MISSING}')

MAX_ITERS = 4
CKPT_INTERVAL = 2
KILL_AFTER_ITER = 3


def _schedule(batch_size):
    return [
        f'train_cfg.max_iters={MAX_ITERS}',
        f'train_cfg.val_interval={MAX_ITERS}',
        f'param_scheduler.0.end={MAX_ITERS}',
        f'default_hooks.checkpoint.interval={CKPT_INTERVAL}',
        'default_hooks.logger.interval=1', 'log_processor.window_size=1',
        f'train_dataloader.batch_size={batch_size}'
    ]


def _paused_config(base, path, ready_file):
    """``base`` plus a hook that pauses after iteration KILL_AFTER_ITER."""
    hooks = list(Config.fromfile(base).get('custom_hooks', []))
    hooks.append(
        dict(
            type='TestPauseAfterIterHook',
            at_iter=KILL_AFTER_ITER,
            ready_file=ready_file))
    with open(path, 'w') as f:
        f.write(f'_base_ = [{base!r}]\n'
                f"custom_imports = dict(imports=['posewarper_mm', "
                f"{tiny.TEST_HOOKS_MODULE!r}], allow_failed_imports=False)\n"
                f'custom_hooks = {[dict(h) for h in hooks]!r}\n')
    return path


def _cmd(config, work_dir, *extra):
    return [
        sys.executable,
        osp.join(tiny.TOOLS_DIR, 'train.py'), config, '--work-dir', work_dir,
        '--no-validate', *extra
    ]


def _kill_after_pause(cmd, env, cwd, ready):
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.time() + 300
        while not osp.exists(ready):
            assert proc.poll() is None, 'training exited before the pause'
            assert time.time() < deadline, 'training did not pause'
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def _kill_resume_compare(stage_cfg, options, tmp_path, name):
    """Reference run, killed run, resumed run; return the two results."""
    env = tiny.tool_env(extra_pythonpath=str(tmp_path))
    cwd = str(tmp_path)
    ref_dir = str(tmp_path / f'{name}_reference')
    tiny.run_tool(
        _cmd(stage_cfg, ref_dir, '--cfg-options', *options),
        env,
        cwd,
        timeout=400)

    ready = str(tmp_path / f'{name}_paused')
    paused = _paused_config(stage_cfg, str(tmp_path / f'{name}_paused.py'),
                            ready)
    work_dir = str(tmp_path / f'{name}_killed')
    _kill_after_pause(
        _cmd(paused, work_dir, '--cfg-options', *options), env, cwd, ready)
    assert osp.exists(osp.join(work_dir, f'iter_{CKPT_INTERVAL}.pth'))
    assert not osp.exists(osp.join(work_dir, f'iter_{MAX_ITERS}.pth'))

    proc = tiny.run_tool(
        _cmd(stage_cfg, work_dir, '--resume', '--cfg-options', *options),
        env,
        cwd,
        timeout=400)
    ckpt = osp.join(work_dir, f'iter_{CKPT_INTERVAL}.pth')
    assert f'--resume: resuming from {ckpt}' in proc.stdout
    assert 'is not used' in proc.stdout
    assert f'resumed epoch: 0, iter: {CKPT_INTERVAL}' in proc.stdout
    final = torch.load(osp.join(work_dir, f'iter_{MAX_ITERS}.pth'))
    expected = torch.load(osp.join(ref_dir, f'iter_{MAX_ITERS}.pth'))
    return final, expected


def _assert_bit_identical(final, expected):
    assert final['meta']['iter'] == expected['meta']['iter'] == MAX_ITERS
    assert final['state_dict'].keys() == expected['state_dict'].keys()
    differing = [
        key for key, value in expected['state_dict'].items()
        if not torch.equal(final['state_dict'][key], value)
    ]
    assert not differing, differing


def _pretrained_stage1(path):
    """A weights-only checkpoint of the stage-1 model (seeded init)."""
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS
    torch.manual_seed(1)
    init_default_scope('mmpose')
    model = MODELS.build(Config.fromfile(qs.STAGE1_CFG).model)
    model.init_weights()
    torch.save({'state_dict': model.state_dict()}, path)
    return path


def test_kill_and_resume_both_stages_bit_identical(tmp_path):
    allow_mmengine_checkpoint_globals()
    root = qs.generate_tiny_videos(str(tmp_path / 'data'))
    data = qs.data_options(root)
    tiny.write_test_hooks(str(tmp_path))

    pretrained = _pretrained_stage1(str(tmp_path / 'pretrained.pth'))
    final, expected = _kill_resume_compare(
        qs.STAGE1_CFG, [*data, *_schedule(4), f'load_from={pretrained}'],
        tmp_path, 'stage1')
    _assert_bit_identical(final, expected)

    stage1_ckpt = str(tmp_path / 'stage1_reference' / f'iter_{MAX_ITERS}.pth')
    final, expected = _kill_resume_compare(
        qs.STAGE2_CFG, [*data, *_schedule(2), f'load_from={stage1_ckpt}'],
        tmp_path, 'stage2')
    _assert_bit_identical(final, expected)
