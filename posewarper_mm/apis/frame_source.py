"""Streaming frame sources: a video file or a folder of frame images.

Frames are decoded one at a time, in order, so memory does not grow with
the length of the video; :class:`~.temporal_window.TemporalWindowIterator`
keeps the few frames a temporal window needs.
"""
import os
import os.path as osp
from typing import Iterator, List, Optional, Tuple

import cv2
import numpy as np

from ..datasets.posetrack_naming import frame_file_name, frame_index_or_none
from ..errors import InputFileError

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def _sort_key(name: str) -> Tuple[int, object]:
    """Numeric file names (``000012.jpg``) by number, others by name."""
    index = frame_index_or_none(name)
    return (0, index) if index is not None else (1, name)


class VideoFileSource:
    """Frames of a video file, decoded with ``cv2.VideoCapture``.

    The file is opened once on construction to check that it can be read
    (a clear :class:`InputFileError` names the file otherwise); every
    iteration re-opens it and yields BGR uint8 frames (H, W, 3) in order.

    Args:
        path (str): The video file.

    Attributes:
        name (str): File name without extension.
        fps (float): Frame rate from the container (25 when unknown).
        num_frames (int | None): Frame count from the container; may be
            approximate, ``None`` when unknown.
        frame_size (tuple[int, int]): (width, height) of the first frame.
    """

    def __init__(self, path: str) -> None:
        if not osp.exists(path):
            raise FileNotFoundError(f'{path}: video file not found')
        if not osp.isfile(path):
            raise InputFileError(f'{path}: not a regular file')
        self.path = path
        self.name = osp.splitext(osp.basename(path))[0]
        cap = cv2.VideoCapture(path)
        try:
            if not cap.isOpened():
                raise InputFileError(
                    f'{path}: cannot be opened as a video (not a video file '
                    'or an unsupported codec)')
            ok, frame = cap.read()
            if not ok or frame is None:
                raise InputFileError(
                    f'{path}: no frame could be decoded (empty, truncated '
                    'or unsupported video)')
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
        try:
            while True:
                ok, frame = cap.read()
                if not ok or frame is None:
                    return
                yield frame
        finally:
            cap.release()

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.path!r})'


class ImageFolderSource:
    """Frames stored as image files in one folder.

    Files with an image extension are sorted by their number when every
    stem is numeric (``0.jpg, 2.jpg, 10.jpg``), by name otherwise. All
    frames must have the size of the first one.

    Args:
        path (str): The folder.
        extensions (tuple[str]): Accepted extensions (lower case).

    Attributes:
        name (str): Folder name.
        fps (float): 25 (a folder has no frame rate).
        num_frames (int): Number of image files.
        frame_size (tuple[int, int]): (width, height) of the first frame.
        files (list[str]): Frame paths in order.
    """

    def __init__(self,
                 path: str,
                 extensions: Tuple[str, ...] = IMAGE_EXTENSIONS) -> None:
        if not osp.isdir(path):
            raise FileNotFoundError(f'{path}: frame folder not found')
        names = [
            n for n in os.listdir(path)
            if osp.splitext(n)[1].lower() in extensions
            and osp.isfile(osp.join(path, n))
        ]
        if not names:
            raise InputFileError(
                f'{path}: no image files ({", ".join(extensions)}) in folder')
        if all(frame_index_or_none(n) is not None for n in names):
            names.sort(key=_sort_key)
        else:
            names.sort()
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

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.path!r})'


def open_frame_source(path: str):
    """A :class:`ImageFolderSource` for a folder, else a
    :class:`VideoFileSource`.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        InputFileError: If it cannot be read as frames.
    """
    if osp.isdir(path):
        return ImageFolderSource(path)
    return VideoFileSource(path)
