"""PoseTrack18 frame file names, video folders and image ids.

Frames are ``images/<split>/<video folder>/<frame:06d>.jpg``, the folder
``<video:06d>_<mpii|bonn|mpiinew>_<split>``; the image id of frame ``f`` of
video ``v`` is ``10000000000 + v * 10000 + f`` (``1<v:06d><f:04d>``).
"""
import os.path as osp
import re
from typing import Optional, Tuple

import numpy as np

IMAGE_ID_BASE = 10000000000
FRAMES_PER_VIDEO = 10000
MAX_VIDEO_NUMBER = 1000000
VIDEO_TYPES = ('mpii', 'bonn', 'mpiinew')
FRAME_NAME_DIGITS = 6

_NUMBERED_VIDEO = re.compile(r'^(\d{1,6})_')
_VIDEO_NUMBER = re.compile(r'^(\d{1,6})(?:_|$)')


def image_id(video_number: int, frame_index: int) -> int:
    """PoseTrack18 image id ``1<video:06d><frame:04d>``.

    Raises:
        ValueError: If a number is out of the range the id can encode.
    """
    if not 0 <= frame_index < FRAMES_PER_VIDEO:
        raise ValueError(f'frame index must be in [0, {FRAMES_PER_VIDEO}), '
                         f'got {frame_index}')
    if not 0 <= video_number < MAX_VIDEO_NUMBER:
        raise ValueError(f'video number must be in [0, {MAX_VIDEO_NUMBER}),'
                         f' got {video_number}')
    return IMAGE_ID_BASE + int(video_number) * FRAMES_PER_VIDEO + \
        int(frame_index)


def posetrack_image_id(video_name: str, frame_index: int) -> int:
    """:func:`image_id` of a frame of a video whose name starts with its
    number (``'000001_mpiinew_test'``), else the frame index itself."""
    match = _NUMBERED_VIDEO.match(video_name)
    if match is None or not 0 <= frame_index < FRAMES_PER_VIDEO:
        return int(frame_index)
    return image_id(int(match.group(1)), frame_index)


def frame_index_from_image_id(img_id: int) -> Optional[int]:
    """Frame index of a PoseTrack18 image id; None for any other value."""
    if isinstance(img_id, (int, np.integer)) and \
            IMAGE_ID_BASE <= int(img_id) < 2 * IMAGE_ID_BASE:
        return int(img_id) % FRAMES_PER_VIDEO
    return None


def video_number_from_image_id(img_id: int) -> Optional[int]:
    """Video number of a PoseTrack18 image id; None for any other value."""
    if frame_index_from_image_id(img_id) is None:
        return None
    return (int(img_id) - IMAGE_ID_BASE) // FRAMES_PER_VIDEO


def video_number_or_none(video_name: str) -> Optional[int]:
    """The number a video name starts with (``'000012_mpii_test'``,
    ``'000012'``: 12), None for another name."""
    match = _VIDEO_NUMBER.match(osp.basename(str(video_name)))
    return None if match is None else int(match.group(1))


def video_folder(video_number: int, split: str, source: str = 'mpii') -> str:
    """Folder name of a video, e.g. ``000012_mpii_train``.

    Raises:
        ValueError: For a number outside [0, 10000) (the evaluation reads
            four digits back from image ids).
    """
    if not 0 <= video_number < FRAMES_PER_VIDEO:
        raise ValueError(f'video number must be in [0, {FRAMES_PER_VIDEO})'
                         f' for poseval file names, got {video_number}')
    return f'{video_number:06d}_{source}_{split}'


def frame_file_name(frame_index: int, digits: int = FRAME_NAME_DIGITS,
                    ext: str = '.jpg') -> str:
    """``str(frame_index).zfill(digits) + ext``."""
    return str(int(frame_index)).zfill(digits) + ext


def frame_path(split: str, folder: str, frame_index: int) -> str:
    """Relative path ``images/<split>/<folder>/<frame:06d>.jpg``."""
    return f'images/{split}/{folder}/{frame_file_name(frame_index)}'


def sibling_frame_path(key_path: str, frame_index: int,
                       digits: int = FRAME_NAME_DIGITS) -> str:
    """Path of frame ``frame_index`` in the folder of ``key_path``, with its
    extension (``.jpg`` when it has none)."""
    ext = osp.splitext(key_path)[1] or '.jpg'
    return osp.join(
        osp.dirname(key_path), frame_file_name(frame_index, digits, ext))


def name_tail(file_name: str) -> str:
    """The ``<video folder>/<frame file>`` part of a frame path."""
    return '/'.join(file_name.replace('\\', '/').split('/')[-2:])


def frame_index_or_none(file_name: str) -> Optional[int]:
    """Frame index of ``.../000012.jpg``, None for a non-numeric name."""
    stem = osp.splitext(osp.basename(str(file_name)))[0]
    return int(stem) if stem.isdigit() else None


def frame_index_from_name(file_name: str) -> int:
    """Frame index of ``.../000012.jpg``.

    Raises:
        ValueError: If the file name is not a number.
    """
    index = frame_index_or_none(file_name)
    if index is None:
        raise ValueError(f'cannot read a frame index from {file_name!r}: '
                         'expected a numeric file name like 000012.jpg')
    return index


def parse_frame_name(file_name: str) -> Tuple[str, int]:
    """Video folder and frame number of an image name as the evaluation
    requires: ``.../<number>_<mpii|bonn|mpiinew>[_...]/<frame < 10000>``.

    Raises:
        ValueError: If the name does not follow that pattern.
    """
    folder = osp.basename(osp.dirname(file_name))
    tokens = folder.split('_')
    if (len(tokens) < 2 or not tokens[0].isdigit()
            or tokens[1] not in VIDEO_TYPES):
        raise ValueError(f'image {file_name!r}: video folder {folder!r} must '
                         f'be named <number>_<{"|".join(VIDEO_TYPES)}>[_...]')
    stem = osp.basename(file_name).split('.')[0]
    if not stem.isdigit() or int(stem) >= FRAMES_PER_VIDEO:
        raise ValueError(f'image {file_name!r}: frame name must be a '
                         f'number below {FRAMES_PER_VIDEO}, e.g. 000007.jpg')
    return folder, int(stem)
