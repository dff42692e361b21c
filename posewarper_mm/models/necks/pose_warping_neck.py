"""PoseWarper's heatmap warping module as an mmpose neck."""
from typing import Callable, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from .deform_conv_backends import BackendDeformConv2d
from .key_frame_offsets_cache import KeyFrameOffsetsCache
from .neck_config import (check_backend, check_deform_groups, check_dilations,
                          check_frame_slots, check_in_index, check_num_frames,
                          check_odd_kernel, check_positive_int,
                          check_res_blocks_cfg, check_trans_conv_kernel)

Features = Union[Tensor, Sequence[Tensor], Sequence[Sequence[Tensor]]]


@MODELS.register_module()
class PoseWarpingNeck(BaseModule):
    """Warp supporting-frame heatmaps onto the key frame (PoseWarper).

    `Learning Temporal Pose Estimation from Sparsely-Labeled Videos
    <https://arxiv.org/abs/1906.04016>`_ (Bertasius et al., NeurIPS 2019).

    The backbone features of all frames arrive frame-major, ``(T*B, C, h,
    w)``: rows ``[t*B:(t+1)*B]`` belong to frame ``t`` and frame 0 is the
    key frame. ``trans_layer`` (the single-frame model's final conv) turns
    them into heatmaps ``(T*B, K, h, w)``. For every requested frame the
    difference ``key - support`` goes through ``offset_feats`` (a chain of
    residual blocks), one offset conv per dilation predicts sampling
    offsets, and a deformable conv with that dilation resamples the
    supporting heatmaps; the results are averaged over dilations. The
    dilations are processed one at a time, so only one dilation's offsets
    are alive at once.

    Attribute names equal those of mmpose's ``PoseWarperNeck``, so state
    dicts are interchangeable.

    In eval mode the key frame's difference is exactly zero, so its offsets
    depend only on the weights and the heatmap size. They are computed from
    a zero difference and, when gradients are disabled, cached per (size,
    dtype, device); the cache is dropped on ``train()``, on
    ``load_state_dict`` and whenever a parameter or buffer of the offset
    branch changed (tracked through tensor version counters).

    Args:
        in_channels (int): Channels of the backbone feature. Defaults to 48.
        out_channels (int): Number of heatmaps K. Defaults to 17.
        inner_channels (int): Channels inside ``offset_feats``. Defaults to
            128.
        deform_groups (int): Deformable groups; must divide
            ``out_channels``. Defaults to 17.
        dilations (Sequence[int]): One offset conv + deformable conv per
            dilation. Defaults to (3, 6, 12, 18, 24).
        trans_conv_kernel (int): Kernel of ``trans_layer``: 1 or 3, or 0 for
            an identity (then ``in_channels == out_channels``). Defaults to
            1.
        res_blocks_cfg (dict, optional): ``dict(block='BASIC' |
            'BOTTLENECK', num_blocks=int)`` for ``offset_feats``. Defaults to
            ``dict(block='BASIC', num_blocks=20)``.
        offsets_kernel (int): Kernel of the offset convs (odd). Defaults to
            3.
        deform_conv_kernel (int): Kernel of the deformable convs (odd).
            Defaults to 3.
        in_index (int): Which backbone output to use when the input is a
            tuple/list. Defaults to 0.
        freeze_trans_layer (bool): Keep ``trans_layer`` frozen and in eval
            mode. Defaults to True.
        norm_eval (bool): Keep the neck's BN layers in eval mode while
            training. Defaults to False.
        im2col_step (int): Upper bound of mmcv's im2col chunk; the largest
            divisor of the batch not above it is used. Defaults to 80.
        deform_backend (str): ``'mmcv'``, ``'torchvision'`` or ``'pytorch'``
            (see ``deform_conv_backends``). Defaults to ``'mmcv'``.
        cache_key_offsets (bool): Reuse the key frame's constant offsets in
            eval mode. Defaults to True.
        init_cfg (dict, optional): Extra mmengine init config applied after
            the reference initialisation. Defaults to None.
    """

    def __init__(self,
                 in_channels: int = 48,
                 out_channels: int = 17,
                 inner_channels: int = 128,
                 deform_groups: int = 17,
                 dilations: Sequence[int] = (3, 6, 12, 18, 24),
                 trans_conv_kernel: int = 1,
                 res_blocks_cfg: Optional[dict] = None,
                 offsets_kernel: int = 3,
                 deform_conv_kernel: int = 3,
                 in_index: int = 0,
                 freeze_trans_layer: bool = True,
                 norm_eval: bool = False,
                 im2col_step: int = 80,
                 deform_backend: str = 'mmcv',
                 cache_key_offsets: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = check_positive_int('in_channels', in_channels)
        self.out_channels = check_positive_int('out_channels', out_channels)
        self.inner_channels = check_positive_int('inner_channels',
                                                 inner_channels)
        self.deform_groups = check_deform_groups(deform_groups, out_channels)
        self.dilations = check_dilations(dilations)
        self.trans_conv_kernel = check_trans_conv_kernel(
            trans_conv_kernel, in_channels, out_channels)
        block, num_blocks = check_res_blocks_cfg(res_blocks_cfg)
        self.offsets_kernel = check_odd_kernel('offsets_kernel',
                                               offsets_kernel)
        self.deform_conv_kernel = check_odd_kernel('deform_conv_kernel',
                                                   deform_conv_kernel)
        self.in_index = check_in_index(in_index)
        self.im2col_step = check_positive_int('im2col_step', im2col_step)
        self.deform_backend = check_backend(deform_backend)
        self.freeze_trans_layer = bool(freeze_trans_layer)
        self.norm_eval = bool(norm_eval)
        self.cache_key_offsets = bool(cache_key_offsets)
        self.num_offset_layers = len(self.dilations)

        if trans_conv_kernel == 0:
            self.trans_layer = nn.Identity()
        else:
            self.trans_layer = nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size=trans_conv_kernel,
                padding=trans_conv_kernel // 2)

        downsample = nn.Sequential(
            nn.Conv2d(out_channels, inner_channels, 1, bias=False),
            nn.BatchNorm2d(inner_channels))
        blocks = [block(out_channels, inner_channels, downsample=downsample)]
        blocks += [
            block(inner_channels, inner_channels)
            for _ in range(1, num_blocks)
        ]
        self.offset_feats = nn.Sequential(*blocks)

        offset_channels = 2 * deform_conv_kernel**2 * deform_groups
        self.offset_layers = nn.ModuleList([
            nn.Conv2d(
                inner_channels,
                offset_channels,
                kernel_size=offsets_kernel,
                padding=(offsets_kernel // 2) * dilation,
                dilation=dilation,
                bias=False) for dilation in self.dilations
        ])
        self.deform_conv_layers = nn.ModuleList([
            BackendDeformConv2d(
                out_channels,
                out_channels,
                deform_conv_kernel,
                padding=(deform_conv_kernel // 2) * dilation,
                dilation=dilation,
                deform_groups=deform_groups,
                im2col_step=im2col_step,
                backend=deform_backend) for dilation in self.dilations
        ])

        self._key_offsets_cache = KeyFrameOffsetsCache()
        self.reset_parameters()
        self._freeze_layers()

    # ------------------------------------------------------------------
    # initialisation, freezing, modes
    # ------------------------------------------------------------------
    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Initialise like the published model.

        Convs: normal(std=0.001), bias 0; BN: weight 1, bias 0; deformable
        convs: identity filters (``w[k, k, c, c] = 1``); offset convs: 0, so
        the initial warp is the identity.
        """
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
            for param in self.trans_layer.parameters():
                param.requires_grad = False

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

    # ------------------------------------------------------------------
    # building blocks (also used by the propagation tools)
    # ------------------------------------------------------------------
    def select_input(self, inputs: Features) -> Tensor:
        """Pick the backbone output at ``in_index``.

        Args:
            inputs (Tensor | Sequence): A (N, C, h, w) tensor, or the
                tuple/list of backbone outputs, or a one-element list
                holding that tuple (mmpose's neck convention).

        Returns:
            Tensor: The (N, C, h, w) feature map.
        """
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
            raise TypeError(
                f'{type(self).__name__}: expected a 4D (N, C, h, w) feature '
                f'tensor at in_index={self.in_index}, got '
                f'{getattr(feats, "shape", type(feats))}')
        if feats.size(1) != self.in_channels:
            raise ValueError(
                f'{type(self).__name__}: feature has {feats.size(1)} '
                f'channels, in_channels={self.in_channels}')
        return feats

    def heatmaps(self, inputs: Features) -> Tensor:
        """Heatmaps of every frame: ``trans_layer`` output (N, K, h, w)."""
        return self.trans_layer(self.select_input(inputs))

    def compute_offsets(self, diff: Tensor) -> List[Tensor]:
        """Sampling offsets from heatmap differences, one per dilation.

        Args:
            diff (Tensor): ``key - support`` heatmaps, shape (N, K, h, w).

        Returns:
            list[Tensor]: (N, 2*kd*kd*deform_groups, h, w) per dilation.
        """
        feats = self.offset_feats(diff)
        return [layer(feats) for layer in self.offset_layers]

    def deform(self, source: Tensor, offsets: Sequence[Tensor]) -> Tensor:
        """Resample ``source`` with each dilation's offsets and average.

        Args:
            source (Tensor): Heatmaps to warp, shape (N, K, h, w).
            offsets (Sequence[Tensor]): One (N, C_offset, h, w) or (1,
                C_offset, h, w) tensor per dilation (e.g. the output of
                :meth:`compute_offsets`); a single row is broadcast over
                the N heatmaps.

        Returns:
            Tensor: Warped heatmaps, shape (N, K, h, w).
        """
        return self._average_over_dilations(
            source, lambda idx: offsets[idx])

    def warp(self, source: Tensor, diff: Tensor) -> Tensor:
        """Warp ``source`` heatmaps guided by ``diff`` (both (N, K, h, w)).

        Computes the same as ``deform(source, compute_offsets(diff))``
        but one dilation at a time: each dilation's offsets (N, C_offset,
        h, w) are freed before the next ones are computed, so only one of
        them is alive at once (as in mmpose's ``PoseWarperNeck``).
        """
        if source.shape != diff.shape:
            raise ValueError(
                f'{type(self).__name__}.warp: source {tuple(source.shape)} '
                f'and diff {tuple(diff.shape)} must have the same shape')
        feats = self.offset_feats(diff)
        return self._average_over_dilations(
            source, lambda idx: self.offset_layers[idx](feats))

    def _warp_in_chunks(self, source: Tensor, diff: Tensor,
                        chunk_size: Optional[int]) -> Tensor:
        """:meth:`warp` over at most ``chunk_size`` rows at a time."""
        if chunk_size is None or source.size(0) <= chunk_size:
            return self.warp(source, diff)
        return torch.cat([
            self.warp(rows, rows_diff) for rows, rows_diff in zip(
                source.split(chunk_size), diff.split(chunk_size))
        ])

    def _average_over_dilations(self, source: Tensor,
                                offset_of: Callable[[int], Tensor]) -> Tensor:
        """Mean over dilations of ``deform_conv_layers[i](source,
        offset_of(i))``, accumulated in the order of the dilations."""
        warped = 0
        for idx, layer in enumerate(self.deform_conv_layers):
            offset = offset_of(idx)
            if offset.size(0) != source.size(0):
                offset = offset.expand(source.size(0), -1, -1, -1)
            warped = warped + layer(source, offset) / self.num_offset_layers
            del offset
        return warped

    # ------------------------------------------------------------------
    # key-frame offsets
    # ------------------------------------------------------------------
    def clear_key_offsets_cache(self) -> None:
        """Forget the cached key-frame offsets."""
        self._key_offsets_cache.clear()

    def key_frame_offsets(self, height: int, width: int,
                          like: Tensor) -> List[Tensor]:
        """Offsets of a zero difference (the key frame onto itself).

        Cached (see :class:`KeyFrameOffsetsCache`) in eval mode when
        gradients are disabled and ``cache_key_offsets`` is set.

        Args:
            height (int): Heatmap height.
            width (int): Heatmap width.
            like (Tensor): A tensor giving dtype and device.

        Returns:
            list[Tensor]: (1, C_offset, height, width) per dilation.
        """

        def compute() -> List[Tensor]:
            zeros = like.new_zeros(1, self.out_channels, height, width)
            return self.compute_offsets(zeros)

        if not self.cache_key_offsets or self.training or \
                torch.is_grad_enabled():
            return compute()
        # int(): sizes are tensors under jit tracing (FLOP counters)
        key = (int(height), int(width), like.dtype, like.device,
               torch.is_autocast_enabled(like.device.type))
        watched = [
            *self.offset_feats.parameters(), *self.offset_feats.buffers(),
            *self.offset_layers.parameters()
        ]
        return self._key_offsets_cache.get(key, watched, compute)

    # ------------------------------------------------------------------
    # forward
    # ------------------------------------------------------------------
    def forward(self,
                inputs: Features,
                num_frames: int,
                frame_slots: Optional[Sequence[int]] = None,
                chunk_size: Optional[int] = None) -> Tensor:
        """Warp the heatmaps of the requested frames onto the key frame.

        Args:
            inputs (Tensor | Sequence): Backbone features of all frames,
                frame-major, (T*B, C, h, w); or the backbone's tuple/list of
                outputs (``in_index`` is taken).
            num_frames (int): T, the number of frames per sample.
            frame_slots (Sequence[int], optional): Slots on the T axis
                (0 = key frame) of the frames to warp, in output order.
                Defaults to all slots ``0..T-1``.
            chunk_size (int, optional): Most crops per call of the offset
                branch and warp in eval mode; bounds the peak memory
                without changing the outputs. Defaults to None (all at
                once).

        Returns:
            Tensor: Warped heatmaps, frame-major (len(frame_slots)*B, K, h,
            w) in the order of ``frame_slots``.
        """
        return self.warp_frames(self.heatmaps(inputs), num_frames,
                                frame_slots, chunk_size)

    def warp_frames(self,
                    heatmaps: Tensor,
                    num_frames: int,
                    frame_slots: Optional[Sequence[int]] = None,
                    chunk_size: Optional[int] = None) -> Tensor:
        """Like :meth:`forward`, starting from heatmaps (T*B, K, h, w).

        In eval mode the key frame (slot 0) is warped with its constant
        offsets (:meth:`key_frame_offsets`) and only the other frames go
        through the offset branch, batched in chunks of at most
        ``chunk_size`` crops (default: all in one batch).
        """
        total, channels, height, width = heatmaps.shape
        batch_size = check_num_frames(total, num_frames)
        slots = check_frame_slots(frame_slots, num_frames)
        if chunk_size is not None:
            check_positive_int('chunk_size', chunk_size)
            if self.training:
                raise ValueError(
                    f'{type(self).__name__}: chunk_size is for inference; '
                    'in training mode BatchNorm would normalise each chunk '
                    'with its own statistics')
        frames = heatmaps.reshape(num_frames, batch_size, channels, height,
                                  width)
        key_shortcut = not self.training and 0 in slots
        computed = [
            pos for pos, slot in enumerate(slots)
            if not (key_shortcut and slot == 0)
        ]
        warped: List[Optional[Tensor]] = [None] * len(slots)
        if computed:
            support = frames[[slots[pos] for pos in computed]]
            # key minus support for all these frames in one batched op
            diff = (frames[:1] - support).flatten(0, 1)
            out = self._warp_in_chunks(support.flatten(0, 1), diff,
                                       chunk_size)
            for pos, part in zip(computed, out.split(batch_size)):
                warped[pos] = part
        if key_shortcut:
            key_warped = self.deform(
                frames[0], self.key_frame_offsets(height, width, heatmaps))
            for pos, slot in enumerate(slots):
                if slot == 0:
                    warped[pos] = key_warped
        if len(warped) == 1:
            return warped[0]
        return torch.cat(warped, dim=0)
