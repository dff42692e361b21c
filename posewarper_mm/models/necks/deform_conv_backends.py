"""Deformable 2D convolution (v1, no mask, no bias) with three backends.

- ``'mmcv'``: ``mmcv.ops.deform_conv2d``, the op of mmpose's
  ``PoseWarperNeck``. mmcv asserts that its im2col chunk divides the
  batch, so the chunk is the largest divisor of the batch not above
  ``im2col_step``.
- ``'torchvision'``: ``torchvision.ops.deform_conv2d``, an independent
  implementation (tested against mmcv's); mmpose still needs ``mmcv.ops``.
- ``'pytorch'``: written with ``grid_sample`` and ``einsum``, for fast
  training on CPU and for ONNX export (opset 16). Where a sample lies on a
  pixel line (every sample of the untrained neck) its backward takes
  mmcv's derivative (see :class:`_BilinearSample`); torchvision's differs
  there.
- ``'onnx'``: exported as ONNX's own ``DeformConv`` (opset 19); in PyTorch
  it computes with torchvision's kernel.

All use the offset layout of mmcv (``(y, x)`` per kernel tap per
deformable group) and one parameter, ``weight``, so weights move freely
between backends and ``mmcv.ops.DeformConv2d``.
"""
import math
from typing import Callable, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.utils import _pair

from ...errors import ConfigError

DEFORM_CONV_BACKENDS = ('mmcv', 'torchvision', 'pytorch', 'onnx')


def largest_divisor_at_most(number: int, limit: int) -> int:
    """The largest divisor of ``number`` (>= 1) that is ``<= limit``."""
    if number < 1 or limit < 1:
        raise ValueError(f'{__name__}: need positive integers, got '
                         f'number={number}, limit={limit}')
    return next(d for d in range(min(number, limit), 0, -1) if number % d == 0)


def load_mmcv_deform_conv2d() -> Callable:
    """``mmcv.ops.deform_conv2d``; an ImportError says what to do without
    mmcv's compiled ops."""
    try:
        from mmcv.ops import deform_conv2d
    except ImportError as err:
        raise ImportError(
            f'{__name__}: deform_backend="mmcv" needs mmcv built with its '
            f'compiled ops (mmcv.ops), but importing it failed: {err}. '
            'Install mmcv with ops, or set deform_backend="torchvision" in '
            'the PoseWarpingNeck config.') from err
    return deform_conv2d


class BackendDeformConv2d(nn.Module):
    """Deformable convolution (v1, no bias) with a selectable backend.

    The arguments are those of ``mmcv.ops.DeformConv2d`` (no ``groups``,
    no ``bias``; ``im2col_step`` is an upper bound), plus ``backend``, one
    of :data:`DEFORM_CONV_BACKENDS`.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size,
                 stride=1, padding=0, dilation=1, deform_groups: int = 1,
                 im2col_step: int = 32, backend: str = 'mmcv') -> None:
        super().__init__()
        if backend not in DEFORM_CONV_BACKENDS:
            raise ConfigError(
                f'{__name__}: unknown deform conv backend {backend!r}; '
                f'choose one of {DEFORM_CONV_BACKENDS}')
        if in_channels % deform_groups != 0:
            raise ConfigError(f'{__name__}: in_channels={in_channels} is not '
                              f'divisible by deform_groups={deform_groups}')
        if im2col_step < 1:
            raise ConfigError(
                f'{__name__}: im2col_step must be >= 1, got {im2col_step}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size: Tuple[int, int] = _pair(kernel_size)
        self.stride: Tuple[int, int] = _pair(stride)
        self.padding: Tuple[int, int] = _pair(padding)
        self.dilation: Tuple[int, int] = _pair(dilation)
        self.deform_groups = deform_groups
        self.im2col_step = im2col_step
        self.backend = backend
        if backend == 'mmcv':
            load_mmcv_deform_conv2d()  # fail early with a clear message
        self.weight = nn.Parameter(
            torch.empty(out_channels, in_channels, *self.kernel_size))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))

    @property
    def offset_channels(self) -> int:
        """int: Channels of the offsets this layer takes."""
        return 2 * self.deform_groups * self.kernel_size[0] * \
            self.kernel_size[1]

    def forward(self, x: Tensor, offset: Tensor) -> Tensor:
        """Output (N, C_out, H_out, W_out) of ``x`` (N, C_in, H, W) with
        offsets (N, 2 * deform_groups * kh * kw, H_out, W_out)."""
        if x.dim() != 4 or offset.dim() != 4:
            raise ValueError(
                f'{__name__}: expected 4D input and offset, got shapes '
                f'{tuple(x.shape)} and {tuple(offset.shape)}')
        if offset.size(0) != x.size(0) or \
                offset.size(1) != self.offset_channels:
            raise ValueError(
                f'{__name__}: offset shape {tuple(offset.shape)} does not '
                f'match input batch {x.size(0)} and {self.offset_channels} '
                'offset channels')
        forward = getattr(self, f'_forward_{self.backend}')
        if x.dtype in (torch.float32, torch.float64) and \
                offset.dtype == x.dtype:
            return forward(x, offset)
        # no kernel covers bfloat16 (nor mmcv's CPU kernel float16)
        with torch.autocast(x.device.type, enabled=False):
            out = forward(x.float(), offset.float())
        return out.to(x.dtype)

    def _forward_torchvision(self, x: Tensor, offset: Tensor) -> Tensor:
        from torchvision.ops import deform_conv2d
        weight = self.weight
        if weight.dtype != x.dtype:
            weight = weight.to(x.dtype)
        if offset.dtype != x.dtype:
            offset = offset.to(x.dtype)
        return deform_conv2d(x, offset, weight, stride=self.stride,
                             padding=self.padding, dilation=self.dilation)

    def _forward_onnx(self, x: Tensor, offset: Tensor) -> Tensor:
        return _OnnxDeformConv.apply(x, offset, self.weight.to(x.dtype),
                                     self.kernel_size, self.stride,
                                     self.padding, self.dilation,
                                     self.deform_groups)

    def _forward_pytorch(self, x: Tensor, offset: Tensor) -> Tensor:
        # a named range lets profilers attribute these ops to the deform conv
        with torch.profiler.record_function('pytorch_deform_conv2d'):
            batch, channels, height, width = x.shape
            out_h, out_w = offset.shape[2:]
            (kh, kw), (sh, sw) = self.kernel_size, self.stride
            (ph, pw), (dh, dw) = self.padding, self.dilation
            groups, taps = self.deform_groups, kh * kw
            # sampling positions (N * groups, 1, taps * out_h * out_w), pixels
            offset = offset.view(batch, groups, taps, 2, out_h, out_w)
            tap_y, tap_x = torch.meshgrid(
                torch.arange(kh, device=x.device, dtype=x.dtype) * dh,
                torch.arange(kw, device=x.device, dtype=x.dtype) * dw,
                indexing='ij')
            rows = torch.arange(
                out_h, device=x.device, dtype=x.dtype) * sh - ph
            cols = torch.arange(
                out_w, device=x.device, dtype=x.dtype) * sw - pw
            pos_y = (rows.view(1, 1, 1, out_h, 1) +
                     tap_y.reshape(1, 1, taps, 1, 1) +
                     offset[:, :, :, 0]).reshape(batch * groups, 1, -1)
            pos_x = (cols.view(1, 1, 1, 1, out_w) +
                     tap_x.reshape(1, 1, taps, 1, 1) +
                     offset[:, :, :, 1]).reshape(batch * groups, 1, -1)
            x = x.reshape(batch * groups, channels // groups, height, width)
            if torch.is_grad_enabled():
                sampled = _BilinearSample.apply(x, pos_y, pos_x)
            else:  # the same samples, in ops that export to ONNX
                sampled = _sample(x, pos_y, pos_x)
            sampled = sampled.view(batch, channels, taps, out_h, out_w)
            weight = self.weight.to(x.dtype).reshape(self.out_channels,
                                                     channels, taps)
            return torch.einsum('nckhw,ock->nohw', sampled, weight)

    def _forward_mmcv(self, x: Tensor, offset: Tensor) -> Tensor:
        # mmcv's kernels need an input at least kernel-sized: zero-pad, crop
        pad_h = max(self.kernel_size[0] - x.size(2), 0)
        pad_w = max(self.kernel_size[1] - x.size(3), 0)
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
            offset = F.pad(offset, (0, pad_w, 0, pad_h))
        step = largest_divisor_at_most(x.size(0), self.im2col_step)
        deform_conv2d = load_mmcv_deform_conv2d()
        # mmcv's kernels reject non-contiguous (e.g. channels-last) weights
        out = deform_conv2d(x.contiguous(), offset.contiguous(),
                            self.weight.contiguous(), self.stride,
                            self.padding, self.dilation, 1,
                            self.deform_groups, False, step)
        if pad_h or pad_w:
            out = out[:, :, :out.size(2) - pad_h,
                      :out.size(3) - pad_w].contiguous()
        return out

    def extra_repr(self) -> str:
        return (f'{self.in_channels}, {self.out_channels}, '
                f'kernel_size={self.kernel_size}, stride={self.stride}, '
                f'padding={self.padding}, dilation={self.dilation}, '
                f'deform_groups={self.deform_groups}, '
                f'im2col_step={self.im2col_step}, backend={self.backend!r}')


def _grid(pos_y: Tensor, pos_x: Tensor, height: int, width: int) -> Tensor:
    """``grid_sample``'s grid (B, 1, L, 2) of pixel positions (B, 1, L):
    pixel p of n sits at (2p + 1) / n - 1 (``align_corners=False``)."""
    return torch.stack([(2 * pos_x + 1) / width - 1,
                        (2 * pos_y + 1) / height - 1], dim=-1)


def _sample(x: Tensor, pos_y: Tensor, pos_x: Tensor) -> Tensor:
    """Bilinear samples (B, C, L) of ``x`` (B, C, H, W) at pixel positions
    (B, 1, L); outside the image the input reads 0, as in mmcv's kernel."""
    grid = _grid(pos_y, pos_x, *x.shape[2:])
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='zeros',
                         align_corners=False).flatten(2)


class _OnnxDeformConv(torch.autograd.Function):
    """torchvision's deformable convolution, exported as ONNX's
    ``DeformConv`` (the same offset layout; no mask, no bias)."""

    @staticmethod
    def forward(ctx, x, offset, weight, kernel_size, stride, padding,
                dilation, groups):
        from torchvision.ops import deform_conv2d
        return deform_conv2d(x, offset, weight, stride=stride,
                             padding=padding, dilation=dilation)

    @staticmethod
    def symbolic(g, x, offset, weight, kernel_size, stride, padding,
                 dilation, groups):
        return g.op('DeformConv', x, weight, offset,
                    kernel_shape_i=list(kernel_size),
                    strides_i=list(stride),
                    pads_i=[padding[0], padding[1], padding[0], padding[1]],
                    dilations_i=list(dilation), group_i=1,
                    offset_group_i=groups)


# pixels: nearer a pixel line, grid_sample's rounding may take the other
# side's derivative, so mmcv's is computed directly
_LINE_TOLERANCE = 1e-3


class _BilinearSample(torch.autograd.Function):
    """Bilinear ``grid_sample`` samples with mmcv's gradient on pixel lines.

    On a pixel line bilinear sampling has a kink; mmcv's backward takes the
    derivative towards the next pixel (corners ``floor(p)`` and
    ``floor(p) + 1``), ``grid_sample``'s depends on its rounding. Samples
    near a line get mmcv's derivative from their four corners, the others
    ``grid_sample``'s (equal there).
    """

    @staticmethod
    def forward(ctx, x: Tensor, pos_y: Tensor, pos_x: Tensor) -> Tensor:
        """Samples (B, C, L) of ``x`` (B, C, H, W) at pixel positions
        ``pos_y``, ``pos_x`` (B, 1, L); outside the image reads 0."""
        grid = _grid(pos_y, pos_x, *x.shape[2:])
        ctx.save_for_backward(x, grid, pos_y, pos_x)
        return F.grid_sample(
            x, grid, mode='bilinear', padding_mode='zeros',
            align_corners=False).flatten(2)

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        x, grid, pos_y, pos_x = ctx.saved_tensors
        need_x = ctx.needs_input_grad[0]
        need_pos = ctx.needs_input_grad[1] or ctx.needs_input_grad[2]
        height, width = x.shape[2:]
        # grid_sample's own backward; outputs not asked for come back None
        grad_x, grad_grid = torch.ops.aten.grid_sampler_2d_backward(
            grad_out.reshape(*grad_out.shape[:2], 1, -1).contiguous(), x,
            grid, 0, 0, False, [need_x, need_pos])
        if not need_pos:
            return grad_x, None, None
        grad_pos_y = grad_grid[..., 1] * (2 / height)
        grad_pos_x = grad_grid[..., 0] * (2 / width)
        near_line = (((pos_y - pos_y.round()).abs() < _LINE_TOLERANCE) |
                     ((pos_x - pos_x.round()).abs() < _LINE_TOLERANCE))
        batch_idx, _, sample_idx = near_line.nonzero(as_tuple=True)
        if batch_idx.numel():
            exact_y, exact_x = _position_gradients(
                x, batch_idx, pos_y[batch_idx, 0, sample_idx],
                pos_x[batch_idx, 0, sample_idx],
                grad_out[batch_idx, :, sample_idx])
            grad_pos_y[batch_idx, 0, sample_idx] = exact_y
            grad_pos_x[batch_idx, 0, sample_idx] = exact_x
        return grad_x, grad_pos_y, grad_pos_x


def _position_gradients(x: Tensor, batch_idx: Tensor, pos_y: Tensor,
                        pos_x: Tensor,
                        grad_out: Tensor) -> Tuple[Tensor, Tensor]:
    """Gradients (K, ) of ``pos_y`` and ``pos_x`` (K, ) as mmcv computes
    them: between the corners ``floor(p)`` and ``floor(p) + 1`` (outside
    corners read 0), 0 at or beyond one pixel outside the image.

    Args:
        x (Tensor): Input (B, C, H, W).
        batch_idx (Tensor): Image of each sample (K, ).
        pos_y (Tensor): Row positions in pixels (K, ).
        pos_x (Tensor): Column positions in pixels (K, ).
        grad_out (Tensor): Gradient of the samples (K, C).
    """
    height, width = x.shape[2:]
    inside = ((pos_y > -1) & (pos_y < height) & (pos_x > -1) &
              (pos_x < width)).to(x.dtype)
    floor_y, floor_x = pos_y.floor(), pos_x.floor()
    frac_y, frac_x = (pos_y - floor_y)[:, None], (pos_x - floor_x)[:, None]
    # corner indices into the input zero-padded by one pixel per side
    y0 = floor_y.long().clamp(-1, height) + 1
    x0 = floor_x.long().clamp(-1, width) + 1
    y1, x1 = (y0 + 1).clamp(max=height + 1), (x0 + 1).clamp(max=width + 1)
    padded = F.pad(x, (1, 1, 1, 1))

    def corner(iy: Tensor, ix: Tensor) -> Tensor:
        return padded[batch_idx, :, iy, ix]  # (K, C)

    v00, v01 = corner(y0, x0), corner(y0, x1)
    v10, v11 = corner(y1, x0), corner(y1, x1)
    d_y = (1 - frac_x) * (v10 - v00) + frac_x * (v11 - v01)
    d_x = (1 - frac_y) * (v01 - v00) + frac_y * (v11 - v10)
    return ((grad_out * d_y).sum(1) * inside,
            (grad_out * d_x).sum(1) * inside)
