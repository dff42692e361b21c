"""Read PoseTrack json files and check every value read from them.

Python's json accepts ``NaN``, ``Infinity``, ``null`` and any type in any
field, so every user json is read with :func:`load_json` and checked here:
a bad value is one :class:`InputFileError` line naming the file, the
record and the field (``<file>: <record>: "<field>" must ..., got ...``).

Official per-video files are read as the reference evaluation does: a
keypoint exists unless its triple is ``(0, 0, 0)``, joints rank by
``scores`` (tied at :data:`MIN_SCORE` when empty) and ``track_id`` is
below 10000 (unique per frame in predictions); stricter, a file holds one
video, known ``image_id``s and finite numbers only.
"""
import json
import math
import numbers
import os
import os.path as osp
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.fileio import get

from ..errors import InputFileError
from .joints import NUM_EVAL_JOINTS, keypoint_names_to_eval_ids
from .naming import parse_frame_name

REQUIRED_IMAGE_KEYS = ('id', 'file_name', 'width', 'height')
REQUIRED_ANN_KEYS = ('id', 'image_id', 'bbox', 'keypoints')
MIN_SCORE = -9999.0  # the joint score of per-video files without scores
MAX_TRACK_ID = 10000
Number = Union[int, float]


def load_json(path: str, backend_args: Optional[dict] = None) -> Any:
    """Read a json file through mmengine's file backends.

    Raises:
        FileNotFoundError: If the file cannot be read.
        InputFileError: If it is not valid json.
    """
    try:
        raw = get(path, backend_args=backend_args)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as err:
        raise FileNotFoundError(
            f'{path}: cannot read the file ({err.strerror or err})') from err
    try:
        return json.loads(raw.decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputFileError(f'{path}: malformed JSON ({err})') from err


def _must(where: str, field: str, text: str, value: Any = None,
          typed: bool = True) -> InputFileError:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + '...'
    kind = f' ({type(value).__name__})' if typed else ''
    return InputFileError(f'{where}: "{field}" must {text}, got {shown}{kind}')


def check_number(value: Any, where: str, field: str, *, integer: bool = False,
                 minimum: Optional[Number] = None,
                 maximum: Optional[Number] = None) -> Number:
    """``value`` if it is a finite number (not a bool) in ``[minimum,
    maximum]``; with ``integer`` an integral float is returned as ``int``.

    Args:
        value (Any): The value read from the file.
        where (str): The file and record, e.g. ``'a.json: annotation id=7'``.
        field (str): The field name.

    Raises:
        InputFileError: ``<where>: "<field>" must be ..., got ...``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        kind = 'an integer' if integer else 'a number'
        raise _must(where, field, f'be {kind}', value)
    if not math.isfinite(value):
        raise _must(where, field, 'be a finite number', value, False)
    if integer:
        if not float(value).is_integer():
            raise _must(where, field, 'be an integer', value, False)
        value = int(value)
    if minimum is not None and value < minimum:
        raise _must(where, field, f'be >= {minimum}', value, False)
    if maximum is not None and value > maximum:
        raise _must(where, field, f'be <= {maximum}', value, False)
    return value


def check_optional_number(record: dict, key: str, where: str,
                          **kwargs) -> Optional[Number]:
    """:func:`check_number` of ``record[key]``, None without the key (an
    optional field is left out, not set to null)."""
    if key not in record:
        return None
    return check_number(record[key], where, key, **kwargs)


def check_numbers(values: Any, where: str, field: str, *,
                  length: Optional[int] = None,
                  min_length: Optional[int] = None, **kwargs) -> List[Number]:
    """``values`` if it is a list of finite numbers (of ``length``, or at
    least ``min_length``); ``kwargs`` go to :func:`check_number`."""
    if not isinstance(values, (list, tuple)):
        raise _must(where, field, 'be a list of numbers', values)
    if length is not None and len(values) != length:
        raise _must(where, field, f'have {length} numbers', len(values),
                    False)
    if min_length is not None and len(values) < min_length:
        raise _must(where, field, f'have at least {min_length} numbers',
                    len(values), False)
    return [check_number(v, where, f'{field}[{i}]', **kwargs)
            for i, v in enumerate(values)]


def check_box(values: Any, where: str, field: str = 'bbox') -> List[float]:
    """The first four values ``[x, y, w, h]`` of a box, as floats (sizes
    <= 0 are left to the caller, which drops such boxes)."""
    box = check_numbers(values, where, field, min_length=4)
    return [float(v) for v in box[:4]]


def check_type(value: Any, types: tuple, where: str, field: str) -> Any:
    """``value`` if it is one of ``types`` (a bool only if ``bool`` is)."""
    if isinstance(value, types) and (bool in types
                                     or not isinstance(value, bool)):
        return value
    names = ' or '.join(t.__name__ for t in types)
    raise _must(where, field, f'be a {names}', value)


def _check_records(records: Sequence, keys: Sequence[str], kind: str,
                   path: str) -> None:
    for idx, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise InputFileError(f'{path}: {kind} #{idx} is a '
                                 f'{type(rec).__name__}, expected a dict')
        for key in keys:
            if key not in rec:
                name = f'id={rec["id"]}' if 'id' in rec else f'#{idx}'
                raise InputFileError(f'{path}: {kind} {name} is missing the '
                                     f'required key {key!r}')


def check_coco_dict(coco: Any, path: str, num_keypoints: int,
                    image_keys: Sequence[str] = REQUIRED_IMAGE_KEYS
                    ) -> Tuple[Dict[int, dict], List[dict]]:
    """Check a merged COCO-style json of ``path`` with K keypoints.

    Every image has ``image_keys``, every annotation ``id``, ``image_id``
    (of an image), ``keypoints`` (3 * K numbers) and ``bbox``; ids are
    unique integers and every other known field is in its range.

    Returns:
        tuple[dict, list]: Image id -> image record, and the annotations.

    Raises:
        InputFileError: Naming the file, the record and the field.
    """
    if not isinstance(coco, dict):
        raise InputFileError(f'{path}: expected a json object with "images" '
                             f'and "annotations", got a {type(coco).__name__}')
    for key in ('images', 'annotations'):
        if key not in coco:
            raise InputFileError(f'{path}: missing the top-level key {key!r}')
        if not isinstance(coco[key], list):
            raise InputFileError(f'{path}: {key!r} must be a list')
    images, anns = coco['images'], coco['annotations']
    if not images:
        raise InputFileError(f'{path}: "images" is empty')
    _check_records(images, image_keys, 'image', path)
    _check_records(anns, REQUIRED_ANN_KEYS, 'annotation', path)
    by_id: Dict[int, dict] = {}
    for idx, img in enumerate(images):
        check_number(img['id'], f'{path}: image #{idx}', 'id', integer=True)
        where = f'{path}: image id={img["id"]}'
        check_type(img['file_name'], (str, ), where, 'file_name')
        for key in ('width', 'height'):
            check_optional_number(img, key, where, minimum=1)
        check_optional_number(img, 'nframes', where, integer=True, minimum=1)
        check_optional_number(img, 'frame_id', where, integer=True)
        if 'vid_id' in img:
            check_type(img['vid_id'], (int, str), where, 'vid_id')
        if img['id'] in by_id:
            raise InputFileError(f'{path}: duplicate image id {img["id"]}')
        by_id[img['id']] = img
    ann_ids = set()
    for idx, ann in enumerate(anns):
        _check_annotation(ann, idx, path, num_keypoints)
        if ann['id'] in ann_ids:
            raise InputFileError(
                f'{path}: duplicate annotation id {ann["id"]} (annotation '
                f'#{idx}); predictions are keyed by this id')
        ann_ids.add(ann['id'])
        if ann['image_id'] not in by_id:
            raise InputFileError(
                f'{path}: annotation id={ann["id"]} refers to image_id '
                f'{ann["image_id"]}, which is not in "images"')
    return by_id, anns


def _check_annotation(ann: dict, idx: int, path: str, num_kpts: int) -> None:
    check_number(ann['id'], f'{path}: annotation #{idx}', 'id', integer=True)
    where = f'{path}: annotation id={ann["id"]}'
    check_number(ann['image_id'], where, 'image_id', integer=True)
    kpts = ann['keypoints']
    if not isinstance(kpts, list) or len(kpts) != 3 * num_kpts:
        got = len(kpts) if isinstance(kpts, list) else type(kpts).__name__
        raise InputFileError(f'{where} has keypoints of length {got}, '
                             f'expected {3 * num_kpts} ({num_kpts} x [x, y, '
                             'v])')
    check_numbers(kpts, where, 'keypoints')
    for k in range(2, 3 * num_kpts, 3):
        check_number(kpts[k], where, f'keypoints[{k}]', minimum=0, maximum=2)
    check_box(ann['bbox'], where)
    crowd = ann.get('iscrowd', False)
    if not isinstance(crowd, bool) and not (isinstance(
            crowd, numbers.Real) and math.isfinite(crowd) and crowd in (0, 1)):
        raise _must(where, 'iscrowd', 'be true/false or 0/1', crowd)
    check_optional_number(ann, 'num_keypoints', where, integer=True, minimum=0,
                          maximum=num_kpts)
    check_optional_number(ann, 'category_id', where, integer=True)
    check_optional_number(ann, 'area', where, minimum=0)
    check_optional_number(ann, 'track_id', where, integer=True, minimum=0)


def check_detections(dets: Any, path: str,
                     score_required: bool = True) -> List[dict]:
    """Check a detection json: a non-empty list of records with ``bbox``
    and ``score`` in [0, 1] (optional unless ``score_required``), every
    other known field in its range.

    Raises:
        InputFileError: Naming the file, the record and the field.
    """
    if not isinstance(dets, list):
        raise InputFileError(f'{path}: expected a list of detections, got a '
                             f'{type(dets).__name__}')
    if not dets:
        raise InputFileError(f'{path}: the detection list is empty')
    required = ('bbox', 'score') if score_required else ('bbox', )
    _check_records(dets, required, 'detection', path)
    for idx, det in enumerate(dets):
        where = f'{path}: detection #{idx}'
        check_box(det['bbox'], where)
        check_optional_number(det, 'score', where, minimum=0, maximum=1)
        for key in ('category_id', 'image_id', 'frame_id'):
            check_optional_number(det, key, where, integer=True)
        check_optional_number(det, 'nframes', where, integer=True, minimum=1)
        check_optional_number(
            det, 'frame_index', where, integer=True, minimum=0)
        for key in ('image_name', 'file_name'):
            if key in det:
                check_type(det[key], (str, ), where, key)
    return dets


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
    ignore_regions: List[np.ndarray] = dataclass_field(default_factory=list)
    persons: List[PoseTrackPerson] = dataclass_field(default_factory=list)


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
    xs, ys = image.get('ignore_regions_x'), image.get('ignore_regions_y')
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
    scores = [] if ann.get('scores') is None else ann['scores']
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
        raise InputFileError(f'{path}: "categories" must hold exactly one '
                             'category named "person"')
    names = categories[0].get('keypoints')
    if not isinstance(names, list) or len(names) not in (15, 17) \
            or not all(isinstance(n, str) for n in names):
        raise InputFileError(f'{path}: categories[0]["keypoints"] must list '
                             f'15 or 17 keypoint names, got {names!r}')
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
    frame_of_id, video_folder = {}, None
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
            raise InputFileError(f'{where}: image_id {image_id!r} is not '
                                 "among the file's images")
        person = _person(ann, eval_ids, record,
                         f'{where} (image id {frame.image_id})')
        if is_prediction and any(p.track_id == person.track_id
                                 for p in frame.persons):
            raise InputFileError(f'{where}: track_id {person.track_id} is '
                                 f'used twice in image id {frame.image_id}; '
                                 'track ids must be unique per frame')
        frame.persons.append(person)
    return PoseTrackVideo(path, video_folder or '', list(names), frames)
