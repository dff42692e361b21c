"""Tests for posewarper_mm.engine.hooks."""
import json
import os
import subprocess
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger

from posewarper_mm.engine import InitialWeightsCheckHook, SaveTestMetricsHook


def test_writes_metrics(tmp_path):
    out = tmp_path / 'sub' / 'metrics.json'
    hook = SaveTestMetricsHook(str(out))
    hook.after_test_epoch(None, {'posetrack18/AP': 81.5, 'x': 1.0})
    assert json.loads(out.read_text()) == {'posetrack18/AP': 81.5, 'x': 1.0}


def test_no_metrics_writes_nothing(tmp_path):
    out = tmp_path / 'metrics.json'
    SaveTestMetricsHook(str(out)).after_test_epoch(None, None)
    assert not out.exists()


def test_bad_suffix():
    with pytest.raises(ValueError, match='metrics.txt'):
        SaveTestMetricsHook('metrics.txt')


class _Runner:

    def __init__(self, cfg, backbone_init=None):
        self.cfg = cfg
        self.model = torch.nn.Module()
        self.model.backbone = torch.nn.Module()
        self.model.backbone.init_cfg = backbone_init


@pytest.mark.parametrize('cfg, backbone_init, source', [
    (dict(resume=True), None, 'resumed checkpoint'),
    (dict(load_from='s1.pth'), None, 'load_from=s1.pth'),
    (dict(), [dict(type='Pretrained', checkpoint='c.pth')],
     'Pretrained init_cfg of the backbone'),
    (dict(), dict(type='Pretrained'), None),
    (dict(), None, None),
])
def test_initial_weights_source(cfg, backbone_init, source):
    runner = _Runner(Config(cfg), backbone_init)
    assert InitialWeightsCheckHook.weights_source(runner) == source


def test_atomic_checkpoint_hook_removes_stale_temporary_files(tmp_path):
    """A write killed part-way leaves ``.<name>.tmp-<pid>``; the next run
    removes it when that process is gone, and keeps a live one's."""
    from mmengine.logging import MessageHub

    from posewarper_mm.engine import AtomicCheckpointHook
    dead = subprocess.Popen(['true'])
    dead.wait()
    stale = tmp_path / f'.iter_4.pth.tmp-{dead.pid}'
    live = tmp_path / f'.iter_6.pth.tmp-{os.getpid()}'
    for path in (stale, live):
        path.write_bytes(b'partial')
    runner = SimpleNamespace(work_dir=str(tmp_path), _work_dir=str(tmp_path),
                             message_hub=MessageHub.get_current_instance(),
                             logger=MMLogger.get_current_instance(),
                             cfg={})
    hook = AtomicCheckpointHook(interval=2, by_epoch=False)
    hook.before_train(runner)
    assert not stale.exists() and live.exists()
