"""Pseudo-labels for unlabeled frames: assignment, baseline, ids."""
import json

import numpy as np
import pytest

from posewarper_mm.apis import (assign_sources, copy_nearest_labels,
                                count_targets, nearest_labeled,
                                pseudo_annotation)


@pytest.fixture(scope='module')
def sparse(synthetic):
    with open(synthetic['sparse_ann_files']['train']) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def dense(synthetic):
    with open(synthetic['ann_files']['train']) as f:
        return json.load(f)


def test_nearest_labeled_ties_and_distance():
    assert nearest_labeled(range(10), [0, 5]) == {
        1: 0, 2: 0, 3: 5, 4: 5, 6: 5, 7: 5, 8: 5, 9: 5
    }
    assert nearest_labeled(range(7), [1, 5]) == {0: 1, 2: 1, 3: 1, 4: 5,
                                                 6: 5}
    assert nearest_labeled(range(10), [0, 5], max_distance=1) == {
        1: 0, 4: 5, 6: 5
    }
    assert nearest_labeled(range(4), []) == {}


def test_assign_sources_per_video(sparse):
    pairs = assign_sources(sparse)
    images = {img['id']: img for img in sparse['images']}
    labeled = {i for i, img in images.items() if img['is_labeled']}
    unlabeled = set(images) - labeled
    assert set(pairs) == unlabeled
    assert set(pairs.values()) <= labeled
    for tgt, src in pairs.items():
        # same video folder
        assert images[tgt]['file_name'].rsplit('/', 1)[0] == \
            images[src]['file_name'].rsplit('/', 1)[0]
    assert count_targets(sparse) == len(unlabeled) == 16
    assert count_targets(sparse, max_distance=1) == 6


def test_copy_baseline_labels_every_unlabeled_frame(sparse, dense):
    out = copy_nearest_labels(sparse)
    assert out['images'] == sparse['images']  # is_labeled kept
    assert out['annotations'][:len(sparse['annotations'])] == \
        sparse['annotations']
    new = out['annotations'][len(sparse['annotations']):]
    by_id = {a['id']: a for a in sparse['annotations']}
    pairs = assign_sources(sparse)
    persons = {
        img: sum(a['image_id'] == img for a in sparse['annotations'])
        for img in set(pairs.values())
    }
    assert len(new) == sum(persons[src] for src in pairs.values())
    ids = [a['id'] for a in out['annotations']]
    assert len(set(ids)) == len(ids)
    for ann in new:
        src = by_id[ann['propagated_from']]
        assert pairs[ann['image_id']] == src['image_id']
        assert ann['track_id'] == src['track_id']
        src_kpts = np.array(src['keypoints']).reshape(-1, 3)
        kpts = np.array(ann['keypoints']).reshape(-1, 3)
        vis = src_kpts[:, 2] > 0
        assert np.allclose(kpts[vis, :2], src_kpts[vis, :2], atol=0.01)
        assert np.all(kpts[~vis] == 0)
        dist = abs(ann['image_id'] - src['image_id'])  # same video
        assert np.allclose(np.array(ann['scores'])[vis], 1 / (1 + dist),
                           atol=1e-4)
        assert ann['bbox'] == pytest.approx(src['bbox'], abs=0.01)
        assert ann['num_keypoints'] == int(vis.sum())


def test_pseudo_annotation_moves_boxes_and_hides_joints():
    src = dict(
        id=5,
        image_id=1,
        track_id=3,
        category_id=1,
        keypoints=[10, 10, 1, 20, 20, 1, 30, 30, 0] + [40, 40, 1] * 14,
        bbox=[5, 5, 50, 50],
        bbox_head=[8, 8, 10, 10])
    img = dict(id=2, width=55, height=60)
    kpts = np.array(src['keypoints'], float).reshape(-1, 3)[:, :2] + 4
    vis = np.array(src['keypoints'][2::3]) > 0
    ann = pseudo_annotation(src, img, kpts, np.full(17, 0.5), vis, 99)
    assert ann['id'] == 99 and ann['image_id'] == 2 and ann['track_id'] == 3
    assert ann['keypoints'][:9] == [14, 14, 1, 24, 24, 1, 0, 0, 0]
    assert ann['scores'][2] == 0.0 and ann['scores'][0] == 0.5
    # moved by the median displacement (4, 4) and clipped to 55x60
    assert ann['bbox'] == [9.0, 9.0, 46.0, 50.0]
    assert ann['bbox_head'] == [12.0, 12.0, 10.0, 10.0]
    assert ann['propagated_from'] == 5


def test_copy_baseline_with_a_labeled_frame_without_persons(sparse):
    """A labeled frame whose persons all left the view gives no labels."""
    labeled = [img['id'] for img in sparse['images'] if img['is_labeled']]
    empty = labeled[0]
    coco = dict(
        sparse,
        annotations=[
            a for a in sparse['annotations'] if a['image_id'] != empty
        ])
    pairs = assign_sources(coco)
    targets = {tgt for tgt, src in pairs.items() if src == empty}
    assert targets
    out = copy_nearest_labels(coco)
    new = out['annotations'][len(coco['annotations']):]
    assert not [a for a in new if a['image_id'] in targets]
    assert {a['image_id'] for a in new} == set(pairs) - targets
