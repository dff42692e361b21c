"""Top-down multi-frame pose estimator (PoseWarper)."""
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.logging import print_log
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.typing import (ConfigType, OptConfigType, OptMultiConfig,
                                 OptSampleList, SampleList)
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

BACKBONE_BN_MODES = ('frozen', 'train')
HEAD_CONV_PREFIXES = ('head.final_layer.', 'keypoint_head.final_layer.')
TRANS_LAYER_PREFIX = 'neck.trans_layer.'

Feats = Tuple[Tensor, Tensor]


def _check_crops_per_pass(value) -> Optional[int]:
    """``test_cfg.max_crops_per_pass``: None or an int >= 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            'PoseWarperEstimator: test_cfg.max_crops_per_pass must be None '
            f'or an int >= 1, got {value!r}')
    return value


def frame_major_crops(frames: Tensor,
                      start: int = 0,
                      end: Optional[int] = None) -> Tensor:
    """Crops ``start..end-1`` of (B, T, 3, H, W) frames in frame-major order.

    Crop ``t*B + b`` is frame ``t`` of sample ``b``, so a backbone pass over
    a range of crops sees whole frames of the batch one after the other.
    A range inside one frame is a view of ``frames`` (no copy); a longer
    range is the concatenation of its per-frame parts, so a pass copies at
    most its own crops, never the whole batch. All T*B crops at once are
    ``frames.transpose(0, 1).flatten(0, 1)`` (a view when the frames are
    stored frame-major, as the preprocessor's channels-last frames are).

    Args:
        frames (Tensor): (B, T, 3, H, W).
        start (int): First crop. Defaults to 0.
        end (int, optional): One past the last crop. Defaults to T*B.

    Returns:
        Tensor: (end - start, 3, H, W).
    """
    batch_size, num_frames = int(frames.size(0)), int(frames.size(1))
    total = batch_size * num_frames
    end = total if end is None else end
    if not 0 <= start < end <= total:
        raise ValueError(f'frame_major_crops: crops {start}..{end - 1} are '
                         f'not within the {total} crops of the batch')
    if start == 0 and end == total:
        return frames.transpose(0, 1).flatten(0, 1)
    parts = []
    for frame in range(start // batch_size, (end - 1) // batch_size + 1):
        first = max(start - frame * batch_size, 0)
        last = min(end - frame * batch_size, batch_size)
        parts.append(frames[first:last, frame])
    return parts[0] if len(parts) == 1 else torch.cat(parts)


class FrameBatch(NamedTuple):
    """A batch of frames prepared once for the backbone and the neck.

    Attributes:
        frames (Tensor): The frames as given, (B, T, 3, H, W), key frame
            first; the backbone reads them frame-major
            (:func:`frame_major_crops`).
        weights (Tensor): Per-sample frame weights (B, T).
        batch_size (int): B.
        num_frames (int): T.
        flip (bool): The backbone sees every crop mirrored horizontally
            (flip test); each pass flips its own crops. Defaults to False.
    """
    frames: Tensor
    weights: Tensor
    batch_size: int
    num_frames: int
    flip: bool = False


@MODELS.register_module()
class PoseWarperEstimator(TopdownPoseEstimator):
    """Backbone once over all frames -> warping neck -> aggregation head.

    Inputs are (B, T, 3, H, W), key frame first (a (B, 3, H, W) batch
    counts as T=1). The backbone runs once on the frame-major stack
    (T*B, 3, H, W), or in chunks of ``test_cfg.max_crops_per_pass`` crops
    at inference; the neck (:class:`PoseWarpingNeck`) warps the frames
    whose weight is non-zero for at least one sample onto the key frame and
    the head (:class:`TemporalAggregationHead`) sums them with the
    per-sample frame weights, read from each data sample's metainfo
    ``'frame_weights'`` (T values). Without weights, T=1 uses 1.0.
    Every entry point (``loss``, ``predict``, tensor mode) reshapes the
    frames and reads the weights once (:meth:`_prepare`); pose propagation
    uses :meth:`frame_heatmaps` and :meth:`propagate_heatmaps`.

    A load-state-dict hook moves ``head.final_layer.*`` (mmpose 1.x
    single-frame model) or ``keypoint_head.final_layer.*`` (0.x) to
    ``neck.trans_layer.*`` when the checkpoint has no ``neck.trans_layer``,
    so a stage-1 checkpoint can be given as ``load_from`` for stage 2.

    Args:
        backbone (dict): Backbone config (e.g. HRNet with
            ``frozen_stages=4`` for stage 2).
        neck (dict): :class:`PoseWarpingNeck` config.
        head (dict): :class:`TemporalAggregationHead` config.
        train_cfg (dict, optional): Training runtime config.
        test_cfg (dict, optional): Testing runtime config (``flip_test``,
            ``shift_heatmap``, ``output_heatmaps``, and
            ``max_crops_per_pass``: the most crops per backbone pass and
            warp call at inference, see :meth:`crops_per_pass`).
        data_preprocessor (dict, optional): Usually
            :class:`MultiFramePoseDataPreprocessor`.
        backbone_bn_mode (str): ``'frozen'``: BN layers of frozen backbone
            stages stay in eval mode (mmpose 0.x). ``'train'``: all backbone
            BN layers follow the model's mode, so they normalise with batch
            statistics and update their running statistics while their
            weights stay frozen (the official implementation). Defaults to
            ``'frozen'``.
        init_cfg (dict, optional): Init config.
        metainfo (dict, optional): Dataset meta information override.
    """

    def __init__(self,
                 backbone: ConfigType,
                 neck: ConfigType,
                 head: ConfigType,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 backbone_bn_mode: str = 'frozen',
                 init_cfg: OptMultiConfig = None,
                 metainfo: Optional[dict] = None) -> None:
        if neck is None or head is None:
            raise ValueError(
                f'{type(self).__name__}: both a neck (PoseWarpingNeck) and a '
                'head (TemporalAggregationHead) are required')
        if backbone_bn_mode not in BACKBONE_BN_MODES:
            raise ValueError(
                f'{type(self).__name__}: backbone_bn_mode must be one of '
                f'{BACKBONE_BN_MODES}, got {backbone_bn_mode!r}')
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
            metainfo=metainfo)
        for method in ('heatmaps', 'warp_frames'):
            if not callable(getattr(self.neck, method, None)):
                raise TypeError(
                    f'{type(self).__name__}: the neck must provide '
                    f'{method}() like PoseWarpingNeck, got '
                    f'{type(self.neck).__name__}')
        _check_crops_per_pass((self.test_cfg or {}).get('max_crops_per_pass'))
        self.backbone_bn_mode = backbone_bn_mode
        self._register_load_state_dict_pre_hook(
            self._move_head_conv_to_trans_layer)
        self.train(self.training)

    # ------------------------------------------------------------------
    # modes and checkpoints
    # ------------------------------------------------------------------
    def train(self, mode: bool = True) -> 'PoseWarperEstimator':
        """Set the mode; with ``backbone_bn_mode='train'`` every backbone
        BN layer follows ``mode`` even inside frozen stages."""
        super().train(mode)
        if mode and self.backbone_bn_mode == 'train':
            for module in self.backbone.modules():
                if isinstance(module, _BatchNorm):
                    module.train()
        return self

    def _move_head_conv_to_trans_layer(self, state_dict, prefix, local_meta,
                                       *args, **kwargs) -> None:
        """Move a single-frame head conv into ``neck.trans_layer``."""
        target = prefix + TRANS_LAYER_PREFIX
        if not any(True for _ in self.neck.trans_layer.parameters()):
            return
        if any(key.startswith(target) for key in state_dict):
            return
        for source_prefix in HEAD_CONV_PREFIXES:
            source = prefix + source_prefix
            keys = [key for key in state_dict if key.startswith(source)]
            if not keys:
                continue
            for key in keys:
                state_dict[target + key[len(source):]] = state_dict.pop(key)
            print_log(
                f'{type(self).__name__}: moved {sorted(keys)} of the '
                f'checkpoint to {target}* (single-frame head conv -> '
                'warping neck trans_layer)',
                logger='current')
            return

    # ------------------------------------------------------------------
    # inputs
    # ------------------------------------------------------------------
    @staticmethod
    def _as_frames(inputs: Tensor) -> Tuple[Tensor, int, int]:
        """(B, T, 3, H, W) or (B, 3, H, W) -> (B, T, 3, H, W), B and T."""
        # int(): under jit tracing (FLOP counters, export) sizes are
        # tensors, which the neck rejects as frame counts
        if inputs.dim() == 4:
            inputs = inputs.unsqueeze(1)
        if inputs.dim() != 5:
            raise ValueError(
                'PoseWarperEstimator: inputs must be (B, T, 3, H, W) or '
                f'(B, 3, H, W), got shape {tuple(inputs.shape)}')
        return inputs, int(inputs.size(0)), int(inputs.size(1))

    def get_frame_weights(self, data_samples: OptSampleList, batch_size: int,
                          num_frames: int, device) -> Tensor:
        """Per-sample frame weights (B, T) from metainfo 'frame_weights'.

        Samples without weights get 1.0 when T == 1; for T > 1 missing
        weights are an error.
        """
        rows: List[Tensor] = []
        samples: Sequence = data_samples or []
        if samples and len(samples) != batch_size:
            raise ValueError(
                f'{type(self).__name__}: {len(samples)} data samples for a '
                f'batch of {batch_size}')
        for idx in range(batch_size):
            weights = None
            if samples:
                weights = samples[idx].metainfo.get('frame_weights', None)
            if weights is None:
                if num_frames != 1:
                    raise ValueError(
                        f'{type(self).__name__}: sample {idx} has no '
                        f"'frame_weights' in its metainfo but {num_frames} "
                        "frames; add 'frame_weights' to PackPoseInputs "
                        'meta_keys')
                weights = [1.0]
            if isinstance(weights, Tensor):
                weights = weights.detach().to('cpu', torch.float32)
            weights = torch.as_tensor(
                np.asarray(weights, dtype=np.float32).reshape(-1))
            if weights.numel() != num_frames:
                raise ValueError(
                    f'{type(self).__name__}: sample {idx} has '
                    f'{weights.numel()} frame weights for {num_frames} '
                    'frames')
            rows.append(weights)
        return torch.stack(rows).to(device)

    def _prepare(self, inputs: Tensor,
                 data_samples: OptSampleList = None) -> FrameBatch:
        """Reshape the frames and read the frame weights, once per batch.

        Args:
            inputs (Tensor): (B, T, 3, H, W), or (B, 3, H, W) for T = 1.
            data_samples (list[PoseDataSample], optional): With
                'frame_weights' (T values) in their metainfo; may be absent
                when T == 1 (weight 1.0).

        Returns:
            FrameBatch: Frames (B, T, 3, H, W), weights (B, T), B and T.
        """
        frames, batch_size, num_frames = self._as_frames(inputs)
        weights = self.get_frame_weights(data_samples, batch_size, num_frames,
                                         inputs.device)
        return FrameBatch(frames, weights, batch_size, num_frames)

    # ------------------------------------------------------------------
    # forward
    # ------------------------------------------------------------------
    def extract_feat(self, batch: Union[FrameBatch, Tensor]) -> Feats:
        """Backbone on all frames at once, then warp onto the key frame.

        Args:
            batch (FrameBatch | Tensor): Frames prepared by
                :meth:`_prepare`. A bare (B, 3, H, W) or (B, 1, 3, H, W)
                tensor is prepared here with weight 1.0 (mmpose's
                single-frame call).

        Returns:
            tuple[Tensor, Tensor]: warped heatmaps (B, T', K, h, w) of the
            frames with a non-zero weight in the batch, and their weights
            (B, T').
        """
        if isinstance(batch, Tensor):
            batch = self._prepare(batch)
        weights, batch_size, num_frames = (batch.weights, batch.batch_size,
                                           batch.num_frames)
        used = (weights != 0).any(dim=0).nonzero().flatten().tolist()
        if not used:
            raise ValueError(
                f'{type(self).__name__}: every frame weight is zero')
        chunk = self.crops_per_pass()
        heatmaps = self._heatmaps(batch.frames, chunk, batch.flip)
        warped = self.neck.warp_frames(
            heatmaps, num_frames, frame_slots=used, chunk_size=chunk)
        warped = warped.unflatten(0, (len(used), batch_size)).transpose(0, 1)
        return warped, weights[:, used]

    def crops_per_pass(self) -> Optional[int]:
        """Most crops per backbone pass and per warp call at inference.

        ``test_cfg.max_crops_per_pass`` in eval mode (None: all frames of
        the batch at once, the fastest on a GPU); always None in training,
        where autograd keeps every chunk's activations anyway. Chunking
        bounds the peak memory of a T-frame batch near that of a
        single-frame batch of the same size; the outputs do not change.
        """
        if self.training:
            return None
        return _check_crops_per_pass(
            (self.test_cfg or {}).get('max_crops_per_pass'))

    def _heatmaps(self,
                  frames: Tensor,
                  chunk: Optional[int] = None,
                  flip: bool = False) -> Tensor:
        """Backbone and the neck's ``trans_layer`` on (B, T, 3, H, W)
        frames: frame-major heatmaps (T*B, K, h, w).

        The crops go through in frame-major passes of at most ``chunk``
        crops (all at once when None), each pass gathered (and mirrored
        when ``flip``) on its own by :func:`frame_major_crops`: only the
        heatmaps (N, K, h, w) of earlier passes stay alive while a pass
        runs, not their wider backbone features nor a frame-major copy of
        the whole batch.
        """
        total = int(frames.size(0)) * int(frames.size(1))
        bounds = [(0, total)] if chunk is None else [
            (start, min(start + chunk, total))
            for start in range(0, total, chunk)
        ]
        heatmaps = []
        for start, end in bounds:
            crops = frame_major_crops(frames, start, end)
            if flip:
                crops = crops.flip(-1)
            heatmaps.append(self.neck.heatmaps(self.backbone(crops)))
        return heatmaps[0] if len(heatmaps) == 1 else torch.cat(heatmaps)

    def frame_heatmaps(self, inputs: Tensor) -> Tensor:
        """Heatmaps of every frame before warping (the neck's
        ``trans_layer`` on the backbone features).

        Args:
            inputs (Tensor): (B, T, 3, H, W), or (B, 3, H, W) for T = 1.

        Returns:
            Tensor: Heatmaps (T, B, K, h, w).
        """
        frames, batch_size, num_frames = self._as_frames(inputs)
        heatmaps = self._heatmaps(frames, self.crops_per_pass())
        return heatmaps.unflatten(0, (num_frames, batch_size))

    def propagate_heatmaps(self, inputs: Tensor, source: Tensor) -> Tensor:
        """Warp heatmaps given on the key frame onto a target frame.

        The reverse of estimation: the warping module is guided by
        ``target - key`` heatmap differences (estimation uses ``key -
        support``) and moves ``source``, e.g. the encoded known poses of the
        key frame.

        Args:
            inputs (Tensor): Crops (B, 2, 3, H, W): key frame, then target
                frame.
            source (Tensor): Heatmaps on the key frame (B, K, h, w), the
                size of the model's heatmaps.

        Returns:
            Tensor: ``source`` warped onto the target frame (B, K, h, w).
        """
        if inputs.dim() != 5 or inputs.size(1) != 2:
            raise ValueError(
                f'{type(self).__name__}: expected crops (B, 2, 3, H, W) of '
                f'a key and a target frame, got {tuple(inputs.shape)}')
        key, target = self.frame_heatmaps(inputs)
        if tuple(source.shape) != tuple(key.shape):
            raise ValueError(
                f'{type(self).__name__}: source heatmaps '
                f'{tuple(source.shape)} do not match the model heatmaps '
                f'{tuple(key.shape)}; encode them with the codec of the '
                'model config')
        return self.neck.warp(source.to(key), target - key)

    def forward(self,
                inputs: Tensor,
                data_samples: OptSampleList = None,
                mode: str = 'tensor'):
        """mmengine's entry point; ``'tensor'`` mode keeps the samples.

        mmpose's :meth:`BasePoseEstimator.forward` calls ``_forward(inputs)``
        in tensor mode and drops ``data_samples``, which hold the frame
        weights a multi-frame input needs. Here tensor mode passes them on;
        ``'loss'`` and ``'predict'`` are mmpose's.

        Args:
            inputs (Tensor | list[Tensor]): (B, T, 3, H, W) or (B, 3, H, W),
                or a list of per-sample tensors.
            data_samples (list[PoseDataSample], optional): With
                'frame_weights' (T values) in their metainfo when T > 1.
            mode (str): ``'tensor'``, ``'loss'`` or ``'predict'``.

        Returns:
            Tensor | dict | list: Aggregated heatmaps (B, K, h, w) in tensor
            mode, else as :meth:`BasePoseEstimator.forward`.
        """
        if mode != 'tensor':
            return super().forward(inputs, data_samples, mode)
        if isinstance(inputs, (list, tuple)):
            inputs = torch.stack(inputs)
        return self._forward(inputs, data_samples)

    def _forward(self, inputs: Tensor, data_samples: OptSampleList = None):
        """Network forward without post-processing: heatmaps (B, K, h, w).

        Raises:
            ValueError: For T > 1 frames without data samples that carry
                'frame_weights'.
        """
        if inputs.dim() == 5 and inputs.size(1) > 1 and not data_samples:
            raise ValueError(
                f'{type(self).__name__}: tensor mode on {inputs.size(1)} '
                'frames needs the frame weights: call model(inputs, '
                "data_samples, mode='tensor') with data samples whose "
                "metainfo has 'frame_weights' (T values, key frame first)")
        batch = self._prepare(inputs, data_samples)
        return self.head.forward(self.extract_feat(batch))

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Losses (``loss_kpt``) and ``acc_pose`` against the key frame.

        Args:
            inputs (Tensor): (B, T, 3, H, W) or (B, 3, H, W).
            data_samples (list[PoseDataSample]): Key-frame targets and
                metainfo with 'frame_weights'.

        Returns:
            dict: mmpose-style losses.
        """
        feats = self.extract_feat(self._prepare(inputs, data_samples))
        return self.head.loss(feats, data_samples, train_cfg=self.train_cfg)

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        """One prediction per key frame, in original image coordinates.

        Args:
            inputs (Tensor): (B, T, 3, H, W) or (B, 3, H, W).
            data_samples (list[PoseDataSample]): Batch data samples.

        Returns:
            list[PoseDataSample]: With ``pred_instances`` (and
            ``pred_fields`` when ``test_cfg.output_heatmaps``).
        """
        assert self.with_head, 'The model must have a head to predict.'
        batch = self._prepare(inputs, data_samples)
        if self.test_cfg.get('flip_test', False):
            flipped = batch._replace(flip=True)
            feats = [self.extract_feat(batch), self.extract_feat(flipped)]
        else:
            feats = self.extract_feat(batch)
        preds = self.head.predict(feats, data_samples, test_cfg=self.test_cfg)
        if isinstance(preds, tuple):
            batch_pred_instances, batch_pred_fields = preds
        else:
            batch_pred_instances, batch_pred_fields = preds, None
        return self.add_pred_to_datasample(batch_pred_instances,
                                           batch_pred_fields, data_samples)
