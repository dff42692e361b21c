"""Person boxes per video frame: whole frame, a detection json, or mmdet.

Every provider is called as ``provider(frame_index, frame)`` and returns a
float32 array (N, 5) of ``x1, y1, x2, y2, score`` (N may be 0).
"""
import json
import os.path as osp
import warnings
from collections import defaultdict
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
from mmengine.registry import DefaultScope, init_default_scope
from mmpose.evaluation.functional import nms
from mmpose.utils import adapt_mmdet_pipeline

from ..datasets.posetrack_naming import (frame_index_from_image_id,
                                         frame_index_or_none)
from ..errors import InputFileError
from ..utils.validation import (check_box, check_number, check_optional_number,
                                check_type)

BoxProvider = Callable[[int, np.ndarray], np.ndarray]

_EMPTY = np.zeros((0, 5), dtype=np.float32)


class WholeFrameBoxes:
    """One box covering the whole frame, score 1."""

    def __call__(self, frame_index: int, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        return np.array([[0, 0, w, h, 1.0]], dtype=np.float32)


class DetectionJsonBoxes:
    """Boxes from a PoseTrack-style detection json.

    The file is a non-empty list of records with ``bbox`` (``[x, y, w,
    h]``, finite numbers), ``score`` (a finite number in [0, 1], default 1)
    and optionally ``category_id`` (an integer; only 1 = person is kept).
    ``frame_index``, ``image_id`` and ``frame_id`` must be integers. Any
    other value is a :class:`InputFileError` naming the file, record and
    field. Boxes without area (w or h <= 0) are dropped with a warning. The
    frame of a record is found, in this order, from:

    - ``frame_index``: 0-based index in the video;
    - ``image_name`` or ``file_name``: the frame file name (its number, as
      in ``000012.jpg``, or a name listed in ``frame_names``);
    - ``image_id`` or ``frame_id``: an id of ``image_ids`` (the ids written
      in the output json), or a PoseTrack id ``1<video:06d><frame:04d>``.

    Args:
        path (str): The json file.
        score_thr (float): Keep boxes with ``score >= score_thr``.
        frame_names (Sequence[str], optional): File names of the frames in
            order (for folders whose names are not frame numbers).
        image_ids (Sequence[int], optional): Image id of each frame.
    """

    def __init__(self,
                 path: str,
                 score_thr: float = 0.0,
                 frame_names: Optional[Sequence[str]] = None,
                 image_ids: Optional[Sequence[int]] = None) -> None:
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path}: box json not found')
        try:
            with open(path, encoding='utf-8') as f:
                records = json.load(f)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InputFileError(f'{path}: not valid json: {err}') from err
        if not isinstance(records, list):
            raise InputFileError(f'{path}: expected a list of detections '
                                 f'(bbox, score, frame), got a '
                                 f'{type(records).__name__}')
        if not records:
            raise InputFileError(f'{path}: the detection list is empty')
        self.path = path
        self._names = {
            osp.basename(n): i
            for i, n in enumerate(frame_names or [])
        }
        self._ids = {int(v): i for i, v in enumerate(image_ids or [])}
        boxes: Dict[int, List[List[float]]] = defaultdict(list)
        self.num_dropped_boxes = 0
        for idx, rec in enumerate(records):
            x, y, w, h, score = self._check_record(rec, idx)
            if rec.get('category_id', 1) != 1 or score < score_thr:
                continue
            frame = self._frame_of(rec, idx)
            if w <= 0 or h <= 0:
                self.num_dropped_boxes += 1
                continue
            boxes[frame].append([x, y, x + w, y + h, score])
        if self.num_dropped_boxes:
            warnings.warn(
                f'{path}: dropped {self.num_dropped_boxes} boxes without '
                'area (w or h <= 0)')
        self.boxes = {
            k: np.asarray(v, dtype=np.float32)
            for k, v in boxes.items()
        }

    def _check_record(self, rec: dict, idx: int) -> List[float]:
        """``[x, y, w, h, score]`` of a record, every field checked."""
        where = f'{self.path}: detection #{idx}'
        if not isinstance(rec, dict):
            raise InputFileError(f'{where} is not an object')
        kwargs = dict(error=InputFileError)
        if 'bbox' not in rec:
            raise InputFileError(f'{where} has no "bbox" ([x, y, w, h])')
        box = check_box(rec['bbox'], where, 'bbox', **kwargs)
        score = 1.0
        if 'score' in rec:
            score = float(
                check_number(
                    rec['score'],
                    where,
                    'score',
                    minimum=0,
                    maximum=1,
                    **kwargs))
        check_optional_number(
            rec, 'category_id', where, integer=True, **kwargs)
        check_optional_number(
            rec, 'frame_index', where, integer=True, minimum=0, **kwargs)
        for key in ('image_id', 'frame_id'):
            check_optional_number(rec, key, where, integer=True, **kwargs)
        for key in ('image_name', 'file_name'):
            if key in rec:
                check_type(rec[key], str, where, key, **kwargs)
        return box + [score]

    def _frame_of(self, rec: dict, idx: int) -> int:
        if isinstance(rec.get('frame_index'), (int, np.integer)):
            return int(rec['frame_index'])
        for key in ('image_name', 'file_name'):
            if key in rec:
                name = osp.basename(str(rec[key]))
                if name in self._names:
                    return self._names[name]
                frame = frame_index_or_none(name)
                if frame is not None:
                    return frame
        for key in ('image_id', 'frame_id'):
            if isinstance(rec.get(key), (int, np.integer)):
                if int(rec[key]) in self._ids:
                    return self._ids[int(rec[key])]
                frame = frame_index_from_image_id(rec[key])
                if frame is not None:
                    return frame
        keys = {
            k: rec[k]
            for k in ('frame_index', 'image_name', 'file_name', 'image_id',
                      'frame_id') if k in rec
        }
        raise InputFileError(
            f'{self.path}: detection #{idx} ({keys or "no frame key"}) does '
            'not name a frame; use "frame_index" (0-based), "image_name" '
            '(e.g. 000012.jpg) or "image_id"')

    def __call__(self, frame_index: int, frame: np.ndarray) -> np.ndarray:
        return self.boxes.get(frame_index, _EMPTY).copy()


class DetectorBoxes:
    """Person boxes from an mmdet 3.x detector, as mmpose's top-down demo.

    Boxes of class ``cat_id`` with ``score > score_thr`` are kept, then
    greedy NMS with IoU threshold ``nms_thr``.

    Args:
        config (str): mmdet config file.
        checkpoint (str, optional): Detector weights.
        device (str): Torch device.
        cat_id (int): Person class index of the detector.
        score_thr (float): Box score threshold.
        nms_thr (float): NMS IoU threshold.
    """

    def __init__(self,
                 config: str,
                 checkpoint: Optional[str],
                 device: str = 'cpu',
                 cat_id: int = 0,
                 score_thr: float = 0.3,
                 nms_thr: float = 0.3) -> None:
        try:
            from mmdet.apis import inference_detector, init_detector
        except ImportError as err:
            raise ImportError(
                'mmdet 3.x is needed for detector boxes') from err
        if not osp.isfile(config):
            raise FileNotFoundError(f'{config}: detector config not found')
        scope = DefaultScope.get_current_instance()
        self.detector = init_detector(config, checkpoint, device=device)
        self.detector.cfg = adapt_mmdet_pipeline(self.detector.cfg)
        if scope is not None:
            # init_detector switched the default scope to mmdet
            init_default_scope(scope.scope_name)
        self._infer = inference_detector
        self.cat_id = cat_id
        self.score_thr = score_thr
        self.nms_thr = nms_thr

    def __call__(self, frame_index: int, frame: np.ndarray) -> np.ndarray:
        result = self._infer(self.detector, frame)
        pred = result.pred_instances.cpu().numpy()
        dets = np.concatenate([pred.bboxes, pred.scores[:, None]], axis=1)
        keep = np.logical_and(pred.labels == self.cat_id, pred.scores
                              > self.score_thr)
        dets = dets[keep]
        if len(dets) == 0:
            return _EMPTY.copy()
        return dets[nms(dets, self.nms_thr)].astype(np.float32)
