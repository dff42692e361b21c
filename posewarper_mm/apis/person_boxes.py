"""Person boxes per video frame: whole frame, a detection json, or mmdet.

Every provider is called as ``provider(frame_index, frame)`` and returns a
float32 array (N, 5) of ``x1, y1, x2, y2, score`` (N may be 0).
"""
import os.path as osp
import warnings
from collections import defaultdict
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple, Union

import numpy as np
from mmengine.registry import DefaultScope, init_default_scope
from mmpose.evaluation.functional import nms
from mmpose.utils import adapt_mmdet_pipeline

from ..errors import InputFileError
from ..posetrack import (check_detections, frame_index_from_image_id,
                         frame_index_or_none, load_json,
                         video_number_from_image_id, video_number_or_none)

BoxProvider = Callable[[int, np.ndarray], np.ndarray]

_EMPTY = np.zeros((0, 5), dtype=np.float32)


class WholeFrameBoxes:
    """One box covering the whole frame, score 1."""

    def __call__(self, frame_index: int, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        return np.array([[0, 0, w, h, 1.0]], dtype=np.float32)


def _video_key(name: str) -> Union[int, str]:
    """A video's number when its name starts with one, else its name."""
    number = video_number_or_none(name)
    return name if number is None else number


def _videos_named(rec: dict) -> Set[Union[int, str]]:
    """The videos a detection record names: the folder of its
    ``image_name`` / ``file_name``, the video of a PoseTrack image id, its
    ``vid_id`` / ``video_id``."""
    videos: Set[Union[int, str]] = set()
    for key in ('image_name', 'file_name'):
        folder = osp.basename(osp.dirname(str(rec.get(key, '')).replace(
            '\\', '/')))
        if folder:
            videos.add(_video_key(folder))
    for key in ('image_id', 'frame_id'):
        number = video_number_from_image_id(rec.get(key))
        if number is not None:
            videos.add(number)
    for key in ('vid_id', 'video_id'):
        if str(rec.get(key, '')).isdigit():
            videos.add(int(rec[key]))
    return videos


class DetectionJsonBoxes:
    """Boxes from a PoseTrack-style detection json.

    Records are checked as the dataset's
    (:func:`~posewarper_mm.posetrack.check_detections`), ``score``
    defaulting to 1; only ``category_id`` 1 is kept, boxes without area
    are dropped with a warning. With ``video_name``, a record that names
    another video (by the folder of its file name, the video of a
    PoseTrack image id, or its ``vid_id``) is not applied; videos are
    compared by number when their names start with one
    (``000342_mpii_test``). A record's frame is its ``frame_index``, else
    its ``image_name`` or ``file_name`` (in ``frame_names``, or numbered),
    else its ``image_id`` or ``frame_id`` (in ``image_ids``, or a
    PoseTrack image id).

    Args:
        score_thr (float): Keep boxes with ``score >= score_thr``.
        frame_names (Sequence[str], optional): File names of the frames.
        image_ids (Sequence[int], optional): Image id of each frame.
        video_name (str, optional): The video the boxes are for; None
            applies every record by its frame alone.

    Raises:
        FileNotFoundError: If the file cannot be read.
        InputFileError: Naming the file, the record and the field.
    """

    def __init__(self, path: str, score_thr: float = 0.0,
                 frame_names: Optional[Sequence[str]] = None,
                 image_ids: Optional[Sequence[int]] = None,
                 video_name: Optional[str] = None) -> None:
        records = check_detections(load_json(path), path, False)
        self.path = path
        self._names = {osp.basename(n): i
                       for i, n in enumerate(frame_names or [])}
        self._ids = {int(v): i for i, v in enumerate(image_ids or [])}
        named = [_videos_named(rec) for rec in records]
        every = set().union(*named)
        ours = None if video_name is None else _video_key(video_name)
        # a file of one video applies to a video whose name has no number
        any_video = ours is None or (len(every) == 1
                                     and not isinstance(ours, int))
        boxes: Dict[int, List[List[float]]] = defaultdict(list)
        self.num_dropped_boxes = self.num_other_video_boxes = 0
        for idx, (rec, videos) in enumerate(zip(records, named)):
            x, y, w, h = (float(v) for v in rec['bbox'][:4])
            score = float(rec.get('score', 1.0))
            if rec.get('category_id', 1) != 1 or score < score_thr:
                continue
            if not any_video and not videos <= {ours}:
                self.num_other_video_boxes += 1
                continue
            frame = self._frame_of(rec, idx)
            if w <= 0 or h <= 0:
                self.num_dropped_boxes += 1
                continue
            boxes[frame].append([x, y, x + w, y + h, score])
        if self.num_dropped_boxes:
            warnings.warn(f'{path}: dropped {self.num_dropped_boxes} boxes '
                          'without area (w or h <= 0)')
        if self.num_other_video_boxes and not boxes:
            others = ', '.join(sorted(map(str, every))[:5])
            warnings.warn(
                f'{path}: none of its boxes is of video {video_name!r} (it '
                f'names the videos {others}); name the video as the file '
                'does, e.g. 000342_mpii_test')
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


def select_person_boxes(pred, cat_ids: Sequence[int], score_thr: float,
                        nms_thr: float) -> np.ndarray:
    """The person boxes float32 (N, 5) among a detector's numpy
    ``pred_instances`` (``bboxes`` (M, 4), ``scores``, ``labels``): a
    class in ``cat_ids``, ``score > score_thr``, then NMS at IoU
    ``nms_thr`` (as mmpose's top-down demos select them)."""
    dets = np.concatenate([pred.bboxes, pred.scores[:, None]], axis=1)
    dets = dets[np.isin(pred.labels, list(cat_ids))
                & (pred.scores > score_thr)]
    if len(dets) == 0:
        return _EMPTY.copy()
    return dets[nms(dets, nms_thr)].astype(np.float32)


class DetInferencerBoxes:
    """Person boxes of mmdet's ``DetInferencer`` (``detector``, as mmpose's
    inferencers build it from ``det_model``), selected by
    :func:`select_person_boxes`."""

    def __init__(self, detector: Callable, cat_ids: Tuple[int, ...] = (0, ),
                 score_thr: float = 0.3, nms_thr: float = 0.3) -> None:
        self.detector = detector
        self.cat_ids = tuple(cat_ids)
        self.score_thr, self.nms_thr = score_thr, nms_thr

    def __call__(self, frame_index: int, frame: np.ndarray) -> np.ndarray:
        result = self.detector(frame, return_datasamples=True)
        pred = result['predictions'][0].pred_instances.cpu().numpy()
        return select_person_boxes(pred, self.cat_ids, self.score_thr,
                                   self.nms_thr)


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
        return select_person_boxes(result.pred_instances.cpu().numpy(),
                                   (self.cat_id, ), self.score_thr,
                                   self.nms_thr)
