"""A stage-1 checkpoint loads into the stage-2 model (head conv -> neck)."""
from collections import OrderedDict

import torch
from mmengine.runner.checkpoint import (get_state_dict, load_checkpoint,
                                        save_checkpoint, weights_to_cpu)

from posewarper_mm.models.pose_estimators import \
    posewarper_estimator as estimator_module
from tests.testing.models import build, estimator_cfg, randomize_, stage1_cfg

WARPING = ('neck.offset_feats.', 'neck.offset_layers.',
           'neck.deform_conv_layers.')


def _stage1():
    model = build(stage1_cfg())
    randomize_(model, seed=21)
    return model


def _check_transferred(stage1, stage2):
    assert torch.equal(stage2.neck.trans_layer.weight,
                       stage1.head.final_layer.weight)
    assert torch.equal(stage2.neck.trans_layer.bias,
                       stage1.head.final_layer.bias)
    backbone1 = stage1.backbone.state_dict()
    for key, value in stage2.backbone.state_dict().items():
        assert torch.equal(value, backbone1[key]), key


def test_mmengine_load_checkpoint_moves_head_conv(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(estimator_module, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    stage1 = _stage1()
    path = tmp_path / 'stage1.pth'
    save_checkpoint({'state_dict': weights_to_cpu(get_state_dict(stage1))},
                    str(path))
    stage2 = build(estimator_cfg())
    load_checkpoint(stage2, str(path), map_location='cpu', strict=False)
    _check_transferred(stage1, stage2)
    assert len(logged) == 1
    assert 'head.final_layer.weight' in logged[0]
    assert 'neck.trans_layer' in logged[0]


def test_missing_keys_are_exactly_the_warping_layers():
    stage1 = _stage1()
    stage2 = build(estimator_cfg())
    result = stage2.load_state_dict(stage1.state_dict(), strict=False)
    assert result.unexpected_keys == []
    assert result.missing_keys
    assert all(key.startswith(WARPING) for key in result.missing_keys)
    _check_transferred(stage1, stage2)


def test_mmpose0x_key_names_are_moved():
    stage1 = _stage1()
    old = OrderedDict((key.replace('head.', 'keypoint_head.', 1), value)
                      for key, value in stage1.state_dict().items())
    assert 'keypoint_head.final_layer.weight' in old
    stage2 = build(estimator_cfg())
    result = stage2.load_state_dict(old, strict=False)
    assert result.unexpected_keys == []
    _check_transferred(stage1, stage2)


def test_no_move_when_checkpoint_has_trans_layer():
    stage2 = build(estimator_cfg())
    state = stage2.state_dict()
    state['head.final_layer.weight'] = torch.zeros(17, 8, 1, 1)
    before = stage2.neck.trans_layer.weight.clone()
    result = stage2.load_state_dict(state, strict=False)
    assert result.unexpected_keys == ['head.final_layer.weight']
    assert torch.equal(stage2.neck.trans_layer.weight, before)
