"""The key frame's constant offsets are cached without changing outputs."""
import torch

from tests.testing.models import build, randomize_, small_neck_cfg


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
