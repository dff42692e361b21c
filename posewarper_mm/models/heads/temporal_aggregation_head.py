"""Weighted temporal aggregation of warped heatmaps."""
from typing import Optional, Sequence, Tuple

from mmpose.models.heads import HeatmapHead
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType
from torch import Tensor

OptIntSeq = Optional[Sequence[int]]


@MODELS.register_module()
class TemporalAggregationHead(HeatmapHead):
    """Sum warped heatmaps of several frames with per-sample frame weights.

    ``feats`` is ``(warped, frame_weights)`` with ``warped`` of shape
    (B, T', K, h, w) (the neck's output for T' frames) and ``frame_weights``
    of shape (B, T'). The head returns ``sum_t frame_weights[:, t] *
    warped[:, t]`` of shape (B, K, h, w), passed through the optional
    layers of :class:`HeatmapHead` (all identities by default, as in the
    published model). Loss (``KeypointMSELoss`` against the key frame's
    targets), accuracy, decoding and flip test are :class:`HeatmapHead`'s.

    Args:
        in_channels (int): Channels of the aggregated heatmaps. Defaults
            to 17.
        out_channels (int): Number of output heatmaps. Defaults to 17.
        deconv_out_channels (Sequence[int], optional): See
            :class:`HeatmapHead`. Defaults to None (no deconv layers).
        deconv_kernel_sizes (Sequence[int], optional): Defaults to None.
        conv_out_channels (Sequence[int], optional): Defaults to None.
        conv_kernel_sizes (Sequence[int], optional): Defaults to None.
        final_layer (dict, optional): Defaults to None (identity).
        loss (dict): Defaults to ``KeypointMSELoss(use_target_weight=True)``.
        decoder (dict, optional): Keypoint codec, e.g. ``MSRAHeatmap``.
        init_cfg (dict, optional): Init config of the optional layers.
    """

    def __init__(self,
                 in_channels: int = 17,
                 out_channels: int = 17,
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
            raise ValueError(
                f'{type(self).__name__}: with no layers the head is an '
                f'identity, so in_channels ({in_channels}) must equal '
                f'out_channels ({out_channels})')
        super().__init__(
            in_channels=in_channels,
            out_channels=out_channels,
            deconv_out_channels=deconv_out_channels,
            deconv_kernel_sizes=deconv_kernel_sizes,
            conv_out_channels=conv_out_channels,
            conv_kernel_sizes=conv_kernel_sizes,
            final_layer=final_layer,
            loss=loss,
            decoder=decoder,
            init_cfg=init_cfg)

    def aggregate(self, feats: Tuple[Tensor, Tensor]) -> Tensor:
        """Weighted sum over frames.

        Args:
            feats (tuple[Tensor, Tensor]): ``warped`` (B, T', K, h, w) and
                ``frame_weights`` (B, T').

        Returns:
            Tensor: Aggregated heatmaps (B, K, h, w).
        """
        if not isinstance(feats, (tuple, list)) or len(feats) != 2:
            raise TypeError(
                f'{type(self).__name__}: feats must be (warped heatmaps '
                '(B, T, K, h, w), frame weights (B, T)), got '
                f'{type(feats).__name__}')
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
        """Aggregate the frames, then apply the (optional) head layers.

        Args:
            feats (tuple[Tensor, Tensor]): See :meth:`aggregate`.

        Returns:
            Tensor: Heatmaps (B, out_channels, h', w').
        """
        x = self.aggregate(feats)
        x = self.deconv_layers(x)
        x = self.conv_layers(x)
        return self.final_layer(x)
