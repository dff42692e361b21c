"""Propagate known poses to a neighbouring frame by warping heatmaps.

PoseWarper's ``WARPING_REVERSE`` / ``USE_GT_INPUT`` mode: the warping
module moves the key frame's known heatmaps along ``target_heatmaps -
key_heatmaps`` (:meth:`PoseWarperEstimator.propagate_heatmaps`).
"""
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from torch import Tensor, nn

from .inference import build_instance_data, build_test_pipeline

DECODE_MODES = ('absolute', 'displacement')


def _codec(model: nn.Module):
    codec = getattr(getattr(model, 'head', None), 'decoder', None)
    if codec is None or not hasattr(codec, 'encode'):
        raise AttributeError(
            'the model head has no keypoint codec (head.decoder); pose '
            'propagation needs a heatmap codec such as MSRAHeatmap')
    return codec


def _estimator(model: nn.Module) -> nn.Module:
    for method in ('frame_heatmaps', 'propagate_heatmaps'):
        if not callable(getattr(model, method, None)):
            raise TypeError(
                'pose propagation needs a PoseWarperEstimator (with '
                'frame_heatmaps() and propagate_heatmaps()); got '
                f'{type(model).__name__}')
    return model


def image_to_input(points: np.ndarray,
                   center: np.ndarray,
                   scale: np.ndarray,
                   input_size: Sequence[int],
                   use_udp: bool = False) -> np.ndarray:
    """Image (x, y) (..., 2) in the crop of ``center`` (2,) and size
    ``scale`` (2,) for model input (w, h), as ``TopdownAffine`` maps them.

    Without UDP this is :func:`input_to_image` inverted. With UDP the crop
    spans ``input size - 1`` pixels, and a UDP codec's decoding makes up
    for it, so that ``input_to_image(decode(encode(image_to_input(p,
    use_udp=True))))`` is ``p`` again.
    """
    size = np.asarray(input_size, dtype=np.float64)
    if use_udp:
        size = size - 1
    return (points - center + 0.5 * scale) * size / scale


def input_to_image(points: np.ndarray, center: np.ndarray, scale: np.ndarray,
                   input_size: Sequence[int]) -> np.ndarray:
    """Crop (x, y) (..., 2) back in the image, as mmpose's top-down
    models map their predictions (no rotation)."""
    size = np.asarray(input_size, dtype=np.float64)
    return points / size * scale + center - 0.5 * scale


def pipeline_uses_udp(pipeline: Compose) -> bool:
    """Whether the pipeline's ``TopdownAffine`` crops with UDP's mapping.

    Raises:
        ValueError: The pipeline has no ``TopdownAffine``.
    """
    affines = [
        t for t in getattr(pipeline, 'transforms', pipeline)
        if type(t).__name__ == 'TopdownAffine'
    ]
    if not affines:
        raise ValueError('pose propagation needs a test pipeline with '
                         'TopdownAffine; none found')
    return bool(getattr(affines[-1], 'use_udp', False))


def frame_heatmaps(model: nn.Module, inputs: Tensor) -> Tensor:
    """Heatmaps (T, B, K, h, w) of normalised crops (B, T, 3, H, W),
    before warping (:meth:`PoseWarperEstimator.frame_heatmaps`)."""
    return _estimator(model).frame_heatmaps(inputs)


def encode_heatmaps(codec,
                    keypoints: np.ndarray,
                    visible: np.ndarray,
                    centers: np.ndarray,
                    scales: np.ndarray,
                    input_size: Sequence[int],
                    use_udp: bool = False) -> np.ndarray:
    """Heatmaps float32 (N, K, h, w) of poses (N, K, 2) with visibility
    (N, K) in their crops (centres and sizes (N, 2), input (w, h)), encoded
    by a heatmap ``codec`` as training targets are (``use_udp``: the crop's
    ``TopdownAffine`` uses UDP)."""
    maps = []
    for kpts, vis, center, scale in zip(keypoints, visible, centers, scales):
        crop = image_to_input(kpts, center, scale, input_size, use_udp)
        encoded = codec.encode(crop[None].astype(np.float32),
                               np.asarray(vis, dtype=np.float32)[None])
        maps.append(encoded['heatmaps'])
    return np.stack(maps).astype(np.float32)


@torch.no_grad()
def propagate_poses(model: nn.Module,
                    key_frame: np.ndarray,
                    target_frame: np.ndarray,
                    keypoints: np.ndarray,
                    keypoints_visible: np.ndarray,
                    bboxes: np.ndarray,
                    pipeline: Optional[Compose] = None,
                    frame_offset: int = 1,
                    decode: str = 'absolute') -> Tuple[np.ndarray, np.ndarray]:
    """Move the key frame's known poses onto a target frame.

    Args:
        model (nn.Module): PoseWarper model (:func:`mmpose.apis.init_model`).
        key_frame (np.ndarray): Labeled frame, BGR (H, W, 3).
        target_frame (np.ndarray): Unlabeled frame of the same size.
        keypoints (np.ndarray): Known poses on the key frame (N, K, 2).
        keypoints_visible (np.ndarray): Their visibility (N, K).
        bboxes (np.ndarray): xyxy boxes on the key frame (N, 4), cropping
            both frames.
        pipeline (Compose, optional): The test pipeline.
        frame_offset (int): Target index minus key index (metainfo only).
        decode (str): ``'absolute'``: the decoded warped heatmaps;
            ``'displacement'``: the known poses moved by ``decode(warped) -
            decode(known heatmaps)``, which cancels the codec's rounding.
            The known poses are encoded as the pipeline's training targets
            (with UDP's crop mapping where its ``TopdownAffine`` uses it).

    Returns:
        tuple[np.ndarray, np.ndarray]: Keypoints (N, K, 2) on the target
        frame and scores (N, K), the warped maxima (0 where invisible).
    """
    if decode not in DECODE_MODES:
        raise ValueError(
            f'decode must be one of {DECODE_MODES}, got {decode!r}')
    keypoints = np.asarray(keypoints, dtype=np.float64)
    visible = np.asarray(keypoints_visible, dtype=np.float32)
    bboxes = np.asarray(bboxes, dtype=np.float32).reshape(-1, 4)
    if keypoints.ndim != 3 or keypoints.shape[0] != len(bboxes) or \
            visible.shape != keypoints.shape[:2]:
        raise ValueError('expected keypoints (N, K, 2), keypoints_visible '
                         f'(N, K) and bboxes (N, 4), got {keypoints.shape}, '
                         f'{visible.shape}, {bboxes.shape}')
    if len(bboxes) == 0:
        return keypoints[..., :2].copy(), visible.copy()
    if key_frame.shape != target_frame.shape:
        raise ValueError(f'key frame {key_frame.shape} and target frame '
                         f'{target_frame.shape} differ in size')
    codec = _codec(model)
    estimator = _estimator(model)
    if pipeline is None:
        pipeline = build_test_pipeline(model)
    weights = np.array([1.0, 0.0], dtype=np.float32)
    offsets = np.array([0, frame_offset], dtype=np.int64)
    data = pseudo_collate([
        pipeline(
            build_instance_data([key_frame, target_frame], box, weights,
                                offsets, 1.0, model.dataset_meta))
        for box in bboxes
    ])
    data = model.data_preprocessor(data, False)
    inputs, samples = data['inputs'], data['data_samples']
    centers = np.stack([s.metainfo['input_center'] for s in samples])
    scales = np.stack([s.metainfo['input_scale'] for s in samples])
    input_size = samples[0].metainfo['input_size']
    known = encode_heatmaps(codec, keypoints, visible, centers, scales,
                            input_size, pipeline_uses_udp(pipeline))
    warped = estimator.propagate_heatmaps(inputs, torch.from_numpy(known))
    out_kpts = np.zeros_like(keypoints)
    out_scores = np.zeros(keypoints.shape[:2], dtype=np.float32)
    for i, maps in enumerate(warped.float().cpu().numpy()):
        kpts, scores = codec.decode(maps)
        out_kpts[i] = input_to_image(kpts[0], centers[i], scales[i],
                                     input_size)
        if decode == 'displacement':
            start = codec.decode(known[i])[0][0]
            out_kpts[i] += keypoints[i] - input_to_image(
                start, centers[i], scales[i], input_size)
        out_scores[i] = np.where(visible[i] > 0, scores[0], 0.0)
    return out_kpts, out_scores
