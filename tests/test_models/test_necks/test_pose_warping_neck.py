"""PoseWarpingNeck: construction, faithfulness to mmpose, backends, and
the cache of the key frame's constant offsets."""
import pytest
import torch
from mmpose.models.necks import PoseWarperNeck

from posewarper_mm.errors import ConfigError
from posewarper_mm.models.necks import PoseWarpingNeck
from tests.testing.models import build, randomize_, small_neck_cfg


def _reference_pair(seed=0, **kwargs):
    """mmpose's PoseWarperNeck and ours with identical random weights."""
    args = dict(in_channels=32, out_channels=17, inner_channels=128)
    args.update(kwargs)
    theirs = PoseWarperNeck(**args)
    randomize_(theirs, seed=seed, scale=0.02)
    with torch.no_grad():  # offsets of a few pixels
        for layer in theirs.offset_layers:
            layer.weight.mul_(4.0)
    ours = PoseWarpingNeck(**args)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return theirs, ours


def _weighted_sum(warped, weights, batch_size):
    out = 0
    for idx, weight in enumerate(weights):
        out = out + warped[idx * batch_size:(idx + 1) * batch_size] * weight
    return out


@pytest.mark.parametrize('num_frames, weights, dilations', [
    (2, (0.0, 1.0), (3, 6, 12, 18, 24)),
    (2, (0.4, 0.6), (3, 6, 12, 18, 24)),
    (5, (0.3, 0.1, 0.25, 0.25, 0.1), (3, 6, 12, 18, 24)),
    (5, (0.3, 0.1, 0.25, 0.25, 0.1), (1, 2, 5)),
])
def test_matches_mmpose_posewarper_neck(num_frames, weights, dilations):
    theirs, ours = _reference_pair(dilations=dilations)
    theirs.eval()
    ours.eval()
    batch_size = 3
    feats = torch.randn(num_frames * batch_size, 32, 8, 6)
    with torch.no_grad():
        expected = theirs([feats], list(weights))
        warped = ours(feats, num_frames=num_frames)
        subset = [idx for idx, w in enumerate(weights) if w != 0]
        warped_subset = ours(feats, num_frames, frame_slots=subset)
    assert warped.shape == (num_frames * batch_size, 17, 8, 6)
    actual = _weighted_sum(warped, weights, batch_size)
    assert expected.abs().max() > 1e-3
    assert (actual - expected).abs().max() <= 1e-5
    actual_subset = _weighted_sum(warped_subset, [weights[i] for i in subset],
                                  batch_size)
    assert (actual_subset - expected).abs().max() <= 1e-5


def test_matches_mmpose_in_training_mode():
    """Train mode (BN batch statistics) with every frame warped."""
    theirs, ours = _reference_pair(seed=1)
    weights = [0.5, 0.2, 0.3]
    feats = torch.randn(3 * 2, 32, 8, 6)
    expected = theirs([feats], weights)
    actual = _weighted_sum(ours(feats, num_frames=3), weights, 2)
    assert (actual - expected).abs().max() <= 1e-5


def test_hrnet_tuple_input_and_in_index():
    neck = build(small_neck_cfg(in_index=1, in_channels=16))
    feats = (torch.randn(4, 8, 8, 6), torch.randn(4, 16, 4, 3))
    assert neck(feats, num_frames=2).shape == (4, 17, 4, 3)
    assert neck([feats], num_frames=2).shape == (4, 17, 4, 3)


def test_state_dict_keys_match_mmpose():
    theirs = PoseWarperNeck(48, 17, 128)
    ours = PoseWarpingNeck(48, 17, 128, deform_backend='torchvision')
    assert {k: v.shape for k, v in theirs.state_dict().items()} == \
        {k: v.shape for k, v in ours.state_dict().items()}


def test_initialisation_is_identity_warp():
    neck = PoseWarpingNeck(
        in_channels=8, inner_channels=16,
        res_blocks_cfg=dict(num_blocks=2)).eval()
    for layer in neck.offset_layers:
        assert torch.count_nonzero(layer.weight) == 0
    for layer in neck.deform_conv_layers:
        expected = torch.zeros_like(layer.weight)
        for channel in range(17):
            expected[channel, channel, 1, 1] = 1
        assert torch.equal(layer.weight, expected)
    feats = torch.randn(6, 8, 8, 6)
    with torch.no_grad():
        warped = neck(feats, num_frames=3)
        heatmaps = neck.heatmaps(feats)
    torch.testing.assert_close(warped, heatmaps, rtol=1e-6, atol=1e-7)
    conv_std = neck.offset_feats[0].conv1.weight.std()
    assert 0.0005 < conv_std < 0.002


def test_trans_layer_frozen_and_norm_eval():
    neck = build(small_neck_cfg(norm_eval=True))
    neck.train()
    assert not neck.trans_layer.training
    assert all(not p.requires_grad for p in neck.trans_layer.parameters())
    assert all(not m.training for m in neck.modules()
               if isinstance(m, torch.nn.BatchNorm2d))
    assert neck.offset_layers.training
    trainable = build(small_neck_cfg(freeze_trans_layer=False)).train()
    assert trainable.trans_layer.training
    assert trainable.trans_layer.weight.requires_grad


def test_identity_trans_layer_and_bottleneck_blocks():
    neck = build(
        small_neck_cfg(
            in_channels=17,
            trans_conv_kernel=0,
            res_blocks_cfg=dict(block='BOTTLENECK', num_blocks=2)))
    assert isinstance(neck.trans_layer, torch.nn.Identity)
    feats = torch.randn(4, 17, 8, 6)
    assert torch.equal(neck.heatmaps(feats), feats)
    assert neck(feats, 2).shape == (4, 17, 8, 6)


def test_trans_conv_kernel_3():
    neck = build(small_neck_cfg(trans_conv_kernel=3))
    assert neck.trans_layer.kernel_size == (3, 3)
    assert neck(torch.randn(2, 8, 8, 6), 1).shape == (2, 17, 8, 6)


@pytest.mark.parametrize('kwargs, error, message', [
    (dict(trans_conv_kernel=2), AssertionError, 'trans_conv_kernel'),
    (dict(trans_conv_kernel=2), ValueError, 'trans_conv_kernel'),
    (dict(res_blocks_cfg=2), TypeError, 'res_blocks_cfg'),
    (dict(dilations=[]), AssertionError, 'dilations'),
    (dict(dilations=[3, 0]), ValueError, 'dilations'),
    (dict(dilations=3), TypeError, 'dilations'),
    (dict(deform_groups=4), ValueError, 'not divisible by deform_groups'),
    (dict(trans_conv_kernel=0), ValueError, 'in_channels == out_channels'),
    (dict(res_blocks_cfg=dict(block='FOO')), ValueError, 'block'),
    (dict(res_blocks_cfg=dict(num_blocks=0)), ValueError, 'num_blocks'),
    (dict(res_blocks_cfg=dict(blocks=3)), ValueError, 'unknown keys'),
    (dict(offsets_kernel=2), ValueError, 'offsets_kernel'),
    (dict(deform_conv_kernel=4), ValueError, 'deform_conv_kernel'),
    (dict(inner_channels=0), ValueError, 'inner_channels'),
    (dict(im2col_step=0), ValueError, 'im2col_step'),
    (dict(deform_backend='cuda'), ValueError, 'deform_backend'),
    (dict(in_index='0'), TypeError, 'in_index'),
])
def test_invalid_configuration(kwargs, error, message):
    args = dict(in_channels=48, out_channels=17, inner_channels=128)
    args.update(kwargs)
    with pytest.raises(error, match=message):
        PoseWarpingNeck(**args)
    if error is not TypeError:
        with pytest.raises(ConfigError):
            PoseWarpingNeck(**args)


def test_invalid_calls():
    neck = build(small_neck_cfg())
    feats = torch.randn(6, 8, 4, 4)
    with pytest.raises(TypeError):
        neck(feats)  # num_frames missing
    with pytest.raises(TypeError, match='tensor'):
        neck(1, 2)
    with pytest.raises(TypeError, match='4D'):
        neck(torch.randn(6, 8, 4), 2)
    with pytest.raises(ValueError, match='channels'):
        neck(torch.randn(6, 5, 4, 4), 2)
    with pytest.raises(ValueError, match='multiple of num_frames=4'):
        neck(feats, 4)
    with pytest.raises(ValueError, match='num_frames'):
        neck(feats, 0)
    with pytest.raises(ValueError, match='out of range'):
        neck(feats, 2, frame_slots=[0, 2])
    with pytest.raises(ValueError, match='empty'):
        neck(feats, 2, frame_slots=[])
    with pytest.raises(ValueError, match='same shape'):
        neck.warp(torch.randn(2, 17, 4, 4), torch.randn(2, 17, 4, 3))
    with pytest.raises(ConfigError, match='chunk_size'):
        neck(feats, 2, chunk_size=0)


def test_frame_slots_order_and_subset():
    neck = build(small_neck_cfg())
    randomize_(neck, seed=3)
    neck.eval()
    feats = torch.randn(4 * 2, 8, 8, 6)
    with torch.no_grad():
        full = neck(feats, 4).unflatten(0, (4, 2))
        picked = neck(feats, 4, frame_slots=[3, 0, 2]).unflatten(0, (3, 2))
    torch.testing.assert_close(picked, full[[3, 0, 2]], rtol=1e-5, atol=1e-6)
    assert not torch.allclose(full[1], full[2])


def test_chunk_size_changes_nothing_but_the_batching():
    """Warping 3 persons x 4 frames 1, 2 or 5 crops at a time gives the
    one-batch result (eval mode, cached key offsets); training refuses
    chunks, whose BatchNorm statistics would differ."""
    neck = build(small_neck_cfg())
    randomize_(neck, seed=5)
    neck.eval()
    feats = torch.randn(4 * 3, 8, 8, 6)
    with torch.no_grad():
        whole = neck(feats, 4)
        for chunk in (1, 2, 5):
            torch.testing.assert_close(
                neck(feats, 4, chunk_size=chunk), whole, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match='chunk_size is for inference'):
        neck.train()(feats, 4, chunk_size=2)


@pytest.mark.parametrize('batch_size, num_frames, im2col_step', [(16, 5, 80),
                                                                 (7, 5, 80),
                                                                 (3, 2, 80),
                                                                 (16, 5, 32),
                                                                 (13, 7, 80)])
def test_im2col_step_with_awkward_batches(batch_size, num_frames, im2col_step):
    neck = build(small_neck_cfg(im2col_step=im2col_step))
    randomize_(neck, seed=4)
    reference = build(small_neck_cfg(deform_backend='torchvision'))
    reference.load_state_dict(neck.state_dict())
    feats = torch.randn(batch_size * num_frames, 8, 4, 3)
    out = neck(feats, num_frames)
    assert out.shape == (batch_size * num_frames, 17, 4, 3)
    torch.testing.assert_close(
        out, reference(feats, num_frames), rtol=1e-5, atol=1e-6)


def test_backends_same_output_and_gradients():
    mmcv_neck = build(small_neck_cfg(freeze_trans_layer=False))
    randomize_(mmcv_neck, seed=5)
    tv_neck = build(
        small_neck_cfg(freeze_trans_layer=False, deform_backend='torchvision'))
    tv_neck.load_state_dict(mmcv_neck.state_dict())
    feats = torch.randn(3 * 4, 8, 8, 6)
    grads = []
    for neck in (mmcv_neck, tv_neck):
        inputs = feats.clone().requires_grad_(True)
        out = neck(inputs, 3)
        (out *
         torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        grads.append((out.detach(), inputs.grad, {
            n: p.grad
            for n, p in neck.named_parameters()
        }))
    (out_a, in_a, par_a), (out_b, in_b, par_b) = grads
    torch.testing.assert_close(out_a, out_b, rtol=1e-5, atol=1e-6)
    assert par_a.keys() == par_b.keys()
    pairs = [('input', in_a, in_b)]
    pairs += [(name, par_a[name], par_b[name]) for name in par_a]
    for name, grad_a, grad_b in pairs:
        assert grad_a is not None and grad_a.abs().max() > 0, name
        # elementwise, relative to the gradient's overall scale
        scale = float(grad_a.abs().max())
        torch.testing.assert_close(
            grad_a, grad_b, rtol=1e-4, atol=1e-5 * scale, msg=name)


# the key frame's constant offsets are cached without changing outputs
def _neck(**kwargs):
    neck = build(small_neck_cfg(**kwargs))
    randomize_(neck, seed=7)
    return neck.eval()


def _run(neck, feats, num_frames=3):
    with torch.no_grad():
        return neck(feats, num_frames)


def test_cached_equals_uncached_exactly():
    cached, uncached = _neck(), _neck(cache_key_offsets=False)
    feats = torch.randn(3 * 4, 8, 8, 6)
    first = _run(cached, feats)
    assert len(cached._key_offsets_cache) == 1
    second = _run(cached, feats)  # served from the cache
    reference = _run(uncached, feats)
    assert len(uncached._key_offsets_cache) == 0
    assert torch.equal(first, second)
    assert torch.equal(first, reference)
    assert (first - reference).abs().max() == 0


def test_key_frame_path_matches_batched_computation():
    """Eval shortcut == warping the key frame with its zero difference."""
    neck = _neck()
    feats = torch.randn(3 * 4, 8, 8, 6)
    with torch.no_grad():
        out = neck(feats, 3)
        heatmaps = neck.heatmaps(feats)
        key = heatmaps[:4].repeat(3, 1, 1, 1)
        batched = neck.warp(heatmaps, key - heatmaps)
    torch.testing.assert_close(out, batched, rtol=1e-5, atol=1e-6)


def test_cache_per_size_and_not_used_with_grad_or_training():
    neck = _neck()
    _run(neck, torch.randn(4, 8, 8, 6), 2)
    _run(neck, torch.randn(4, 8, 4, 3), 2)
    assert len(neck._key_offsets_cache) == 2
    neck.clear_key_offsets_cache()
    feats = torch.randn(4, 8, 8, 6, requires_grad=True)
    out = neck(feats, 2)  # eval with autograd: fresh offsets, no cache
    assert len(neck._key_offsets_cache) == 0
    out.sum().backward()
    assert neck.offset_layers[0].weight.grad is not None
    neck.train()
    with torch.no_grad():
        neck(feats, 2)
    assert len(neck._key_offsets_cache) == 0


def test_cache_invalidated_by_weight_change():
    neck, fresh = _neck(), _neck(cache_key_offsets=False)
    feats = torch.randn(2 * 3, 8, 8, 6)
    before = _run(neck, feats, 2)
    assert len(neck._key_offsets_cache) == 1
    # an optimizer-like in-place update of a deep offset-branch weight
    with torch.no_grad():
        for model in (neck, fresh):
            model.offset_feats[1].conv2.weight.add_(0.05)
            model.offset_layers[1].weight.mul_(1.5)
    after = _run(neck, feats, 2)
    assert not torch.equal(before[:3], after[:3])
    assert torch.equal(after, _run(fresh, feats, 2))


def _count_key_offset_computations(neck):
    """Record every offset computation for a single zero difference (the
    key frame's constant offsets)."""
    calls = []
    compute = neck.compute_offsets

    def spy(diff):
        if diff.size(0) == 1 and not diff.any():
            calls.append(tuple(diff.shape))
        return compute(diff)

    neck.compute_offsets = spy
    return calls


def test_cache_invalidated_by_optimizer_step():
    """An optimizer step between two eval-mode calls refreshes the cached
    key-frame offsets. The neck stays in eval mode throughout (``train()``
    and ``eval()`` would clear the cache themselves), so only the
    parameters' version counters can tell the cache that they changed."""
    neck, fresh = _neck(), _neck(cache_key_offsets=False)
    feats = torch.randn(2 * 3, 8, 8, 6)
    calls = _count_key_offset_computations(neck)
    before = _run(neck, feats, 2)
    assert torch.equal(_run(neck, feats, 2), before)
    assert len(calls) == 1  # the second call was served from the cache
    for model in (neck, fresh):
        params = [
            *model.offset_feats.parameters(),
            *model.offset_layers.parameters()
        ]
        optimizer = torch.optim.SGD(params, lr=1.0)
        # eval mode with autograd: BN uses its running statistics, the
        # cache is bypassed and left as it is
        model(feats, 2).square().sum().backward()
        optimizer.step()
    assert not neck.training
    assert len(neck._key_offsets_cache) == 1  # the stale entry is kept
    calls.clear()
    after = _run(neck, feats, 2)
    assert len(calls) == 1  # recomputed after the step
    assert not torch.equal(before[:3], after[:3])
    assert torch.equal(after, _run(fresh, feats, 2))
    assert torch.equal(_run(neck, feats, 2), after)
    assert len(calls) == 1  # and cached again


def test_cache_invalidated_by_load_state_dict_and_bn_statistics():
    neck, other = _neck(), _neck()
    randomize_(other, seed=11)
    feats = torch.randn(2 * 3, 8, 8, 6)
    _run(neck, feats, 2)
    neck.load_state_dict(other.state_dict())
    assert len(neck._key_offsets_cache) == 0
    assert torch.equal(_run(neck, feats, 2), _run(other, feats, 2))
    # buffers count too: a changed BN running mean must refresh the cache
    with torch.no_grad():
        for model in (neck, other):
            model.offset_feats[0].bn1.running_mean.add_(0.5)
    assert torch.equal(_run(neck, feats, 2), _run(other, feats, 2))
