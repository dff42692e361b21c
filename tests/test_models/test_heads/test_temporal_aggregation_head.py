"""TemporalAggregationHead: weighted sum, loss, decoding, flip test."""
import pytest
import torch
from mmpose.models.heads import HeatmapHead
from mmpose.models.utils.tta import flip_heatmaps

from posewarper_mm.errors import ConfigError
from tests.testing.models import (CODEC, FLIP_INDICES, HEATMAP_SIZE,
                                  NUM_KEYPOINTS, build, make_data_samples)

W, H = HEATMAP_SIZE


def _head(**kwargs):
    cfg = dict(type='TemporalAggregationHead', decoder=CODEC)
    cfg.update(kwargs)
    return build(cfg)


def _peaked_heatmaps(batch, num_frames, peaks):
    """Heatmaps with one peak per keypoint at ``peaks[k] = (x, y)``."""
    maps = torch.zeros(batch, num_frames, NUM_KEYPOINTS, H, W)
    for k, (x, y) in enumerate(peaks):
        maps[:, :, k, y, x] = 1.0
    return maps


def test_identity_layers_by_default():
    head = _head()
    assert isinstance(head.final_layer, torch.nn.Identity)
    assert isinstance(head.deconv_layers, torch.nn.Identity)
    assert isinstance(head.conv_layers, torch.nn.Identity)
    assert sum(p.numel() for p in head.parameters()) == 0


def test_forward_is_per_sample_weighted_sum():
    head = _head()
    warped = torch.randn(2, 3, NUM_KEYPOINTS, H, W)
    weights = torch.tensor([[0.5, 0.25, 0.25], [0.0, 1.0, 0.0]])
    out = head.forward((warped, weights))
    expected = torch.stack([
        0.5 * warped[0, 0] + 0.25 * warped[0, 1] + 0.25 * warped[0, 2],
        warped[1, 1]
    ])
    torch.testing.assert_close(out, expected)


def test_loss_is_keypoint_mse_against_key_frame_targets():
    head = _head()
    samples = make_data_samples(2)
    samples[1].gt_instance_labels.keypoint_weights[0, 3] = 0
    warped = torch.rand(2, 2, NUM_KEYPOINTS, H, W)
    weights = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    losses = head.loss((warped, weights), samples)
    target = torch.stack([s.gt_fields.heatmaps for s in samples])
    mask = torch.ones(2, NUM_KEYPOINTS, 1, 1)
    mask[1, 3] = 0
    expected = ((warped[:, 1] - target)**2 * mask).mean()
    torch.testing.assert_close(losses['loss_kpt'], expected)
    assert 0 <= float(losses['acc_pose']) <= 1


def test_predict_decodes_peaks():
    head = _head()
    peaks = [(k % W, (2 * k) % H) for k in range(NUM_KEYPOINTS)]
    warped = _peaked_heatmaps(2, 2, peaks)
    weights = torch.tensor([[0.5, 0.5], [1.0, 0.0]])
    preds = head.predict((warped, weights), make_data_samples(2))
    assert len(preds) == 2
    scale = CODEC['input_size'][0] / W
    expected = torch.tensor(peaks, dtype=torch.float32) * scale
    for pred in preds:
        assert pred.keypoints.shape == (1, NUM_KEYPOINTS, 2)
        torch.testing.assert_close(
            torch.as_tensor(pred.keypoints[0]), expected, rtol=0, atol=1.0)
        torch.testing.assert_close(
            torch.as_tensor(pred.keypoint_scores[0]),
            torch.ones(NUM_KEYPOINTS))


def test_flip_test_averages_flipped_heatmaps():
    head = _head()
    warped = torch.rand(1, 2, NUM_KEYPOINTS, H, W)
    warped_flip = torch.rand(1, 2, NUM_KEYPOINTS, H, W)
    weights = torch.tensor([[0.3, 0.7]])
    test_cfg = dict(flip_test=True, shift_heatmap=True, output_heatmaps=True)
    _, fields = head.predict([(warped, weights), (warped_flip, weights)],
                             make_data_samples(1),
                             test_cfg=test_cfg)
    expected = 0.5 * (
        head.forward((warped, weights)) + flip_heatmaps(
            head.forward((warped_flip, weights)),
            flip_indices=FLIP_INDICES,
            shift_heatmap=True))
    torch.testing.assert_close(fields[0].heatmaps, expected[0])


def test_optional_final_layer():
    head = _head(
        in_channels=17, out_channels=17, final_layer=dict(kernel_size=1))
    out = head.forward((torch.rand(2, 3, 17, H, W), torch.ones(2, 3)))
    assert out.shape == (2, 17, H, W)


@pytest.mark.parametrize('feats, error', [
    (torch.rand(2, 17, H, W), TypeError),
    ((torch.rand(2, 3, 17, H, W), ), TypeError),
    ((torch.rand(2, 17, H, W), torch.ones(2, 3)), ValueError),
    ((torch.rand(2, 3, 17, H, W), torch.ones(2, 2)), ValueError),
])
def test_invalid_feats(feats, error):
    with pytest.raises(error, match='TemporalAggregationHead'):
        _head().forward(feats)


def test_identity_head_needs_matching_channels():
    with pytest.raises(ValueError, match='identity'):
        _head(in_channels=48, out_channels=17)


def _loss_inputs():
    samples = make_data_samples(2)
    samples[1].gt_instance_labels.keypoint_weights[0, 3] = 0
    warped = torch.rand(2, 2, NUM_KEYPOINTS, H, W)
    weights = torch.tensor([[0.5, 0.5], [0.75, 0.25]])
    mask = torch.ones(2, NUM_KEYPOINTS, 1, 1)
    mask[1, 3] = 0
    return samples, (warped, weights), mask


@pytest.mark.parametrize('loss_weights', [
    None, dict(aggregate=1.0), dict(per_warp=0.0),
    dict(aggregate=1.0, per_warp=0.0)])
def test_default_loss_weights_are_heatmap_heads_loss_bit_for_bit(
        loss_weights):
    head = _head(loss_weights=loss_weights)
    samples, feats, _ = _loss_inputs()
    losses = head.loss(feats, samples)
    today = HeatmapHead.loss(head, feats, samples)
    assert set(losses) == set(today) == {'loss_kpt', 'acc_pose'}
    for key in today:
        assert torch.equal(losses[key], today[key]), key


def test_per_warp_loss_is_the_mean_of_each_warps_loss():
    head = _head(loss_weights=dict(aggregate=0.5, per_warp=2.0))
    samples, (warped, weights), mask = _loss_inputs()
    losses = head.loss((warped, weights), samples)
    assert set(losses) == {'loss_kpt', 'loss_kpt_per_warp', 'acc_pose'}
    target = torch.stack([s.gt_fields.heatmaps for s in samples])
    mean = (warped * weights[:, :, None, None, None]).sum(dim=1)
    torch.testing.assert_close(losses['loss_kpt'],
                               0.5 * ((mean - target)**2 * mask).mean())
    each = [((warped[:, t] - target)**2 * mask).mean() for t in (0, 1)]
    torch.testing.assert_close(losses['loss_kpt_per_warp'],
                               2.0 * (each[0] + each[1]) / 2)


def test_per_warp_loss_alone_trains_each_warp():
    head = _head(loss_weights=dict(aggregate=0.0, per_warp=1.0))
    samples, (warped, weights), _ = _loss_inputs()
    warped.requires_grad_(True)
    losses = head.loss((warped, weights), samples)
    assert float(losses['loss_kpt'].detach()) == 0
    losses['loss_kpt_per_warp'].backward()
    # each warp gets its own gradient, the hidden joint none
    assert warped.grad[:, 0].abs().sum() > 0
    assert warped.grad[:, 1].abs().sum() > 0
    assert warped.grad[1, :, 3].abs().sum() == 0


@pytest.mark.parametrize('loss_weights, match', [
    (dict(warp=1.0), 'unknown loss_weights'),
    (dict(per_warp=-1.0), 'per_warp must be a number >= 0'),
    (dict(aggregate=float('nan')), 'aggregate must be a number >= 0'),
    (dict(per_warp='1'), 'per_warp must be a number >= 0'),
    (dict(aggregate=0.0, per_warp=0.0), 'every loss weight is zero'),
])
def test_bad_loss_weights_are_named(loss_weights, match):
    with pytest.raises(ConfigError, match=match):
        _head(loss_weights=loss_weights)
