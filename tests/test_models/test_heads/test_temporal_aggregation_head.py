"""TemporalAggregationHead: weighted sum, loss, decoding, flip test."""
import pytest
import torch
from mmpose.models.utils.tta import flip_heatmaps

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
