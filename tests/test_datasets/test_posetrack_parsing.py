"""Bad annotation / detection input gives errors naming file and record."""
import copy
import json
import logging

import numpy as np
import pytest
from mmengine.logging import MMLogger

from posewarper_mm.datasets import PoseTrackVideoPairDataset
from posewarper_mm.datasets.posetrack_parsing import (clip_xywh_to_xyxy,
                                                      name_tail,
                                                      select_sparse_labels)
from posewarper_mm.errors import InputFileError, MissingFrameWarning


@pytest.fixture
def val_coco(tiny_posetrack) -> dict:
    with open(tiny_posetrack['ann_files']['val']) as f:
        return json.load(f)


def write(tmp_path, obj, name='broken_ann.json') -> str:
    path = tmp_path / name
    path.write_text(json.dumps(obj))
    return str(path)


def build(tiny_root, ann_file, **kwargs):
    return PoseTrackVideoPairDataset(
        ann_file=ann_file,
        data_prefix=dict(img=str(tiny_root) + '/'),
        pipeline=[],
        **kwargs)


def first_ann_with_id(coco):
    return next(a for a in coco['annotations'] if a['num_keypoints'] > 0)


def test_truncated_json(tmp_path, tiny_posetrack, tiny_root):
    text = open(tiny_posetrack['ann_files']['val']).read()
    path = tmp_path / 'truncated_ann.json'
    path.write_text(text[:len(text) // 2])
    with pytest.raises(
            InputFileError, match=r'truncated_ann\.json.*not valid json'):
        build(tiny_root, str(path))


def test_missing_file(tmp_path, tiny_root):
    with pytest.raises(FileNotFoundError, match='no_such_ann.json'):
        build(tiny_root, str(tmp_path / 'no_such_ann.json'))


def test_not_a_coco_dict(tmp_path, tiny_root):
    path = write(tmp_path, [1, 2, 3])
    with pytest.raises(InputFileError, match='broken_ann.json'):
        build(tiny_root, path)
    path = write(tmp_path, dict(images=[]), 'no_anns.json')
    with pytest.raises(
            InputFileError,
            match=r"no_anns\.json: missing the top-level key "
            "'annotations'"):
        build(tiny_root, path)


@pytest.mark.parametrize('kind, key', [('images', 'file_name'),
                                       ('images', 'nframes'),
                                       ('annotations', 'keypoints'),
                                       ('annotations', 'bbox')])
def test_missing_required_key(tmp_path, tiny_root, val_coco, kind, key):
    coco = copy.deepcopy(val_coco)
    rec = coco[kind][3]
    del rec[key]
    path = write(tmp_path, coco)
    pattern = (rf'broken_ann\.json: .*id={rec["id"]} is missing the '
               rf"required key '{key}'")
    with pytest.raises(InputFileError, match=pattern):
        build(tiny_root, path)


def test_nframes_not_needed_in_single_frame_mode(tmp_path, tiny_root,
                                                 val_coco):
    coco = copy.deepcopy(val_coco)
    for img in coco['images']:
        del img['nframes']
    ds = build(tiny_root, write(tmp_path, coco), single_frame=True)
    assert len(ds) > 0


def test_wrong_keypoint_length(tmp_path, tiny_root, val_coco):
    coco = copy.deepcopy(val_coco)
    ann = first_ann_with_id(coco)
    ann['keypoints'] = ann['keypoints'][:48]
    path = write(tmp_path, coco)
    with pytest.raises(
            InputFileError,
            match=rf'broken_ann\.json: annotation id={ann["id"]} has '
            r'keypoints of length 48, expected 51'):
        build(tiny_root, path)


def test_unknown_image_id(tmp_path, tiny_root, val_coco):
    coco = copy.deepcopy(val_coco)
    ann = first_ann_with_id(coco)
    ann['image_id'] = 123
    with pytest.raises(
            InputFileError, match=rf'id={ann["id"]} refers to image_id 123'):
        build(tiny_root, write(tmp_path, coco))


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


def test_bad_detection_files(tmp_path, tiny_posetrack, tiny_root):
    ann = tiny_posetrack['ann_files']['val']
    bad = write(tmp_path, [dict(image_id=1, bbox=[0, 0, 5, 5], score=0.9)],
                'bad_dets.json')
    with pytest.raises(
            InputFileError, match=r'bad_dets\.json: detection at index 0'):
        build(tiny_root, ann, test_mode=True, bbox_file=bad)
    no_score = write(tmp_path, [dict(image_id=1, bbox=[0, 0, 5, 5])],
                     'no_score_dets.json')
    with pytest.raises(
            InputFileError, match=r"no_score_dets\.json: .*'score'"):
        build(tiny_root, ann, test_mode=True, bbox_file=no_score)


def test_select_sparse_labels_and_name_tail():
    images = {
        i: dict(
            file_name=f'images/x/000001_mpii_x/{i:06d}.jpg', is_labeled=i != 4)
        for i in range(8)
    }
    # labeled frames 0,1,2,3,5,6,7 -> every 3rd labeled frame: 0, 3, 7
    assert select_sparse_labels(images, [], every=3) == {0, 3, 7}
    assert select_sparse_labels(images, [], per_video=2) == {0, 7}
    assert name_tail('/a/b/images/val/00_mpii/000003.jpg') == \
        '00_mpii/000003.jpg'
