"""PoseTrack18 dataset that yields a key frame plus supporting frames."""
import logging
import os.path as osp
import warnings
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.fileio import exists
from mmengine.logging import print_log
from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.registry import DATASETS

from ..errors import InputFileError, MissingFrameWarning
from .frame_sampling import (FrameSampler, SingleFrameSampler,
                             build_frame_sampler, clamped_frame_numbers)
from .posetrack_instances import detection_instance, gt_instance
from .posetrack_naming import sibling_frame_path
from .posetrack_parsing import (REQUIRED_IMAGE_KEYS, build_name_index,
                                check_coco_dict, check_detections,
                                load_json_file, resolve_detection_image,
                                select_sparse_labels)
from .temporal_window import DEFAULT_TEST_OFFSETS, DEFAULT_TRAIN_FRAME_RANGE


@DATASETS.register_module()
class PoseTrackVideoPairDataset(BaseCocoStyleDataset):
    """PoseTrack18 person instances with temporal supporting frames.

    Each sample is one person on a key frame plus ``T - 1`` supporting
    frames of the same video. ``data_info['img_path']`` lists the frames
    key first, then the supporting frames by ascending offset;
    ``frame_offsets`` (int64, (T,)) are the requested offsets (key = 0),
    ``frame_numbers`` (int64, (T,)) the frame numbers actually used (after
    clamping to the video and the missing-frame fallback; -1 for a key
    frame whose name is not a number) and ``frame_weights`` (float32,
    (T,)) the aggregation weights, all in the same order. ``img_id`` is
    the original PoseTrack image id of the key frame; ``frame_index``,
    ``vid_id``, ``frame_id``, ``nframes`` and ``file_name`` describe the
    key frame.

    Frame modes (``frame_sampler_mode``, one
    :class:`~.frame_sampling.FrameSampler` chosen when the dataset is
    built):

    - ``'single'`` (stage 1, also set by ``single_frame=True``): T = 1,
      weights ``[1.0]``.
    - ``'per_iteration'`` (training default): at every ``__getitem__``
      draw ``num_sampled_frames`` offsets uniformly from ``frame_range``
      (inclusive; 0 possible) with ``numpy.random``, which mmengine
      re-seeds in every dataloader worker.
    - ``'fixed_at_build'``: the same draw, done once per instance when the
      annotations are loaded, with a generator seeded by ``seed``
      (mmpose 0.x behaviour).
    - ``'fixed'`` (test default): the offsets ``frame_offsets`` (distinct,
      must contain 0); ``frame_weights`` are given in the order of
      ``frame_offsets`` and reordered key first.

    Supporting frame ``i`` is ``clip(key + offset, base, base + nframes -
    1)`` in the key frame's folder, named ``str(i).zfill(digits)`` with the
    key frame's extension. If it does not exist, ``missing_frame=
    'fallback'`` uses the key frame (one :class:`MissingFrameWarning` per
    video) and ``'error'`` raises :class:`FileNotFoundError`. A video with
    a single frame simply clamps every offset to the key frame (a warning
    per such video is issued when the annotations are loaded).

    Sparse labels (``sparse_label_every=k`` or ``labeled_frames_per_video
    =N``) keep the labels of every k-th (or N evenly spaced) labeled
    frame(s) of each video; the other frames remain usable as supporting
    frames since their files are found by the path rule.

    Boxes are clipped to the image; instances whose clipped box has no area
    are dropped and counted in ``num_dropped_boxes`` (and logged).

    Args:
        ann_file (str): Merged COCO-style PoseTrack18 json.
        bbox_file (str, optional): Detection json (test mode only); records
            are matched to images by ``image_id``, ``image_name`` or
            ``frame_id`` (+ ``nframes``). Filter scores with
            ``filter_cfg=dict(bbox_score_thr=...)``.
        single_frame (bool): Stage-1 mode without supporting frames (the
            same as ``frame_sampler_mode='single'``).
        frame_sampler_mode (str, optional): One of ``'single'``,
            ``'per_iteration'``, ``'fixed_at_build'``, ``'fixed'``.
            Default: ``'single'`` with ``single_frame``, else ``'fixed'``
            when ``test_mode`` else ``'per_iteration'``.
        frame_range (int | Sequence[int]): Inclusive offset range for the
            random modes; ``k`` means ``[-k, k]``. Default: ``(-2, 2)``.
        num_sampled_frames (int): Supporting frames drawn in random modes.
        frame_offsets (Sequence[int]): Offsets relative to the key frame
            of the ``'fixed'`` mode (formerly ``frame_indices``).
        frame_weights (Sequence[float], optional): Random modes: key first
            then supporting frames (default ``[0.0, 1/n, ...]``). Fixed
            mode: in the order of ``frame_offsets`` (default PoseWarper's
            ``(0.1, 0.25, 0.3, 0.25, 0.1)`` for ``(-2, -1, 0, 1, 2)``,
            uniform otherwise). Must be >= 0 and sum to 1.
        frame_name_digits (int): Zero padding of frame file names.
        frame_index_base (int): Index of the first frame of a video.
        missing_frame (str): ``'fallback'`` or ``'error'``.
        sparse_label_every (int, optional): Keep every k-th labeled frame.
        labeled_frames_per_video (int, optional): Keep N labeled frames per
            video, evenly spaced.
        seed (int): Seed of the ``'fixed_at_build'`` draw.
        backend_args (dict, optional): mmengine file backend arguments.
        **kwargs: ``metainfo``, ``data_root``, ``data_prefix``,
            ``filter_cfg``, ``indices``, ``serialize_data``, ``pipeline``,
            ``test_mode``, ``lazy_init``, ``max_refetch`` as in
            :class:`mmpose.datasets.BaseCocoStyleDataset`.

    Raises:
        TypeError: For the old argument name ``frame_indices``.
    """

    METAINFO: dict = dict(from_file='configs/_base_/datasets/posetrack18.py')

    def __init__(self,
                 ann_file: str = '',
                 bbox_file: Optional[str] = None,
                 single_frame: bool = False,
                 frame_sampler_mode: Optional[str] = None,
                 frame_range: Union[int, Sequence[int]] = (
                     DEFAULT_TRAIN_FRAME_RANGE),
                 num_sampled_frames: int = 1,
                 frame_offsets: Sequence[int] = DEFAULT_TEST_OFFSETS,
                 frame_weights: Optional[Sequence[float]] = None,
                 frame_name_digits: int = 6,
                 frame_index_base: int = 0,
                 missing_frame: str = 'fallback',
                 sparse_label_every: Optional[int] = None,
                 labeled_frames_per_video: Optional[int] = None,
                 seed: int = 0,
                 backend_args: Optional[dict] = None,
                 data_mode: str = 'topdown',
                 metainfo: Optional[dict] = None,
                 data_root: Optional[str] = None,
                 data_prefix: dict = dict(img=''),
                 filter_cfg: Optional[dict] = None,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 pipeline: List[Union[dict, Callable]] = [],
                 test_mode: bool = False,
                 lazy_init: bool = False,
                 max_refetch: int = 1000,
                 **unknown) -> None:
        if 'frame_indices' in unknown:
            raise TypeError(
                f'{type(self).__name__}: "frame_indices" was renamed to '
                '"frame_offsets" (offsets relative to the key frame, which '
                'is 0); rename it in the config')
        if unknown:
            raise TypeError(f'{type(self).__name__} got unexpected keyword '
                            f'arguments {sorted(unknown)}')
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
        self.frame_name_digits = frame_name_digits
        self.frame_index_base = frame_index_base
        self.missing_frame = missing_frame
        self.sparse_label_every = sparse_label_every
        self.labeled_frames_per_video = labeled_frames_per_video
        self.backend_args = backend_args
        if single_frame:
            if frame_sampler_mode not in (None, SingleFrameSampler.mode):
                raise ValueError(
                    'single_frame=True uses frame_sampler_mode="single", '
                    f'got frame_sampler_mode={frame_sampler_mode!r}')
            frame_sampler_mode = SingleFrameSampler.mode
        self.frame_sampler: FrameSampler = build_frame_sampler(
            frame_sampler_mode,
            test_mode=test_mode,
            frame_range=frame_range,
            num_sampled_frames=num_sampled_frames,
            frame_offsets=frame_offsets,
            frame_weights=frame_weights,
            seed=seed)
        self._exists_cache: Dict[str, bool] = {}
        self._warned_videos: set = set()
        self.num_dropped_boxes = 0
        super().__init__(
            ann_file=ann_file,
            bbox_file=bbox_file,
            data_mode=data_mode,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=data_prefix,
            filter_cfg=filter_cfg,
            indices=indices,
            serialize_data=serialize_data,
            pipeline=pipeline,
            test_mode=test_mode,
            lazy_init=lazy_init,
            max_refetch=max_refetch)

    @property
    def frame_sampler_mode(self) -> str:
        """The frame mode (a key of ``frame_sampling.FRAME_SAMPLERS``)."""
        return self.frame_sampler.mode

    @property
    def single_frame(self) -> bool:
        """Whether samples hold the key frame only (stage 1)."""
        return self.frame_sampler.mode == SingleFrameSampler.mode

    @property
    def frame_weights(self) -> np.ndarray:
        """Key-first aggregation weights of every sample, float32 (T,)."""
        return self.frame_sampler.weights

    # ------------------------------------------------------------------
    # loading
    def load_data_list(self) -> List[dict]:
        """Load GT instances or detections (see the class docstring)."""
        num_kpts = self.metainfo['num_keypoints']
        keys = REQUIRED_IMAGE_KEYS
        if not self.single_frame:
            keys = keys + ('nframes', )
        coco = load_json_file(self.ann_file, self.backend_args)
        images, anns = check_coco_dict(coco, self.ann_file, num_kpts, keys)
        if isinstance(coco.get('categories'), list):
            self._metainfo['CLASSES'] = coco['categories']
        self.num_dropped_boxes = 0
        if self.bbox_file:
            data_list = self._load_detections(images, num_kpts)
        else:
            data_list = self._load_gt(images, anns)
        if not data_list:
            src = self.bbox_file or self.ann_file
            raise InputFileError(
                f'{src}: no usable person instance (no annotation with '
                'labeled joints, or every box without area or of another '
                'category); nothing to train or test on')
        if self.num_dropped_boxes:
            src = self.bbox_file or self.ann_file
            print_log(
                f'{src}: dropped {self.num_dropped_boxes} instances whose '
                'box has no area inside the image',
                logger='current',
                level=logging.WARNING)
        if not self.single_frame:
            self._warn_single_frame_videos(data_list)
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
        data_list = []
        for img_id, img in images.items():
            if keep is not None and img_id not in keep:
                continue
            for ann in by_image.get(img_id, []):
                info, dropped = gt_instance(ann, img, self.data_prefix['img'])
                self.num_dropped_boxes += int(dropped)
                if info is not None:
                    data_list.append(info)
        return data_list

    def _load_detections(self, images: Dict[int, dict],
                         num_kpts: int) -> List[dict]:
        dets = check_detections(
            load_json_file(self.bbox_file, self.backend_args), self.bbox_file)
        name2id = build_name_index(images)
        frame2id = {img.get('frame_id', i): i for i, img in images.items()}
        data_list = []
        for idx, det in enumerate(dets):
            if det.get('category_id', 1) != 1:
                continue
            img = resolve_detection_image(det, idx, images, name2id, frame2id,
                                          self.bbox_file)
            info = detection_instance(det, img, self.data_prefix['img'],
                                      num_kpts, len(data_list))
            if info is None:
                self.num_dropped_boxes += 1
            else:
                data_list.append(info)
        return data_list

    def _warn_single_frame_videos(self, data_list: List[dict]) -> None:
        short = sorted({
            osp.dirname(d['img_path'])
            for d in data_list if d['nframes'] <= 1
        })
        for video in short:
            warnings.warn(
                f'{self.ann_file}: video {video} has a single frame '
                '(nframes <= 1); its supporting frames are the key frame',
                MissingFrameWarning)

    # ------------------------------------------------------------------
    # per-sample frames
    def get_data_info(self, idx: int) -> dict:
        """Data info of instance ``idx`` with its frames (drawn now)."""
        info = super().get_data_info(idx)
        self._attach_frames(info)
        return info

    def _attach_frames(self, info: dict) -> None:
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
            wanted = clamped_frame_numbers(key_number, offsets,
                                           info['nframes'],
                                           self.frame_index_base)
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
