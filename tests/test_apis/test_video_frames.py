"""Frame sources (video files, frame folders) and the stream of windows."""
import tracemalloc
import weakref

import cv2
import numpy as np
import pytest

from posewarper_mm.apis import (FrameWindowStream, ImageFolderSource,
                                TemporalWindow, VideoFileSource,
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


# ---------------------------------------------------------------------------
# the stream of frame windows: clamping, causality, memory
WINDOW = TemporalWindow((-2, -1, 0, 1, 2), (0.1, 0.25, 0.3, 0.25, 0.1))


class RecordingSource:
    """Frames whose pixels hold their index; records every frame read."""

    def __init__(self, num_frames: int, size=(4, 4)) -> None:
        self.num_frames = num_frames
        self.size = size
        self.reads = []
        self.alive = 0
        self.max_alive = 0

    def _release(self) -> None:
        self.alive -= 1

    def __iter__(self):
        for index in range(self.num_frames):
            frame = np.full((*self.size, 3), index % 256, dtype=np.uint8)
            self.alive += 1
            self.max_alive = max(self.max_alive, self.alive)
            weakref.finalize(frame, self._release)
            self.reads.append(index)
            yield frame


def _indices(window) -> list:
    return [int(f[0, 0, 0]) for f in window.frames]


def test_offline_window_order_and_clamping():
    windows = list(FrameWindowStream(RecordingSource(7), WINDOW))
    assert [w.index for w in windows] == list(range(7))
    # key first, then ascending offsets; clamped to [0, 6]
    assert _indices(windows[0]) == [0, 0, 0, 1, 2]
    assert _indices(windows[1]) == [1, 0, 0, 2, 3]
    assert _indices(windows[3]) == [3, 1, 2, 4, 5]
    assert _indices(windows[5]) == [5, 3, 4, 6, 6]
    assert _indices(windows[6]) == [6, 4, 5, 6, 6]
    assert windows[6].frame_numbers.tolist() == [6, 4, 5, 6, 6]
    assert windows[3].offsets.tolist() == [0, -2, -1, 1, 2]
    assert np.allclose(windows[3].weights, [0.3, 0.1, 0.25, 0.25, 0.1])
    assert windows[3].key_frame is windows[3].frames[0]
    assert FrameWindowStream([]).window == WINDOW.key_first()  # default


@pytest.mark.parametrize('num_frames', [1, 2])
def test_video_shorter_than_window(num_frames):
    windows = list(FrameWindowStream(RecordingSource(num_frames), WINDOW))
    assert len(windows) == num_frames
    last = num_frames - 1
    for window in windows:
        expected = np.clip(window.index + np.array([0, -2, -1, 1, 2]), 0,
                           last)
        assert _indices(window) == expected.tolist()
        assert len(window.frames) == 5


def test_online_mode_never_reads_a_future_frame():
    source = RecordingSource(12)
    stream = FrameWindowStream(source, WINDOW.online(), online=True)
    for window in stream:
        assert max(source.reads) == window.index
        assert max(window.frame_numbers) <= window.index
        assert _indices(window)[0] == window.index
    assert source.reads == list(range(12))


def test_online_rejects_future_offsets():
    with pytest.raises(ValueError, match='past frames only'):
        FrameWindowStream(RecordingSource(3), WINDOW, online=True)


def test_offline_reads_ahead_only_the_window():
    source = RecordingSource(20)
    for window in FrameWindowStream(source, WINDOW):
        assert max(source.reads) == min(window.index + 2, 19)


def test_memory_bounded_over_long_stream():
    """300 frames of 120x160: the buffer never exceeds the window, frames
    are released, and the traced peak stays near the window's size."""
    source = RecordingSource(300, size=(120, 160))
    iterator = FrameWindowStream(source, WINDOW)
    frame_bytes = 120 * 160 * 3
    tracemalloc.start()
    checksum = 0
    for window in iterator:
        assert len(iterator.buffer) <= iterator.window_size == 5
        checksum += int(window.key_frame[0, 0, 0])
        del window
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert checksum == sum(i % 256 for i in range(300))
    assert source.max_alive <= iterator.window_size + 1
    assert source.alive == 0
    assert peak < 10 * frame_bytes, f'peak {peak} bytes'


def test_video_ending_before_its_announced_count(tmp_path):
    """The first half of a 40-frame MJPG avi: an error naming the file and
    both counts once decoding stops; allowed, a warning with the count."""
    from tests.testing.clips import write_truncated_avi
    frames = [np.random.default_rng(i).integers(0, 255, (48, 64, 3),
                                                dtype=np.uint8)
              for i in range(40)]
    path = write_truncated_avi(frames, str(tmp_path / 'half.avi'))
    source = open_frame_source(path)
    assert source.num_frames == 40
    with pytest.raises(InputFileError) as info:
        list(source)
    read = source.num_read
    assert 0 < read < 40
    assert str(info.value).startswith(
        f'{path}: decoding stopped after {read} of the 40 frames')
    assert '--allow-short-video' in str(info.value)
    with pytest.warns(UserWarning, match=f'kept the {read} frames read'):
        assert len(list(open_frame_source(path, allow_short=True))) == read
