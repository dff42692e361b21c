"""Official PoseTrack18 per-video files, loaded for the evaluation.

A file holds one video: ``images`` in order, ``annotations`` (a person on
a frame each) and one ``person`` category naming 15 or 17 keypoints (the
15 evaluation joints among them). As in the reference evaluation, a
keypoint exists unless its triple is ``(0, 0, 0)``, joints rank by
``scores`` (all tied at :data:`MIN_SCORE` when empty), ``track_id`` is
required and below 10000 (unique per frame in predictions). Stricter:
one video per file, every ``image_id`` among the images, every number
finite.
"""
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import InputFileError
from .joints import NUM_EVAL_JOINTS, keypoint_names_to_eval_ids
from .naming import parse_frame_name
from .reader import check_number, check_numbers, load_json

MIN_SCORE = -9999.0
MAX_TRACK_ID = 10000


@dataclass
class PoseTrackPerson:
    """One person of a frame, in evaluation joints: (x, y) ``coords``
    float64 (15, 2), ``present`` bool (15,), ranking ``scores`` float64
    (15,), ``head_box`` (x1, y1, x2, y2) or None, ``track_id`` and the
    index of its annotation in the file (``record``)."""
    coords: np.ndarray
    present: np.ndarray
    scores: np.ndarray
    head_box: Optional[Tuple[float, float, float, float]]
    track_id: float
    record: int


@dataclass
class PoseTrackFrame:
    """An image of a file (``path``): its position ``index`` in
    ``images``, ``image_id``, ``file_name``, ignore regions (polygons
    (M, 2) of (x, y)) and persons in annotation order."""
    path: str
    index: int
    image_id: Any
    file_name: str
    ignore_regions: List[np.ndarray] = field(default_factory=list)
    persons: List[PoseTrackPerson] = field(default_factory=list)


@dataclass
class PoseTrackVideo:
    """A file (``path``): the ``video_folder`` of its frames (e.g.
    ``000342_mpii_test``), its ``keypoint_names`` and ``frames``."""
    path: str
    video_folder: str
    keypoint_names: List[str]
    frames: List[PoseTrackFrame]


def list_gt_files(gt_dir: str) -> List[str]:
    """Sorted names (not paths) of the ``*.json`` files of a GT folder.

    Raises:
        FileNotFoundError: If the folder does not exist.
        InputFileError: If it holds no json file.
    """
    if not osp.isdir(gt_dir):
        raise FileNotFoundError(f'{gt_dir}: GT folder not found')
    names = sorted(
        name for name in os.listdir(gt_dir)
        if name.endswith('.json') and not name.startswith('.'))
    if not names:
        raise InputFileError(f'{gt_dir}: no .json GT files in folder')
    return names


def _regions(image: dict, where: str) -> List[np.ndarray]:
    xs = image.get('ignore_regions_x')
    ys = image.get('ignore_regions_y')
    if xs is None or ys is None:
        return []  # both are needed, as in the reference evaluation
    if not isinstance(xs, list) or not isinstance(ys, list) \
            or len(xs) != len(ys):
        raise InputFileError(f'{where}: ignore_regions_x / ignore_regions_y '
                             'must be lists with one entry per region')
    regions = []
    for i, (rx, ry) in enumerate(zip(xs, ys)):
        rx = check_numbers(rx, where, f'ignore_regions_x[{i}]')
        check_numbers(ry, where, f'ignore_regions_y[{i}]', length=len(rx))
        regions.append(np.array([rx, ry], dtype=np.float64).T.reshape(-1, 2))
    return regions


def _person(ann: dict, eval_ids: Sequence[Optional[int]], record: int,
            where: str) -> PoseTrackPerson:
    num_kpts = len(eval_ids)
    kpts = check_numbers(
        ann.get('keypoints'), where, 'keypoints', length=3 * num_kpts)
    scores = ann.get('scores', [])
    if scores is None:
        scores = []
    if len(check_numbers(scores, where, 'scores')) not in (0, num_kpts):
        raise InputFileError(f'{where}: "scores" must be empty or have '
                             f'{num_kpts} numbers, got {len(scores)}')
    track_id = check_number(ann.get('track_id'), where, 'track_id')
    if track_id >= MAX_TRACK_ID:
        raise InputFileError(
            f'{where}: "track_id" {track_id} must be below {MAX_TRACK_ID}')

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
        x, y, w, h = check_numbers(ann['bbox_head'], where, 'bbox_head',
                                   length=4)
        head_box = (x, y, x + w, y + h)
    return PoseTrackPerson(coords, present, joint_scores, head_box, track_id,
                           record)


def _eval_ids(path: str, categories: list) -> Tuple[list, list]:
    """Evaluation joint ids and names of the single ``person`` category."""
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
    """Load and check one official per-video file.

    Args:
        path (str): The json file.
        is_prediction (bool): A prediction file: track ids must be unique
            per frame and ignore regions are not read.

    Raises:
        FileNotFoundError: If the file cannot be read.
        InputFileError: Naming the file and the image or annotation.
    """
    data = load_json(path)
    if not isinstance(data, dict):
        raise InputFileError(f'{path}: expected a JSON object with '
                             '"images", "annotations", "categories"')
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(data.get(key), list):
            raise InputFileError(
                f'{path}: missing or invalid {key!r} list (is this an '
                'official PoseTrack18 per-video file?)')
    eval_ids, names = _eval_ids(path, data['categories'])

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
        except ValueError as err:
            raise InputFileError(f'{where}: {err}') from err
        regions = [] if is_prediction else _regions(image, where)
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
        person = _person(ann, eval_ids, record,
                         f'{where} (image id {frame.image_id})')
        if is_prediction and any(p.track_id == person.track_id
                                 for p in frame.persons):
            raise InputFileError(
                f'{where}: track_id {person.track_id} is used twice in '
                f'image id {frame.image_id}; track ids must be unique per '
                'frame')
        frame.persons.append(person)
    return PoseTrackVideo(path, video_folder or '', list(names), frames)
