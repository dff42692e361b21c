"""Video files and frame folders as streaming frame sources."""
import cv2
import numpy as np
import pytest

from posewarper_mm.apis import (ImageFolderSource, VideoFileSource,
                                open_frame_source)
from posewarper_mm.errors import InputFileError
from tests.testing.clips import write_video


def _frame(value: int, size=(48, 64)) -> np.ndarray:
    return np.full((size[0], size[1], 3), value, dtype=np.uint8)


def test_folder_sorted_by_frame_number(tmp_path):
    for index in (10, 2, 0):
        cv2.imwrite(str(tmp_path / f'{index}.png'), _frame(index * 10))
    (tmp_path / 'notes.txt').write_text('not a frame')
    source = open_frame_source(str(tmp_path))
    assert isinstance(source, ImageFolderSource)
    assert source.num_frames == 3
    assert source.frame_size == (64, 48)
    assert [source.frame_name(i) for i in range(3)] == \
        ['0.png', '2.png', '10.png']
    values = [int(f[0, 0, 0]) for f in source]
    assert values == [0, 20, 100]


def test_video_file_frames_and_size(tmp_path):
    frames = [_frame(40 * i, (48, 64)) for i in range(6)]
    path = write_video(frames, str(tmp_path / 'clip.mp4'), fps=12)
    source = open_frame_source(path)
    assert isinstance(source, VideoFileSource)
    assert source.name == 'clip'
    assert source.frame_size == (64, 48)
    assert source.fps == pytest.approx(12.0)
    decoded = list(source)
    assert len(decoded) == 6
    # lossy codec: the grey levels survive approximately
    means = [float(f.mean()) for f in decoded]
    assert np.allclose(means, [40 * i for i in range(6)], atol=6)
    assert source.frame_name(3) == '000003.jpg'
    assert len(list(source)) == 6  # iterating again re-opens the file


def test_missing_input_names_the_path(tmp_path):
    missing = str(tmp_path / 'nope.mp4')
    with pytest.raises(FileNotFoundError, match='nope.mp4'):
        open_frame_source(missing)


def test_unreadable_video_names_the_file(tmp_path):
    bad = tmp_path / 'broken.mp4'
    bad.write_bytes(b'this is not a video' * 10)
    with pytest.raises(InputFileError, match='broken.mp4'):
        open_frame_source(str(bad))


def test_empty_video_file(tmp_path):
    empty = tmp_path / 'empty.avi'
    empty.write_bytes(b'')
    with pytest.raises(InputFileError, match='empty.avi'):
        open_frame_source(str(empty))


def test_folder_without_images(tmp_path):
    (tmp_path / 'readme.txt').write_text('x')
    with pytest.raises(InputFileError, match='no image files'):
        open_frame_source(str(tmp_path))


def test_corrupt_frame_in_folder_named(tmp_path):
    cv2.imwrite(str(tmp_path / '000000.jpg'), _frame(10))
    (tmp_path / '000001.jpg').write_bytes(b'\xff\xd8 truncated')
    source = open_frame_source(str(tmp_path))
    with pytest.raises(InputFileError, match='000001.jpg'):
        list(source)


def test_frame_of_other_size_in_folder_named(tmp_path):
    cv2.imwrite(str(tmp_path / '000000.png'), _frame(10, (48, 64)))
    cv2.imwrite(str(tmp_path / '000001.png'), _frame(10, (40, 64)))
    with pytest.raises(InputFileError, match='000001.png.*differs'):
        list(open_frame_source(str(tmp_path)))
