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

from ...errors import ConfigError

BACKBONE_BN_MODES = ('frozen', 'train')
HEAD_CONV_PREFIXES = ('head.final_layer.', 'keypoint_head.final_layer.')
TRANS_LAYER_PREFIX = 'neck.trans_layer.'


def frame_major_crops(frames: Tensor, start: int = 0,
                      end: Optional[int] = None) -> Tensor:
    """Crops ``start..end-1`` (end - start, 3, H, W) of (B, T, 3, H, W)
    frames in frame-major order: crop ``t*B + b`` is frame ``t`` of sample
    ``b``. A range copies at most its own crops (none inside one frame);
    ``end`` defaults to T*B."""
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
    """Frames (B, T, 3, H, W), key frame first, with their weights (B, T),
    B, T and whether the backbone sees them mirrored (flip test)."""
    frames: Tensor
    weights: Tensor
    batch_size: int
    num_frames: int
    flip: bool = False


@MODELS.register_module()
class PoseWarperEstimator(TopdownPoseEstimator):
    """Backbone once over all frames -> warping neck -> aggregation head.

    Inputs are (B, T, 3, H, W), key frame first ((B, 3, H, W) is T=1); the
    backbone sees them frame-major (T*B, 3, H, W). The neck warps the frames
    with a non-zero weight onto the key frame and the head sums them with
    the weights of each data sample's metainfo ``'frame_weights'``. Loading
    a state dict moves a single-frame head conv (``head.final_layer``, or
    0.x ``keypoint_head.final_layer``) to a missing ``neck.trans_layer``,
    so a stage-1 checkpoint can be the ``load_from`` of stage 2.

    Args:
        backbone (dict): Backbone config.
        neck (dict): :class:`PoseWarpingNeck` config.
        head (dict): :class:`TemporalAggregationHead` config.
        train_cfg (dict, optional): Training runtime config.
        test_cfg (dict, optional): mmpose's test config, plus
            ``max_crops_per_pass`` (see :meth:`crops_per_pass`).
        data_preprocessor (dict, optional): Usually
            :class:`MultiFramePoseDataPreprocessor`.
        backbone_bn_mode (str): ``'frozen'`` (mmpose 0.x): BN layers of
            frozen stages stay in eval mode; ``'train'`` (the official
            code): every backbone BN layer follows the model's mode.
        init_cfg (dict, optional): Init config.
        metainfo (dict, optional): Dataset meta information override.
    """

    def __init__(self, backbone: ConfigType, neck: ConfigType,
                 head: ConfigType, train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 backbone_bn_mode: str = 'frozen',
                 init_cfg: OptMultiConfig = None,
                 metainfo: Optional[dict] = None) -> None:
        if neck is None or head is None:
            raise ConfigError(
                f'{type(self).__name__}: both a neck (PoseWarpingNeck) and a '
                'head (TemporalAggregationHead) are required')
        if backbone_bn_mode not in BACKBONE_BN_MODES:
            raise ConfigError(
                f'{type(self).__name__}: backbone_bn_mode must be one of '
                f'{BACKBONE_BN_MODES}, got {backbone_bn_mode!r}')
        super().__init__(
            backbone=backbone, neck=neck, head=head, train_cfg=train_cfg,
            test_cfg=test_cfg, data_preprocessor=data_preprocessor,
            init_cfg=init_cfg, metainfo=metainfo)
        for method in ('heatmaps', 'warp_frames'):
            if not callable(getattr(self.neck, method, None)):
                raise ConfigError(f'{type(self).__name__}: the neck must '
                                  f'provide {method}() like PoseWarpingNeck, '
                                  f'got {type(self.neck).__name__}')
        self.crops_per_pass()  # checks test_cfg.max_crops_per_pass
        self.backbone_bn_mode = backbone_bn_mode
        self._register_load_state_dict_pre_hook(
            self._move_head_conv_to_trans_layer)
        self.train(self.training)

    def train(self, mode: bool = True) -> 'PoseWarperEstimator':
        """Set the mode (see ``backbone_bn_mode``)."""
        super().train(mode)
        if mode and self.backbone_bn_mode == 'train':
            for module in self.backbone.modules():
                if isinstance(module, _BatchNorm):
                    module.train()
        return self

    def _move_head_conv_to_trans_layer(self, state_dict, prefix, *args,
                                       **kwargs) -> None:
        target = prefix + TRANS_LAYER_PREFIX
        if not any(True for _ in self.neck.trans_layer.parameters()) or \
                any(key.startswith(target) for key in state_dict):
            return
        for source_prefix in HEAD_CONV_PREFIXES:
            source = prefix + source_prefix
            keys = [key for key in state_dict if key.startswith(source)]
            for key in keys:
                state_dict[target + key[len(source):]] = state_dict.pop(key)
            if keys:
                print_log(
                    f'{type(self).__name__}: moved {sorted(keys)} of the '
                    f'checkpoint to {target}* (single-frame head conv -> '
                    'warping neck trans_layer)', logger='current')
                return

    @staticmethod
    def _as_frames(inputs: Tensor) -> Tuple[Tensor, int, int]:
        """(B, T, 3, H, W) or (B, 3, H, W) -> (B, T, 3, H, W), B and T."""
        # int(): under jit tracing sizes are tensors, not frame counts
        if inputs.dim() == 4:
            inputs = inputs.unsqueeze(1)
        if inputs.dim() != 5:
            raise ValueError(
                'PoseWarperEstimator: inputs must be (B, T, 3, H, W) or '
                f'(B, 3, H, W), got shape {tuple(inputs.shape)}')
        return inputs, int(inputs.size(0)), int(inputs.size(1))

    def get_frame_weights(self, data_samples: OptSampleList, batch_size: int,
                          num_frames: int, device) -> Tensor:
        """Frame weights (B, T) from the metainfo 'frame_weights' (needed
        for T > 1; 1.0 for T = 1)."""
        rows: List[Tensor] = []
        samples: Sequence = data_samples or []
        if samples and len(samples) != batch_size:
            raise ValueError(f'{type(self).__name__}: {len(samples)} data '
                             f'samples for a batch of {batch_size}')
        for idx in range(batch_size):
            weights = samples[idx].metainfo.get('frame_weights', None) \
                if samples else None
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
                raise ValueError(f'{type(self).__name__}: sample {idx} has '
                                 f'{weights.numel()} frame weights for '
                                 f'{num_frames} frames')
            rows.append(weights)
        return torch.stack(rows).to(device)

    def _prepare(self, inputs: Tensor,
                 data_samples: OptSampleList = None) -> FrameBatch:
        """The batch of ``inputs`` (B, [T,] 3, H, W) with the weights of
        ``data_samples``, prepared once per entry point."""
        frames, batch_size, num_frames = self._as_frames(inputs)
        weights = self.get_frame_weights(data_samples, batch_size, num_frames,
                                         inputs.device)
        return FrameBatch(frames, weights, batch_size, num_frames)

    def extract_feat(
            self, batch: Union[FrameBatch, Tensor]) -> Tuple[Tensor, Tensor]:
        """Warped heatmaps (B, T', K, h, w) of the frames of ``batch`` (from
        :meth:`_prepare`, or a single-frame tensor) with a non-zero weight,
        and their weights (B, T')."""
        if isinstance(batch, Tensor):
            batch = self._prepare(batch)
        used = (batch.weights != 0).any(dim=0).nonzero().flatten().tolist()
        if not used:
            raise ValueError(
                f'{type(self).__name__}: every frame weight is zero')
        chunk = self.crops_per_pass()
        heatmaps = self._heatmaps(batch.frames, chunk, batch.flip)
        warped = self.neck.warp_frames(
            heatmaps, batch.num_frames, frame_slots=used, chunk_size=chunk)
        warped = warped.unflatten(0, (len(used), batch.batch_size))
        return warped.transpose(0, 1), batch.weights[:, used]

    def crops_per_pass(self) -> Optional[int]:
        """``test_cfg.max_crops_per_pass`` in eval mode, else None (all
        crops at once): the most crops per backbone pass and warp call.
        Smaller passes bound the peak memory, not the outputs."""
        value = (self.test_cfg or {}).get('max_crops_per_pass')
        if value is not None and (isinstance(value, bool)
                                  or not isinstance(value, int) or value < 1):
            raise ConfigError(
                f'{type(self).__name__}: test_cfg.max_crops_per_pass must '
                f'be None or an int >= 1, got {value!r}')
        return None if self.training else value

    def _heatmaps(self, frames: Tensor, chunk: Optional[int] = None,
                  flip: bool = False) -> Tensor:
        """Frame-major heatmaps (T*B, K, h, w) of (B, T, 3, H, W) frames
        (backbone and ``trans_layer``), in passes of at most ``chunk``
        crops, each gathered (and mirrored if ``flip``) on its own."""
        total = int(frames.size(0)) * int(frames.size(1))
        step = chunk or total
        heatmaps = []
        for start in range(0, total, step):
            crops = frame_major_crops(frames, start, min(start + step, total))
            if flip:
                crops = crops.flip(-1)
            heatmaps.append(self.neck.heatmaps(self.backbone(crops)))
        return heatmaps[0] if len(heatmaps) == 1 else torch.cat(heatmaps)

    def frame_heatmaps(self, inputs: Tensor) -> Tensor:
        """Unwarped heatmaps (T, B, K, h, w) of every frame of ``inputs``
        (B, [T,] 3, H, W)."""
        frames, batch_size, num_frames = self._as_frames(inputs)
        heatmaps = self._heatmaps(frames, self.crops_per_pass())
        return heatmaps.unflatten(0, (num_frames, batch_size))

    def propagate_heatmaps(self, inputs: Tensor, source: Tensor) -> Tensor:
        """Warp ``source`` heatmaps (B, K, h, w) of the key frame (e.g.
        encoded poses) onto the target frame, guided by ``target - key``
        (the reverse of estimation); ``inputs`` are (B, 2, 3, H, W) crops
        of the key, then the target frame."""
        if inputs.dim() != 5 or inputs.size(1) != 2:
            raise ValueError(
                f'{type(self).__name__}: expected crops (B, 2, 3, H, W) of '
                f'a key and a target frame, got {tuple(inputs.shape)}')
        key, target = self.frame_heatmaps(inputs)
        if tuple(source.shape) != tuple(key.shape):
            raise ValueError(f'{type(self).__name__}: source heatmaps '
                             f'{tuple(source.shape)} do not match the model '
                             f'heatmaps {tuple(key.shape)}; encode them with '
                             'the codec of the model config')
        return self.neck.warp(source.to(key), target - key)

    def forward(self, inputs: Tensor, data_samples: OptSampleList = None,
                mode: str = 'tensor'):
        """mmpose's forward, except that ``'tensor'`` mode passes on the
        ``data_samples`` (their frame weights) and returns the aggregated
        heatmaps (B, K, h, w); ``inputs`` may be a list of samples."""
        if mode != 'tensor':
            return super().forward(inputs, data_samples, mode)
        if isinstance(inputs, (list, tuple)):
            inputs = torch.stack(inputs)
        return self._forward(inputs, data_samples)

    def _forward(self, inputs: Tensor, data_samples: OptSampleList = None):
        """Heatmaps (B, K, h, w) without post-processing."""
        if inputs.dim() == 5 and inputs.size(1) > 1 and not data_samples:
            raise ValueError(
                f'{type(self).__name__}: tensor mode on {inputs.size(1)} '
                'frames needs the frame weights: call model(inputs, '
                "data_samples, mode='tensor') with data samples whose "
                "metainfo has 'frame_weights' (T values, key frame first)")
        batch = self._prepare(inputs, data_samples)
        return self.head.forward(self.extract_feat(batch))

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Losses (``loss_kpt``) and ``acc_pose`` against the key frame."""
        feats = self.extract_feat(self._prepare(inputs, data_samples))
        return self.head.loss(feats, data_samples, train_cfg=self.train_cfg)

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        """``data_samples`` with the key frames' ``pred_instances`` (and
        ``pred_fields`` with ``test_cfg.output_heatmaps``)."""
        assert self.with_head, 'The model must have a head to predict.'
        batch = self._prepare(inputs, data_samples)
        if self.test_cfg.get('flip_test', False):
            flipped = batch._replace(flip=True)
            feats = [self.extract_feat(batch), self.extract_feat(flipped)]
        else:
            feats = self.extract_feat(batch)
        preds = self.head.predict(feats, data_samples, test_cfg=self.test_cfg)
        instances, fields = preds if isinstance(preds, tuple) else (preds,
                                                                    None)
        return self.add_pred_to_datasample(instances, fields, data_samples)
