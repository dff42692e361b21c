"""Fixtures of the demo tests: tiny pose model and detector, clips."""
import importlib.util
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / 'test_apis'))

from apis_test_utils import (REPO_ROOT, clip_dir, clip_mp4,  # noqa: E402,F401
                             synthetic, tiny_checkpoint, tiny_model)

TINY_DET_CONFIG = str(HERE / 'configs' / 'tiny_rtmdet_person.py')


@pytest.fixture(scope='session')
def tiny_detector(tmp_path_factory):
    """(config, checkpoint) of an untrained one-class RTMDet whose head
    predicts score 0.5 and a box of 4 strides around every point, so it
    finds deterministic (meaningless) boxes on any image."""
    from mmdet.apis import init_detector
    detector = init_detector(TINY_DET_CONFIG, None, device='cpu')
    with torch.no_grad():
        for conv in detector.bbox_head.rtm_reg:
            conv.weight.zero_()
            conv.bias.fill_(2.0)
        for conv in detector.bbox_head.rtm_cls:
            conv.weight.zero_()
            conv.bias.zero_()
    path = tmp_path_factory.mktemp('det') / 'tiny_rtmdet.pth'
    torch.save(
        dict(
            state_dict=detector.state_dict(),
            meta=dict(dataset_meta=dict(classes=('person', )))), str(path))
    return TINY_DET_CONFIG, str(path)


@pytest.fixture(scope='session')
def video_demo():
    """The demo/posewarper_video_demo.py module."""
    path = REPO_ROOT / 'demo' / 'posewarper_video_demo.py'
    spec = importlib.util.spec_from_file_location('posewarper_video_demo',
                                                  str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
