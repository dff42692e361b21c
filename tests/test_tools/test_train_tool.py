"""Tests for tools/train.py: argument merging, training, kill and resume."""
import glob
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config

from tests.testing import load_tool
from tests.testing import tiny_topdown_experiment as tiny

train_tool = load_tool('tools/train.py')


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    return tiny.write_tiny_coco(str(tmp_path_factory.mktemp('tiny_coco')))


def _merged(config, *argv):
    args = train_tool.parse_args([config, *argv])
    return train_tool.merge_args(Config.fromfile(config), args)


class TestMergeArgs:

    @pytest.fixture
    def config(self, tmp_path, tiny_data):
        return tiny.write_tiny_config(str(tmp_path / 'tiny.py'), tiny_data)

    def test_defaults(self, config):
        cfg = _merged(config)
        assert cfg.launcher == 'none'
        assert cfg.work_dir == osp.join('./work_dirs', 'tiny')
        assert cfg.optim_wrapper.get('type', 'OptimWrapper') == \
            'OptimWrapper'
        assert cfg.resume is False and cfg.load_from is None
        assert cfg.val_dataloader is not None
        assert not cfg.auto_scale_lr.get('enable', False)

    def test_flags(self, config, tmp_path):
        cfg = _merged(config, '--work-dir', str(tmp_path / 'w'), '--amp',
                      '--auto-scale-lr', '--no-validate', '--launcher',
                      'pytorch')
        assert cfg.work_dir == str(tmp_path / 'w')
        assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
        assert cfg.optim_wrapper.loss_scale == 'dynamic'
        assert cfg.auto_scale_lr == dict(base_batch_size=4, enable=True)
        assert cfg.val_dataloader is None and cfg.val_cfg is None
        assert cfg.val_evaluator is None
        assert cfg.launcher == 'pytorch'

    def test_no_validate_with_val_options(self, config):
        cfg = _merged(config, '--no-validate', '--cfg-options',
                      'val_dataloader.dataset.data_root=elsewhere',
                      'train_dataloader.dataset.data_root=elsewhere')
        assert cfg.val_dataloader is None and cfg.val_evaluator is None
        assert cfg.train_dataloader.dataset.data_root == 'elsewhere'

    def test_cfg_options_merge_last(self, config):
        cfg = _merged(config, '--amp', '--cfg-options',
                      'optim_wrapper.type=OptimWrapper',
                      'train_dataloader.batch_size=3')
        assert cfg.optim_wrapper.type == 'OptimWrapper'
        assert cfg.train_dataloader.batch_size == 3

    def test_resume_path(self, config):
        cfg = _merged(config, '--resume', 'some/iter_2.pth')
        assert cfg.resume is True and cfg.load_from == 'some/iter_2.pth'

    def test_auto_resume_keeps_load_from_on_fresh_run(self, config, tmp_path):
        cfg = _merged(config, '--work-dir', str(tmp_path / 'fresh'),
                      '--resume', '--cfg-options', 'load_from=stage1.pth')
        # no checkpoint yet: a fresh run initialised from load_from
        assert cfg.resume is False and cfg.load_from == 'stage1.pth'
        text = open(config).read() + "\nload_from = 'stage1.pth'\n"
        with open(config, 'w') as f:
            f.write(text)
        cfg = _merged(config, '--work-dir', str(tmp_path / 'fresh'),
                      '--resume')
        assert cfg.resume is False and cfg.load_from == 'stage1.pth'

    def test_auto_resume_prefers_work_dir_checkpoint(self, config, tmp_path):
        work_dir = tmp_path / 'interrupted'
        work_dir.mkdir()
        ckpt = work_dir / 'iter_4.pth'
        ckpt.write_bytes(b'x')
        (work_dir / 'last_checkpoint').write_text(str(ckpt))
        cfg = _merged(config, '--work-dir', str(work_dir), '--resume',
                      '--cfg-options', 'load_from=pretrained.pth')
        # resume (load_from None: the runner resumes the last checkpoint)
        assert cfg.resume is True and cfg.load_from is None

    def test_visualization_flags(self, config, tmp_path):
        cfg = _merged(config, '--show-dir', str(tmp_path / 'vis'),
                      '--interval', '3')
        vis = cfg.default_hooks.visualization
        assert vis.enable is True and vis.show is False
        assert vis.out_dir == str(tmp_path / 'vis') and vis.interval == 3

    def test_auto_scale_lr_needs_config_entry(self, config):
        text = open(config).read().replace('auto_scale_lr = dict(',
                                           'unused_scale = dict(')
        with open(config, 'w') as f:
            f.write(text)
        with pytest.raises(ValueError, match='auto_scale_lr'):
            _merged(config, '--auto-scale-lr')

    def test_tensorboard(self, config):
        try:
            import tensorboard  # noqa: F401
        except ImportError:
            with pytest.raises(ImportError, match='pip install tensorboard'):
                _merged(config, '--tensorboard')
        else:
            cfg = _merged(config, '--tensorboard')
            types = [b['type'] for b in cfg.visualizer.vis_backends]
            assert types == ['LocalVisBackend', 'TensorboardVisBackend']

    @pytest.mark.skipif(
        torch.cuda.is_available(), reason='checks the CPU error')
    def test_amp_without_gpu_fails_clearly(self, config):
        with pytest.raises(SystemExit, match='needs a GPU'):
            train_tool.main([config, '--amp'])


SHIPPED_CONFIGS = sorted(
    glob.glob(
        osp.join(tiny.REPO_ROOT, 'configs', '**', '*.py'), recursive=True))
SHIPPED_CONFIGS = [c for c in SHIPPED_CONFIGS if '_base_' not in c]


@pytest.mark.parametrize(
    'config',
    SHIPPED_CONFIGS,
    ids=[osp.relpath(c, tiny.REPO_ROOT) for c in SHIPPED_CONFIGS])
def test_shipped_configs_take_amp_and_auto_scale_lr(config, tmp_path):
    cfg = _merged(config, '--amp', '--auto-scale-lr', '--work-dir',
                  str(tmp_path))
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.auto_scale_lr.enable is True
    assert cfg.auto_scale_lr.base_batch_size > 0


def _train_cmd(config, work_dir, *extra):
    return [
        sys.executable,
        osp.join(tiny.TOOLS_DIR, 'train.py'), config, '--work-dir', work_dir,
        *extra
    ]


def test_train_logs_eta_and_checkpoints(tmp_path, tiny_data):
    config = tiny.write_tiny_config(
        str(tmp_path / 'tiny.py'), tiny_data, max_iters=4, ckpt_interval=2)
    work_dir = str(tmp_path / 'work')
    proc = tiny.run_tool(
        _train_cmd(config, work_dir, '--auto-scale-lr'),
        tiny.tool_env(),
        cwd=str(tmp_path))
    assert 'eta: ' in proc.stdout
    assert 'coco/AP' in proc.stdout  # the run ended with a validation
    for name in ('iter_2.pth', 'iter_4.pth', 'last_checkpoint', 'tiny.py'):
        assert osp.exists(osp.join(work_dir, name)), name
    records = tiny.read_train_scalars(work_dir)
    assert [r['iter'] for r in records] == [1, 2, 3, 4]
    # --auto-scale-lr: 1 process x batch 2 over base batch 4 -> lr x 0.5
    assert records[0]['lr'] == pytest.approx(2e-3 * 0.5)


def _losses_by_iter(records):
    return {r['iter']: r['loss'] for r in records}


def test_kill_and_resume_matches_uninterrupted_run(tmp_path, tiny_data):
    """SIGKILL after the iteration-4 checkpoint, resume, compare."""
    tiny.write_test_hooks(str(tmp_path))
    env = tiny.tool_env(extra_pythonpath=str(tmp_path))
    max_iters = 6
    reference_cfg = tiny.write_tiny_config(
        str(tmp_path / 'tiny.py'),
        tiny_data,
        max_iters=max_iters,
        ckpt_interval=2)
    ready = str(tmp_path / 'paused')
    paused_cfg = tiny.write_tiny_config(
        str(tmp_path / 'tiny_paused.py'),
        tiny_data,
        max_iters=max_iters,
        ckpt_interval=2,
        extra_hooks=[
            dict(type='TestPauseAfterIterHook', at_iter=4, ready_file=ready)
        ])

    ref_dir = str(tmp_path / 'reference')
    tiny.run_tool(
        _train_cmd(reference_cfg, ref_dir, '--no-validate'),
        env,
        cwd=str(tmp_path))
    reference = _losses_by_iter(tiny.read_train_scalars(ref_dir))
    assert sorted(reference) == list(range(1, max_iters + 1))

    work_dir = str(tmp_path / 'killed')
    proc = subprocess.Popen(
        _train_cmd(paused_cfg, work_dir, '--no-validate'),
        env=env,
        cwd=str(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.time() + 180
        while not osp.exists(ready):
            assert proc.poll() is None, 'training exited before the pause'
            assert time.time() < deadline, 'training did not reach iter 4'
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert osp.exists(osp.join(work_dir, 'iter_4.pth'))
    assert not osp.exists(osp.join(work_dir, 'iter_6.pth'))
    before_kill = _losses_by_iter(tiny.read_train_scalars(work_dir))
    assert sorted(before_kill) == [1, 2, 3, 4]

    # the resumed run uses the config dumped in work_dir minus the pause
    proc = tiny.run_tool(
        _train_cmd(reference_cfg, work_dir, '--resume', '--no-validate'),
        env,
        cwd=str(tmp_path))
    assert 'Auto resumed from the latest checkpoint' in proc.stdout
    assert 'resumed epoch: 0, iter: 4' in proc.stdout
    records = tiny.read_train_scalars(work_dir)
    resumed = {r['iter']: r['loss'] for r in records[len(before_kill):]}
    assert sorted(resumed) == [5, 6]
    for it in range(1, 5):
        assert before_kill[it] == pytest.approx(reference[it], rel=1e-6)
    for it in (5, 6):
        assert resumed[it] == pytest.approx(reference[it], rel=1e-6)
    assert osp.exists(osp.join(work_dir, 'iter_6.pth'))
    final = torch.load(osp.join(work_dir, 'iter_6.pth'))
    expected = torch.load(osp.join(ref_dir, 'iter_6.pth'))
    assert final['meta']['iter'] == expected['meta']['iter'] == 6
    for key, value in expected['state_dict'].items():
        torch.testing.assert_close(
            final['state_dict'][key], value, rtol=1e-5, atol=1e-6)


def test_failed_checkpoint_write_keeps_the_last_good_one(tmp_path, tiny_data):
    """A write that fails part-way (file-size limit, as a full disk) stops
    training with one line; the previous checkpoint, ``last_checkpoint``
    and ``--resume`` stay usable, and no partial file is left."""
    tiny.write_test_hooks(str(tmp_path))
    env = tiny.tool_env(extra_pythonpath=str(tmp_path))
    options = ['--cfg-options', 'default_hooks.checkpoint.max_keep_ckpts=1']
    limited = tiny.write_tiny_config(
        str(tmp_path / 'limited.py'), tiny_data, max_iters=4,
        ckpt_interval=2, extra_hooks=[
            dict(type='TestFileSizeLimitHook', from_iter=2,
                 max_bytes=200 * 1024)])
    work_dir = tmp_path / 'work'
    proc = subprocess.run(
        _train_cmd(limited, str(work_dir), '--no-validate', *options),
        env=env, cwd=str(tmp_path), capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    error = proc.stderr.strip().splitlines()[-1]
    assert error.startswith('train.py: error: cannot write the checkpoint '
                            f'{work_dir / "iter_4.pth"}'), error
    assert f'{work_dir / "iter_2.pth"}, is kept' in error
    assert 'Traceback' not in proc.stderr
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_2.pth']
    assert not list(work_dir.glob('.*tmp*'))
    assert (work_dir / 'last_checkpoint').read_text().strip() == str(
        work_dir / 'iter_2.pth')
    checkpoint = torch.load(str(work_dir / 'iter_2.pth'), weights_only=False)
    assert checkpoint['meta']['iter'] == 2

    # the same config without the limit resumes from iter_2 and finishes
    plain = tiny.write_tiny_config(
        str(tmp_path / 'plain.py'), tiny_data, max_iters=4, ckpt_interval=2)
    proc = tiny.run_tool(
        _train_cmd(plain, str(work_dir), '--resume', '--no-validate',
                   *options), env, cwd=str(tmp_path))
    assert 'resumed epoch: 0, iter: 2' in proc.stdout
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_4.pth']
    assert (work_dir / 'last_checkpoint').read_text().strip() == str(
        work_dir / 'iter_4.pth')


def test_a_new_run_over_checkpoints_warns_once(tmp_path, tiny_data):
    config = tiny.write_tiny_config(
        str(tmp_path / 'tiny.py'), tiny_data, max_iters=2, ckpt_interval=2)
    work_dir = str(tmp_path / 'work')
    env = tiny.tool_env()
    first = tiny.run_tool(_train_cmd(config, work_dir, '--no-validate'), env,
                          cwd=str(tmp_path))
    assert 'of an earlier run' not in first.stdout
    second = tiny.run_tool(_train_cmd(config, work_dir, '--no-validate'),
                           env, cwd=str(tmp_path))
    warning = [line for line in second.stdout.splitlines()
               if 'of an earlier run' in line]
    assert len(warning) == 1
    assert osp.join(work_dir, 'iter_2.pth') in warning[0]
    assert '--resume' in warning[0]
