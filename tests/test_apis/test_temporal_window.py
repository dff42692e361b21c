"""Temporal windows over frame streams: clamping, causality, memory."""
import tracemalloc
import weakref

import numpy as np
import pytest

from posewarper_mm.apis import TemporalWindowIterator, online_frame_offsets

OFFSETS = (-2, -1, 0, 1, 2)
WEIGHTS = (0.1, 0.25, 0.3, 0.25, 0.1)


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
    windows = list(TemporalWindowIterator(RecordingSource(7), OFFSETS,
                                          WEIGHTS))
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


@pytest.mark.parametrize('num_frames', [1, 2])
def test_video_shorter_than_window(num_frames):
    windows = list(
        TemporalWindowIterator(RecordingSource(num_frames), OFFSETS, WEIGHTS))
    assert len(windows) == num_frames
    last = num_frames - 1
    for window in windows:
        expected = np.clip(window.index + np.array([0, -2, -1, 1, 2]), 0,
                           last)
        assert _indices(window) == expected.tolist()
        assert len(window.frames) == 5


def test_online_mode_never_reads_a_future_frame():
    source = RecordingSource(12)
    offsets, weights = online_frame_offsets(OFFSETS, WEIGHTS)
    iterator = TemporalWindowIterator(source, offsets, weights, online=True)
    for window in iterator:
        assert max(source.reads) == window.index
        assert max(window.frame_numbers) <= window.index
        assert _indices(window)[0] == window.index
    assert source.reads == list(range(12))


def test_online_offsets_renormalised():
    offsets, weights = online_frame_offsets(OFFSETS, WEIGHTS)
    assert offsets == (-2, -1, 0)
    assert np.allclose(weights, np.array([0.1, 0.25, 0.3]) / 0.65)
    offsets, weights = online_frame_offsets(range(-4, 3), [1 / 7] * 7)
    assert offsets == (-4, -3, -2, -1, 0)
    assert np.allclose(weights, 0.2)
    with pytest.raises(ValueError, match='online'):
        online_frame_offsets((0, 1), (0.0, 1.0))


def test_online_rejects_future_offsets():
    with pytest.raises(ValueError, match='past frames only'):
        TemporalWindowIterator(RecordingSource(3), OFFSETS, WEIGHTS,
                               online=True)


def test_offline_reads_ahead_only_the_window():
    source = RecordingSource(20)
    for window in TemporalWindowIterator(source, OFFSETS, WEIGHTS):
        assert max(source.reads) == min(window.index + 2, 19)


@pytest.mark.parametrize('offsets, weights', [((-1, 1), (0.5, 0.5)),
                                              ((0, 0, 1), (0.4, 0.3, 0.3)),
                                              ((-1, 0, 1), (0.5, 0.5, 0.5)),
                                              ((-1, 0), (1.5, -0.5))])
def test_bad_offsets_or_weights(offsets, weights):
    with pytest.raises(ValueError):
        TemporalWindowIterator(RecordingSource(3), offsets, weights)


def test_memory_bounded_over_long_stream():
    """300 frames of 120x160: the buffer never exceeds the window, frames
    are released, and the traced peak stays near the window's size."""
    source = RecordingSource(300, size=(120, 160))
    iterator = TemporalWindowIterator(source, OFFSETS, WEIGHTS)
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
