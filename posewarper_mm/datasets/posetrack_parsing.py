"""Reading and checking PoseTrack18 annotation and detection files.

Every error names the file and the offending record so a broken dataset
can be fixed without a debugger. Every number is read through
:mod:`posewarper_mm.utils.validation`: NaN, infinities, ``null``, strings
and out-of-range values are errors naming the file, record and field.
"""
import json
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Set, Tuple

import numpy as np
from mmengine.fileio import get

from ..errors import InputFileError
from ..utils.validation import (check_box, check_flag, check_number,
                                check_numbers, check_optional_number,
                                check_type)
from .posetrack_naming import frame_index_from_name

REQUIRED_IMAGE_KEYS = ('id', 'file_name', 'width', 'height')
REQUIRED_ANN_KEYS = ('id', 'image_id', 'bbox', 'keypoints')
REQUIRED_DET_KEYS = ('bbox', 'score')


def load_json_file(path: str, backend_args: Optional[dict] = None):
    """Read a json file through mmengine's file backends.

    Raises:
        FileNotFoundError: If the file cannot be read.
        InputFileError: If it is not valid json (truncated, ...).
    """
    try:
        raw = get(path, backend_args=backend_args)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as err:
        raise FileNotFoundError(f'cannot read {path}: {err}') from err
    try:
        return json.loads(raw.decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputFileError(
            f'{path} is not valid json (truncated or corrupt?): {err}'
        ) from err


def _record_name(rec: dict, idx: int) -> str:
    if isinstance(rec, dict) and 'id' in rec:
        return f'id={rec["id"]}'
    return f'index {idx}'


def _check_keys(records: Sequence, keys: Sequence[str], kind: str,
                path: str) -> None:
    for idx, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise InputFileError(f'{path}: {kind} record at index {idx} is a '
                                 f'{type(rec).__name__}, expected a dict')
        for key in keys:
            if key not in rec:
                raise InputFileError(
                    f'{path}: {kind} record {_record_name(rec, idx)} is '
                    f'missing the required key {key!r}')


def check_coco_dict(
    coco,
    path: str,
    num_keypoints: int,
    image_keys: Sequence[str] = REQUIRED_IMAGE_KEYS
) -> Tuple[Dict[int, dict], List[dict]]:
    """Validate a merged COCO-style PoseTrack json.

    Args:
        coco: The loaded json object.
        path (str): File name used in error messages.
        num_keypoints (int): Expected number of keypoints K.
        image_keys (Sequence[str]): Keys every image record must have.

    Returns:
        tuple: (image id -> image record, list of annotations).

    Raises:
        InputFileError: On a missing key, an empty ``images`` list, a
            duplicate image or annotation id, a keypoint list whose length
            is not 3*K, a bbox that is not 4 numbers, an annotation of an
            unknown image, or any numeric field that is not a finite
            number of the right type and range (see
            :func:`check_image_record` and :func:`check_annotation`).
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
    _check_keys(images, image_keys, 'image', path)
    _check_keys(anns, REQUIRED_ANN_KEYS, 'annotation', path)
    by_id: Dict[int, dict] = {}
    for idx, img in enumerate(images):
        check_image_record(img, idx, path)
        if img['id'] in by_id:
            raise InputFileError(f'{path}: duplicate image id {img["id"]}')
        by_id[img['id']] = img
    ann_ids: Set = set()
    for idx, ann in enumerate(anns):
        check_annotation(ann, idx, path, num_keypoints)
        if ann['id'] in ann_ids:
            raise InputFileError(
                f'{path}: duplicate annotation id {ann["id"]} (annotation '
                f'at index {idx}); predictions are keyed by this id')
        ann_ids.add(ann['id'])
        if ann['image_id'] not in by_id:
            raise InputFileError(
                f'{path}: annotation {_record_name(ann, idx)} refers to '
                f'image_id {ann["image_id"]}, which is not in "images"')
    return by_id, anns


def check_image_record(img: dict, idx: int, path: str) -> None:
    """Check the fields of an ``images`` record that the dataset reads.

    ``id`` (integer), ``file_name`` (str), ``width`` and ``height``
    (numbers >= 1), and if present ``nframes`` (integer >= 1),
    ``frame_id`` (integer) and ``vid_id`` (int or str).

    Raises:
        InputFileError: Naming the file, the record and the field.
    """
    where = f'{path}: image at index {idx}'
    kwargs = dict(error=InputFileError)
    check_number(img['id'], where, 'id', integer=True, **kwargs)
    where = f'{path}: image {_record_name(img, idx)}'
    check_type(img['file_name'], str, where, 'file_name', **kwargs)
    for key in ('width', 'height'):
        if key in img:
            check_number(img[key], where, key, minimum=1, **kwargs)
    check_optional_number(
        img, 'nframes', where, integer=True, minimum=1, **kwargs)
    check_optional_number(img, 'frame_id', where, integer=True, **kwargs)
    if 'vid_id' in img and (isinstance(img['vid_id'], bool)
                            or not isinstance(img['vid_id'], (int, str))):
        raise InputFileError(
            f'{where}: "vid_id" must be an integer or a string, got '
            f'{img["vid_id"]!r}')


def check_annotation(ann: dict, idx: int, path: str,
                     num_keypoints: int) -> None:
    """Check the fields of an ``annotations`` record.

    ``id`` and ``image_id`` (integers); ``keypoints`` 3*K finite numbers
    with visibilities in [0, 2]; ``bbox`` 4 finite numbers; and if present
    ``iscrowd`` (true/false or 0/1), ``num_keypoints`` (0..K), ``category_id``
    (integer), ``area`` (>= 0) and ``track_id`` (integer >= 0).

    Raises:
        InputFileError: Naming the file, the record and the field.
    """
    kwargs = dict(error=InputFileError)
    check_number(
        ann['id'],
        f'{path}: annotation at index {idx}',
        'id',
        integer=True,
        **kwargs)
    where = f'{path}: annotation {_record_name(ann, idx)}'
    check_number(ann['image_id'], where, 'image_id', integer=True, **kwargs)
    kpts = ann['keypoints']
    if not isinstance(kpts, list) or len(kpts) != 3 * num_keypoints:
        got = len(kpts) if isinstance(kpts, list) else type(kpts).__name__
        raise InputFileError(
            f'{where} has keypoints of length {got}, '
            f'expected {3 * num_keypoints} ({num_keypoints} x [x, y, v])')
    check_numbers(kpts, where, 'keypoints', **kwargs)
    for k in range(num_keypoints):
        check_number(
            kpts[3 * k + 2],
            where,
            f'keypoints[{3 * k + 2}]',
            minimum=0,
            maximum=2,
            **kwargs)
    if not isinstance(ann['bbox'], list) or len(ann['bbox']) < 4:
        raise InputFileError(
            f'{where} has bbox {ann["bbox"]!r}, expected 4 numbers '
            '[x, y, w, h]')
    check_box(ann['bbox'], where, **kwargs)
    if 'iscrowd' in ann:
        check_flag(ann['iscrowd'], where, 'iscrowd', **kwargs)
    check_optional_number(
        ann,
        'num_keypoints',
        where,
        integer=True,
        minimum=0,
        maximum=num_keypoints,
        **kwargs)
    check_optional_number(ann, 'category_id', where, integer=True, **kwargs)
    check_optional_number(ann, 'area', where, minimum=0, **kwargs)
    check_optional_number(
        ann, 'track_id', where, integer=True, minimum=0, **kwargs)


def clip_xywh_to_xyxy(box: Sequence[float], width: float,
                      height: float) -> Optional[np.ndarray]:
    """Clip an xywh box to the image and return it as xyxy (1, 4).

    Returns:
        np.ndarray | None: float32 (1, 4) box, or None if the clipped box
        has no area (zero size or completely outside the image).
    """
    x, y, w, h = (float(v) for v in box[:4])
    x1 = np.clip(x, 0, width - 1)
    y1 = np.clip(y, 0, height - 1)
    x2 = np.clip(x + w, 0, width - 1)
    y2 = np.clip(y + h, 0, height - 1)
    if x2 <= x1 or y2 <= y1:
        return None
    return np.array([[x1, y1, x2, y2]], dtype=np.float32)


def name_tail(file_name: str) -> str:
    """``<video folder>/<frame file>`` part of a frame path."""
    parts = file_name.replace('\\', '/').split('/')
    return '/'.join(parts[-2:])


def build_name_index(images: Dict[int, dict]) -> Dict[str, int]:
    """Map full file names and their ``<video>/<frame>`` tails to ids."""
    index: Dict[str, int] = {}
    for img_id, img in images.items():
        index.setdefault(name_tail(img['file_name']), img_id)
    for img_id, img in images.items():
        index[img['file_name']] = img_id
    return index


def video_key(img: dict) -> str:
    """Frames of a video share the folder of their file name."""
    return osp.dirname(img['file_name'])


def select_sparse_labels(images: Dict[int, dict],
                         anns: List[dict],
                         every: Optional[int] = None,
                         per_video: Optional[int] = None) -> Set[int]:
    """Image ids whose labels are kept in sparse-label mode.

    Labeled frames (``is_labeled`` True, or frames with annotations when
    the key is absent) of each video are sorted by frame index; every
    ``every``-th one (starting with the first), or ``per_video`` evenly
    spaced ones (first and last included), are kept.
    """
    annotated = {a['image_id'] for a in anns}
    per_vid: Dict[str, List[Tuple[int, int]]] = defaultdict(list)
    for img_id, img in images.items():
        labeled = img.get('is_labeled', img_id in annotated)
        if labeled:
            idx = frame_index_from_name(img['file_name'])
            per_vid[video_key(img)].append((idx, img_id))
    keep: Set[int] = set()
    for frames in per_vid.values():
        frames.sort()
        if every is not None:
            chosen = frames[::every]
        else:
            n = min(per_video, len(frames))
            pos = np.unique(np.round(np.linspace(0, len(frames) - 1, n)))
            chosen = [frames[int(p)] for p in pos] if n > 0 else []
        keep.update(img_id for _, img_id in chosen)
    return keep


def resolve_detection_image(det: dict, idx: int, images: Dict[int, dict],
                            name2id: Dict[str, int], frame2id: Dict[int, int],
                            path: str) -> dict:
    """Find the image record of a detection in any of the known forms.

    Forms: ``image_id``; ``image_name`` (file name as in the annotation
    file); ``frame_id`` (+ ``nframes``) as in the official PoseWarper box
    files, where ``frame_id`` is the PoseTrack image id.

    Raises:
        InputFileError: If none of the forms resolves.
    """
    if 'image_id' in det and det['image_id'] in images:
        return images[det['image_id']]
    if 'image_name' in det:
        name = det['image_name']
        for key in (name, name_tail(name)):
            if key in name2id:
                return images[name2id[key]]
    if 'frame_id' in det and det['frame_id'] in frame2id:
        return images[frame2id[det['frame_id']]]
    ident = {
        k: det[k]
        for k in ('image_id', 'image_name', 'frame_id') if k in det
    }
    raise InputFileError(
        f'{path}: detection at index {idx} ({ident or "no image key"}) '
        'does not match any image of the annotation file; expected '
        '"image_id", "image_name" or "frame_id" (+ "nframes")')


def check_detections(dets, path: str) -> List[dict]:
    """Check that a detection file is a list of records with box and score.

    Every record needs ``bbox`` (4 finite numbers) and ``score`` (a finite
    number in [0, 1]); ``category_id``, ``nframes`` (>= 1), ``frame_id``
    and ``image_id`` must be integers and ``image_name`` a string when
    present.

    Raises:
        InputFileError: Naming the file, the record and the field; an
            empty list is an error too (nothing to evaluate).
    """
    if not isinstance(dets, list):
        raise InputFileError(f'{path}: expected a list of detections, got a '
                             f'{type(dets).__name__}')
    if not dets:
        raise InputFileError(f'{path}: the detection list is empty')
    _check_keys(dets, REQUIRED_DET_KEYS, 'detection', path)
    kwargs = dict(error=InputFileError)
    for idx, det in enumerate(dets):
        where = f'{path}: detection at index {idx}'
        if not isinstance(det['bbox'], list) or len(det['bbox']) < 4:
            raise InputFileError(
                f'{where} has bbox {det["bbox"]!r}, expected 4 numbers '
                '[x, y, w, h]')
        check_box(det['bbox'], where, **kwargs)
        check_number(
            det['score'], where, 'score', minimum=0, maximum=1, **kwargs)
        check_optional_number(
            det, 'category_id', where, integer=True, **kwargs)
        check_optional_number(
            det, 'nframes', where, integer=True, minimum=1, **kwargs)
        check_optional_number(det, 'frame_id', where, integer=True, **kwargs)
        check_optional_number(det, 'image_id', where, integer=True, **kwargs)
        if 'image_name' in det:
            check_type(det['image_name'], str, where, 'image_name', **kwargs)
    return dets
