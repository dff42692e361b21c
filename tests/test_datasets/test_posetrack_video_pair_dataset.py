"""Tests of PoseTrackVideoPairDataset on real samples and synthetic data."""
import copy
import json
import logging
import os.path as osp
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from mmengine.logging import MMLogger

from posewarper_mm.apis import copy_nearest_labels, mark_propagated
from posewarper_mm.datasets import PoseTrackVideoPairDataset
from posewarper_mm.datasets.posetrack_video_pair_dataset import (
    clip_xywh_to_xyxy, detection_instance, gt_instance, image_info,
    select_sparse_labels)
from posewarper_mm.errors import InputFileError, MissingFrameWarning

SAMPLE_ANN = 'annotations/test_posetrack18_val.json'
SAMPLE_DET = 'annotations/test_posetrack18_human_detections.json'


def build(root, ann_file, **kwargs) -> PoseTrackVideoPairDataset:
    kwargs.setdefault('pipeline', [])
    return PoseTrackVideoPairDataset(
        ann_file=str(Path(root) / ann_file),
        data_prefix=dict(img=str(root) + '/'),
        **kwargs)


def load_json(path):
    with open(path) as f:
        return json.load(f)


def frame_of(path: str) -> int:
    return int(osp.splitext(osp.basename(path))[0])


# ----------------------------------------------------------------------
# real PoseTrack18 samples


def test_sample_gt_instances_and_ids(posetrack18_sample):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MissingFrameWarning)
        ds = build(posetrack18_sample, SAMPLE_ANN, test_mode=True)
        assert len(ds) == 14
        info = ds[0]
    img_ids = {ds.get_data_info(i)['img_id'] for i in range(len(ds))}
    assert img_ids == {10128340000, 10094730000, 10034180000}
    assert isinstance(info['img_id'], int)
    assert info['img_path'][0].endswith('000000.jpg')
    assert len(info['img_path']) == 5
    np.testing.assert_allclose(info['frame_weights'],
                               [0.3, 0.1, 0.25, 0.25, 0.1])
    assert info['frame_weights'].dtype == np.float32
    np.testing.assert_array_equal(info['frame_offsets'], [0, -2, -1, 1, 2])
    assert info['frame_offsets'].dtype == np.int64
    assert info['bbox'].shape == (1, 4)
    assert info['keypoints'].shape == (1, 17, 2)
    assert info['keypoints_visible'].shape == (1, 17)
    for key in ('vid_id', 'frame_id', 'nframes', 'file_name', 'id',
                'num_keypoints', 'category_id', 'bbox_score'):
        assert key in info, key


def test_sample_missing_frames_fall_back_once_per_video(posetrack18_sample):
    ds = build(posetrack18_sample, SAMPLE_ANN, test_mode=True)
    with pytest.warns(MissingFrameWarning) as record:
        infos = [ds[i] for i in range(len(ds))] + [ds[0], ds[1]]
    missing = [
        w for w in record if issubclass(w.category, MissingFrameWarning)
    ]
    videos = {osp.dirname(i['img_path'][0]) for i in infos}
    assert len(videos) == 3
    assert len(missing) == 3
    for info in infos:
        # frames -2/-1 clamp to 0 (the key); +1/+2 are not on disk
        assert info['img_path'] == [info['img_path'][0]] * 5


def test_sample_missing_frame_error_names_file(posetrack18_sample):
    ds = build(
        posetrack18_sample, SAMPLE_ANN, test_mode=True, missing_frame='error')
    with pytest.raises(FileNotFoundError, match=r'000001\.jpg'):
        ds[0]


def test_sample_detections_and_threshold(posetrack18_sample):
    det_file = str(posetrack18_sample / SAMPLE_DET)
    scores = np.array([d['score'] for d in load_json(det_file)])
    ds = build(
        posetrack18_sample, SAMPLE_ANN, test_mode=True, bbox_file=det_file)
    assert len(ds) == 278
    ds_thr = build(
        posetrack18_sample,
        SAMPLE_ANN,
        test_mode=True,
        bbox_file=det_file,
        filter_cfg=dict(bbox_score_thr=0.3))
    assert len(ds_thr) == int((scores >= 0.3).sum()) == 119
    info = ds_thr.get_data_info(0)
    assert info['img_id'] in {10128340000, 10094730000, 10034180000}
    assert info['bbox_score'][0] >= 0.3
    np.testing.assert_array_equal(info['keypoints'], 0)
    assert info['nframes'] in {140, 101, 149}


# ----------------------------------------------------------------------
# synthetic data


def test_synthetic_train_sample_contents(tiny_posetrack, tiny_root):
    ds = build(tiny_root, 'annotations/posetrack18_train.json')
    coco = load_json(tiny_posetrack['ann_files']['train'])
    n_valid = sum(1 for a in coco['annotations'] if a['num_keypoints'] > 0)
    assert len(ds) == n_valid
    ann_ids = {a['id'] for a in coco['annotations']}
    img_ids = {img['id'] for img in coco['images']}
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert info['id'] in ann_ids
        assert info['img_id'] in img_ids
        assert info['img_id'] == info['frame_id']
        assert len(info['img_path']) == 2
        np.testing.assert_array_equal(info['frame_weights'], [0.0, 1.0])
        assert info['frame_offsets'][0] == 0
        assert -2 <= info['frame_offsets'][1] <= 2
        assert all(osp.isfile(p) for p in info['img_path'])
        assert info['file_name'] in info['img_path'][0]


def _middle_instance(ds):
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        if 2 <= info['frame_index'] <= info['nframes'] - 3:
            return i
    raise AssertionError('no instance in the middle of a video')


def test_per_iteration_offsets_are_uniform(tiny_root):
    ds = build(tiny_root, 'annotations/posetrack18_train.json')
    idx = _middle_instance(ds)
    np.random.seed(0)
    n = 2000
    counts = Counter()
    key = ds.get_data_info(idx)['frame_index']
    for _ in range(n):
        info = ds[idx]  # __getitem__ -> prepare_data -> get_data_info
        off = int(info['frame_offsets'][1])
        counts[off] += 1
        # the path really is the offset frame (no clamping here)
        assert frame_of(info['img_path'][1]) == key + off
    assert set(counts) == {-2, -1, 0, 1, 2}
    expected = n / 5
    chi2 = sum((c - expected)**2 / expected for c in counts.values())
    assert chi2 < 18.5, counts  # df=4, p ~ 0.001
    assert all(0.15 * n < c < 0.25 * n for c in counts.values()), counts


def test_fixed_at_build_offsets_are_fixed(tiny_root):
    kwargs = dict(frame_sampler_mode='fixed_at_build', seed=3)
    ds = build(tiny_root, 'annotations/posetrack18_train.json', **kwargs)
    first = [ds.get_data_info(i)['frame_offsets'][1] for i in range(len(ds))]
    np.random.seed(1)
    again = [ds[i]['frame_offsets'][1] for i in range(len(ds))]
    assert first == again
    assert len(set(first)) > 1  # drawn per instance, not one global value
    same_seed = build(tiny_root, 'annotations/posetrack18_train.json',
                      **kwargs)
    assert [
        same_seed.get_data_info(i)['frame_offsets'][1] for i in range(len(ds))
    ] == first
    other = build(
        tiny_root,
        'annotations/posetrack18_train.json',
        frame_sampler_mode='fixed_at_build',
        seed=4)
    assert [
        other.get_data_info(i)['frame_offsets'][1] for i in range(len(ds))
    ] != first


def test_clamping_at_both_video_ends(tiny_root):
    ds = build(tiny_root, 'annotations/posetrack18_val.json', test_mode=True)
    seen = set()
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        key = info['frame_index']
        frames = [frame_of(p) for p in info['img_path']]
        if key == 0:
            assert frames == [0, 0, 0, 1, 2]
            seen.add('start')
        if key == info['nframes'] - 1:
            assert frames == [key, key - 2, key - 1, key, key]
            seen.add('end')
        np.testing.assert_array_equal(info['frame_numbers'], frames)
    assert seen == {'start', 'end'}


def test_fixed_weights_reordered_key_first(tiny_root):
    ds = build(
        tiny_root,
        'annotations/posetrack18_val.json',
        test_mode=True,
        frame_offsets=[1, -1, 0],
        frame_weights=[0.3, 0.2, 0.5])
    info = ds.get_data_info(0)
    np.testing.assert_array_equal(info['frame_offsets'], [0, -1, 1])
    np.testing.assert_allclose(info['frame_weights'], [0.5, 0.2, 0.3])


@pytest.mark.parametrize('kwargs, match', [
    (dict(frame_weights=[0.5, 0.5, 0.5, 0.0, 0.0]), 'sum to 1'),
    (dict(frame_weights=[-0.1, 0.3, 0.4, 0.3, 0.1]), 'non-negative'),
    (dict(frame_weights=[0.5, 0.5]), '5 values'),
    (dict(frame_offsets=[-1, 1], frame_weights=[0.5, 0.5]), 'key frame 0'),
])
def test_bad_frame_weights(tiny_root, kwargs, match):
    with pytest.raises(ValueError, match=match):
        build(
            tiny_root,
            'annotations/posetrack18_val.json',
            test_mode=True,
            **kwargs)


def test_single_frame_mode(tiny_root):
    ds = build(
        tiny_root, 'annotations/posetrack18_train.json', single_frame=True)
    info = ds[0]
    assert len(info['img_path']) == 1
    np.testing.assert_array_equal(info['frame_weights'], [1.0])
    np.testing.assert_array_equal(info['frame_offsets'], [0])


def test_single_mode_by_name(tiny_root):
    ds = build(
        tiny_root,
        'annotations/posetrack18_train.json',
        frame_sampler_mode='single')
    assert ds.single_frame and ds.frame_sampler_mode == 'single'
    np.testing.assert_array_equal(ds[0]['frame_offsets'], [0])
    with pytest.raises(ValueError, match='single_frame=True'):
        build(
            tiny_root,
            'annotations/posetrack18_train.json',
            single_frame=True,
            frame_sampler_mode='fixed')


def test_old_frame_indices_argument_is_named(tiny_root):
    with pytest.raises(TypeError, match='renamed to "frame_offsets"'):
        build(
            tiny_root,
            'annotations/posetrack18_val.json',
            test_mode=True,
            frame_indices=(-1, 0, 1))
    with pytest.raises(TypeError, match='frame_offset'):
        build(
            tiny_root,
            'annotations/posetrack18_val.json',
            frame_offset=(-1, 0, 1))


def test_seeded_draws_are_reproduced(tiny_root):
    """The draws of both random modes, pinned for a given seed."""
    ann = 'annotations/posetrack18_train.json'
    ds = build(tiny_root, ann, frame_range=3, num_sampled_frames=3)
    np.random.seed(123)
    assert [ds.get_data_info(i)['frame_offsets'].tolist()
            for i in range(4)] == [[0, 2, 3, 3], [0, -1, -1, 1], [0, -2, 0, 3],
                                   [0, -2, -1, 0]]
    ds = build(
        tiny_root,
        ann,
        frame_sampler_mode='fixed_at_build',
        seed=3,
        num_sampled_frames=2)
    assert [ds.get_data_info(i)['frame_offsets'].tolist()
            for i in range(4)] == [[0, -2, 2], [0, -2, -1], [0, -2, 2],
                                   [0, 0, 2]]


def _labeled_frames(ds):
    return {(osp.dirname(ds.get_data_info(i)['img_path'][0]),
             ds.get_data_info(i)['frame_index'])
            for i in range(len(ds))}


def test_sparse_label_modes(tiny_posetrack, tiny_root):
    coco = load_json(tiny_posetrack['ann_files']['train'])
    frame_of_img = {
        img['id']: frame_of(img['file_name'])
        for img in coco['images']
    }

    def expected(frames):
        return sum(1 for a in coco['annotations']
                   if frame_of_img[a['image_id']] in frames
                   and a['num_keypoints'] > 0)

    every = build(
        tiny_root, 'annotations/posetrack18_train.json', sparse_label_every=5)
    assert len(every) == expected({0, 5})
    assert {f for _, f in _labeled_frames(every)} <= {0, 5}
    per_video = build(
        tiny_root,
        'annotations/posetrack18_train.json',
        labeled_frames_per_video=4)
    assert len(per_video) == expected({0, 3, 6, 9})
    with pytest.raises(ValueError, match='only one'):
        build(
            tiny_root,
            'annotations/posetrack18_train.json',
            sparse_label_every=2,
            labeled_frames_per_video=2)


def test_sparse_json_keeps_unlabeled_frames_as_support(tiny_posetrack,
                                                       tiny_root):
    sparse = load_json(tiny_posetrack['sparse_ann_files']['train'])
    ds = build(tiny_root, 'annotations/posetrack18_train_sparse.json')
    assert len(ds) == sum(1 for a in sparse['annotations']
                          if a['num_keypoints'] > 0)
    unlabeled = {
        img['file_name']
        for img in sparse['images'] if not img['is_labeled']
    }
    np.random.seed(0)
    used = set()
    for _ in range(20):
        for i in range(len(ds)):
            info = ds[i]
            assert info['frame_index'] % 5 == 0
            for p in info['img_path'][1:]:
                assert osp.isfile(p)
                used.add(osp.relpath(p, tiny_root))
    assert used & unlabeled


def test_propagated_labels_count_as_labels_above_a_score(
        tiny_posetrack, tiny_root, tmp_path):
    """A merged file of sparse and propagated labels trains the single-frame
    model on both; ``propagated_min_score`` keeps the propagated joints
    scored at least that (copied labels: 1/2 one frame away, 1/3 two)."""
    sparse = load_json(tiny_posetrack['sparse_ann_files']['train'])
    merged = mark_propagated(copy_nearest_labels(sparse))
    path = write(tmp_path, merged, 'propagated.json')
    sparse_only = build(tiny_root, 'annotations/posetrack18_train_sparse.json',
                        single_frame=True)
    propagated = [a for a in merged['annotations'] if a['is_propagated']]
    near = [a for a in propagated if max(a['scores']) >= 0.4]
    assert 0 < len(near) < len(propagated)
    every = build(tiny_root, path, single_frame=True)
    assert len(every) == len(sparse_only) + len(propagated)
    confident = build(tiny_root, path, single_frame=True,
                      propagated_min_score=0.4)
    assert len(confident) == len(sparse_only) + len(near)
    infos = {confident.get_data_info(i)['id']: confident.get_data_info(i)
             for i in range(len(confident))}
    for ann in near:
        kpts = np.asarray(ann['keypoints']).reshape(-1, 3)
        expected = (kpts[:, 2] > 0) & (np.asarray(ann['scores']) >= 0.4)
        np.testing.assert_array_equal(
            infos[ann['id']]['keypoints_visible'][0], expected)
    # the human labels stay whole whatever their scores field says
    assert len(build(tiny_root, path, single_frame=True,
                     propagated_min_score=1.0)) == len(sparse_only)

    for bad in (1.5, -0.1, True, '0.5'):
        with pytest.raises(ValueError, match='propagated_min_score'):
            build(tiny_root, path, propagated_min_score=bad)
    del near[0]['scores']
    broken = write(tmp_path, merged, 'no_scores.json')
    with pytest.raises(InputFileError,
                       match=rf'no_scores.json: propagated annotation '
                       rf'id={near[0]["id"]} needs "scores"'):
        build(tiny_root, broken, propagated_min_score=0.4)


@pytest.mark.parametrize('form', ['image_id', 'image_name', 'frame_id'])
def test_detection_forms(tiny_posetrack, tiny_root, tmp_path, form):
    det_file = tiny_posetrack['det_files']['val']
    dets = load_json(det_file)
    coco = load_json(tiny_posetrack['ann_files']['val'])
    id2img = {img['id']: img for img in coco['images']}
    converted = []
    for det in dets:
        img = id2img[det['image_id']]
        rec = dict(bbox=det['bbox'], score=det['score'], category_id=1)
        if form == 'image_id':
            rec['image_id'] = det['image_id']
        elif form == 'image_name':
            rec['image_name'] = img['file_name']
        else:
            rec.update(frame_id=img['frame_id'], nframes=img['nframes'])
        converted.append(rec)
    path = tmp_path / f'dets_{form}.json'
    path.write_text(json.dumps(converted))
    ds = build(
        tiny_root,
        'annotations/posetrack18_val.json',
        test_mode=True,
        bbox_file=str(path),
        filter_cfg=dict(bbox_score_thr=0.3))
    keep = [d for d in dets if d['score'] >= 0.3]
    assert len(ds) == len(keep)
    got = [ds.get_data_info(i) for i in range(len(ds))]
    assert [g['img_id'] for g in got] == [d['image_id'] for d in keep]
    for g, d in zip(got, keep):
        assert g['file_name'] == id2img[d['image_id']]['file_name']
        assert g['vid_id'] == id2img[d['image_id']]['vid_id']
        assert len(g['img_path']) == 5
    assert len(keep) < len(dets)


# ----------------------------------------------------------------------
# boxes, single-frame videos, sparse labels and the data-info builders
@pytest.fixture
def val_coco(tiny_posetrack) -> dict:
    return load_json(tiny_posetrack['ann_files']['val'])


def write(tmp_path, obj, name='broken_ann.json') -> str:
    path = tmp_path / name
    path.write_text(json.dumps(obj))
    return str(path)


def test_degenerate_boxes_dropped_and_partial_boxes_clipped(
        tmp_path, tiny_root, val_coco):
    coco = copy.deepcopy(val_coco)
    valid = [a for a in coco['annotations'] if a['num_keypoints'] > 0]
    valid[0]['bbox'] = [10, 10, 0, 30]  # zero width
    valid[1]['bbox'] = [-500, 10, 20, 30]  # completely left of the image
    valid[2]['bbox'] = [-10, -5, 50, 200]  # partly outside -> clipped
    clipped_id = valid[2]['id']
    path = write(tmp_path, coco)
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        ds = build(tiny_root, path, test_mode=True)
    finally:
        logger.removeHandler(handler)
    assert ds.num_dropped_boxes == 2
    assert len(ds) == len(valid) - 2
    msgs = [r.getMessage() for r in records]
    assert any('broken_ann.json' in m and 'dropped 2' in m for m in msgs)
    info = next(
        ds.get_data_info(i) for i in range(len(ds))
        if ds.get_data_info(i)['id'] == clipped_id)
    w, h = coco['images'][0]['width'], coco['images'][0]['height']
    np.testing.assert_allclose(info['bbox'], [[0, 0, 40, h - 1]])
    assert w > 40


def test_clip_helper():
    assert clip_xywh_to_xyxy([5, 5, 0, 10], 100, 100) is None
    assert clip_xywh_to_xyxy([200, 5, 10, 10], 100, 100) is None
    np.testing.assert_allclose(
        clip_xywh_to_xyxy([90, -5, 20, 20], 100, 100), [[90, 0, 99, 15]])


def test_single_frame_video_falls_back_to_key(tmp_path, tiny_root, val_coco):
    coco = copy.deepcopy(val_coco)
    for img in coco['images']:
        img['nframes'] = 1
    path = write(tmp_path, coco)
    with pytest.warns(MissingFrameWarning, match='single frame'):
        ds = build(tiny_root, path)
    info = ds.get_data_info(0)
    assert info['img_path'][1] == info['img_path'][0]


def test_select_sparse_labels():
    images = {
        i: dict(
            file_name=f'images/x/000001_mpii_x/{i:06d}.jpg', is_labeled=i != 4)
        for i in range(8)
    }
    # labeled frames 0,1,2,3,5,6,7 -> every 3rd labeled frame: 0, 3, 7
    assert select_sparse_labels(images, [], every=3) == {0, 3, 7}
    assert select_sparse_labels(images, [], per_video=2) == {0, 7}


IMG = dict(
    id=10000030004,
    file_name='images/val/000003_mpii_val/000004.jpg',
    nframes=12,
    frame_id=10000030004,
    vid_id='000003',
    width=100,
    height=80)


def person(**kwargs):
    kpts = [0.0] * 51
    kpts[0:3] = [30.0, 20.0, 1]
    kpts[15:18] = [40.0, 50.0, 1]
    ann = dict(
        id=1000003000401,
        image_id=IMG['id'],
        keypoints=kpts,
        bbox=[20, 10, 40, 60],
        category_id=1)
    ann.update(kwargs)
    return ann


def test_image_info():
    info = image_info(IMG, 'data/pt18')
    assert info['img_path'] == 'data/pt18/images/val/000003_mpii_val/' \
        '000004.jpg'
    assert (info['img_id'], info['frame_index'], info['nframes']) == (
        10000030004, 4, 12)
    no_vid = dict(IMG, file_name='images/val/000007_mpii_val/x.jpg')
    del no_vid['vid_id']
    info = image_info(no_vid, '')
    assert info['vid_id'] == '000007' and info['frame_index'] is None


def test_gt_instance():
    info, dropped = gt_instance(person(), IMG, '')
    assert not dropped
    np.testing.assert_allclose(info['bbox'], [[20, 10, 60, 70]])
    np.testing.assert_allclose(info['keypoints'][0, [0, 5]],
                               [[30, 20], [40, 50]])
    assert info['keypoints_visible'].sum() == 2
    assert info['num_keypoints'] == 2 and info['id'] == 1000003000401
    assert gt_instance(person(iscrowd=True), IMG, '') == (None, False)
    assert gt_instance(person(keypoints=[0] * 51), IMG, '') == (None, False)
    assert gt_instance(person(bbox=[150, 10, 5, 5]), IMG, '') == (None, True)


def test_detection_instance():
    det = dict(bbox=[-5, 0, 30, 30], score=0.4, nframes=20)
    info = detection_instance(det, IMG, '', 17, inst_id=7)
    np.testing.assert_allclose(info['bbox'], [[0, 0, 25, 30]])
    assert info['nframes'] == 20 and info['id'] == 7
    assert info['keypoints'].shape == (1, 17, 2)
    np.testing.assert_allclose(info['bbox_score'], [0.4])
    assert detection_instance(dict(bbox=[0, 0, 0, 9], score=1), IMG, '', 17,
                              0) is None
