"""LoadVideoFrames and mmpose's top-down transforms on frame lists."""
import copy
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmpose.registry import TRANSFORMS

from posewarper_mm.datasets import (MULTI_FRAME_META_KEYS, LoadVideoFrames,
                                    PoseTrackVideoPairDataset)

CODEC = dict(
    type='MSRAHeatmap', input_size=(48, 64), heatmap_size=(12, 16), sigma=2)

# The pipelines documented for stage 1 / stage 2 (small input size here).
TRAIN_AUG = [
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(
        type='RandomBBoxTransform',
        shift_factor=0.16,
        shift_prob=0.3,
        scale_factor=(0.65, 1.35),
        scale_prob=1.0,
        rotate_factor=45,
        rotate_prob=0.6),
    dict(type='TopdownAffine', input_size=CODEC['input_size']),
    dict(type='GenerateTarget', encoder=CODEC),
]
TRAIN_PIPELINE = [dict(type='LoadVideoFrames')] + TRAIN_AUG + [
    dict(type='PackPoseInputs', meta_keys=MULTI_FRAME_META_KEYS)
]
TEST_PIPELINE = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=CODEC['input_size']),
    dict(type='PackPoseInputs', meta_keys=MULTI_FRAME_META_KEYS),
]


def run(pipeline, results):
    for cfg in pipeline:
        results = TRANSFORMS.build(copy.deepcopy(cfg))(results)
    return results


@pytest.fixture
def train_info(tiny_root):
    ds = PoseTrackVideoPairDataset(
        ann_file=str(tiny_root / 'annotations/posetrack18_train.json'),
        data_prefix=dict(img=str(tiny_root) + '/'),
        frame_sampler_mode='fixed_at_build',
        pipeline=[])
    # an instance with many visible joints so half-body can trigger
    best = max(range(len(ds)),
               key=lambda i: ds.get_data_info(i)['num_keypoints'])
    return ds.get_data_info(best)


def test_loads_list_key_first(tiny_posetrack):
    files = tiny_posetrack['frame_files']['train'][:3]
    results = LoadVideoFrames()(
        dict(
            img_path=[files[1], files[0], files[2]],
            frame_weights=np.array([0.2, 0.4, 0.4], np.float32),
            frame_offsets=np.array([0, -1, 1])))
    assert len(results['img']) == 3
    for img, path in zip(results['img'], [files[1], files[0], files[2]]):
        np.testing.assert_array_equal(img, cv2.imread(path))
        assert img.dtype == np.uint8
    assert results['img_shape'] == (72, 96)
    assert results['ori_shape'] == (72, 96)


def test_single_path_and_ndarray_give_one_frame(tiny_posetrack):
    path = tiny_posetrack['frame_files']['val'][0]
    res = LoadVideoFrames()(dict(img_path=path))
    assert len(res['img']) == 1
    np.testing.assert_array_equal(res['frame_weights'], [1.0])
    np.testing.assert_array_equal(res['frame_offsets'], [0])
    img = cv2.imread(path)
    res = LoadVideoFrames(to_float32=True)(dict(img=img))
    assert len(res['img']) == 1 and res['img'][0].dtype == np.float32
    assert res['img_path'] is None and res['img_shape'] == img.shape[:2]
    assert res['frame_weights'].dtype == np.float32


def test_load_errors(tiny_posetrack, tmp_path):
    path = tiny_posetrack['frame_files']['val'][0]
    with pytest.raises(FileNotFoundError, match='missing_frame.jpg'):
        LoadVideoFrames()(
            dict(
                img_path=[path, str(tmp_path / 'missing_frame.jpg')],
                frame_weights=np.array([0.5, 0.5]),
                frame_offsets=np.array([0, 1])))
    small = tmp_path / 'small_frame.jpg'
    cv2.imwrite(str(small), np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ValueError, match='small_frame.jpg'):
        LoadVideoFrames()(
            dict(
                img_path=[path, str(small)],
                frame_weights=np.array([0.5, 0.5]),
                frame_offsets=np.array([0, 1])))
    with pytest.raises(KeyError, match='frame_weights'):
        LoadVideoFrames()(dict(img=[np.zeros((4, 4, 3))] * 2))


@pytest.mark.parametrize('seed', range(8))
def test_identical_frames_stay_identical(train_info, seed):
    info = LoadVideoFrames()(copy.deepcopy(train_info))
    key = info['img'][0]
    info['img'] = [key.copy(), key.copy(), key.copy()]
    info['frame_weights'] = np.array([0.2, 0.4, 0.4], np.float32)
    info['frame_offsets'] = np.array([0, -1, 1])
    np.random.seed(seed)
    out = run(TRAIN_AUG, info)
    assert len(out['img']) == 3
    assert out['img'][0].shape == (64, 48, 3)
    np.testing.assert_array_equal(out['img'][0], out['img'][1])
    np.testing.assert_array_equal(out['img'][0], out['img'][2])


def test_every_frame_gets_the_key_frame_transform(train_info):
    """Multi-frame output j == single-frame output of frame j, same seed."""
    flips, rotations = set(), set()
    for seed in range(12):
        np.random.seed(seed)
        multi = run(TRAIN_AUG, LoadVideoFrames()(copy.deepcopy(train_info)))
        flips.add(bool(multi['flip']))
        rotations.add(float(multi.get('bbox_rotation', [0])[0]) != 0)
        same_frame = len(set(train_info['frame_numbers'])) == 1
        assert np.array_equal(multi['img'][0],
                              multi['img'][1]) == same_frame
        for j, path in enumerate(train_info['img_path']):
            single_info = copy.deepcopy(train_info)
            single_info['img_path'] = [path]
            single_info.pop('frame_weights')
            single_info.pop('frame_offsets')
            np.random.seed(seed)
            single = run(TRAIN_AUG, LoadVideoFrames()(single_info))
            np.testing.assert_array_equal(multi['img'][j], single['img'][0])
            # targets come from the key frame's keypoints only
            np.testing.assert_array_equal(multi['heatmaps'],
                                          single['heatmaps'])
        assert multi['heatmaps'].shape == (17, 16, 12)
    assert flips == {True, False} and rotations == {True, False}


@pytest.mark.parametrize('mode, frames', [('train', 2), ('test', 5),
                                          ('single', 1)])
def test_dataset_with_pipeline_packs_frames(tiny_root, mode, frames):
    init_default_scope('mmpose')
    kwargs = dict(
        train=dict(pipeline=TRAIN_PIPELINE),
        test=dict(pipeline=TEST_PIPELINE, test_mode=True),
        single=dict(pipeline=TRAIN_PIPELINE, single_frame=True))[mode]
    split = 'val' if mode == 'test' else 'train'
    ann = Path(tiny_root) / f'annotations/posetrack18_{split}.json'
    ds = PoseTrackVideoPairDataset(
        ann_file=str(ann),
        data_prefix=dict(img=str(tiny_root) + '/'),
        **kwargs)
    packed = ds[0]
    inputs, sample = packed['inputs'], packed['data_samples']
    assert tuple(inputs.shape) == (frames, 3, 64, 48)
    assert str(inputs.dtype) == 'torch.uint8'
    meta = sample.metainfo
    assert len(meta['frame_weights']) == frames
    assert len(meta['frame_offsets']) == frames
    assert np.isclose(meta['frame_weights'].sum(), 1.0)
    assert meta['frame_offsets'][0] == 0
    info = ds.get_data_info(0)
    for key in ('img_id', 'vid_id', 'frame_id', 'nframes', 'file_name'):
        assert meta[key] == info[key], key
    if mode != 'test':
        assert tuple(sample.gt_fields.heatmaps.shape) == (17, 16, 12)


def test_inference_style_single_image_input(tiny_posetrack):
    """What mmpose's inference_topdown feeds: an ndarray and a box."""
    img = cv2.imread(tiny_posetrack['frame_files']['val'][0])
    data = dict(
        img=img,
        bbox=np.array([[10, 5, 60, 70]], np.float32),
        bbox_score=np.ones(1, np.float32))
    packed = run(TEST_PIPELINE, data)
    assert tuple(packed['inputs'].shape) == (1, 3, 64, 48)
    np.testing.assert_array_equal(
        packed['data_samples'].metainfo['frame_weights'], [1.0])
