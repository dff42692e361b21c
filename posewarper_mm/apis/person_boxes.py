"""Person boxes per video frame: whole frame, a detection json, or mmdet.

Every provider is called as ``provider(frame_index, frame)`` and returns a
float32 array (N, 5) of ``x1, y1, x2, y2, score`` (N may be 0).
"""
import os.path as osp
import warnings
from collections import defaultdict
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
from mmengine.registry import DefaultScope, init_default_scope
from mmpose.evaluation.functional import nms
from mmpose.utils import adapt_mmdet_pipeline

from ..errors import InputFileError
from ..posetrack import (check_detections, frame_index_from_image_id,
                         frame_index_or_none, load_json)

BoxProvider = Callable[[int, np.ndarray], np.ndarray]

_EMPTY = np.zeros((0, 5), dtype=np.float32)


class WholeFrameBoxes:
    """One box covering the whole frame, score 1."""

    def __call__(self, frame_index: int, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        return np.array([[0, 0, w, h, 1.0]], dtype=np.float32)


class DetectionJsonBoxes:
    """Boxes from a PoseTrack-style detection json.

    Records are checked as the dataset's
    (:func:`~posewarper_mm.posetrack.check_detections`), ``score``
    defaulting to 1; only ``category_id`` 1 is kept, boxes without area
    are dropped with a warning. A record's frame is its ``frame_index``,
    else its ``image_name`` or ``file_name`` (in ``frame_names``, or
    numbered), else its ``image_id`` or ``frame_id`` (in ``image_ids``, or
    a PoseTrack image id).

    Args:
        score_thr (float): Keep boxes with ``score >= score_thr``.
        frame_names (Sequence[str], optional): File names of the frames.
        image_ids (Sequence[int], optional): Image id of each frame.

    Raises:
        FileNotFoundError: If the file cannot be read.
        InputFileError: Naming the file, the record and the field.
    """

    def __init__(self, path: str, score_thr: float = 0.0,
                 frame_names: Optional[Sequence[str]] = None,
                 image_ids: Optional[Sequence[int]] = None) -> None:
        records = check_detections(load_json(path), path, False)
        self.path = path
        self._names = {osp.basename(n): i
                       for i, n in enumerate(frame_names or [])}
        self._ids = {int(v): i for i, v in enumerate(image_ids or [])}
        boxes: Dict[int, List[List[float]]] = defaultdict(list)
        self.num_dropped_boxes = 0
        for idx, rec in enumerate(records):
            x, y, w, h = (float(v) for v in rec['bbox'][:4])
            score = float(rec.get('score', 1.0))
            if rec.get('category_id', 1) != 1 or score < score_thr:
                continue
            frame = self._frame_of(rec, idx)
            if w <= 0 or h <= 0:
                self.num_dropped_boxes += 1
                continue
            boxes[frame].append([x, y, x + w, y + h, score])
        if self.num_dropped_boxes:
            warnings.warn(f'{path}: dropped {self.num_dropped_boxes} boxes '
                          'without area (w or h <= 0)')
        self.boxes = {k: np.asarray(v, dtype=np.float32)
                      for k, v in boxes.items()}

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
        keys = {k: rec[k] for k in ('frame_index', 'image_name', 'file_name',
                                    'image_id', 'frame_id') if k in rec}
        raise InputFileError(
            f'{self.path}: detection #{idx} ({keys or "no frame key"}) does '
            'not name a frame; use "frame_index" (0-based), "image_name" '
            '(e.g. 000012.jpg) or "image_id"')

    def __call__(self, frame_index: int, frame: np.ndarray) -> np.ndarray:
        return self.boxes.get(frame_index, _EMPTY).copy()


class DetectorBoxes:
    """Person boxes of an mmdet 3.x detector (``config``, ``checkpoint``)
    as in mmpose's top-down demo: class ``cat_id``, ``score > score_thr``,
    then NMS at IoU ``nms_thr``."""

    def __init__(self, config: str, checkpoint: Optional[str],
                 device: str = 'cpu', cat_id: int = 0, score_thr: float = 0.3,
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
        self.cat_id, self.score_thr, self.nms_thr = cat_id, score_thr, nms_thr

    def __call__(self, frame_index: int, frame: np.ndarray) -> np.ndarray:
        result = self._infer(self.detector, frame)
        pred = result.pred_instances.cpu().numpy()
        dets = np.concatenate([pred.bboxes, pred.scores[:, None]], axis=1)
        dets = dets[(pred.labels == self.cat_id)
                    & (pred.scores > self.score_thr)]
        if len(dets) == 0:
            return _EMPTY.copy()
        return dets[nms(dets, self.nms_thr)].astype(np.float32)
