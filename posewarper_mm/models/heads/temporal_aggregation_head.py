"""Weighted temporal aggregation of warped heatmaps."""
from typing import Optional, Sequence, Tuple

from mmpose.models.heads import HeatmapHead
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType
from torch import Tensor

from ...errors import ConfigError

OptIntSeq = Optional[Sequence[int]]


@MODELS.register_module()
class TemporalAggregationHead(HeatmapHead):
    """Sum warped heatmaps of several frames with per-sample frame weights.

    ``feats`` is ``(warped, frame_weights)``: the neck's output for T'
    frames (B, T', K, h, w) and weights (B, T'). The weighted sum over
    frames (B, K, h, w) then goes through the optional layers of
    :class:`HeatmapHead` (identities by default, as in the published
    model); loss, accuracy, decoding and flip test are
    :class:`HeatmapHead`'s. The arguments are :class:`HeatmapHead`'s, with
    defaults for 17 heatmaps, no layers and
    ``KeypointMSELoss(use_target_weight=True)``.
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
                 init_cfg: OptConfigType = None) -> None:
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

    def forward(self, feats: Tuple[Tensor, Tensor]) -> Tensor:
        """Heatmaps (B, out_channels, h', w'): :meth:`aggregate`, then the
        optional layers."""
        x = self.conv_layers(self.deconv_layers(self.aggregate(feats)))
        return self.final_layer(x)
