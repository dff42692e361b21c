"""tools/browse_dataset.py on a config using PoseTrackVideoPairDataset."""
from pathlib import Path

import cv2
import pytest

from tests.testing import load_tool

REPO = Path(__file__).resolve().parents[2]

CONFIG = '''
custom_imports = dict(imports=['posewarper_mm'], allow_failed_imports=False)
default_scope = 'mmpose'
codec = dict(type='MSRAHeatmap', input_size=(48, 64), heatmap_size=(12, 16),
             sigma=2)
meta_keys = ('id', 'img_id', 'img_path', 'ori_shape', 'img_shape',
             'input_size', 'input_center', 'input_scale', 'flip',
             'flip_direction', 'frame_weights', 'frame_offsets')
train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        type='PoseTrackVideoPairDataset',
        data_root='{root}',
        ann_file='annotations/posetrack18_train.json',
        data_prefix=dict(img=''),
        pipeline=[
            dict(type='LoadVideoFrames'),
            dict(type='GetBBoxCenterScale', padding=1.25),
            dict(type='RandomFlip', direction='horizontal'),
            dict(type='RandomBBoxTransform', rotate_factor=30),
            dict(type='TopdownAffine', input_size=codec['input_size']),
            dict(type='GenerateTarget', encoder=codec),
            dict(type='PackPoseInputs', meta_keys=meta_keys),
        ]))
val_dataloader = dict(
    batch_size=2,
    dataset=dict(
        type='PoseTrackVideoPairDataset',
        data_root='{root}',
        ann_file='annotations/posetrack18_val.json',
        bbox_file='{root}/detections/posetrack18_val_boxes.json',
        filter_cfg=dict(bbox_score_thr=0.3),
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=[
            dict(type='LoadVideoFrames'),
            dict(type='GetBBoxCenterScale', padding=1.25),
            dict(type='TopdownAffine', input_size=codec['input_size']),
            dict(type='PackVideoPoseInputs'),
        ]))
'''


@pytest.fixture(scope='module')
def browse():
    return load_tool('tools/browse_dataset.py')


@pytest.mark.parametrize('phase, mode, frames, size', [
    ('train', 'transformed', 2, (64, 48)),
    ('val', 'transformed', 5, (64, 48)),
    ('val', 'original', 5, (72, 96)),
])
def test_browse_writes_side_by_side_frames(browse, tiny_root, tmp_path, phase,
                                           mode, frames, size):
    cfg = tmp_path / 'browse_cfg.py'
    cfg.write_text(CONFIG.replace('{root}', str(tiny_root)))
    out_dir = tmp_path / 'vis'
    written = browse.main([
        str(cfg), '--output-dir',
        str(out_dir), '--phase', phase, '--mode', mode, '--max-samples', '3'
    ])
    assert len(written) == 3
    assert sorted(str(p) for p in out_dir.glob('*.jpg')) == sorted(written)
    h, w = size
    img = cv2.imread(written[0])
    # frames side by side with 4-pixel separators and a 16-pixel label bar
    assert img.shape == (h + 16, frames * w + 4 * (frames - 1), 3)


def test_browse_pipeline_drops_packing(browse):
    pipeline = [
        dict(type='LoadVideoFrames'),
        dict(type='TopdownAffine', input_size=(4, 4)),
        dict(type='PackPoseInputs')
    ]
    assert [
        t['type'] for t in browse.browse_pipeline(pipeline, 'transformed')
    ] == ['LoadVideoFrames', 'TopdownAffine']
    assert [t['type'] for t in browse.browse_pipeline(pipeline, 'original')
            ] == ['LoadVideoFrames']
