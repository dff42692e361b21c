"""Load and validate official PoseTrack18 per-video JSON files.

One file holds one video: ``images`` (every frame, in order),
``annotations`` (one person on one frame each) and ``categories`` (one
``person`` category whose ``keypoints`` list names the keypoints). The
loader converts each file into :class:`PoseTrackVideo` with the 15
evaluation joints (see :mod:`.posetrack_joints`) and checks everything the
evaluation relies on, raising :class:`InputFileError` with the file
(and frame / annotation) at fault.

Conventions reproduced from the reference evaluation:

- a keypoint exists unless its triple is exactly ``(0, 0, 0)``; for
  predictions the third value is the predicted score, so a joint with
  score 0 at non-zero coordinates still counts;
- a joint's ranking score is ``scores[k]`` when the annotation has a
  non-empty ``scores`` list, else :data:`MIN_SCORE` (all tied);
- the head box is ``bbox_head`` ``[x, y, w, h]``, kept as
  ``(x, y, x + w, y + h)``;
- image names must look like ``<int>_<mpii|bonn|mpiinew>.../<int>.jpg``
  with a frame number below 10000;
- ``track_id`` is required, below 10000, and unique within a frame of a
  prediction file;
- ``categories`` holds one ``person`` category naming 15 or 17 keypoints
  that include the 15 evaluation joints (other names are dropped).

Stricter than the reference (which silently ignores such content): a file
may hold frames of one video only, every annotation's ``image_id`` must be
one of the file's images, and every number (coordinates, scores, track
ids, head boxes, ignore regions) must be finite (no NaN, ``Infinity`` or
``null``; see :mod:`posewarper_mm.utils.validation`).
"""
import json
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from ...datasets.posetrack_naming import parse_frame_name
from ...errors import InputFileError
from ...utils.validation import check_number, check_numbers
from .posetrack_joints import NUM_EVAL_JOINTS, keypoint_names_to_eval_ids

MIN_SCORE = -9999.0
MAX_TRACK_ID = 10000


@dataclass
class PoseTrackPerson:
    """One person of one frame, in evaluation joints.

    Attributes:
        coords (np.ndarray): Joint (x, y), shape (15, 2), float64.
        present (np.ndarray): Whether each joint exists, shape (15,).
        scores (np.ndarray): Joint ranking scores, shape (15,), float64.
        head_box (tuple | None): ``(x1, y1, x2, y2)`` or None if absent.
        track_id (int | float): The annotation's ``track_id``.
        record (int): Index of the annotation in the file.
    """
    coords: np.ndarray
    present: np.ndarray
    scores: np.ndarray
    head_box: Optional[Tuple[float, float, float, float]]
    track_id: float
    record: int


@dataclass
class PoseTrackFrame:
    """One image of a video file with its persons.

    Attributes:
        path (str): The JSON file the frame comes from.
        index (int): Position of the image in the file's ``images``.
        image_id (Any): The image ``id``.
        file_name (str): The image ``file_name``.
        ignore_regions (list[np.ndarray]): Polygons, each (M, 2) as (x, y).
        persons (list[PoseTrackPerson]): Persons in annotation order.
    """
    path: str
    index: int
    image_id: Any
    file_name: str
    ignore_regions: List[np.ndarray] = field(default_factory=list)
    persons: List[PoseTrackPerson] = field(default_factory=list)

    def where(self) -> str:
        """Describe the frame for error messages."""
        return (f'{self.path}: image #{self.index} '
                f'(id {self.image_id}, {self.file_name!r})')


@dataclass
class PoseTrackVideo:
    """The frames of one per-video file, in file order.

    Attributes:
        path (str): The JSON file.
        video_folder (str): Folder name of the frames, e.g.
            ``'000342_mpii_test'``.
        keypoint_names (list[str]): The file's keypoint names.
        frames (list[PoseTrackFrame]): One entry per image.
    """
    path: str
    video_folder: str
    keypoint_names: List[str]
    frames: List[PoseTrackFrame]


def read_json(path: str) -> Any:
    """Read a JSON file, naming the file in any error.

    Args:
        path (str): The file to read.

    Returns:
        Any: The decoded content.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: file not found')
    try:
        with open(path, 'r', encoding='utf-8') as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputFileError(f'{path}: malformed JSON ({err})') from err


def _numbers(value: Any, length: Optional[int], what: str) -> List[float]:
    """Check a list of finite numbers (optionally of a given length).

    Raises ``ValueError`` without the file; the callers add it.
    """
    return check_numbers(value, None, what, length=length, error=ValueError)


def _parse_regions(image: dict) -> List[np.ndarray]:
    xs = image.get('ignore_regions_x')
    ys = image.get('ignore_regions_y')
    if xs is None or ys is None:
        return []  # both are needed, as in the reference evaluation
    if not isinstance(xs, list) or not isinstance(ys, list) \
            or len(xs) != len(ys):
        raise ValueError('ignore_regions_x / ignore_regions_y must be '
                         'lists with one entry per region')
    regions = []
    for i, (rx, ry) in enumerate(zip(xs, ys)):
        rx = _numbers(rx, None, f'ignore_regions_x[{i}]')
        _numbers(ry, len(rx), f'ignore_regions_y[{i}]')
        regions.append(np.array([rx, ry], dtype=np.float64).T.reshape(-1, 2))
    return regions


def _parse_person(ann: dict, eval_ids: Sequence[Optional[int]],
                  record: int) -> PoseTrackPerson:
    num_kpts = len(eval_ids)
    kpts = _numbers(ann.get('keypoints'), 3 * num_kpts, 'keypoints')
    scores = ann.get('scores', [])
    if scores is None:
        scores = []
    if len(_numbers(scores, None, 'scores')) not in (0, num_kpts):
        raise ValueError(f'"scores" must be empty or have {num_kpts} '
                         f'numbers, got {len(scores)}')
    track_id = check_number(
        ann.get('track_id'), None, 'track_id', error=ValueError)
    if track_id >= MAX_TRACK_ID:
        raise ValueError(f'"track_id" {track_id} must be below {MAX_TRACK_ID}')

    coords = np.zeros((NUM_EVAL_JOINTS, 2), dtype=np.float64)
    present = np.zeros(NUM_EVAL_JOINTS, dtype=bool)
    joint_scores = np.full(NUM_EVAL_JOINTS, np.nan, dtype=np.float64)
    for k, joint in enumerate(eval_ids):
        x, y, v = kpts[3 * k:3 * k + 3]
        if joint is None or (x == 0 and y == 0 and v == 0):
            continue
        coords[joint] = (x, y)
        present[joint] = True
        joint_scores[joint] = float(scores[k]) if scores else MIN_SCORE

    head_box = None
    if 'bbox_head' in ann:
        x, y, w, h = _numbers(ann['bbox_head'], 4, 'bbox_head')
        head_box = (x, y, x + w, y + h)
    return PoseTrackPerson(coords, present, joint_scores, head_box, track_id,
                           record)


def _parse_categories(path: str,
                      categories: list) -> Tuple[List[Optional[int]], list]:
    """Check the single ``person`` category; map its keypoint names."""
    if len(categories) != 1 or not isinstance(categories[0], dict) \
            or categories[0].get('name') != 'person':
        raise InputFileError(
            f'{path}: "categories" must hold exactly one category named '
            '"person"')
    names = categories[0].get('keypoints')
    if not isinstance(names, list) or len(names) not in (15, 17) \
            or not all(isinstance(n, str) for n in names):
        raise InputFileError(
            f'{path}: categories[0]["keypoints"] must list 15 or 17 '
            f'keypoint names, got {names!r}')
    try:
        return keypoint_names_to_eval_ids(names), names
    except ValueError as err:
        raise InputFileError(f'{path}: categories[0]: {err}') from err


def load_posetrack_video(path: str, is_prediction: bool) -> PoseTrackVideo:
    """Load and validate one official PoseTrack18 per-video file.

    Args:
        path (str): The JSON file.
        is_prediction (bool): Whether it is a prediction file. Predictions
            must have unique track ids per frame; ignore regions are read
            from ground-truth files only.

    Returns:
        PoseTrackVideo: The parsed video.

    Raises:
        InputFileError: On any problem, naming the file and the frame or
            annotation at fault.
    """
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputFileError(f'{path}: expected a JSON object with '
                             '"images", "annotations", "categories"')
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(data.get(key), list):
            raise InputFileError(
                f'{path}: missing or invalid {key!r} list (is this an '
                'official PoseTrack18 per-video file?)')
    eval_ids, names = _parse_categories(path, data['categories'])

    frames: List[PoseTrackFrame] = []
    frame_of_id = {}
    video_folder = None
    for index, image in enumerate(data['images']):
        where = f'{path}: image #{index}'
        if not isinstance(image, dict) \
                or not isinstance(image.get('id'), (int, str)) \
                or not isinstance(image.get('file_name'), str):
            raise InputFileError(
                f'{where}: needs "id" (int or str) and "file_name" (str)')
        try:
            folder, _ = parse_frame_name(image['file_name'])
            regions = [] if is_prediction else _parse_regions(image)
        except ValueError as err:
            raise InputFileError(f'{where}: {err}') from err
        if video_folder is None:
            video_folder = folder
        elif folder.split('_')[0] != video_folder.split('_')[0]:
            raise InputFileError(
                f'{where}: frame of video {folder!r} in the file of video '
                f'{video_folder!r}; use one file per video')
        if image['id'] in frame_of_id:
            raise InputFileError(f'{where}: duplicate image id {image["id"]}')
        frame = PoseTrackFrame(path, index, image['id'], image['file_name'],
                               regions)
        frame_of_id[image['id']] = frame
        frames.append(frame)

    for record, ann in enumerate(data['annotations']):
        where = f'{path}: annotation #{record}'
        if not isinstance(ann, dict):
            raise InputFileError(f'{where}: must be a JSON object')
        image_id = ann.get('image_id')
        frame = frame_of_id.get(image_id) if isinstance(image_id,
                                                        (int, str)) else None
        if frame is None:
            raise InputFileError(
                f'{where}: image_id {image_id!r} is not among '
                'the file\'s images')
        try:
            person = _parse_person(ann, eval_ids, record)
        except ValueError as err:
            raise InputFileError(
                f'{where} (image id {frame.image_id}): {err}') from err
        if is_prediction and any(p.track_id == person.track_id
                                 for p in frame.persons):
            raise InputFileError(
                f'{where}: track_id {person.track_id} is used twice in '
                f'image id {frame.image_id}; track ids must be unique per '
                'frame')
        frame.persons.append(person)
    return PoseTrackVideo(path, video_folder or '', list(names), frames)
