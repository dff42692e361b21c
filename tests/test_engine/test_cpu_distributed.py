"""Tests for posewarper_mm.engine.cpu_distributed (single process)."""
import pytest
import torch
import torch.distributed as torch_dist
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import BaseModel, MMDistributedDataParallel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from posewarper_mm.engine import needs_cpu_distributed, setup_cpu_distributed
from tests.testing.tiny_topdown_experiment import free_port

cpu_only = pytest.mark.skipif(
    torch.cuda.is_available(), reason='tests the path without CUDA')


class _Data(Dataset):

    def __len__(self):
        return 4

    def __getitem__(self, idx):
        return dict(inputs=torch.full((2, ), float(idx)))


class _Model(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, mode='loss'):
        return dict(loss=self.linear(inputs).pow(2).mean())


def test_needs_cpu_distributed():
    assert not needs_cpu_distributed('none')
    assert not needs_cpu_distributed('slurm')
    assert needs_cpu_distributed('pytorch') == (not torch.cuda.is_available())


def test_non_pytorch_launcher_is_untouched():
    cfg = Config(
        dict(launcher='none', env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    assert not setup_cpu_distributed(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'
    assert 'model_wrapper_cfg' not in cfg


@cpu_only
def test_missing_launcher_variables(monkeypatch):
    for name in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(name, raising=False)
    cfg = Config(dict(launcher='pytorch'))
    with pytest.raises(RuntimeError, match='RANK, WORLD_SIZE'):
        setup_cpu_distributed(cfg)


@cpu_only
def test_gloo_runner_single_process(monkeypatch, tmp_path):
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(free_port()))
    cfg = Config(
        dict(
            launcher='pytorch',
            find_unused_parameters=True,
            env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60))))
    try:
        assert setup_cpu_distributed(cfg)
        assert torch_dist.get_backend() == 'gloo'
        assert cfg.env_cfg.dist_cfg.backend == 'gloo'
        assert cfg.model_wrapper_cfg.device_ids is None
        assert cfg.model_wrapper_cfg.find_unused_parameters is True
        runner = Runner(
            model=_Model(),
            work_dir=str(tmp_path),
            train_dataloader=dict(
                dataset=_Data(),
                sampler=dict(type='DefaultSampler', shuffle=False),
                batch_size=2,
                collate_fn=dict(type='default_collate')),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
            train_cfg=dict(by_epoch=False, max_iters=2),
            launcher=cfg.launcher,
            env_cfg=cfg.env_cfg,
            cfg=cfg,
            default_hooks=dict(checkpoint=None))
        assert isinstance(runner.model, MMDistributedDataParallel)
        assert runner.model.device_ids is None
        before = runner.model.module.linear.weight.detach().clone()
        runner.train()
        after = runner.model.module.linear.weight.detach()
        assert not torch.equal(before, after)
    finally:
        if torch_dist.is_initialized():
            torch_dist.destroy_process_group()


_TEARDOWN = '''
import os, sys, time
import torch.distributed as dist
from mmengine.logging import MMLogger
from posewarper_mm.engine import teardown_distributed
dist.init_process_group('gloo')
rank = dist.get_rank()
MMLogger.get_instance('teardown_test')
if rank == 1 and sys.argv[1] == 'late':
    time.sleep(6)  # does not meet rank 0 within its timeout
start = time.time()
teardown_distributed(True, barrier_timeout_s=2)
print(f'rank {rank} done after {time.time() - start:.1f} s', flush=True)
os._exit(0)
'''


@pytest.mark.parametrize('case', ['together', 'late'])
def test_teardown_barrier_has_a_timeout(case, tmp_path):
    """A rank that never reaches the final barrier does not hold the
    others: they give up after the timeout, without destroying the group
    (that could wait on the missing rank)."""
    import subprocess
    import sys
    script = tmp_path / 'teardown.py'
    script.write_text(_TEARDOWN)
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
         f'--master_port={free_port()}', str(script), case],
        capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    done = {line.split()[1]: float(line.split()[-2])
            for line in out.splitlines() if line.startswith('rank ')}
    if case == 'together':
        assert 'torn down: barrier' in out and done['0'] < 2
    else:
        assert 'did not meet within 2 s' in out and 'torn down' not in out
        assert 1.5 < done["0"] < 5
