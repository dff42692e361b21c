"""The synthetic generator writes a consistent PoseTrack18-format tree."""
import filecmp
import json
import os.path as osp
import re
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from posewarper_mm.datasets import PoseTrackVideoPairDataset
from tools.quickstart.synthetic import (KEYPOINT_NAMES,
                                        generate_posetrack_dataset,
                                        split_video_counts)


def load(path):
    with open(path) as f:
        return json.load(f)


def test_layout_and_merged_json(tiny_posetrack):
    root = Path(tiny_posetrack['root'])
    for split, n_videos in (('train', 2), ('val', 1)):
        coco = load(tiny_posetrack['ann_files'][split])
        assert set(coco) == {'images', 'annotations', 'categories'}
        assert len(coco['images']) == n_videos * 10
        assert coco['categories'][0]['keypoints'] == list(KEYPOINT_NAMES)
        assert len(coco['categories'][0]['skeleton']) == 19
        for img in coco['images']:
            m = re.fullmatch(
                rf'images/{split}/(\d{{6}})_mpii_{split}/'
                r'(\d{6})\.jpg', img['file_name'])
            assert m, img['file_name']
            vid, frame = int(m.group(1)), int(m.group(2))
            assert img['id'] == img['frame_id'] == int(
                f'1{vid:06d}{frame:04d}')
            assert img['vid_id'] == m.group(1)
            assert img['nframes'] == 10 and img['is_labeled'] is True
            assert (img['width'], img['height']) == (96, 72)
            assert isinstance(img['occluded'], bool)
            assert isinstance(img['blurred'], bool)
            assert len(img['ignore_regions_x']) == len(img['ignore_regions_y'])
            assert cv2.imread(str(root / img['file_name'])).shape == (72, 96,
                                                                      3)
        ids = {img['id'] for img in coco['images']}
        for ann in coco['annotations']:
            assert ann['image_id'] in ids
            assert ann['id'] // 100 == ann['image_id']
            assert ann['category_id'] == 1 and ann['scores'] == []
            assert len(ann['bbox_head']) == 4
            kpts = np.array(ann['keypoints']).reshape(17, 3)
            vis = kpts[:, 2] > 0
            assert set(kpts[:, 2]) <= {0, 1}
            assert ann['num_keypoints'] == vis.sum() >= 2
            np.testing.assert_array_equal(kpts[~vis, :2], 0)
            assert np.all(kpts[vis, 0] <= 95) and np.all(kpts[vis, 1] <= 71)
            x, y, w, h = ann['bbox']
            assert w > 0 and h > 0 and x + w <= 95 and y + h <= 71


def test_per_video_files_follow_official_format(tiny_posetrack):
    for split in ('train', 'val'):
        merged = load(tiny_posetrack['ann_files'][split])
        files = sorted(tiny_posetrack['video_ann_files'][split])
        assert files == sorted(
            str(p) for p in Path(tiny_posetrack['video_ann_dirs'][split]).glob(
                '*.json'))
        all_ids, all_anns = [], []
        for path in files:
            assert re.fullmatch(rf'\d{{6}}_mpii_{split}\.json',
                                osp.basename(path))
            video = load(path)
            assert set(video) == {'images', 'annotations', 'categories'}
            folder = osp.basename(path)[:-5]
            assert all(folder in img['file_name'] for img in video['images'])
            assert all('bbox_head' in a for a in video['annotations'])
            all_ids += [img['id'] for img in video['images']]
            all_anns += [a['id'] for a in video['annotations']]
        assert all_ids == [img['id'] for img in merged['images']]
        assert all_anns == [a['id'] for a in merged['annotations']]


def test_sparse_variant(tiny_posetrack):
    dense = load(tiny_posetrack['ann_files']['train'])
    sparse = load(tiny_posetrack['sparse_ann_files']['train'])
    assert 'val' not in tiny_posetrack['sparse_ann_files']
    assert [i['id']
            for i in sparse['images']] == [i['id'] for i in dense['images']]
    labeled = {i['id'] for i in sparse['images'] if i['is_labeled']}
    assert {i['id'] % 10000
            for i in sparse['images'] if i['is_labeled']} == {0, 5}
    assert all(a['image_id'] in labeled for a in sparse['annotations'])
    assert len(sparse['annotations']) == sum(1 for a in dense['annotations']
                                             if a['image_id'] in labeled)


def test_detections_are_noisy_with_score_spread(tiny_posetrack):
    coco = load(tiny_posetrack['ann_files']['val'])
    dets = load(tiny_posetrack['det_files']['val'])
    ids = {img['id'] for img in coco['images']}
    assert dets and all(
        set(d) == {'image_id', 'bbox', 'score', 'category_id'} for d in dets)
    assert all(d['image_id'] in ids for d in dets)
    scores = np.array([d['score'] for d in dets])
    assert (scores < 0.3).any() and (scores > 0.7).any()
    assert np.all((scores > 0) & (scores <= 1))


def test_deterministic_from_seed(tmp_path):
    kwargs = dict(
        num_videos=2, num_frames=4, width=64, height=48, splits=('val', ))
    a = generate_posetrack_dataset(str(tmp_path / 'a'), seed=5, **kwargs)
    b = generate_posetrack_dataset(str(tmp_path / 'b'), seed=5, **kwargs)
    c = generate_posetrack_dataset(str(tmp_path / 'c'), seed=6, **kwargs)
    assert filecmp.cmp(a['ann_files']['val'], b['ann_files']['val'], False)
    assert filecmp.cmp(a['frame_files']['val'][3], b['frame_files']['val'][3],
                       False)
    assert not filecmp.cmp(a['ann_files']['val'], c['ann_files']['val'], False)


def test_split_video_counts():
    assert split_video_counts(8, ('train', 'val')) == [4, 4]
    assert split_video_counts(7, ('train', 'val', 'test')) == [3, 2, 2]
    assert split_video_counts(1, ('a', ), (3, )) == [3]
    with pytest.raises(ValueError, match='videos_per_split'):
        split_video_counts(8, ('train', 'val'), (3, ))
    with pytest.raises(ValueError, match='num_frames'):
        generate_posetrack_dataset('unused', num_frames=0)


def test_output_loads_in_dataset(tiny_posetrack):
    root = tiny_posetrack['root']
    for split in ('train', 'val'):
        ds = PoseTrackVideoPairDataset(
            ann_file=tiny_posetrack['ann_files'][split],
            data_prefix=dict(img=root + '/'),
            test_mode=split == 'val',
            pipeline=[])
        assert len(ds) > 0
        assert all(
            osp.isfile(p) for i in range(len(ds))
            for p in ds.get_data_info(i)['img_path'])


def test_default_size_generation_time(tmp_path):
    start = time.perf_counter()
    out = generate_posetrack_dataset(str(tmp_path / 'default'))
    elapsed = time.perf_counter() - start
    print(f'\ndefault synthetic dataset (8 videos x 30 frames, 320x240): '
          f'{elapsed:.2f} s, {out["num_images"]} frames, '
          f'{out["num_annotations"]} persons')
    assert out['num_images'] == 240
    images = [
        img for split in ('train', 'val')
        for img in load(out['ann_files'][split])['images']
    ]
    # the hard cases exist: occluded, blurred and ignore-region frames
    assert any(img['occluded'] for img in images)
    assert any(img['blurred'] for img in images)
    assert any(img['ignore_regions_x'] for img in images)
    assert elapsed < 120


def test_shake_blur_is_transient_and_changes_only_its_frames(tmp_path):
    """Camera-shake blur hits single frames: with shakes on, the flagged
    frames are blurred and every other frame is byte-identical to the
    same seed's frame without shakes (the shakes are drawn last)."""
    kwargs = dict(
        num_videos=1,
        num_frames=40,
        width=96,
        height=72,
        splits=('val', ),
        seed=3,
        persons_per_video=1)
    sharp = generate_posetrack_dataset(str(tmp_path / 'sharp'), **kwargs)
    shaken = generate_posetrack_dataset(
        str(tmp_path / 'shaken'),
        shake_blur_prob=0.3,
        shake_blur_strength=(0.1, 0.12),
        **kwargs)
    before = {
        img['id']: img['blurred']
        for img in load(sharp['ann_files']['val'])['images']
    }
    after = load(shaken['ann_files']['val'])['images']
    added = [
        i for i, img in enumerate(after)
        if img['blurred'] and not before[img['id']]
    ]
    # about 0.3 x 40 frames; a fixed seed, so the count is exact
    assert 6 <= len(added) <= 18
    for i, (a, b) in enumerate(
            zip(sharp['frame_files']['val'], shaken['frame_files']['val'])):
        same = filecmp.cmp(a, b, False)
        assert same == (i not in added), i
        if i in added:
            # blurred: less high-frequency energy than the sharp frame
            lap = [
                cv2.Laplacian(cv2.imread(p, cv2.IMREAD_GRAYSCALE),
                              cv2.CV_64F).var() for p in (a, b)
            ]
            assert lap[1] < 0.7 * lap[0]
    assert load(sharp['ann_files']['val'])['annotations'] == load(
        shaken['ann_files']['val'])['annotations']


def test_shaken_frames_are_independent():
    """Each frame is shaken on its own: the shaken fraction is the given
    probability, and a shaken frame's neighbour is no likelier to be
    shaken than any frame (unlike the blur runs)."""
    from tools.quickstart.synthetic.motion import sample_shake_frames
    rng = np.random.default_rng(0)
    assert sample_shake_frames(rng, 100, 0.0, (0.05, 0.09)) == {}
    shaken = sample_shake_frames(rng, 20000, 0.15, (0.05, 0.09))
    frames = np.zeros(20000, dtype=bool)
    frames[list(shaken)] = True
    assert abs(frames.mean() - 0.15) < 0.01
    assert abs(frames[1:][frames[:-1]].mean() - 0.15) < 0.02
    strengths = np.array([s for s, _ in shaken.values()])
    assert strengths.min() >= 0.05 and strengths.max() <= 0.09


def test_occluder_speed_sets_how_long_a_joint_stays_covered():
    """Occluders move by the given fraction of the width per frame."""
    from tools.quickstart.synthetic.motion import sample_occluders
    rng = np.random.default_rng(0)
    width = 320
    steps = []
    for _ in range(20):
        for occ in sample_occluders(
                rng, 10, width, 240, speed_range=(0.04, 0.08)):
            left = np.array([p[:, 0].min() for p in occ.polygons])
            steps.append(np.abs(np.diff(left)))
    steps = np.concatenate(steps) / width
    # integer polygon corners: within one pixel of the sampled speed
    assert steps.min() >= 0.04 - 1.5 / width
    assert steps.max() <= 0.08 + 1.5 / width


def test_max_occluders_bounds_the_occluders_per_video():
    """Each video draws 0..max_count occluders; 0 gives none."""
    from tools.quickstart.synthetic.motion import sample_occluders
    rng = np.random.default_rng(0)
    counts = [
        len(sample_occluders(rng, 5, 320, 240, max_count=4))
        for _ in range(200)
    ]
    assert min(counts) == 0 and max(counts) == 4
    assert not any(
        sample_occluders(rng, 5, 320, 240, max_count=0) for _ in range(20))


def test_no_occluders_no_occluded_frames(tmp_path):
    """max_occluders=0: no image is flagged occluded, no joint hidden."""
    generate_posetrack_dataset(
        str(tmp_path),
        num_videos=4,
        num_frames=6,
        splits=('val', ),
        max_occluders=0,
        seed=3)
    data = load(tmp_path / 'annotations' / 'posetrack18_val.json')
    assert not any(img['occluded'] for img in data['images'])
    assert not any(
        any(ann['keypoints_occluded']) for ann in data['annotations'])


@pytest.mark.parametrize('bad', [-1, 1.5])
def test_bad_max_occluders_is_refused(tmp_path, bad):
    with pytest.raises(ValueError, match='max_occluders'):
        generate_posetrack_dataset(
            str(tmp_path), num_videos=2, num_frames=2, max_occluders=bad)
