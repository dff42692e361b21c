"""Tests for posewarper_mm.engine.checkpoint: safe mmengine loading."""
import os.path as osp
import pickle
import subprocess
import uuid

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.runner.checkpoint import CheckpointLoader
from torch.utils.data import Dataset

from posewarper_mm.engine import (allow_mmengine_checkpoint_globals,
                                  history_buffer_statistic,
                                  mmengine_checkpoint_safe_globals)

pytestmark = pytest.mark.skipif(
    not hasattr(torch.serialization, 'add_safe_globals'),
    reason='torch < 2.4 has no weights_only allow-list')


class _ToyDataset(Dataset):
    """Fixed regression samples with numpy meta information."""

    metainfo = dict(
        sigmas=np.linspace(0.1, 0.2, 4, dtype=np.float32),
        weights=np.ones(4, dtype=np.float64),
        flip_indices=np.arange(4, dtype=np.int64),
        colors=np.zeros((2, 3), dtype=np.uint8),
        name='toy')

    def __len__(self):
        return 8

    def __getitem__(self, idx):
        gen = torch.Generator().manual_seed(idx)
        return dict(
            inputs=torch.randn(4, generator=gen),
            target=torch.randn(1, generator=gen))


class _ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 1)

    def forward(self, inputs, target, mode='loss'):
        return dict(loss=((self.linear(inputs) - target)**2).mean())


def _toy_runner(work_dir, max_iters, **kwargs):
    # a unique name: runners built in the same second would otherwise share
    # mmengine's MessageHub (and its loss history)
    kwargs.setdefault('experiment_name', f'toy_{uuid.uuid4().hex}')
    return Runner(
        model=_ToyModel(),
        work_dir=work_dir,
        train_dataloader=dict(
            dataset=_ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=2,
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-2)),
        param_scheduler=[
            dict(
                type='MultiStepLR',
                by_epoch=False,
                milestones=[3],
                gamma=0.5)
        ],
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(
                type='CheckpointHook', interval=2, by_epoch=False)),
        randomness=dict(seed=0),
        **kwargs)


@pytest.fixture(scope='module')
def toy_checkpoint(tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('toy_run'))
    runner = _toy_runner(work_dir, max_iters=4)
    runner.train()
    return osp.join(work_dir, 'iter_2.pth'), work_dir


def test_mmengine_checkpoint_loads_with_weights_only(toy_checkpoint):
    path, _ = toy_checkpoint
    assert allow_mmengine_checkpoint_globals()
    ckpt = torch.load(path, weights_only=True)
    assert ckpt['meta']['iter'] == 2
    buffers = ckpt['message_hub']['log_scalars']
    assert isinstance(buffers['train/loss'], HistoryBuffer)
    assert buffers['train/loss'].mean is not None
    assert len(buffers['train/loss'].data[0]) == 2
    meta = ckpt['meta']['dataset_meta']
    np.testing.assert_allclose(meta['sigmas'], [0.1, 0.1333333, 0.1666667,
                                                0.2], rtol=1e-5)
    assert meta['colors'].dtype == np.uint8
    assert ckpt['param_schedulers'][0]['milestones'] == {3: 1}


def test_runner_resume_restores_state(toy_checkpoint, tmp_path):
    path, work_dir = toy_checkpoint
    runner = _toy_runner(str(tmp_path), max_iters=4, resume=True,
                         load_from=path)
    runner.load_or_resume()
    assert runner.iter == 2
    reference = torch.load(osp.join(work_dir, 'iter_2.pth'))
    torch.testing.assert_close(runner.model.state_dict()['linear.weight'],
                               reference['state_dict']['linear.weight'])
    assert len(runner.message_hub.get_scalar('train/loss').data[0]) == 2


class _CallsSubprocess:
    """Unpickles into a shell command, like a malicious checkpoint."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return subprocess.call, (['touch', self.marker], )


class _GetattrOf:
    """Unpickles into ``getattr(owner, name)``."""

    def __init__(self, owner, name):
        self.owner, self.name = owner, name

    def __reduce__(self):
        return getattr, (self.owner, self.name)


def test_unlisted_global_is_rejected(tmp_path):
    allow_mmengine_checkpoint_globals()
    marker = str(tmp_path / 'executed')
    path = str(tmp_path / 'evil.pth')
    torch.save(
        dict(state_dict=dict(w=torch.ones(1)), meta=_CallsSubprocess(marker)),
        path)
    with pytest.raises(pickle.UnpicklingError, match='Unsupported global'):
        torch.load(path)
    # mmengine's own loader (used by resume/load_from) is just as strict
    with pytest.raises(pickle.UnpicklingError):
        CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert not osp.exists(marker)


@pytest.mark.parametrize('owner,name', [(HistoryBuffer, '__init__'),
                                        (HistoryBuffer, '__setstate__'),
                                        (HistoryBuffer, '_statistics_methods'),
                                        (np.ndarray, 'tofile')])
def test_getattr_is_limited_to_history_buffer_statistics(
        tmp_path, owner, name):
    allow_mmengine_checkpoint_globals()
    path = str(tmp_path / 'getattr.pth')
    torch.save(dict(x=_GetattrOf(owner, name)), path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)


def test_history_buffer_statistic():
    assert history_buffer_statistic(HistoryBuffer, 'mean') is \
        HistoryBuffer.mean
    assert history_buffer_statistic(HistoryBuffer, 'current') is \
        HistoryBuffer.current
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        history_buffer_statistic(HistoryBuffer, '_statistics_methods')
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_statistic(dict, 'mean')
    # names that a loaded HistoryBuffer state added to the class-level
    # statistics table do not open special attributes
    HistoryBuffer._statistics_methods['__init__'] = None
    try:
        with pytest.raises(pickle.UnpicklingError):
            history_buffer_statistic(HistoryBuffer, '__init__')
    finally:
        HistoryBuffer._statistics_methods.pop('__init__')


def test_safe_globals_are_only_data_types():
    named = {}
    for item in mmengine_checkpoint_safe_globals():
        obj, name = item if isinstance(item, tuple) else (
            item, f'{item.__module__}.{item.__qualname__}')
        named[name] = obj
    assert named['builtins.getattr'] is history_buffer_statistic
    assert named['mmengine.logging.history_buffer.HistoryBuffer'] is \
        HistoryBuffer
    # numpy arrays/scalars under the numpy 1 and numpy 2 module names
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        assert f'{module}._reconstruct' in named
        assert f'{module}.scalar' in named
    for obj in named.values():
        assert obj not in (eval, exec, getattr, setattr, __import__, open)
