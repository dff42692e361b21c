"""Read PoseTrack json files and check every value read from them.

Python's json reader accepts ``NaN``, ``Infinity``, ``null`` and any type
in any field. Every user json of the package (the dataset's annotation and
detection files, the evaluation's per-video files, the demo's box json) is
read with :func:`load_json` and its values are checked here, so that a bad
value is one :class:`InputFileError` line naming the file, the record and
the field: ``<file>: <record>: "<field>" must be ..., got ...``.
"""
import json
import math
import numbers
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from mmengine.fileio import get

from ..errors import InputFileError

REQUIRED_IMAGE_KEYS = ('id', 'file_name', 'width', 'height')
REQUIRED_ANN_KEYS = ('id', 'image_id', 'bbox', 'keypoints')
Number = Union[int, float]


def load_json(path: str, backend_args: Optional[dict] = None) -> Any:
    """Read a json file through mmengine's file backends.

    Raises:
        FileNotFoundError: If the file cannot be read.
        InputFileError: If it is not valid json (truncated, binary, ...).
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


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + '...'
    return f'{text} ({type(value).__name__})'


def check_number(value: Any,
                 where: str,
                 field: str,
                 *,
                 integer: bool = False,
                 minimum: Optional[Number] = None,
                 maximum: Optional[Number] = None) -> Number:
    """``value`` if it is a finite number in ``[minimum, maximum]``.

    Booleans, strings, None, NaN and infinities are rejected; with
    ``integer`` an integral float (``3.0``) is returned as ``int``.

    Args:
        value (Any): The value read from the file.
        where (str): The file and record, e.g. ``'a.json: annotation id=7'``.
        field (str): The field name.
        integer (bool): Whether the value must be integral.
        minimum (int | float, optional): Inclusive lower bound.
        maximum (int | float, optional): Inclusive upper bound.

    Raises:
        InputFileError: ``<where>: "<field>" must be ..., got ...``.
    """
    kind = 'an integer' if integer else 'a number'
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputFileError(
            f'{where}: "{field}" must be {kind}, got {_describe(value)}')
    if not math.isfinite(value):
        raise InputFileError(
            f'{where}: "{field}" must be a finite number, got {value!r}')
    if integer:
        if not float(value).is_integer():
            raise InputFileError(
                f'{where}: "{field}" must be an integer, got {value!r}')
        value = int(value)
    if minimum is not None and value < minimum:
        raise InputFileError(
            f'{where}: "{field}" must be >= {minimum}, got {value!r}')
    if maximum is not None and value > maximum:
        raise InputFileError(
            f'{where}: "{field}" must be <= {maximum}, got {value!r}')
    return value


def check_optional_number(record: dict, key: str, where: str,
                          **kwargs) -> Optional[Number]:
    """:func:`check_number` of ``record[key]``, None if the key is absent
    (an optional field is left out, not set to null)."""
    if key not in record:
        return None
    return check_number(record[key], where, key, **kwargs)


def check_numbers(values: Any,
                  where: str,
                  field: str,
                  *,
                  length: Optional[int] = None,
                  min_length: Optional[int] = None,
                  **kwargs) -> List[Number]:
    """``values`` if it is a list of finite numbers (of ``length``, or at
    least ``min_length``); ``kwargs`` go to :func:`check_number`."""
    if not isinstance(values, (list, tuple)):
        raise InputFileError(f'{where}: "{field}" must be a list of numbers, '
                             f'got {_describe(values)}')
    if length is not None and len(values) != length:
        raise InputFileError(f'{where}: "{field}" must have {length} '
                             f'numbers, got {len(values)}')
    if min_length is not None and len(values) < min_length:
        raise InputFileError(f'{where}: "{field}" must have at least '
                             f'{min_length} numbers, got {len(values)}')
    return [
        check_number(v, where, f'{field}[{i}]', **kwargs)
        for i, v in enumerate(values)
    ]


def check_box(values: Any, where: str, field: str = 'bbox') -> List[float]:
    """The first four values ``[x, y, w, h]`` of a box, as floats (sizes
    <= 0 are left to the caller, which drops such boxes)."""
    box = check_numbers(values, where, field, min_length=4)
    return [float(v) for v in box[:4]]


def check_flag(value: Any, where: str, field: str) -> bool:
    """A yes/no field: ``true``/``false`` or the numbers 0/1."""
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real) and math.isfinite(value) \
            and value in (0, 1):
        return bool(value)
    raise InputFileError(f'{where}: "{field}" must be true/false or 0/1, '
                         f'got {_describe(value)}')


def check_type(value: Any, types: tuple, where: str, field: str) -> Any:
    """``value`` if it is an instance of ``types`` (a bool only if
    ``bool`` is one of them)."""
    if isinstance(value, types) and (bool in types
                                     or not isinstance(value, bool)):
        return value
    names = ' or '.join(t.__name__ for t in types)
    raise InputFileError(
        f'{where}: "{field}" must be a {names}, got {_describe(value)}')


def record_name(kind: str, record: Any, idx: int) -> str:
    """``'<kind> id=<id>'`` for a record with an id, else ``'<kind> #idx'``.
    """
    if isinstance(record, dict) and 'id' in record:
        return f'{kind} id={record["id"]}'
    return f'{kind} #{idx}'


def _check_records(records: Sequence, keys: Sequence[str], kind: str,
                   path: str) -> None:
    for idx, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise InputFileError(f'{path}: {kind} #{idx} is a '
                                 f'{type(rec).__name__}, expected a dict')
        for key in keys:
            if key not in rec:
                raise InputFileError(
                    f'{path}: {record_name(kind, rec, idx)} is missing the '
                    f'required key {key!r}')


def check_coco_dict(
    coco: Any,
    path: str,
    num_keypoints: int,
    image_keys: Sequence[str] = REQUIRED_IMAGE_KEYS
) -> Tuple[Dict[int, dict], List[dict]]:
    """Check a merged COCO-style PoseTrack18 json.

    Image records need ``image_keys``: ``id`` (integer), ``file_name``,
    ``width`` and ``height`` (>= 1) and, if present, ``nframes`` (>= 1),
    ``frame_id`` (integer) and ``vid_id`` (integer or string). Annotations
    need ``id`` and ``image_id`` (integers, ids unique, images known),
    ``keypoints`` (3 * K numbers, visibilities in [0, 2]) and ``bbox``
    (4 numbers) and, if present, ``iscrowd`` (flag), ``num_keypoints``
    (0..K), ``category_id`` (integer), ``area`` (>= 0) and ``track_id``
    (integer >= 0).

    Args:
        coco (Any): The loaded json.
        path (str): The file, for messages.
        num_keypoints (int): K.
        image_keys (Sequence[str]): Keys every image record must have.

    Returns:
        tuple[dict, list]: Image id -> image record, and the annotations.

    Raises:
        InputFileError: Naming the file, the record and the field.
    """
    if not isinstance(coco, dict):
        raise InputFileError(
            f'{path}: expected a json object with "images" and '
            f'"annotations", got a {type(coco).__name__}')
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
        _check_image(img, f'{path}: image #{idx}', path)
        if img['id'] in by_id:
            raise InputFileError(f'{path}: duplicate image id {img["id"]}')
        by_id[img['id']] = img
    ann_ids = set()
    for idx, ann in enumerate(anns):
        _check_annotation(ann, f'{path}: annotation #{idx}', path,
                          num_keypoints)
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


def _check_image(img: dict, at_index: str, path: str) -> None:
    check_number(img['id'], at_index, 'id', integer=True)
    where = f'{path}: image id={img["id"]}'
    check_type(img['file_name'], (str, ), where, 'file_name')
    for key in ('width', 'height'):
        check_optional_number(img, key, where, minimum=1)
    check_optional_number(img, 'nframes', where, integer=True, minimum=1)
    check_optional_number(img, 'frame_id', where, integer=True)
    if 'vid_id' in img:
        check_type(img['vid_id'], (int, str), where, 'vid_id')


def _check_annotation(ann: dict, at_index: str, path: str,
                      num_keypoints: int) -> None:
    check_number(ann['id'], at_index, 'id', integer=True)
    where = f'{path}: annotation id={ann["id"]}'
    check_number(ann['image_id'], where, 'image_id', integer=True)
    kpts = ann['keypoints']
    if not isinstance(kpts, list) or len(kpts) != 3 * num_keypoints:
        got = len(kpts) if isinstance(kpts, list) else type(kpts).__name__
        raise InputFileError(
            f'{where} has keypoints of length {got}, '
            f'expected {3 * num_keypoints} ({num_keypoints} x [x, y, v])')
    check_numbers(kpts, where, 'keypoints')
    for k in range(2, 3 * num_keypoints, 3):
        check_number(kpts[k], where, f'keypoints[{k}]', minimum=0, maximum=2)
    check_box(ann['bbox'], where)
    if 'iscrowd' in ann:
        check_flag(ann['iscrowd'], where, 'iscrowd')
    check_optional_number(
        ann, 'num_keypoints', where, integer=True, minimum=0,
        maximum=num_keypoints)
    check_optional_number(ann, 'category_id', where, integer=True)
    check_optional_number(ann, 'area', where, minimum=0)
    check_optional_number(ann, 'track_id', where, integer=True, minimum=0)


def check_detection(det: dict,
                    where: str,
                    score_required: bool = True) -> Tuple[List[float], float]:
    """Box ``[x, y, w, h]`` and score of a detection record.

    ``bbox`` holds 4 finite numbers (more are ignored) and ``score`` one in
    [0, 1] (1 when absent and not ``score_required``). If present,
    ``category_id``, ``image_id`` and ``frame_id`` are integers,
    ``nframes`` >= 1, ``frame_index`` >= 0, ``image_name`` and
    ``file_name`` strings.

    Raises:
        InputFileError: Naming ``where`` and the field.
    """
    if not isinstance(det, dict):
        raise InputFileError(f'{where} is a {type(det).__name__}, expected '
                             'a dict')
    for key in ('bbox', 'score') if score_required else ('bbox', ):
        if key not in det:
            raise InputFileError(
                f'{where} is missing the required key {key!r}')
    box = check_box(det['bbox'], where)
    score = 1.0
    if 'score' in det:
        score = float(
            check_number(det['score'], where, 'score', minimum=0, maximum=1))
    for key in ('category_id', 'image_id', 'frame_id'):
        check_optional_number(det, key, where, integer=True)
    check_optional_number(det, 'nframes', where, integer=True, minimum=1)
    check_optional_number(det, 'frame_index', where, integer=True, minimum=0)
    for key in ('image_name', 'file_name'):
        if key in det:
            check_type(det[key], (str, ), where, key)
    return box, score


def check_detections(dets: Any,
                     path: str,
                     score_required: bool = True) -> List[dict]:
    """Check a detection json: a non-empty list of records, each checked
    by :func:`check_detection` as ``<path>: detection #<index>``.

    Raises:
        InputFileError: Naming the file, the record and the field.
    """
    if not isinstance(dets, list):
        raise InputFileError(f'{path}: expected a list of detections, got a '
                             f'{type(dets).__name__}')
    if not dets:
        raise InputFileError(f'{path}: the detection list is empty')
    for idx, det in enumerate(dets):
        check_detection(det, f'{path}: detection #{idx}', score_required)
    return dets
