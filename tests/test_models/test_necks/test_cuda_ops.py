"""mmcv's CUDA ops on a GPU: DeformConv2d and the warping neck.

Every test here needs a CUDA device and is skipped without one.
``tools/env/check_gpu.sh`` runs this file on a GPU machine and fails the
step when any test is skipped there.
"""
import pytest
import torch
from mmpose.models.necks import PoseWarperNeck

from posewarper_mm.models.necks import BackendDeformConv2d, PoseWarpingNeck
from tests.testing.models import randomize_

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs a CUDA device')


@pytest.fixture(autouse=True)
def _no_tf32():
    """fp32 comparisons: TF32 convolutions differ from fp32 by ~1e-3."""
    saved = (torch.backends.cudnn.allow_tf32,
             torch.backends.cuda.matmul.allow_tf32)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    yield
    (torch.backends.cudnn.allow_tf32,
     torch.backends.cuda.matmul.allow_tf32) = saved


def _assert_close_to_scale(actual, expected, name, rtol=1e-4, atol=1e-5):
    """Elementwise closeness with ``atol`` relative to the overall scale."""
    actual, expected = actual.detach().cpu(), expected.detach().cpu()
    scale = float(expected.abs().max())
    assert scale > 0, f'{name} is all zeros'
    torch.testing.assert_close(
        actual, expected, rtol=rtol, atol=atol * scale, msg=name)


def _deform_forward_backward(layer, x, offset):
    """Output and gradients (input, offset, weight) of one layer."""
    x = x.clone().requires_grad_(True)
    offset = offset.clone().requires_grad_(True)
    layer.zero_grad()
    out = layer(x, offset)
    weights = torch.linspace(-1, 1, out.numel(), device=out.device)
    (out.flatten() * weights).sum().backward()
    return dict(
        output=out.detach(),
        grad_input=x.grad,
        grad_offset=offset.grad,
        grad_weight=layer.weight.grad)


@pytest.mark.parametrize(
    'batch, channels, groups, dilation, size, im2col_step',
    [
        (3, 4, 2, 2, (7, 5), 80),
        # the neck's shape: 17 heatmap channels, one group each
        (4, 17, 17, 24, (96, 72), 80),
        (90, 8, 4, 6, (12, 9), 32),  # batch not divisible by im2col_step
    ])
def test_deform_conv_cuda_vs_cpu_vs_torchvision(batch, channels, groups,
                                                dilation, size, im2col_step):
    """mmcv CUDA == mmcv CPU == torchvision CUDA: output and gradients."""
    kwargs = dict(
        in_channels=channels,
        out_channels=channels,
        kernel_size=3,
        padding=dilation,
        dilation=dilation,
        deform_groups=groups,
        im2col_step=im2col_step)
    mmcv_cuda = BackendDeformConv2d(backend='mmcv', **kwargs)
    torch.nn.init.normal_(mmcv_cuda.weight, std=0.1)
    mmcv_cpu = BackendDeformConv2d(backend='mmcv', **kwargs)
    tv_cuda = BackendDeformConv2d(backend='torchvision', **kwargs)
    mmcv_cpu.load_state_dict(mmcv_cuda.state_dict())
    tv_cuda.load_state_dict(mmcv_cuda.state_dict())
    mmcv_cuda.cuda()
    tv_cuda.cuda()
    gen = torch.Generator().manual_seed(batch)
    x = torch.randn(batch, channels, *size, generator=gen)
    # offsets of a few pixels, some sampling outside the map
    offset = 2.5 * torch.randn(batch, 2 * groups * 9, *size, generator=gen)

    got = _deform_forward_backward(mmcv_cuda, x.cuda(), offset.cuda())
    cpu = _deform_forward_backward(mmcv_cpu, x, offset)
    tv = _deform_forward_backward(tv_cuda, x.cuda(), offset.cuda())
    for name in got:
        assert got[name].is_cuda, name
        _assert_close_to_scale(got[name], cpu[name], f'{name} vs mmcv CPU')
        _assert_close_to_scale(got[name], tv[name],
                               f'{name} vs torchvision CUDA')


def _neck_pair(seed=0, **kwargs):
    """mmpose's PoseWarperNeck and ours, identical random weights, GPU."""
    args = dict(in_channels=32, out_channels=17, inner_channels=128)
    args.update(kwargs)
    theirs = PoseWarperNeck(**args)
    randomize_(theirs, seed=seed, scale=0.02)
    with torch.no_grad():  # offsets of a few pixels
        for layer in theirs.offset_layers:
            layer.weight.mul_(4.0)
    ours = PoseWarpingNeck(**args)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return theirs.cuda(), ours.cuda()


def _weighted_sum(warped, weights, batch_size):
    out = 0
    for idx, weight in enumerate(weights):
        out = out + warped[idx * batch_size:(idx + 1) * batch_size] * weight
    return out


def test_neck_matches_mmpose_on_cuda_eval():
    """Eval mode, 5 frames, the real dilations, on 96x72 maps."""
    theirs, ours = _neck_pair()
    theirs.eval()
    ours.eval()
    weights = [0.3, 0.1, 0.25, 0.25, 0.1]
    batch_size = 2
    feats = torch.randn(5 * batch_size, 32, 96, 72).cuda()
    with torch.no_grad():
        expected = theirs([feats], weights)
        warped = ours(feats, num_frames=5)
        ours_cpu = ours.cpu()(feats.cpu(), num_frames=5)
    assert warped.is_cuda and warped.shape == (10, 17, 96, 72)
    _assert_close_to_scale(
        _weighted_sum(warped, weights, batch_size), expected,
        'ours vs mmpose (CUDA)')
    _assert_close_to_scale(warped, ours_cpu, 'ours CUDA vs ours CPU')


def test_neck_matches_mmpose_on_cuda_training_gradients():
    """Train mode (BN batch statistics): output and every gradient."""
    theirs, ours = _neck_pair(seed=1, freeze_trans_layer=False)
    weights = [0.5, 0.2, 0.3]
    feats = torch.randn(3 * 2, 32, 24, 18).cuda()
    results = []
    for model, run in ((theirs, lambda f: theirs([f], weights)), (
            ours, lambda f: _weighted_sum(ours(f, num_frames=3), weights, 2))):
        inputs = feats.clone().requires_grad_(True)
        out = run(inputs)
        (out * torch.linspace(-1, 1, out.numel(),
                              device='cuda').view_as(out)).sum().backward()
        grads = {
            n: p.grad
            for n, p in model.named_parameters() if p.grad is not None
        }
        results.append((out.detach(), inputs.grad, grads))
    (out_a, in_a, par_a), (out_b, in_b, par_b) = results
    _assert_close_to_scale(out_b, out_a, 'output')
    _assert_close_to_scale(in_b, in_a, 'input gradient')
    assert par_a.keys() == par_b.keys() and len(par_a) > 10
    for name in par_a:
        _assert_close_to_scale(par_b[name], par_a[name], name)


def test_neck_bf16_autocast_on_cuda():
    """bf16 autocast + channels_last runs and stays near fp32."""
    _, ours = _neck_pair(seed=2)
    ours.eval()
    feats = torch.randn(5 * 2, 32, 96, 72).cuda()
    with torch.no_grad():
        ref = ours(feats, num_frames=5)
        ours_cl = ours.to(memory_format=torch.channels_last)
        with torch.autocast('cuda', dtype=torch.bfloat16):
            out = ours_cl(
                feats.to(memory_format=torch.channels_last), num_frames=5)
    assert torch.isfinite(out.float()).all()
    # relative L2 error: bf16 keeps 8 bits of mantissa, and over the 20
    # residual blocks it reaches 4.8% with CPU autocast; a wrong layout
    # or kernel gives errors of order 1
    err = torch.linalg.vector_norm(out.float() - ref) / \
        torch.linalg.vector_norm(ref)
    assert err < 0.1, f'bf16 relative L2 error {err:.3g}'


def test_mmcv_nms_cuda_matches_cpu():
    """Another compiled CUDA op of mmcv (used by mmdet) works."""
    from mmcv.ops import nms
    gen = torch.Generator().manual_seed(0)
    xy = torch.rand(200, 2, generator=gen) * 100
    boxes = torch.cat([xy, xy + 5 + torch.rand(200, 2, generator=gen) * 20],
                      dim=1)
    scores = torch.rand(200, generator=gen)
    _, keep_cpu = nms(boxes, scores, iou_threshold=0.5)
    _, keep_cuda = nms(boxes.cuda(), scores.cuda(), iou_threshold=0.5)
    assert keep_cuda.is_cuda and 0 < len(keep_cpu) < 200
    assert torch.equal(keep_cuda.cpu(), keep_cpu)
