"""The mmcv, torchvision and pure-PyTorch deformable-conv backends agree."""
import sys

import pytest
import torch

from posewarper_mm.models.necks import (BackendDeformConv2d,
                                        largest_divisor_at_most)


@pytest.mark.parametrize('number, limit, expected', [(80, 80, 80),
                                                     (35, 80, 35),
                                                     (6, 80, 6), (90, 80, 45),
                                                     (160, 80, 80),
                                                     (97, 80, 1),
                                                     (80, 32, 20), (1, 1, 1)])
def test_largest_divisor_at_most(number, limit, expected):
    assert largest_divisor_at_most(number, limit) == expected


@pytest.mark.parametrize('number, limit', [(0, 4), (4, 0), (-2, 3)])
def test_largest_divisor_rejects_non_positive(number, limit):
    with pytest.raises(ValueError, match='positive'):
        largest_divisor_at_most(number, limit)


def _pair_of_layers(dilation=2,
                    im2col_step=80,
                    channels=4,
                    groups=2,
                    other='torchvision'):
    kwargs = dict(
        in_channels=channels,
        out_channels=channels,
        kernel_size=3,
        padding=dilation,
        dilation=dilation,
        deform_groups=groups,
        im2col_step=im2col_step)
    mmcv_layer = BackendDeformConv2d(backend='mmcv', **kwargs)
    tv_layer = BackendDeformConv2d(backend=other, **kwargs)
    tv_layer.load_state_dict(mmcv_layer.state_dict())
    return mmcv_layer, tv_layer


def _inputs(batch, channels=4, groups=2, height=7, width=5, device='cpu'):
    gen = torch.Generator().manual_seed(batch)
    x = torch.randn(batch, channels, height, width, generator=gen)
    # fractional offsets of a few pixels, some sampling outside the map
    offset = 2.5 * torch.randn(
        batch, 2 * groups * 9, height, width, generator=gen)
    return x.to(device), offset.to(device)


def _forward_backward(layer, x, offset):
    x = x.clone().requires_grad_(True)
    offset = offset.clone().requires_grad_(True)
    layer.zero_grad()
    out = layer(x, offset)
    weights = torch.linspace(-1, 1, out.numel(), device=out.device)
    (out.flatten() * weights).sum().backward()
    return out.detach(), x.grad, offset.grad, layer.weight.grad.clone()


def _assert_same_as(reference, layer, x, offset, rtol, atol):
    """``layer``'s output and gradients (input, offset, weight) equal
    ``reference``'s; ``atol`` is relative to each tensor's largest
    magnitude. Returns the reference's."""
    expected = _forward_backward(reference, x, offset)
    got = _forward_backward(layer, x, offset)
    for name, mine, theirs in zip(('output', 'input grad', 'offset grad',
                                   'weight grad'), got, expected):
        assert theirs.abs().max() > 0, name
        torch.testing.assert_close(
            mine, theirs, rtol=rtol, atol=atol * theirs.abs().max().item(),
            msg=name)
    return expected


@pytest.mark.parametrize('other', ['torchvision', 'pytorch'])
@pytest.mark.parametrize('batch', [3, 35, 90])
def test_backends_same_output_and_gradients(batch, other):
    mmcv_layer, tv_layer = _pair_of_layers(other=other)
    x, offset = _inputs(batch)
    results = [_forward_backward(layer, x, offset)
               for layer in (mmcv_layer, tv_layer)]
    for ours, theirs in zip(*results):
        assert ours.abs().max() > 0
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    'batch, height, width, dilation',
    [
        (16, 24, 16, 1),  # the quickstart's neck (96x64 input)
        (16, 24, 16, 6),
        (2, 96, 72, 3),  # the recipe's neck (384x288 input)
        (2, 96, 72, 24),
    ])
def test_pytorch_backend_matches_mmcv_at_realistic_sizes(
        batch, height, width, dilation):
    """17 heatmap channels, 17 deformable groups, as in the warping neck."""
    mmcv_layer, ours = _pair_of_layers(
        dilation=dilation, channels=17, groups=17, other='pytorch')
    x, offset = _inputs(
        batch, channels=17, groups=17, height=height, width=width)
    offset = offset * dilation  # offsets of the size of the dilation
    # float32 sums over many pixels (the weight gradient) round at about
    # 1e-6 of their size
    _assert_same_as(mmcv_layer, ours, x, offset, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('offsets', ['zero', 'whole pixels'])
@pytest.mark.parametrize('dilation', [1, 3])
def test_pytorch_backend_gradients_on_pixel_lines(offsets, dilation):
    """Samples exactly on pixels, as in the untrained neck (offsets 0).

    Bilinear sampling has a kink there; the pure-PyTorch backend must take
    the same one-sided derivative as mmcv's kernel (towards the next
    pixel), or the offset layers start training in other directions.
    Whole-pixel offsets also sample outside the map, and exactly one pixel
    outside it (which reads 0 in mmcv, value and gradient).
    """
    mmcv_layer, ours = _pair_of_layers(
        dilation=dilation, channels=17, groups=17, other='pytorch')
    x, offset = _inputs(16, channels=17, groups=17, height=24, width=16)
    x, offset = x.double(), offset.double()
    if offsets == 'zero':
        offset = torch.zeros_like(offset)
    else:
        offset = offset.round()
        assert (offset.abs() >= 1).any()
    mmcv_layer.double()
    ours.double()
    # atol relative to the largest magnitude (at most about 150, the
    # weight gradient): at most 1.5e-11 absolute
    expected = _assert_same_as(
        mmcv_layer, ours, x, offset, rtol=1e-10, atol=1e-13)
    # without gradients the samples come from grid_sample: same values
    with torch.no_grad():
        torch.testing.assert_close(
            ours(x, offset), expected[0], rtol=1e-10, atol=1e-10)


def test_pytorch_backend_stride_and_padding():
    """Stride, asymmetric padding and dilation as torchvision computes."""
    kwargs = dict(
        in_channels=6,
        out_channels=5,
        kernel_size=(3, 2),
        stride=(2, 1),
        padding=(0, 2),
        dilation=(1, 3),
        deform_groups=3)
    tv_layer = BackendDeformConv2d(backend='torchvision', **kwargs)
    ours = BackendDeformConv2d(backend='pytorch', **kwargs)
    ours.load_state_dict(tv_layer.state_dict())
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 6, 9, 7, generator=gen)
    offset = 1.5 * torch.randn(2, 2 * 3 * 6, 4, 8, generator=gen)
    for mine, theirs in zip(
            _forward_backward(ours, x, offset),
            _forward_backward(tv_layer, x, offset)):
        torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-4)


def test_parameter_names_and_state_dict_interchange():
    from mmcv.ops import DeformConv2d
    ours = BackendDeformConv2d(17, 17, 3, padding=3, dilation=3,
                               deform_groups=17, backend='torchvision')
    theirs = DeformConv2d(17, 17, 3, padding=3, dilation=3, deform_groups=17)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ['weight']
    ours.load_state_dict(theirs.state_dict())
    x, offset = _inputs(2, channels=17, groups=17)
    torch.testing.assert_close(
        ours(x, offset), theirs(x, offset), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('other', ['torchvision', 'pytorch'])
def test_input_smaller_than_kernel(other):
    mmcv_layer, tv_layer = _pair_of_layers(dilation=3, other=other)
    x, offset = _inputs(4, height=2, width=2)
    out = mmcv_layer(x, offset)
    assert out.shape == (4, 4, 2, 2)
    torch.testing.assert_close(out, tv_layer(x, offset), rtol=1e-5,
                               atol=1e-5)


def test_zero_offsets_identity_filter_copies_input():
    layer = BackendDeformConv2d(4, 4, 3, padding=6, dilation=6,
                                deform_groups=4, backend='mmcv')
    with torch.no_grad():
        layer.weight.zero_()
        for channel in range(4):
            layer.weight[channel, channel, 1, 1] = 1
    x, _ = _inputs(2)
    assert torch.equal(layer(x, torch.zeros(2, 72, 7, 5)), x)


def test_torchvision_backend_needs_no_mmcv_ops(monkeypatch):
    # a None entry makes every `import mmcv.ops` raise ImportError
    monkeypatch.setitem(sys.modules, 'mmcv.ops', None)
    layer = BackendDeformConv2d(4, 4, 3, padding=1, deform_groups=2,
                                backend='torchvision')
    x, offset = _inputs(2)
    assert layer(x, offset).shape == (2, 4, 7, 5)
    with pytest.raises(ImportError, match='deform_backend="torchvision"'):
        BackendDeformConv2d(4, 4, 3, padding=1, backend='mmcv')


def test_channels_last_module_and_input():
    """``model.to(memory_format=torch.channels_last)`` works with mmcv."""
    mmcv_layer, tv_layer = _pair_of_layers()
    x, offset = _inputs(3)
    expected = _forward_backward(tv_layer, x, offset)
    mmcv_layer.to(memory_format=torch.channels_last)
    assert not mmcv_layer.weight.is_contiguous()
    got = _forward_backward(mmcv_layer,
                            x.contiguous(memory_format=torch.channels_last),
                            offset.contiguous(
                                memory_format=torch.channels_last))
    for ours, theirs in zip(got, expected):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('kwargs, message', [
    (dict(backend='cuda'), 'unknown deform conv backend'),
    (dict(deform_groups=3), 'not divisible by deform_groups'),
    (dict(im2col_step=0), 'im2col_step must be >= 1'),
])
def test_invalid_arguments(kwargs, message):
    args = dict(in_channels=4, out_channels=4, kernel_size=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        BackendDeformConv2d(**args)


def test_offset_shape_is_checked():
    layer = BackendDeformConv2d(4, 4, 3, padding=1, deform_groups=2,
                                backend='torchvision')
    x, offset = _inputs(2)
    with pytest.raises(ValueError, match='offset channels'):
        layer(x, offset[:, :4])


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs a CUDA device')
@pytest.mark.parametrize('batch', [6, 80, 90])
def test_cuda_mmcv_matches_torchvision(batch):
    mmcv_layer, tv_layer = _pair_of_layers()
    mmcv_layer.cuda()
    tv_layer.cuda()
    x, offset = _inputs(batch, device='cuda')
    cuda_results = [_forward_backward(layer, x, offset)
                    for layer in (mmcv_layer, tv_layer)]
    for ours, theirs in zip(*cuda_results):
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)
    cpu_out = _forward_backward(mmcv_layer.cpu(), x.cpu(), offset.cpu())[0]
    torch.testing.assert_close(
        cuda_results[0][0].cpu(), cpu_out, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('backend', ['mmcv', 'torchvision', 'pytorch'])
def test_bfloat16_autocast_runs_in_float32(backend):
    """Neither kernel has bfloat16: the op runs in float32 and casts back."""
    conv = BackendDeformConv2d(
        4, 4, 3, padding=1, deform_groups=2, backend=backend)
    torch.nn.init.normal_(conv.weight)
    x = torch.randn(2, 4, 6, 5)
    offset = torch.randn(2, 2 * 2 * 9, 6, 5)
    ref = conv(x, offset)
    out = conv(x.bfloat16(), offset.bfloat16())
    assert out.dtype == torch.bfloat16
    expected = conv(x.bfloat16().float(), offset.bfloat16().float())
    assert torch.allclose(out.float(), expected, atol=0.05, rtol=0.02)
    assert torch.allclose(out.float(), ref, atol=0.5, rtol=0.1)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        auto = conv(x, offset)
    assert torch.isfinite(auto.float()).all()
