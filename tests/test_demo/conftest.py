"""Fixtures of the demo tests: tiny detector, the video demo module.

The tiny pose model and the clips are fixtures of ``tests/conftest.py``.
"""
from pathlib import Path

import pytest
import torch

from tests.testing import load_tool

TINY_DET_CONFIG = str(
    Path(__file__).resolve().parent / 'configs' / 'tiny_rtmdet_person.py')


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
    return load_tool('demo/posewarper_video_demo.py')
