"""Reading and checking PoseTrack18 annotation and detection files.

Every error names the file and the offending record so a broken dataset
can be fixed without a debugger.
"""
import json
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Set, Tuple

import numpy as np
from mmengine.fileio import get

from .frame_sampling import frame_index_from_name

REQUIRED_IMAGE_KEYS = ('id', 'file_name', 'width', 'height')
REQUIRED_ANN_KEYS = ('id', 'image_id', 'bbox', 'keypoints')
REQUIRED_DET_KEYS = ('bbox', 'score')


class PoseTrackFormatError(ValueError):
    """An annotation or detection file does not follow the expected format.
    """


def load_json_file(path: str, backend_args: Optional[dict] = None):
    """Read a json file through mmengine's file backends.

    Raises:
        FileNotFoundError: If the file cannot be read.
        PoseTrackFormatError: If it is not valid json (truncated, ...).
    """
    try:
        raw = get(path, backend_args=backend_args)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as err:
        raise FileNotFoundError(f'cannot read {path}: {err}') from err
    try:
        return json.loads(raw.decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PoseTrackFormatError(
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
            raise PoseTrackFormatError(
                f'{path}: {kind} record at index {idx} is a '
                f'{type(rec).__name__}, expected a dict')
        for key in keys:
            if key not in rec:
                raise PoseTrackFormatError(
                    f'{path}: {kind} record {_record_name(rec, idx)} is '
                    f'missing the required key {key!r}')


def check_coco_dict(coco, path: str, num_keypoints: int,
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
        PoseTrackFormatError: On a missing key, a duplicate image id, a
            keypoint list whose length is not 3*K, a bbox that is not 4
            numbers, or an annotation of an unknown image.
    """
    if not isinstance(coco, dict):
        raise PoseTrackFormatError(
            f'{path}: expected a json object with "images" and '
            f'"annotations", got a {type(coco).__name__}')
    for key in ('images', 'annotations'):
        if key not in coco:
            raise PoseTrackFormatError(
                f'{path}: missing the top-level key {key!r}')
        if not isinstance(coco[key], list):
            raise PoseTrackFormatError(f'{path}: {key!r} must be a list')
    images, anns = coco['images'], coco['annotations']
    _check_keys(images, image_keys, 'image', path)
    _check_keys(anns, REQUIRED_ANN_KEYS, 'annotation', path)
    by_id: Dict[int, dict] = {}
    for img in images:
        if img['id'] in by_id:
            raise PoseTrackFormatError(
                f'{path}: duplicate image id {img["id"]}')
        by_id[img['id']] = img
    for idx, ann in enumerate(anns):
        name = _record_name(ann, idx)
        kpts = ann['keypoints']
        if not isinstance(kpts, list) or len(kpts) != 3 * num_keypoints:
            got = len(kpts) if isinstance(kpts, list) else type(kpts)
            raise PoseTrackFormatError(
                f'{path}: annotation {name} has keypoints of length {got}, '
                f'expected {3 * num_keypoints} ({num_keypoints} x [x, y, v])')
        if not _is_box(ann['bbox']):
            raise PoseTrackFormatError(
                f'{path}: annotation {name} has bbox {ann["bbox"]!r}, '
                'expected 4 numbers [x, y, w, h]')
        if ann['image_id'] not in by_id:
            raise PoseTrackFormatError(
                f'{path}: annotation {name} refers to image_id '
                f'{ann["image_id"]}, which is not in "images"')
    return by_id, anns


def _is_box(box) -> bool:
    return (isinstance(box, (list, tuple)) and len(box) >= 4
            and all(isinstance(v, (int, float)) for v in box[:4]))


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
                            name2id: Dict[str, int],
                            frame2id: Dict[int, int], path: str) -> dict:
    """Find the image record of a detection in any of the known forms.

    Forms: ``image_id``; ``image_name`` (file name as in the annotation
    file); ``frame_id`` (+ ``nframes``) as in the official PoseWarper box
    files, where ``frame_id`` is the PoseTrack image id.

    Raises:
        PoseTrackFormatError: If none of the forms resolves.
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
    raise PoseTrackFormatError(
        f'{path}: detection at index {idx} ({ident or "no image key"}) '
        'does not match any image of the annotation file; expected '
        '"image_id", "image_name" or "frame_id" (+ "nframes")')


def check_detections(dets, path: str) -> List[dict]:
    """Check that a detection file is a list of records with box and score.
    """
    if not isinstance(dets, list):
        raise PoseTrackFormatError(
            f'{path}: expected a list of detections, got a '
            f'{type(dets).__name__}')
    _check_keys(dets, REQUIRED_DET_KEYS, 'detection', path)
    for idx, det in enumerate(dets):
        if not _is_box(det['bbox']):
            raise PoseTrackFormatError(
                f'{path}: detection at index {idx} has bbox '
                f'{det["bbox"]!r}, expected 4 numbers [x, y, w, h]')
    return dets
