"""PoseWarper's heatmap warping module as an mmpose neck."""
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from mmpose.models.backbones.resnet import BasicBlock, Bottleneck
from mmpose.registry import MODELS
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from ...errors import ConfigError
from .deform_conv_backends import DEFORM_CONV_BACKENDS, BackendDeformConv2d

Features = Union[Tensor, Sequence[Tensor], Sequence[Sequence[Tensor]]]
RES_BLOCKS = {'BASIC': BasicBlock, 'BOTTLENECK': Bottleneck}
DEFAULT_RES_BLOCKS_CFG = dict(block='BASIC', num_blocks=20)
_WHERE = 'posewarper_mm.models.necks.PoseWarpingNeck'


def check_arg(name: str, value, low: Optional[int] = 1, odd: bool = False,
              choices: Optional[Sequence] = None):
    """Return ``value`` if it is an int >= ``low`` (odd if ``odd``), or,
    with ``choices``, one of them; else :class:`ConfigError` (TypeError
    for a non-int)."""
    where = f'{_WHERE}: {name}'
    if choices is not None:
        if isinstance(value, bool) or value not in tuple(choices):
            raise ConfigError(f'{where} must be one of {tuple(choices)}, got '
                              f'{value!r}')
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f'{where} must be an int, got {value!r}')
    if low is not None and value < low:
        raise ConfigError(f'{where} must be >= {low}, got {value}')
    if odd and value % 2 == 0:
        raise ConfigError(f'{where} must be odd so that the output keeps '
                          f'the input size, got {value}')
    return value


def _res_blocks(cfg: Optional[dict]) -> Tuple[type, int]:
    """(block class, number of blocks) of ``res_blocks_cfg``."""
    cfg = DEFAULT_RES_BLOCKS_CFG if cfg is None else cfg
    if not isinstance(cfg, dict):
        raise TypeError(f'{_WHERE}: res_blocks_cfg should be dict or None, '
                        f'got {type(cfg).__name__}')
    if set(cfg) - set(DEFAULT_RES_BLOCKS_CFG):
        raise ConfigError(f'{_WHERE}: res_blocks_cfg has unknown keys '
                          f'{sorted(set(cfg) - set(DEFAULT_RES_BLOCKS_CFG))}; '
                          f'allowed: {sorted(DEFAULT_RES_BLOCKS_CFG)}')
    cfg = {**DEFAULT_RES_BLOCKS_CFG, **cfg}
    block = check_arg('res_blocks_cfg["block"]', cfg['block'],
                      choices=RES_BLOCKS)
    return RES_BLOCKS[block], check_arg('res_blocks_cfg["num_blocks"]',
                                        cfg['num_blocks'])


@MODELS.register_module()
class PoseWarpingNeck(BaseModule):
    """Warp supporting-frame heatmaps onto the key frame (PoseWarper).

    `Learning Temporal Pose Estimation from Sparsely-Labeled Videos
    <https://arxiv.org/abs/1906.04016>`_ (Bertasius et al., NeurIPS 2019).

    Features arrive frame-major, (T*B, C, h, w) with frame 0 the key
    frame; ``trans_layer`` makes heatmaps (T*B, K, h, w). For each warped
    frame, ``key - support`` goes through ``offset_feats``; per dilation an
    offset conv predicts offsets and a deformable conv resamples the
    supporting heatmaps; the mean over dilations is returned. The state
    dict is that of mmpose's ``PoseWarperNeck``. In eval mode without
    gradients the key frame's offsets (of a zero difference) are cached
    until the mode, the state dict or an offset-branch tensor changes.

    Args:
        in_channels (int): Channels C of the backbone feature.
        out_channels (int): Number of heatmaps K.
        inner_channels (int): Channels inside ``offset_feats``.
        deform_groups (int): Deformable groups; divides ``out_channels``.
        dilations (Sequence[int]): One offset and deformable conv each.
        trans_conv_kernel (int): 1 or 3, or 0 for an identity (then
            ``in_channels == out_channels``).
        res_blocks_cfg (dict, optional): ``dict(block='BASIC' |
            'BOTTLENECK', num_blocks=int)``; default 20 basic blocks.
        offsets_kernel (int): Kernel of the offset convs (odd).
        deform_conv_kernel (int): Kernel of the deformable convs (odd).
        in_index (int): Backbone output used from a tuple/list.
        freeze_trans_layer (bool): Keep ``trans_layer`` frozen, in eval mode.
        norm_eval (bool): Keep the BN layers in eval mode while training.
        im2col_step (int): Upper bound of mmcv's im2col chunk.
        deform_backend (str): One of :data:`DEFORM_CONV_BACKENDS`.
        cache_key_offsets (bool): Cache the key frame's offsets.
        init_cfg (dict, optional): Applied after the reference initialisation.
    """

    def __init__(self, in_channels: int = 48, out_channels: int = 17,
                 inner_channels: int = 128, deform_groups: int = 17,
                 dilations: Sequence[int] = (3, 6, 12, 18, 24),
                 trans_conv_kernel: int = 1,
                 res_blocks_cfg: Optional[dict] = None,
                 offsets_kernel: int = 3, deform_conv_kernel: int = 3,
                 in_index: int = 0, freeze_trans_layer: bool = True,
                 norm_eval: bool = False, im2col_step: int = 80,
                 deform_backend: str = 'mmcv', cache_key_offsets: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = check_arg('in_channels', in_channels)
        self.out_channels = check_arg('out_channels', out_channels)
        self.inner_channels = check_arg('inner_channels', inner_channels)
        self.deform_groups = check_arg('deform_groups', deform_groups)
        self.im2col_step = check_arg('im2col_step', im2col_step)
        if out_channels % deform_groups != 0:
            raise ConfigError(f'{_WHERE}: out_channels={out_channels} is not '
                              f'divisible by deform_groups={deform_groups}')
        if isinstance(dilations, (str, bytes)) or \
                not isinstance(dilations, Sequence):
            raise TypeError(f'{_WHERE}: dilations must be a sequence of '
                            f'ints, got {dilations!r}')
        if not dilations:
            raise ConfigError(f'{_WHERE}: dilations is empty; give at least '
                              'one')
        self.dilations = tuple(
            check_arg('each of dilations', d) for d in dilations)
        self.trans_conv_kernel = check_arg(
            'trans_conv_kernel', trans_conv_kernel, choices=(0, 1, 3))
        if trans_conv_kernel == 0 and in_channels != out_channels:
            raise ConfigError(
                f'{_WHERE}: trans_conv_kernel=0 (identity) needs in_channels '
                f'== out_channels, got {in_channels} and {out_channels}')
        block, num_blocks = _res_blocks(res_blocks_cfg)
        self.offsets_kernel = check_arg(
            'offsets_kernel', offsets_kernel, odd=True)
        self.deform_conv_kernel = check_arg(
            'deform_conv_kernel', deform_conv_kernel, odd=True)
        self.in_index = check_arg('in_index', in_index, low=None)
        self.deform_backend = check_arg(
            'deform_backend', deform_backend, choices=DEFORM_CONV_BACKENDS)
        self.freeze_trans_layer = bool(freeze_trans_layer)
        self.norm_eval = bool(norm_eval)
        self.cache_key_offsets = bool(cache_key_offsets)
        self.num_offset_layers = len(self.dilations)

        self.trans_layer = nn.Identity() if trans_conv_kernel == 0 else \
            nn.Conv2d(in_channels, out_channels, trans_conv_kernel,
                      padding=trans_conv_kernel // 2)
        downsample = nn.Sequential(
            nn.Conv2d(out_channels, inner_channels, 1, bias=False),
            nn.BatchNorm2d(inner_channels))
        self.offset_feats = nn.Sequential(
            block(out_channels, inner_channels, downsample=downsample),
            *[block(inner_channels, inner_channels)
              for _ in range(1, num_blocks)])
        self.offset_layers = nn.ModuleList([
            nn.Conv2d(inner_channels, 2 * deform_conv_kernel**2 *
                      deform_groups, offsets_kernel,
                      padding=(offsets_kernel // 2) * dilation,
                      dilation=dilation, bias=False)
            for dilation in self.dilations])
        self.deform_conv_layers = nn.ModuleList([
            BackendDeformConv2d(out_channels, out_channels, deform_conv_kernel,
                                padding=(deform_conv_kernel // 2) * dilation,
                                dilation=dilation, deform_groups=deform_groups,
                                im2col_step=im2col_step,
                                backend=deform_backend)
            for dilation in self.dilations])
        self._key_offsets_cache: Dict[tuple, List[Tensor]] = {}
        self._key_offsets_fingerprint: Optional[tuple] = None
        self.reset_parameters()
        self._freeze_layers()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Initialise like the published model: convs normal(std=0.001)
        with zero bias, BN weight 1 and bias 0, deformable convs identity
        filters, offset convs 0 (so the initial warp is the identity)."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, mean=0.0, std=0.001)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, (_BatchNorm, nn.GroupNorm)):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, BackendDeformConv2d):
                weight = module.weight
                weight.zero_()
                kh, kw = weight.shape[2] // 2, weight.shape[3] // 2
                for channel in range(weight.size(0)):
                    weight[channel, channel, kh, kw] = 1.0
        for layer in self.offset_layers:
            nn.init.zeros_(layer.weight)
        self.clear_key_offsets_cache()

    def init_weights(self) -> None:
        """Apply the reference initialisation, then ``init_cfg`` if set."""
        self.reset_parameters()
        if self.init_cfg:
            super().init_weights()
        self._is_init = True

    def _freeze_layers(self) -> None:
        if self.freeze_trans_layer:
            self.trans_layer.eval()
            self.trans_layer.requires_grad_(False)

    def train(self, mode: bool = True) -> 'PoseWarpingNeck':
        """Set the mode, keeping frozen parts in eval mode."""
        super().train(mode)
        self._freeze_layers()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        self.clear_key_offsets_cache()
        return self

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        self.clear_key_offsets_cache()
        super()._load_from_state_dict(*args, **kwargs)

    def select_input(self, inputs: Features) -> Tensor:
        """The (N, C, h, w) feature at ``in_index`` of a tensor, of the
        backbone's tuple/list, or of a one-element list holding it."""
        feats = inputs
        if isinstance(feats, (list, tuple)) and len(feats) == 1 and \
                isinstance(feats[0], (list, tuple)):
            feats = feats[0]  # mmpose style: [backbone outputs]
        if isinstance(feats, (list, tuple)):
            if not -len(feats) <= self.in_index < len(feats):
                raise IndexError(
                    f'{type(self).__name__}: in_index={self.in_index} but '
                    f'the backbone gave {len(feats)} outputs')
            feats = feats[self.in_index]
        if not isinstance(feats, Tensor) or feats.dim() != 4:
            raise TypeError(f'{type(self).__name__}: expected a 4D (N, C, h, '
                            f'w) feature tensor at in_index={self.in_index}, '
                            f'got {getattr(feats, "shape", type(feats))}')
        if feats.size(1) != self.in_channels:
            raise ValueError(
                f'{type(self).__name__}: feature has {feats.size(1)} '
                f'channels, in_channels={self.in_channels}')
        return feats

    def heatmaps(self, inputs: Features) -> Tensor:
        """Heatmaps of every frame: ``trans_layer`` output (N, K, h, w)."""
        return self.trans_layer(self.select_input(inputs))

    def compute_offsets(self, diff: Tensor) -> List[Tensor]:
        """Offsets (N, 2*kd*kd*deform_groups, h, w), one per dilation, of
        ``key - support`` heatmaps ``diff`` (N, K, h, w)."""
        feats = self.offset_feats(diff)
        return [layer(feats) for layer in self.offset_layers]

    def deform(self, source: Tensor, offsets: Sequence[Tensor]) -> Tensor:
        """Resample ``source`` (N, K, h, w) with each dilation's offsets
        (N or 1, C_offset, h, w; one row is broadcast) and average."""
        return self._average_over_dilations(source, lambda i: offsets[i])

    def warp(self, source: Tensor, diff: Tensor) -> Tensor:
        """``deform(source, compute_offsets(diff))`` (both (N, K, h, w)),
        computing one dilation's offsets at a time."""
        if source.shape != diff.shape:
            raise ValueError(
                f'{type(self).__name__}.warp: source {tuple(source.shape)} '
                f'and diff {tuple(diff.shape)} must have the same shape')
        feats = self.offset_feats(diff)
        return self._average_over_dilations(
            source, lambda i: self.offset_layers[i](feats))

    def _average_over_dilations(self, source: Tensor,
                                offset_of: Callable[[int], Tensor]) -> Tensor:
        warped = 0
        for idx, layer in enumerate(self.deform_conv_layers):
            offset = offset_of(idx)
            if offset.size(0) != source.size(0):
                offset = offset.expand(source.size(0), -1, -1, -1)
            warped = warped + layer(source, offset) / self.num_offset_layers
            del offset
        return warped

    def clear_key_offsets_cache(self) -> None:
        """Forget the cached key-frame offsets."""
        self._key_offsets_cache = {}
        self._key_offsets_fingerprint = None

    def key_frame_offsets(self, height: int, width: int,
                          like: Tensor) -> List[Tensor]:
        """Offsets (1, C_offset, height, width) per dilation of a zero
        difference, like ``like`` (dtype, device); cached if possible."""

        def compute() -> List[Tensor]:
            zeros = like.new_zeros(1, self.out_channels, height, width)
            return self.compute_offsets(zeros)

        if not self.cache_key_offsets or self.training or \
                torch.is_grad_enabled():
            return compute()
        watched = [*self.offset_feats.parameters(),
                   *self.offset_feats.buffers(),
                   *self.offset_layers.parameters()]
        try:
            fingerprint = tuple((t.data_ptr(), t._version) for t in watched)
        except RuntimeError:  # inference tensors have no version counter
            return compute()
        if fingerprint != self._key_offsets_fingerprint:
            self.clear_key_offsets_cache()
            self._key_offsets_fingerprint = fingerprint
        # int(): sizes are tensors under jit tracing (FLOP counters)
        key = (int(height), int(width), like.dtype, like.device,
               torch.is_autocast_enabled(like.device.type))
        if key not in self._key_offsets_cache:
            self._key_offsets_cache[key] = compute()
        return self._key_offsets_cache[key]

    def forward(self, inputs: Features, num_frames: int,
                frame_slots: Optional[Sequence[int]] = None,
                chunk_size: Optional[int] = None) -> Tensor:
        """Warp the heatmaps of the requested frames onto the key frame.

        Args:
            inputs (Tensor | Sequence): Frame-major features (T*B, C, h,
                w), or the backbone's outputs.
            num_frames (int): T, the number of frames per sample.
            frame_slots (Sequence[int], optional): Slots (0 = key frame) to
                warp, in output order. Defaults to all.
            chunk_size (int, optional): Most crops per offset-branch call
                (eval mode only; same outputs). Defaults to all at once.

        Returns:
            Tensor: Frame-major warped heatmaps (len(frame_slots)*B, K, h,
            w) in the order of ``frame_slots``.
        """
        return self.warp_frames(self.heatmaps(inputs), num_frames,
                                frame_slots, chunk_size)

    def warp_frames(self, heatmaps: Tensor, num_frames: int,
                    frame_slots: Optional[Sequence[int]] = None,
                    chunk_size: Optional[int] = None) -> Tensor:
        """:meth:`forward` from heatmaps (T*B, K, h, w); in eval mode the
        key frame is warped with :meth:`key_frame_offsets`."""
        total, channels, height, width = heatmaps.shape
        if isinstance(num_frames, bool) or not isinstance(num_frames, int) \
                or num_frames < 1:
            raise ValueError(f'{_WHERE}: num_frames must be an int >= 1, got '
                             f'{num_frames!r}')
        if total % num_frames != 0:
            raise ValueError(f'{_WHERE}: inputs: got {total} feature maps, '
                             f'not a multiple of num_frames={num_frames}; '
                             'inputs must be frame-major (T*B, C, h, w)')
        batch_size = total // num_frames
        slots = tuple(range(num_frames)) if frame_slots is None else tuple(
            int(slot) for slot in frame_slots)
        if not slots:
            raise ValueError(f'{_WHERE}: frame_slots is empty; give at least '
                             'one frame slot to warp')
        bad = [slot for slot in slots if not 0 <= slot < num_frames]
        if bad:
            raise ValueError(f'{_WHERE}: frame_slots {bad} out of range for '
                             f'num_frames={num_frames}')
        if chunk_size is not None:
            check_arg('chunk_size', chunk_size)
            if self.training:
                raise ValueError(
                    f'{type(self).__name__}: chunk_size is for inference; '
                    'in training mode BatchNorm would normalise each chunk '
                    'with its own statistics')
        frames = heatmaps.reshape(num_frames, batch_size, channels, height,
                                  width)
        key_shortcut = not self.training and 0 in slots
        support_slots = [s for s in slots if not (key_shortcut and s == 0)]
        parts = iter(())
        if support_slots:
            support = frames[support_slots]
            diff = (frames[:1] - support).flatten(0, 1)
            chunk = chunk_size or len(diff) or 1
            out = [self.warp(rows, rows_diff) for rows, rows_diff in zip(
                support.flatten(0, 1).split(chunk), diff.split(chunk))]
            out = out[0] if len(out) == 1 else torch.cat(out)
            parts = iter(out.split(batch_size))
        if key_shortcut:
            key_warped = self.deform(
                frames[0], self.key_frame_offsets(height, width, heatmaps))
        warped = [key_warped if key_shortcut and slot == 0 else next(parts)
                  for slot in slots]
        return warped[0] if len(warped) == 1 else torch.cat(warped, dim=0)
