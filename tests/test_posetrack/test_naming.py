"""PoseTrack18 frame names, video folders and image ids."""
import pytest

from posewarper_mm.posetrack import (frame_file_name,
                                     frame_index_from_image_id,
                                     frame_index_from_name,
                                     frame_index_or_none, frame_path, image_id,
                                     name_tail, parse_frame_name,
                                     posetrack_image_id, sibling_frame_path,
                                     video_folder)


def test_image_ids_round_trip():
    assert image_id(12, 7) == 10000120007
    assert image_id(12834, 0) == 10128340000
    assert frame_index_from_image_id(image_id(3418, 9999)) == 9999
    assert posetrack_image_id(video_folder(1, 'val'), 3) == image_id(1, 3)
    for bad in ((1, 10000), (1, -1), (10**6, 0)):
        with pytest.raises(ValueError, match='must be in'):
            image_id(*bad)


def test_video_folder_and_frame_paths():
    folder = video_folder(12, 'train')
    assert folder == '000012_mpii_train'
    assert frame_path('train', folder, 7) == \
        'images/train/000012_mpii_train/000007.jpg'
    assert parse_frame_name(frame_path('train', folder, 7)) == (folder, 7)
    assert frame_file_name(1, digits=8) == '00000001.jpg'
    with pytest.raises(ValueError, match='video number'):
        video_folder(10000, 'val')


def test_sibling_frame_path():
    key = 'data/images/val/000001_mpii_val/000001.jpg'
    assert sibling_frame_path(key, 9) == \
        'data/images/val/000001_mpii_val/000009.jpg'
    assert sibling_frame_path('v/00000001.png', 5, digits=8) == \
        'v/00000005.png'
    assert sibling_frame_path('v/1', 2) == 'v/000002.jpg'
    assert name_tail('/a/b/images/val/00_mpii/000003.jpg') == \
        '00_mpii/000003.jpg'


def test_frame_index_from_name():
    assert frame_index_from_name('images/x/000012.jpg') == 12
    assert frame_index_or_none('images/x/frame_a.jpg') is None
    with pytest.raises(ValueError, match='frame_a.jpg'):
        frame_index_from_name('images/x/frame_a.jpg')


@pytest.mark.parametrize('name, match', [
    ('images/val/clip/000001.jpg', 'video folder'),
    ('images/val/000001_youtube/000001.jpg', 'video folder'),
    ('images/val/000001_bonn/010000.jpg', 'below 10000'),
])
def test_parse_frame_name_is_strict(name, match):
    with pytest.raises(ValueError, match=match):
        parse_frame_name(name)
