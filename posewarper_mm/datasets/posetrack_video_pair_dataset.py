"""PoseTrack18 dataset that yields a key frame plus supporting frames."""
import logging
import os.path as osp
import warnings
from collections import defaultdict
from copy import deepcopy
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

import numpy as np
from mmengine.fileio import exists
from mmengine.logging import print_log
from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.registry import DATASETS

from ..errors import InputFileError, MissingFrameWarning
from ..posetrack import (check_coco_dict, check_detections,
                         frame_index_from_name, frame_index_or_none, load_json,
                         name_tail, sibling_frame_path)
from ..posetrack.reader import REQUIRED_IMAGE_KEYS
from .frame_sampling import FrameSampler
from .temporal_window import clamped_frame_numbers


def clip_xywh_to_xyxy(box: Sequence[float], width: float,
                      height: float) -> Optional[np.ndarray]:
    """An xywh box clipped to the image, as float32 xyxy (1, 4); None if
    the clipped box has no area."""
    x, y, w, h = (float(v) for v in box[:4])
    x1, x2 = np.clip([x, x + w], 0, width - 1)
    y1, y2 = np.clip([y, y + h], 0, height - 1)
    if x2 <= x1 or y2 <= y1:
        return None
    return np.array([[x1, y1, x2, y2]], dtype=np.float32)


def image_info(img: dict, img_prefix: str) -> dict:
    """Key-frame fields of a data info from an ``images`` record
    (``frame_index`` None for a non-numeric file name)."""
    file_name = img['file_name']
    folder = osp.basename(osp.dirname(file_name))
    return dict(
        img_id=img['id'], img_path=osp.join(img_prefix, file_name),
        file_name=file_name, frame_index=frame_index_or_none(file_name),
        nframes=int(img.get('nframes', 1)),
        vid_id=img.get('vid_id', folder.split('_')[0]),
        frame_id=img.get('frame_id', img['id']))


def gt_instance(ann: dict, img: dict,
                img_prefix: str) -> Tuple[Optional[dict], bool]:
    """Data info of a labeled person, and whether it was dropped for a box
    without area in the image; crowds and persons without labeled joints
    give ``(None, False)``."""
    kpts = np.asarray(ann['keypoints'], dtype=np.float32).reshape(1, -1, 3)
    visible = np.minimum(1, kpts[..., 2])
    if ann.get('iscrowd', 0) or visible.max() <= 0:
        return None, False
    bbox = clip_xywh_to_xyxy(ann['bbox'], img['width'], img['height'])
    if bbox is None:
        return None, True
    info = image_info(img, img_prefix)
    x1, y1, x2, y2 = bbox[0]
    area = ann.get('area', max(1.0, (x2 - x1) * (y2 - y1) * 0.53))
    info.update(
        id=ann['id'], bbox=bbox, bbox_score=np.ones(1, dtype=np.float32),
        keypoints=kpts[..., :2], keypoints_visible=visible,
        num_keypoints=int(ann.get('num_keypoints', np.count_nonzero(visible))),
        category_id=int(ann.get('category_id', 1)), iscrowd=0,
        area=np.array(area, dtype=np.float32), raw_ann_info=deepcopy(ann))
    return info, False


def is_propagated(ann: dict) -> bool:
    """Whether an annotation is a propagated label (``is_propagated``, or
    ``propagated_from`` without it) rather than a human one."""
    return bool(ann.get('is_propagated', 'propagated_from' in ann))


def confident_joints(ann: dict, min_score: float, path: str) -> dict:
    """A propagated annotation with its joints scored (``scores``) below
    ``min_score`` unlabeled (``[0, 0, 0]``); other annotations as given.

    Raises:
        InputFileError: A propagated annotation without a score per joint.
    """
    if not is_propagated(ann):
        return ann
    kpts = np.asarray(ann['keypoints'], dtype=np.float64).reshape(-1, 3)
    scores = ann.get('scores')
    if not isinstance(scores, list) or len(scores) != len(kpts):
        raise InputFileError(
            f'{path}: propagated annotation id={ann["id"]} needs "scores" '
            f'({len(kpts)} joint scores) for propagated_min_score')
    low = np.asarray(scores, dtype=np.float64) < min_score
    if not (low & (kpts[:, 2] > 0)).any():
        return ann
    kpts[low] = 0
    return dict(ann, keypoints=kpts.reshape(-1).tolist(),
                num_keypoints=int(np.count_nonzero(kpts[:, 2])))


def detection_instance(det: dict, img: dict, img_prefix: str,
                       num_keypoints: int, inst_id: int) -> Optional[dict]:
    """Data info of a detected box (dummy keypoints), None without area."""
    bbox = clip_xywh_to_xyxy(det['bbox'], img['width'], img['height'])
    if bbox is None:
        return None
    info = image_info(img, img_prefix)
    if 'nframes' in det:
        info['nframes'] = int(det['nframes'])
    info.update(
        id=inst_id, bbox=bbox,
        bbox_score=np.array([det['score']], dtype=np.float32),
        keypoints=np.zeros((1, num_keypoints, 2), dtype=np.float32),
        keypoints_visible=np.ones((1, num_keypoints), dtype=np.float32),
        num_keypoints=0, category_id=1)
    return info


def select_sparse_labels(images: Dict[int, dict], anns: List[dict],
                         every: Optional[int] = None,
                         per_video: Optional[int] = None) -> Set[int]:
    """Ids of the labeled images (``is_labeled``, else annotated) whose
    labels sparse-label mode keeps: per video, in frame order, every
    ``every``-th from the first, or ``per_video`` evenly spaced ones (first
    and last included)."""
    annotated = {a['image_id'] for a in anns}
    per_vid: Dict[str, List[Tuple[int, int]]] = defaultdict(list)
    for img_id, img in images.items():
        if img.get('is_labeled', img_id in annotated):
            idx = frame_index_from_name(img['file_name'])
            per_vid[osp.dirname(img['file_name'])].append((idx, img_id))
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


@DATASETS.register_module()
class PoseTrackVideoPairDataset(BaseCocoStyleDataset):
    """PoseTrack18 person instances with temporal supporting frames.

    A sample is a person on a key frame and T - 1 supporting frames of its
    video, key first in ``img_path``, ``frame_offsets`` (int64 (T,)),
    ``frame_numbers`` (int64 (T,), -1 for a non-numeric key frame name) and
    ``frame_weights`` (float32 (T,)). Offsets come from a
    :class:`~.frame_sampling.FrameSampler`; frame ``key + offset`` is
    clamped to the video and found beside the key frame; a missing one is
    the key frame (``missing_frame='fallback'``, one
    :class:`MissingFrameWarning` per video) or an error. Boxes are clipped
    to the image; instances without area are dropped and logged.

    Args:
        ann_file (str): Merged COCO-style PoseTrack18 json.
        bbox_file (str, optional): Detection json (test mode); records name
            their image by ``image_id``, ``image_name`` or ``frame_id``.
        single_frame (bool): Same as ``frame_sampler_mode='single'``.
        frame_sampler_mode, frame_range, num_sampled_frames, frame_offsets,
            frame_weights, seed: See :class:`~.frame_sampling.FrameSampler`.
        frame_name_digits (int): Zero padding of frame file names.
        frame_index_base (int): Number of the first frame of a video.
        missing_frame (str): ``'fallback'`` or ``'error'``.
        sparse_label_every (int, optional): Keep every k-th labeled frame.
        labeled_frames_per_video (int, optional): Keep N per video.
        propagated_min_score (float, optional): Train on the joints of
            propagated labels (``tools/propagate_poses.py``: annotations
            with ``is_propagated`` or ``propagated_from``) scored at least
            this (their ``scores``); a person left without one is dropped.
            None: every propagated joint counts as labeled.
        backend_args (dict, optional): mmengine file backend arguments.
        **kwargs: The other arguments of
            :class:`mmpose.datasets.BaseCocoStyleDataset`.

    Raises:
        TypeError: For an unknown argument, e.g. the old ``frame_indices``.
        ValueError: For invalid arguments.
    """

    METAINFO: dict = dict(from_file='configs/_base_/datasets/posetrack18.py')

    def __init__(self, ann_file: str = '', bbox_file: Optional[str] = None,
                 single_frame: bool = False,
                 frame_sampler_mode: Optional[str] = None,
                 frame_range: Optional[Union[int, Sequence[int]]] = None,
                 num_sampled_frames: Optional[int] = None,
                 frame_offsets: Optional[Sequence[int]] = None,
                 frame_weights: Optional[Sequence[float]] = None,
                 frame_name_digits: int = 6, frame_index_base: int = 0,
                 missing_frame: str = 'fallback',
                 sparse_label_every: Optional[int] = None,
                 labeled_frames_per_video: Optional[int] = None,
                 propagated_min_score: Optional[float] = None,
                 seed: Optional[int] = None,
                 backend_args: Optional[dict] = None,
                 data_mode: str = 'topdown', test_mode: bool = False,
                 **kwargs) -> None:
        if 'frame_indices' in kwargs:
            raise TypeError(
                f'{type(self).__name__}: "frame_indices" was renamed to '
                '"frame_offsets" (offsets relative to the key frame, which '
                'is 0); rename it in the config')
        if data_mode != 'topdown':
            raise ValueError(f'{type(self).__name__} only supports '
                             f'data_mode="topdown", got {data_mode!r}')
        if missing_frame not in ('fallback', 'error'):
            raise ValueError('missing_frame must be "fallback" or "error", '
                             f'got {missing_frame!r}')
        if sparse_label_every is not None and \
                labeled_frames_per_video is not None:
            raise ValueError('give only one of sparse_label_every and '
                             'labeled_frames_per_video')
        for name, val in (('sparse_label_every', sparse_label_every),
                          ('labeled_frames_per_video',
                           labeled_frames_per_video)):
            if val is not None and int(val) < 1:
                raise ValueError(f'{name} must be >= 1, got {val}')
        if propagated_min_score is not None and (
                isinstance(propagated_min_score, bool)
                or not isinstance(propagated_min_score, (int, float))
                or not 0 <= propagated_min_score <= 1):
            raise ValueError('propagated_min_score must be None or a number '
                             f'in [0, 1], got {propagated_min_score!r}')
        if single_frame:
            if frame_sampler_mode not in (None, 'single'):
                raise ValueError(
                    'single_frame=True uses frame_sampler_mode="single", '
                    f'got frame_sampler_mode={frame_sampler_mode!r}')
            frame_sampler_mode = 'single'
        self.frame_sampler = FrameSampler(frame_sampler_mode, test_mode,
                                          frame_range, num_sampled_frames,
                                          frame_offsets, frame_weights, seed)
        self.frame_name_digits = frame_name_digits
        self.frame_index_base = frame_index_base
        self.missing_frame = missing_frame
        self.sparse_label_every = sparse_label_every
        self.labeled_frames_per_video = labeled_frames_per_video
        self.propagated_min_score = propagated_min_score
        self.backend_args = backend_args
        self._exists_cache: Dict[str, bool] = {}
        self._warned_videos: set = set()
        self.num_dropped_boxes = 0
        super().__init__(ann_file=ann_file, bbox_file=bbox_file,
                         data_mode=data_mode, test_mode=test_mode, **kwargs)

    @property
    def frame_sampler_mode(self) -> str:
        """The frame mode (see :class:`~.frame_sampling.FrameSampler`)."""
        return self.frame_sampler.mode

    @property
    def single_frame(self) -> bool:
        """Whether samples hold the key frame only (stage 1)."""
        return self.frame_sampler.mode == 'single'

    @property
    def frame_weights(self) -> np.ndarray:
        """Key-first aggregation weights of every sample, float32 (T,)."""
        return self.frame_sampler.weights

    def load_data_list(self) -> List[dict]:
        """Load the GT persons, or the detections of ``bbox_file``."""
        num_kpts = self.metainfo['num_keypoints']
        extra = () if self.single_frame else ('nframes', )
        keys = REQUIRED_IMAGE_KEYS + extra
        coco = load_json(self.ann_file, self.backend_args)
        images, anns = check_coco_dict(coco, self.ann_file, num_kpts, keys)
        if isinstance(coco.get('categories'), list):
            self._metainfo['CLASSES'] = coco['categories']
        self.num_dropped_boxes = 0
        if self.bbox_file:
            data_list = self._load_detections(images, num_kpts)
        else:
            data_list = self._load_gt(images, anns)
        src = self.bbox_file or self.ann_file
        if not data_list:
            raise InputFileError(
                f'{src}: no usable person instance (no annotation with '
                'labeled joints, or every box without area or of another '
                'category); nothing to train or test on')
        if self.num_dropped_boxes:
            print_log(
                f'{src}: dropped {self.num_dropped_boxes} instances whose '
                'box has no area inside the image', 'current', logging.WARNING)
        if not self.single_frame:
            for video in sorted({osp.dirname(d['img_path'])
                                 for d in data_list if d['nframes'] <= 1}):
                warnings.warn(
                    f'{self.ann_file}: video {video} has a single frame '
                    '(nframes <= 1); its supporting frames are the key '
                    'frame', MissingFrameWarning)
        self.frame_sampler.prepare(data_list)
        return data_list

    def _load_gt(self, images: Dict[int, dict], anns: List[dict]) -> List:
        keep = None
        if self.sparse_label_every or self.labeled_frames_per_video:
            keep = select_sparse_labels(images, anns, self.sparse_label_every,
                                        self.labeled_frames_per_video)
        by_image: Dict[int, List[dict]] = {}
        for ann in anns:
            by_image.setdefault(ann['image_id'], []).append(ann)
        data_list, propagated = [], 0
        for img_id, img in images.items():
            if keep is not None and img_id not in keep:
                continue
            for ann in by_image.get(img_id, []):
                if self.propagated_min_score is not None:
                    ann = confident_joints(ann, self.propagated_min_score,
                                           self.ann_file)
                info, dropped = gt_instance(ann, img, self.data_prefix['img'])
                self.num_dropped_boxes += int(dropped)
                if info is not None:
                    data_list.append(info)
                    propagated += is_propagated(ann)
        if propagated:
            print_log(
                f'{self.ann_file}: {propagated} of the {len(data_list)} '
                'persons are propagated labels', 'current')
        return data_list

    def _load_detections(self, images: Dict[int, dict],
                         num_kpts: int) -> List[dict]:
        dets = check_detections(
            load_json(self.bbox_file, self.backend_args), self.bbox_file)
        # full file names, then their <video>/<frame> tails
        by_name: Dict[str, int] = {}
        for img_id, img in images.items():
            by_name.setdefault(name_tail(img['file_name']), img_id)
        by_name.update((img['file_name'], i) for i, img in images.items())
        by_frame_id = {img.get('frame_id', i): i for i, img in images.items()}
        data_list = []
        for idx, det in enumerate(dets):
            if det.get('category_id', 1) != 1:
                continue
            # by image_id, image_name (or its tail), or frame_id
            img_id = det.get('image_id')
            if img_id not in images:
                name = det.get('image_name')
                img_id = None if name is None else by_name.get(
                    name, by_name.get(name_tail(name)))
            if img_id is None:
                img_id = by_frame_id.get(det.get('frame_id'))
            if img_id is None:
                ident = {k: det[k] for k in ('image_id', 'image_name',
                                             'frame_id') if k in det}
                raise InputFileError(
                    f'{self.bbox_file}: detection #{idx} ('
                    f'{ident or "no image key"}) does not match any image of '
                    'the annotation file; expected "image_id", "image_name" '
                    'or "frame_id" (+ "nframes")')
            info = detection_instance(det, images[img_id],
                                      self.data_prefix['img'], num_kpts,
                                      len(data_list))
            if info is None:
                self.num_dropped_boxes += 1
            else:
                data_list.append(info)
        return data_list

    def get_data_info(self, idx: int) -> dict:
        """Data info of instance ``idx`` with its frames (drawn now)."""
        info = super().get_data_info(idx)
        key_path = info['img_path']
        if isinstance(key_path, (list, tuple)):
            key_path = key_path[0]
        offsets = self.frame_sampler.offsets(info)
        key_number = info.get('frame_index')
        paths, numbers = [key_path], [key_number]
        if len(offsets) > 1:
            if key_number is None:
                raise ValueError(
                    f'{self.ann_file}: cannot derive supporting frames of '
                    f'{info["file_name"]} (image id {info["img_id"]}): '
                    'its file name is not a frame number')
            wanted = clamped_frame_numbers(
                key_number, offsets, info['nframes'], self.frame_index_base)
            for off, number in zip(offsets[1:], wanted[1:]):
                path = sibling_frame_path(key_path, number,
                                          self.frame_name_digits)
                if number != key_number and not self._frame_exists(path):
                    path, number = self._missing(path, int(off), key_path,
                                                 info)
                paths.append(path)
                numbers.append(number)
        info['img_path'] = paths
        info['frame_offsets'] = np.array(offsets, dtype=np.int64)
        info['frame_weights'] = self.frame_weights.copy()
        info['frame_numbers'] = np.array(
            [-1 if i is None else i for i in numbers], dtype=np.int64)
        return info

    def _frame_exists(self, path: str) -> bool:
        if path not in self._exists_cache:
            self._exists_cache[path] = exists(
                path, backend_args=self.backend_args)
        return self._exists_cache[path]

    def _missing(self, path: str, offset: int, key_path: str,
                 info: dict) -> tuple:
        if self.missing_frame == 'error':
            raise FileNotFoundError(
                f'supporting frame {path} (offset {offset:+d} from key '
                f'frame {key_path}, image id {info["img_id"]}) does not '
                'exist; set missing_frame="fallback" to use the key frame')
        video = osp.dirname(key_path)
        if video not in self._warned_videos:
            self._warned_videos.add(video)
            warnings.warn(
                f'supporting frame {path} does not exist; using the key '
                f'frame instead for video {video} (warned once per video)',
                MissingFrameWarning)
        return key_path, info.get('frame_index')
