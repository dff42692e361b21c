"""2-process CPU data-parallel training through tools/dist_train.sh."""
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config

from posewarper_mm.engine import allow_mmengine_checkpoint_globals
from tests.testing import tiny_topdown_experiment as tiny

pytestmark = pytest.mark.skipif(
    torch.cuda.is_available(),
    reason='tests the gloo path of machines without CUDA')


def _coco_ap(log: str) -> str:
    """The last ``coco/AP`` value a log prints."""
    values = re.findall(r'coco/AP: (\S+)', log)
    assert values, log[-3000:]
    return values[-1]


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
    # both ranks met at the end and timed each step of the teardown
    assert 'process group (gloo) torn down: barrier' in proc.stdout
    assert 'teardown: loader workers' in proc.stdout

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
    # ... and the saved checkpoint holds the same weights, BN statistics
    # included: those the final validation used
    allow_mmengine_checkpoint_globals()
    ckpt_path = osp.join(work_dir, f'iter_{max_iters}.pth')
    ckpt = torch.load(ckpt_path)
    assert ckpt['meta']['iter'] == max_iters
    for key, value in ckpt['state_dict'].items():
        assert torch.equal(value, rank0[key]), key
    # so tools/test.py on it reproduces the logged validation AP
    logged = _coco_ap(proc.stdout)
    test = tiny.run_tool([
        sys.executable,
        osp.join(tiny.TOOLS_DIR, 'test.py'), config, ckpt_path,
        '--work-dir', str(tmp_path / 'test')
    ], env, cwd=str(tmp_path))
    assert _coco_ap(test.stdout) == logged

    records = tiny.read_train_scalars(work_dir)
    assert [r['iter'] for r in records] == list(range(1, max_iters + 1))
    # --auto-scale-lr: 2 processes x batch 2 equals base batch 4 -> x1
    assert records[0]['lr'] == pytest.approx(5e-3)
    losses = [r['loss'] for r in records]
    first, last = sum(losses[:2]) / 2, sum(losses[-2:]) / 2
    assert last < 0.8 * first, losses


def _processes_of(marker: str) -> dict:
    """pid -> command line of the processes whose command line holds
    ``marker`` (the test's own folder)."""
    found = {}
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                cmdline = f.read().replace(b'\0', b' ').decode()
        except OSError:
            continue
        if marker in cmdline and int(pid) != os.getpid():
            found[int(pid)] = cmdline
    return found


def _workers(marker: str) -> list:
    return [pid for pid, cmd in _processes_of(marker).items()
            if 'train.py' in cmd and 'torch.distributed.run' not in cmd
            and 'dist_train.sh' not in cmd]


def _default_signals() -> None:
    """The launcher starts as from a terminal: a signal that the test
    runner ignores (inherited) could not be trapped by its shell."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def _wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, what
        time.sleep(0.2)


@pytest.mark.parametrize('how', ['SIGTERM to dist_train.sh',
                                 'SIGINT to dist_train.sh',
                                 'SIGKILL to torchrun'])
def test_no_worker_outlives_its_launcher(how, tmp_path):
    """Stopping the launcher, or killing torchrun itself, stops every
    worker within seconds; the script exits non-zero."""
    data_root = tiny.write_tiny_coco(str(tmp_path / 'data'), num_images=8)
    tiny.write_test_hooks(str(tmp_path))
    ready = tmp_path / 'paused'
    config = tiny.write_tiny_config(
        str(tmp_path / 'tiny.py'), data_root, max_iters=4, ckpt_interval=4,
        extra_hooks=[dict(type='TestPauseAfterIterHook', at_iter=1,
                          ready_file=str(ready), seconds=300)])
    env = tiny.tool_env(extra_pythonpath=str(tmp_path), port=tiny.free_port())
    launcher = subprocess.Popen(
        ['bash', osp.join(tiny.TOOLS_DIR, 'dist_train.sh'), config, '2',
         '--work-dir', str(tmp_path / 'work'), '--no-validate'],
        env=env, cwd=str(tmp_path), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
        preexec_fn=_default_signals)
    marker = str(tmp_path)
    try:
        _wait_until(lambda: ready.exists() or launcher.poll() is not None,
                    240, 'training did not reach its pause')
        assert launcher.poll() is None, 'the launcher ended early'
        _wait_until(lambda: len(_workers(marker)) == 2, 30, 'no 2 workers')
        if how == 'SIGKILL to torchrun':
            torchrun = [pid for pid, cmd in _processes_of(marker).items()
                        if 'torch.distributed.run' in cmd]
            assert len(torchrun) == 1
            os.kill(torchrun[0], signal.SIGKILL)
        else:
            launcher.send_signal(getattr(signal, how.split()[0]))
        try:
            _wait_until(lambda: not _workers(marker), 20,
                        f'workers still alive 20 s after {how}')
        except AssertionError as exc:  # which ones, for the next look
            raise AssertionError(
                f'{exc}; processes left: {_processes_of(marker)}') from None
        launcher.wait(timeout=30)
        assert launcher.returncode != 0
    finally:
        for pid in _processes_of(marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
