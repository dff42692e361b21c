"""Multi-frame top-down inference with a PoseWarper model."""
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmpose.structures import PoseDataSample
from mmpose.structures.bbox import bbox_xywh2xyxy
from torch import nn

from ..datasets.temporal_window import check_frame_weights

Frame = Union[np.ndarray, str]


def build_test_pipeline(model: nn.Module) -> Compose:
    """``cfg.test_dataloader.dataset.pipeline`` of a model built by
    :func:`mmpose.apis.init_model`."""
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        raise AttributeError(
            'the model has no "cfg"; build it with mmpose.apis.init_model')
    scope = cfg.get('default_scope', 'mmpose')
    if scope is not None:
        init_default_scope(scope)
    return Compose(cfg.test_dataloader.dataset.pipeline)


def _check_frames(frames: Sequence[Frame]) -> List[Frame]:
    frames = list(frames)
    if not frames:
        raise ValueError('frames is empty; give the key frame first')
    kinds = {isinstance(f, str) for f in frames}
    if len(kinds) != 1:
        raise TypeError('frames must be all ndarrays or all paths')
    if isinstance(frames[0], np.ndarray):
        shape = frames[0].shape
        if frames[0].ndim != 3:
            raise ValueError(
                f'frames must be (H, W, 3) arrays, got shape {shape}')
        for idx, frame in enumerate(frames[1:], start=1):
            if frame.shape != shape:
                raise ValueError(
                    f'frame {idx} has shape {frame.shape}, but the key frame '
                    f'has shape {shape}; all frames must have one size')
    return frames


def _boxes(bboxes, bbox_format: str, key: Frame) -> np.ndarray:
    if bbox_format not in ('xyxy', 'xywh'):
        raise ValueError(
            f'bbox_format must be "xyxy" or "xywh", got {bbox_format!r}')
    if bboxes is None:
        if isinstance(key, str):
            import mmcv
            key = mmcv.imread(key)
        h, w = key.shape[:2]
        return np.array([[0, 0, w, h]], dtype=np.float32)
    boxes = np.asarray(bboxes, dtype=np.float32)
    if boxes.size == 0:
        return np.zeros((0, 4), dtype=np.float32)
    if boxes.ndim != 2 or boxes.shape[1] < 4:
        raise ValueError(f'bboxes must be (N, 4), got shape {boxes.shape}')
    boxes = boxes[:, :4]
    if not np.isfinite(boxes).all():
        raise ValueError(f'bboxes must be finite numbers, got {boxes!r}')
    return bbox_xywh2xyxy(boxes) if bbox_format == 'xywh' else boxes


def build_instance_data(frames: Sequence[Frame], bbox: np.ndarray,
                        frame_weights: np.ndarray, frame_offsets: np.ndarray,
                        bbox_score: float = 1.0,
                        dataset_meta: Optional[dict] = None) -> dict:
    """The input of :class:`LoadVideoFrames` for one person: T frames or
    paths (key first), an xyxy box (4,) on the key frame for all frames,
    weights float32 (T,), offsets int64 (T,)."""
    info = dict(
        bbox=np.asarray(bbox, dtype=np.float32).reshape(1, 4),
        bbox_score=np.array([bbox_score], dtype=np.float32),
        frame_weights=frame_weights.copy(),
        frame_offsets=frame_offsets.copy())
    if isinstance(frames[0], str):
        info['img_path'] = list(frames)
    else:
        info['img'] = list(frames)
    if dataset_meta:
        info.update(dataset_meta)
    return info


def inference_posewarper(
        model: nn.Module, frames: Sequence[Frame],
        bboxes: Optional[Union[np.ndarray, Sequence]] = None,
        frame_weights: Optional[Sequence[float]] = None,
        frame_offsets: Optional[Sequence[int]] = None,
        bbox_scores: Optional[Sequence[float]] = None,
        bbox_format: str = 'xyxy',
        pipeline: Optional[Compose] = None) -> List[PoseDataSample]:
    """The poses of the key frame from the key and supporting frames.

    Each person is cropped from all T frames with its key-frame box; one
    ``model.test_step`` runs on the crops (N, T, 3, H, W).

    Args:
        model (nn.Module): From :func:`mmpose.apis.init_model`.
        frames (Sequence[np.ndarray | str]): T BGR frames (H, W, 3) or
            paths, key frame first.
        bboxes (np.ndarray, optional): (N, 4) boxes on the key frame; None
            for the whole frame, empty for none.
        frame_weights (Sequence[float], optional): T weights, key first
            (default ``[1.0]`` for T = 1).
        frame_offsets (Sequence[int], optional): T offsets (metainfo only,
            default ``0, ..., T-1``).
        bbox_scores (Sequence[float], optional): N box scores (default 1).
        bbox_format (str): ``'xyxy'`` or ``'xywh'``.
        pipeline (Compose, optional): :func:`build_test_pipeline`'s.

    Returns:
        list[PoseDataSample]: One per box, with ``pred_instances``
        (``keypoints`` (1, K, 2) in the image, ``keypoint_scores``, ...).
    """
    frames = _check_frames(frames)
    num_frames = len(frames)
    if frame_weights is None:
        if num_frames != 1:
            raise ValueError(
                f'{num_frames} frames given without frame_weights; give one '
                'weight per frame, key first')
        frame_weights = [1.0]
    weights = check_frame_weights(frame_weights, num_frames,
                                  'one per frame, key first')
    if frame_offsets is None:
        offsets = np.arange(num_frames, dtype=np.int64)
    else:
        offsets = np.asarray(frame_offsets, dtype=np.int64).reshape(-1)
        if offsets.shape[0] != num_frames:
            raise ValueError(f'{num_frames} frames but {offsets.shape[0]} '
                             'frame_offsets')
    boxes = _boxes(bboxes, bbox_format, frames[0])
    if len(boxes) == 0:
        return []
    scores = np.ones(len(boxes), dtype=np.float32) if bbox_scores is None \
        else np.asarray(bbox_scores, dtype=np.float32).reshape(-1)
    if scores.shape[0] != len(boxes):
        raise ValueError(
            f'{len(boxes)} boxes but {scores.shape[0]} bbox_scores')
    if not np.isfinite(scores).all():
        raise ValueError(f'bbox_scores must be finite, got {scores!r}')
    if pipeline is None:
        pipeline = build_test_pipeline(model)
    meta = getattr(model, 'dataset_meta', None)
    data_list = [pipeline(build_instance_data(frames, box, weights, offsets,
                                              float(score), meta))
                 for box, score in zip(boxes, scores)]
    with torch.no_grad():
        return model.test_step(pseudo_collate(data_list))


def instances_to_persons(samples: Sequence[PoseDataSample]) -> List[dict]:
    """The persons of :func:`inference_posewarper` results, each a dict
    with ``keypoints`` (K, 2), ``keypoint_scores`` (K,), ``bbox`` (4,) xyxy
    (None without boxes), ``bbox_score`` and, where the instances carry
    ``track_ids``, ``track_id``."""
    persons = []
    for sample in samples:
        inst = sample.pred_instances
        kpts = np.asarray(inst.keypoints, dtype=np.float64)
        scores = np.asarray(inst.keypoint_scores, dtype=np.float64)
        boxes = np.asarray(
            inst.bboxes, dtype=np.float64) if 'bboxes' in inst else None
        box_scores = np.asarray(inst.bbox_scores, dtype=np.float64) \
            if 'bbox_scores' in inst else np.ones(len(kpts))
        for i in range(len(kpts)):
            persons.append(dict(
                keypoints=kpts[i, :, :2], keypoint_scores=scores[i],
                bbox=None if boxes is None else boxes[i],
                bbox_score=float(box_scores[i])))
            if 'track_ids' in inst:
                persons[-1]['track_id'] = int(inst.track_ids[i])
    return persons
