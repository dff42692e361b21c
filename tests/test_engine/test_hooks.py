"""Tests for posewarper_mm.engine.hooks."""
import json

import pytest
import torch
from mmengine.config import Config

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
