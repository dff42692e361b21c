"""Unit tests of the data-info builders for GT persons and detections."""
import numpy as np

from posewarper_mm.datasets.posetrack_instances import (detection_instance,
                                                        gt_instance,
                                                        image_info)

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
