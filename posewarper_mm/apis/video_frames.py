"""The frames of a video, decoded one at a time, and the stream of their
temporal windows, in memory bounded by the window size."""
import os
import os.path as osp
import warnings
from collections import deque
from dataclasses import dataclass
from typing import Deque, Iterable, Iterator, List, Optional, Tuple

import cv2
import numpy as np

from ..datasets.temporal_window import (DEFAULT_TEST_WINDOW, TemporalWindow,
                                        clamped_frame_numbers)
from ..errors import InputFileError
from ..posetrack import frame_file_name, frame_index_or_none

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
# the tools' flag that turns a video shorter than announced into a warning
ALLOW_SHORT_VIDEO_FLAG = '--allow-short-video'


class _FrameSource:
    """A source of BGR uint8 frames (H, W, 3) with a ``name``, ``fps``
    (25 when unknown), ``num_frames`` (None when unknown) and
    ``frame_size`` (width, height)."""
    path: str

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.path!r})'


class VideoFileSource(_FrameSource):
    """Frames of a video file, decoded with ``cv2.VideoCapture`` (opened
    here to check it; ``num_frames`` is the container's count).

    A video that stops decoding before the count its container announces
    is an error at the end of the iteration; with ``allow_short`` a
    warning that gives the count read (``num_read``).

    Raises:
        FileNotFoundError: If the file does not exist.
        InputFileError: If it cannot be decoded, or ends early.
    """

    def __init__(self, path: str, allow_short: bool = False) -> None:
        if not osp.exists(path):
            raise FileNotFoundError(f'{path}: video file not found')
        if not osp.isfile(path):
            raise InputFileError(f'{path}: not a regular file')
        self.path = path
        self.name = osp.splitext(osp.basename(path))[0]
        self.allow_short = allow_short
        self.num_read = 0
        cap = cv2.VideoCapture(path)
        try:
            if not cap.isOpened():
                raise InputFileError(
                    f'{path}: cannot be opened as a video (not a video file '
                    'or an unsupported codec)')
            ok, frame = cap.read()
            if not ok or frame is None:
                raise InputFileError(f'{path}: no frame could be decoded '
                                     '(empty, truncated or unsupported video)')
            fps = cap.get(cv2.CAP_PROP_FPS)
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        finally:
            cap.release()
        self.fps = float(fps) if fps and fps > 0 else 25.0
        self.num_frames: Optional[int] = count if count > 0 else None
        self.frame_size = (frame.shape[1], frame.shape[0])

    def frame_name(self, index: int) -> str:
        """File name given to frame ``index`` in outputs (``%06d.jpg``)."""
        return frame_file_name(index)

    def __iter__(self) -> Iterator[np.ndarray]:
        cap = cv2.VideoCapture(self.path)
        self.num_read = 0
        try:
            while True:
                ok, frame = cap.read()
                if not ok or frame is None:
                    break
                self.num_read += 1
                yield frame
        finally:
            cap.release()
        if self.num_frames is not None and self.num_read < self.num_frames:
            message = (f'{self.path}: decoding stopped after {self.num_read} '
                       f'of the {self.num_frames} frames its container '
                       'announces (truncated or corrupt)')
            if not self.allow_short:
                raise InputFileError(
                    f'{message}; pass {ALLOW_SHORT_VIDEO_FLAG} to keep the '
                    f'{self.num_read} frames read')
            warnings.warn(f'{message}; kept the {self.num_read} frames read')


class ImageFolderSource(_FrameSource):
    """The image ``files`` of a folder, sorted by number when all names
    are numeric (``0.jpg, 2.jpg, 10.jpg``), else by name; all of one size.

    Raises:
        FileNotFoundError: If the folder does not exist.
        InputFileError: If it holds no image, or one cannot be decoded.
    """

    def __init__(self, path: str,
                 extensions: Tuple[str, ...] = IMAGE_EXTENSIONS) -> None:
        if not osp.isdir(path):
            raise FileNotFoundError(f'{path}: frame folder not found')
        names = [n for n in os.listdir(path)
                 if osp.splitext(n)[1].lower() in extensions
                 and osp.isfile(osp.join(path, n))]
        if not names:
            raise InputFileError(
                f'{path}: no image files ({", ".join(extensions)}) in folder')
        numbered = all(frame_index_or_none(n) is not None for n in names)
        names.sort(key=frame_index_or_none if numbered else None)
        self.path = path
        self.name = osp.basename(osp.normpath(path))
        self.files: List[str] = [osp.join(path, n) for n in names]
        self.fps = 25.0
        self.num_frames: Optional[int] = len(self.files)
        first = self._read(self.files[0])
        self.frame_size = (first.shape[1], first.shape[0])

    @staticmethod
    def _read(path: str) -> np.ndarray:
        frame = cv2.imread(path, cv2.IMREAD_COLOR)
        if frame is None:
            raise InputFileError(
                f'{path}: cannot decode image (corrupt or not an image)')
        return frame

    def frame_name(self, index: int) -> str:
        """File name of frame ``index``."""
        return osp.basename(self.files[index])

    def __iter__(self) -> Iterator[np.ndarray]:
        for path in self.files:
            frame = self._read(path)
            if (frame.shape[1], frame.shape[0]) != self.frame_size:
                raise InputFileError(
                    f'{path}: frame size {frame.shape[1]}x{frame.shape[0]} '
                    f'differs from the first frame '
                    f'{self.frame_size[0]}x{self.frame_size[1]}')
            yield frame


def open_frame_source(path: str, allow_short: bool = False):
    """A :class:`ImageFolderSource` for a folder, else a
    :class:`VideoFileSource` (with ``allow_short``)."""
    if osp.isdir(path):
        return ImageFolderSource(path)
    return VideoFileSource(path, allow_short)


@dataclass
class FrameWindow:
    """The T frames (H, W, 3) of key frame ``index``, key first, with
    their requested ``offsets`` and stream indices ``frame_numbers`` (int64
    (T,)) and aggregation ``weights`` (float32 (T,))."""
    index: int
    frames: List[np.ndarray]
    offsets: np.ndarray
    frame_numbers: np.ndarray
    weights: np.ndarray

    @property
    def key_frame(self) -> np.ndarray:
        """The key frame (H, W, 3)."""
        return self.frames[0]


class FrameWindowStream:
    """A stream of frames as one :class:`FrameWindow` per frame.

    Supporting frames are clamped to the stream
    (:func:`~posewarper_mm.datasets.temporal_window.clamped_frame_numbers`).
    A ring buffer keeps the frames of one window; a window is emitted once
    frame ``t + max(offsets)`` is read, so online no later frame is read.

    Args:
        frames (Iterable[np.ndarray]): E.g. a :class:`VideoFileSource`.
        window (TemporalWindow): Offsets and weights, in any order.
        online (bool): Require offsets <= 0 (:meth:`TemporalWindow.online`).
    """

    def __init__(self, frames: Iterable[np.ndarray],
                 window: TemporalWindow = DEFAULT_TEST_WINDOW,
                 online: bool = False) -> None:
        if online and max(window.offsets) > 0:
            raise ValueError(
                'online mode uses past frames only, got offsets '
                f'{list(window.offsets)}; see TemporalWindow.online()')
        self.window = window.key_first()
        self.offsets = self.window.offsets_array()
        self.weights = self.window.weights_array()
        self.frames = frames
        self.online = online
        self.before = -int(self.offsets.min())
        self.after = int(self.offsets.max())
        self.window_size = self.before + self.after + 1
        self.buffer: Deque[Tuple[int, np.ndarray]] = deque(
            maxlen=self.window_size)
        self.num_read = 0

    def _window(self, key: int) -> FrameWindow:
        """The window of frame ``key``, clamped to the frames read."""
        first = self.buffer[0][0]
        numbers = np.array(
            clamped_frame_numbers(key, self.offsets, self.num_read),
            dtype=np.int64)
        frames = [self.buffer[int(i) - first][1] for i in numbers]
        return FrameWindow(index=key, frames=frames, frame_numbers=numbers,
                           offsets=self.offsets.copy(),
                           weights=self.weights.copy())

    def __iter__(self) -> Iterator[FrameWindow]:
        self.buffer.clear()
        self.num_read = 0
        next_key = 0
        for frame in self.frames:
            self.buffer.append((self.num_read, frame))
            self.num_read += 1
            del frame
            while next_key + self.after <= self.num_read - 1:
                yield self._window(next_key)
                next_key += 1
        while next_key < self.num_read:
            yield self._window(next_key)
            next_key += 1
        self.buffer.clear()
