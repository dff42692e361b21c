"""Weighted temporal aggregation of warped heatmaps."""
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmpose.models.heads import HeatmapHead
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType, OptSampleList
from torch import Tensor

from ...errors import ConfigError

OptIntSeq = Optional[Sequence[int]]
# the weight of each loss term; the default is the loss on the aggregate
LOSS_TERMS = ('aggregate', 'per_warp')
DEFAULT_LOSS_WEIGHTS = dict(aggregate=1.0, per_warp=0.0)


@MODELS.register_module()
class TemporalAggregationHead(HeatmapHead):
    """Sum warped heatmaps of several frames with per-sample frame weights.

    ``feats`` is ``(warped, frame_weights)``: the neck's output for T'
    frames (B, T', K, h, w) and weights (B, T'). The weighted sum over
    frames (B, K, h, w) then goes through the optional layers of
    :class:`HeatmapHead` (identities by default, as in the published
    model); accuracy, decoding and flip test are :class:`HeatmapHead`'s.
    The loss is :class:`HeatmapHead`'s on the aggregate (``loss_kpt``),
    plus, with a ``per_warp`` weight, the mean of the same loss on each
    frame's warp through the same layers, each against the key frame's
    targets (``loss_kpt_per_warp``). The arguments are
    :class:`HeatmapHead`'s, with defaults for 17 heatmaps, no layers and
    ``KeypointMSELoss(use_target_weight=True)``, and:

    Args:
        loss_weights (dict, optional): ``aggregate`` and ``per_warp``
            weights of the two loss terms (a missing one takes its
            default; default ``dict(aggregate=1.0, per_warp=0.0)``: the
            loss on the aggregate alone).
    """

    def __init__(self, in_channels: int = 17, out_channels: int = 17,
                 deconv_out_channels: OptIntSeq = None,
                 deconv_kernel_sizes: OptIntSeq = None,
                 conv_out_channels: OptIntSeq = None,
                 conv_kernel_sizes: OptIntSeq = None,
                 final_layer: Optional[dict] = None,
                 loss: ConfigType = dict(
                     type='KeypointMSELoss', use_target_weight=True),
                 decoder: OptConfigType = None,
                 init_cfg: OptConfigType = None,
                 loss_weights: Optional[Dict[str, float]] = None) -> None:
        if final_layer is None and not deconv_out_channels and \
                not conv_out_channels and in_channels != out_channels:
            raise ConfigError(
                f'{type(self).__name__}: with no layers the head is an '
                f'identity, so in_channels ({in_channels}) must equal '
                f'out_channels ({out_channels})')
        super().__init__(
            in_channels=in_channels, out_channels=out_channels,
            deconv_out_channels=deconv_out_channels,
            deconv_kernel_sizes=deconv_kernel_sizes,
            conv_out_channels=conv_out_channels,
            conv_kernel_sizes=conv_kernel_sizes, final_layer=final_layer,
            loss=loss, decoder=decoder, init_cfg=init_cfg)
        self.loss_weights = self._check_loss_weights(loss_weights)

    def _check_loss_weights(self, loss_weights: Optional[Dict[str, float]]
                            ) -> Dict[str, float]:
        """``loss_weights`` over :data:`DEFAULT_LOSS_WEIGHTS`, checked."""
        weights = dict(DEFAULT_LOSS_WEIGHTS)
        unknown = sorted(set(loss_weights or {}) - set(LOSS_TERMS))
        if unknown:
            raise ConfigError(
                f'{type(self).__name__}: unknown loss_weights {unknown}; the '
                f'terms are {list(LOSS_TERMS)}')
        weights.update(loss_weights or {})
        for term, value in weights.items():
            if isinstance(value, bool) or not isinstance(
                    value, (int, float)) or not value >= 0:
                raise ConfigError(
                    f'{type(self).__name__}: loss_weights.{term} must be a '
                    f'number >= 0, got {value!r}')
        if not any(weights.values()):
            raise ConfigError(f'{type(self).__name__}: every loss weight is '
                              'zero; nothing would train')
        return {term: float(value) for term, value in weights.items()}

    def aggregate(self, feats: Tuple[Tensor, Tensor]) -> Tensor:
        """Weighted sum (B, K, h, w) of ``warped`` (B, T', K, h, w) with
        ``frame_weights`` (B, T')."""
        if not isinstance(feats, (tuple, list)) or len(feats) != 2:
            raise TypeError(f'{type(self).__name__}: feats must be (warped '
                            'heatmaps (B, T, K, h, w), frame weights (B, '
                            f'T)), got {type(feats).__name__}')
        warped, weights = feats
        if warped.dim() != 5 or weights.dim() != 2 or \
                warped.shape[:2] != weights.shape:
            raise ValueError(
                f'{type(self).__name__}: warped heatmaps '
                f'{tuple(warped.shape)} and frame weights '
                f'{tuple(weights.shape)} must be (B, T, K, h, w) and (B, T)')
        weights = weights.to(warped.dtype)
        return (warped * weights[:, :, None, None, None]).sum(dim=1)

    def layers(self, heatmaps: Tensor) -> Tensor:
        """The optional layers on heatmaps (B, in_channels, h, w)."""
        x = self.conv_layers(self.deconv_layers(heatmaps))
        return self.final_layer(x)

    def forward(self, feats: Tuple[Tensor, Tensor]) -> Tensor:
        """Heatmaps (B, out_channels, h', w'): :meth:`aggregate`, then the
        optional layers."""
        return self.layers(self.aggregate(feats))

    def loss(self, feats: Tuple[Tensor, Tensor],
             batch_data_samples: OptSampleList,
             train_cfg: ConfigType = {}) -> dict:
        """:class:`HeatmapHead`'s losses on the aggregate (``loss_kpt``,
        ``acc_pose``), weighted by ``loss_weights['aggregate']``, and with a
        ``per_warp`` weight ``loss_kpt_per_warp``: that weight times the
        mean over the T' warps (B, T', K, h, w) of the loss of each warp
        against the key frame's targets. With the default weights this is
        :meth:`HeatmapHead.loss` unchanged."""
        losses = super().loss(feats, batch_data_samples, train_cfg)
        if self.loss_weights['aggregate'] != 1.0:
            losses['loss_kpt'] = losses['loss_kpt'] * \
                self.loss_weights['aggregate']
        if self.loss_weights['per_warp']:
            warped = feats[0]
            targets = torch.stack(
                [d.gt_fields.heatmaps for d in batch_data_samples])
            target_weights = torch.cat([
                d.gt_instance_labels.keypoint_weights
                for d in batch_data_samples])
            per_warp = [
                self.loss_module(self.layers(warped[:, t]), targets,
                                 target_weights)
                for t in range(warped.size(1))]
            losses['loss_kpt_per_warp'] = torch.stack(per_warp).mean() * \
                self.loss_weights['per_warp']
        return losses
