"""PoseWarperEstimator on CPU with a tiny HRNet."""
import numpy as np
import pytest
import torch
from mmpose.models.heads import HeatmapHead
from mmpose.models.losses import KeypointMSELoss
from mmpose.models.utils.tta import flip_heatmaps
from mmpose.registry import KEYPOINT_CODECS

from posewarper_mm.models.pose_estimators.posewarper_estimator import \
    frame_major_crops
from tests.testing.models import (CODEC, build, estimator_cfg,
                                  make_data_samples, make_inputs, randomize_)

TEST_WEIGHTS = (0.3, 0.1, 0.25, 0.25, 0.1)
WARPING = ('neck.offset_feats.', 'neck.offset_layers.',
           'neck.deform_conv_layers.')


def _model(seed=0, **kwargs):
    model = build(estimator_cfg(**kwargs))
    randomize_(model.neck, seed=seed, scale=0.05)
    return model


def _spy_frame_slots(model):
    calls = []
    warp_frames = model.neck.warp_frames

    def spy(heatmaps, num_frames, frame_slots=None, chunk_size=None):
        calls.append(list(frame_slots))
        return warp_frames(heatmaps, num_frames, frame_slots, chunk_size)

    model.neck.warp_frames = spy
    return calls


def test_loss_two_frames_warps_only_the_supporting_frame():
    model = _model().train()
    calls = _spy_frame_slots(model)
    inputs = make_inputs(2, 2)
    samples = make_data_samples(2, [[0.0, 1.0]] * 2)
    losses = model.loss(inputs, samples)
    assert calls == [[1]]
    assert set(losses) == {'loss_kpt', 'acc_pose'}
    # the same computation by hand: warp frame 1 onto frame 0
    frames = inputs.transpose(0, 1).flatten(0, 1)
    heatmaps = model.neck.heatmaps(model.backbone(frames))
    key, support = heatmaps[:2], heatmaps[2:]
    warped = model.neck.warp(support, key - support)
    target = torch.stack([s.gt_fields.heatmaps for s in samples])
    expected = KeypointMSELoss(use_target_weight=True)(warped, target,
                                                       torch.ones(2, 17))
    torch.testing.assert_close(losses['loss_kpt'], expected)


def test_default_loss_is_the_aggregate_loss_bit_for_bit():
    """The head's default loss weights give the estimator the loss on the
    aggregate alone, as before the per-warp option, to the last bit; a
    per-warp weight adds the mean of each warp's loss."""
    model = _model().train()
    inputs = make_inputs(2, 3)
    samples = make_data_samples(2, [[0.0, 0.5, 0.5]] * 2)
    losses = model.loss(inputs, samples)
    feats = model.extract_feat(model._prepare(inputs, samples))
    today = HeatmapHead.loss(model.head, feats, samples)
    assert set(losses) == set(today) == {'loss_kpt', 'acc_pose'}
    for key in today:
        assert torch.equal(losses[key], today[key]), key

    per_warp = _model(head=dict(
        type='TemporalAggregationHead', decoder=CODEC,
        loss_weights=dict(per_warp=1.0))).train()
    per_warp.load_state_dict(model.state_dict())
    both = per_warp.loss(inputs, samples)
    assert torch.equal(both['loss_kpt'], losses['loss_kpt'])
    target = torch.stack([s.gt_fields.heatmaps for s in samples])
    warped = feats[0]
    expected = sum(((warped[:, t] - target)**2).mean() for t in (0, 1)) / 2
    torch.testing.assert_close(both['loss_kpt_per_warp'], expected)


def _grad_names(model):
    return {
        name
        for name, param in model.named_parameters()
        if param.grad is not None and param.grad.abs().sum() > 0
    }


def test_stage2_only_warping_parameters_get_gradients():
    model = _model().train()
    losses = model.loss(make_inputs(2, 2), make_data_samples(2, [[0, 1]] * 2))
    losses['loss_kpt'].backward()
    names = [name for name, _ in model.named_parameters()]
    warping = {name for name in names if name.startswith(WARPING)}
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert warping and trainable == warping
    assert _grad_names(model) == warping
    assert all(p.grad is None for n, p in model.named_parameters()
               if n not in warping)


def test_without_freezing_every_parameter_gets_a_gradient():
    model = _model(stage2=False).train()
    losses = model.loss(
        make_inputs(2, 3), make_data_samples(2, [[0.2, 0.5, 0.3]] * 2))
    losses['loss_kpt'].backward()
    names = {name for name, _ in model.named_parameters()}
    assert any(name.startswith('backbone.stage4') for name in names)
    missing = names - _grad_names(model)
    assert not missing, sorted(missing)


def _decode_to_image(heatmap, sample):
    codec = KEYPOINT_CODECS.build(CODEC)
    keypoints, scores = codec.decode(heatmap.numpy())
    meta = sample.metainfo
    keypoints = keypoints / np.array(meta['input_size']) * \
        meta['input_scale'] + meta['input_center'] - 0.5 * meta['input_scale']
    return keypoints, scores


def test_predict_five_frames_in_image_coordinates():
    model = _model().eval()
    inputs = make_inputs(2, 5)
    samples = make_data_samples(2, [TEST_WEIGHTS] * 2)
    with torch.no_grad():
        heatmaps = model._forward(inputs, samples)
        frames = inputs.transpose(0, 1).flatten(0, 1)
        warped = model.neck(model.backbone(frames), 5).unflatten(0, (5, 2))
        results = model.predict(inputs, samples)
    manual = sum(w * warped[t] for t, w in enumerate(TEST_WEIGHTS))
    torch.testing.assert_close(heatmaps, manual, rtol=1e-5, atol=1e-6)
    assert len(results) == 2
    for idx, result in enumerate(results):
        pred = result.pred_instances
        assert pred.keypoints.shape == (1, 17, 2)
        keypoints, scores = _decode_to_image(heatmaps[idx], result)
        np.testing.assert_allclose(pred.keypoints, keypoints, atol=1e-3)
        np.testing.assert_allclose(pred.keypoint_scores, scores, atol=1e-5)
        assert np.array_equal(pred.bboxes, samples[idx].gt_instances.bboxes)


def test_single_frame_inputs_without_weights():
    model = _model().eval()
    inputs = make_inputs(2, 1)
    with torch.no_grad():
        four_d = model._forward(inputs[:, 0], make_data_samples(2))
        five_d = model._forward(inputs, make_data_samples(2))
        tensor_mode = model(inputs[:, 0], None, mode='tensor')
        results = model.predict(inputs[:, 0], make_data_samples(2))
    assert torch.equal(four_d, five_d) and torch.equal(four_d, tensor_mode)
    assert results[0].pred_instances.keypoints.shape == (1, 17, 2)
    # the key frame with weight 1 alone == a one-hot weighting of 5 frames
    many = make_inputs(2, 5)
    many[:, 0] = inputs[:, 0]
    with torch.no_grad():
        one_hot = model._forward(many,
                                 make_data_samples(2, [[1, 0, 0, 0, 0]] * 2))
    torch.testing.assert_close(one_hot, four_d, rtol=1e-5, atol=1e-6)


def test_per_sample_frame_weights():
    model = _model().eval()
    inputs = make_inputs(2, 2)
    with torch.no_grad():
        mixed = model._forward(inputs,
                               make_data_samples(2, [[1, 0], [0.25, 0.75]]))
        key_only = model._forward(inputs, make_data_samples(2, [[1, 0]] * 2))
        blend = model._forward(inputs,
                               make_data_samples(2, [[0.25, 0.75]] * 2))
    torch.testing.assert_close(mixed[0], key_only[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(mixed[1], blend[1], rtol=1e-5, atol=1e-6)
    assert not torch.allclose(key_only[1], blend[1])


def test_flip_test_flips_every_frame():
    cfg_test = dict(flip_test=True, shift_heatmap=True, output_heatmaps=True)
    model = _model(test_cfg=cfg_test).eval()
    inputs = make_inputs(1, 3)
    samples = make_data_samples(1, [[0.5, 0.25, 0.25]])
    with torch.no_grad():
        results = model.predict(inputs, samples)
        plain = model._forward(inputs, samples)
        flipped = model._forward(inputs.flip(-1), samples)
    expected = 0.5 * (
        plain + flip_heatmaps(
            flipped,
            flip_indices=samples[0].metainfo['flip_indices'],
            shift_heatmap=True))
    torch.testing.assert_close(results[0].pred_fields.heatmaps, expected[0])


def test_test_step_with_uint8_frames_and_mixed_t_error():
    model = _model().eval()
    frames = [
        torch.randint(0, 256, (5, 3, 64, 32), dtype=torch.uint8)
        for _ in range(2)
    ]
    results = model.test_step(
        dict(
            inputs=frames,
            data_samples=make_data_samples(2, [TEST_WEIGHTS] * 2)))
    assert len(results) == 2
    mixed = [frames[0], frames[1][:2]]
    with pytest.raises(ValueError, match='same number of frames'):
        model.test_step(dict(inputs=mixed, data_samples=make_data_samples(2)))


def test_tensor_mode_with_several_frames_uses_sample_weights():
    """``model(inputs, data_samples, mode='tensor')``, as mmengine calls it,
    returns the aggregated heatmaps with each sample's frame weights."""
    model = _model().eval()
    inputs = make_inputs(2, 5)
    samples = make_data_samples(2, [TEST_WEIGHTS] * 2)
    key_only = make_data_samples(2, [[1, 0, 0, 0, 0]] * 2)
    with torch.no_grad():
        direct = model._forward(inputs, samples)
        tensor_mode = model(inputs, samples, mode='tensor')
        from_list = model(list(inputs), samples, mode='tensor')
        key_mode = model(inputs, key_only, mode='tensor')
        key_alone = model(inputs[:, 0], None, mode='tensor')
    assert tensor_mode.shape == direct.shape
    assert tensor_mode.shape[:2] == (2, 17)
    assert torch.equal(tensor_mode, direct)
    assert torch.equal(from_list, direct)
    # the weights are read from the samples: key-frame-only weights give
    # the single-frame (T=1) result, not the 5-frame blend
    torch.testing.assert_close(key_mode, key_alone, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(key_mode, tensor_mode, atol=1e-4)


@pytest.mark.parametrize('samples', [None, []])
def test_tensor_mode_several_frames_without_weights_says_so(samples):
    model = _model().eval()
    with pytest.raises(
            ValueError,
            match="tensor mode on 5 frames needs the frame "
            "weights.*'frame_weights'"):
        model(make_inputs(2, 5), samples, mode='tensor')


@pytest.mark.parametrize('weights, message', [
    (None, "no 'frame_weights'"),
    ([[1.0, 0.0, 0.0]] * 2, '3 frame weights for 2 frames'),
    ([[0.0, 0.0]] * 2, 'every frame weight is zero'),
])
def test_bad_frame_weights(weights, message):
    model = _model().eval()
    with pytest.raises(ValueError, match=message):
        model._forward(make_inputs(2, 2), make_data_samples(2, weights))


def test_bad_inputs_and_configs():
    model = _model()
    with pytest.raises(ValueError, match='inputs must be'):
        model._forward(torch.zeros(1, 1, 1, 3, 64, 32))
    with pytest.raises(ValueError, match='backbone_bn_mode'):
        build(estimator_cfg(backbone_bn_mode='eval'))
    no_neck = estimator_cfg()
    no_neck['neck'] = None
    with pytest.raises(ValueError, match='neck'):
        build(no_neck)


def _backbone_bns(model):
    return [
        m for m in model.backbone.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
    ]


@pytest.mark.parametrize('mode', ['frozen', 'train'])
def test_backbone_bn_mode(mode):
    model = _model(backbone_bn_mode=mode).train()
    assert all(m.training == (mode == 'train') for m in _backbone_bns(model))
    assert not any(p.requires_grad for p in model.backbone.parameters())
    stats = [m.running_mean.clone() for m in _backbone_bns(model)]
    model.loss(make_inputs(2, 2),
               make_data_samples(2, [[0, 1]] * 2))['loss_kpt'].backward()
    changed = [
        not torch.equal(m.running_mean, before)
        for m, before in zip(_backbone_bns(model), stats)
    ]
    assert all(changed) if mode == 'train' else not any(changed)
    assert all(p.grad is None for p in model.backbone.parameters())
    model.eval()
    assert not any(m.training for m in _backbone_bns(model))


def test_each_entry_point_prepares_the_batch_once(monkeypatch):
    """loss, predict (also with flip test) and tensor mode reshape the
    frames and read the weights once per call."""
    model = _model(test_cfg=dict(flip_test=True, shift_heatmap=True))
    calls = []
    prepare = model._prepare

    def spy(inputs, data_samples=None):
        calls.append(tuple(inputs.shape))
        return prepare(inputs, data_samples)

    monkeypatch.setattr(model, '_prepare', spy)
    inputs = make_inputs(2, 3)
    samples = make_data_samples(2, [[0.5, 0.25, 0.25]] * 2)
    model.train().loss(inputs, samples)
    model.eval()
    with torch.no_grad():
        model.predict(inputs, samples)
        model(inputs, samples, mode='tensor')
    assert calls == [(2, 3, 3, 64, 32)] * 3


def test_extract_feat_takes_prepared_frames_or_a_single_frame_tensor():
    model = _model().eval()
    inputs = make_inputs(2, 1)
    batch = model._prepare(inputs, make_data_samples(2))
    assert batch.frames.shape == (2, 1, 3, 64, 32)
    assert not batch.flip
    assert (batch.batch_size, batch.num_frames) == (2, 1)
    assert torch.equal(batch.weights, torch.ones(2, 1))
    with torch.no_grad():
        prepared = model.extract_feat(batch)
        bare = model.extract_feat(inputs[:, 0])
    assert torch.equal(prepared[0], bare[0])
    assert torch.equal(prepared[1], bare[1])
    many = make_inputs(2, 3)
    batch = model._prepare(many, make_data_samples(2, [[1, 0, 0]] * 2))
    assert batch.frames is many  # kept as given, not copied
    assert torch.equal(frame_major_crops(batch.frames, 2, 4), many[:, 1])
    with pytest.raises(ValueError, match='no .frame_weights'):
        model.extract_feat(many)
    zero = make_data_samples(2, [[0, 0, 0]] * 2)
    with pytest.raises(ValueError, match='every frame weight is zero'):
        model.extract_feat(model._prepare(many, zero))


def test_frame_and_propagated_heatmaps():
    """Per-frame heatmaps and the reversed warp used by pose propagation:
    ``source`` moves along ``target - key``."""
    model = _model().eval()
    inputs = make_inputs(2, 2)
    source = torch.rand(2, 17, 16, 8)
    with torch.no_grad():
        maps = model.frame_heatmaps(inputs)
        frames = inputs.transpose(0, 1).flatten(0, 1)
        expected = model.neck.heatmaps(model.backbone(frames))
        warped = model.propagate_heatmaps(inputs, source)
        by_hand = model.neck.warp(source, maps[1] - maps[0])
    assert maps.shape == (2, 2, 17, 16, 8)
    assert torch.equal(maps.flatten(0, 1), expected)
    assert torch.equal(warped, by_hand)
    assert not torch.allclose(warped, source)
    with pytest.raises(ValueError, match='key and a target frame'):
        model.propagate_heatmaps(make_inputs(2, 3), source)
    with pytest.raises(ValueError, match='do not match the model heatmaps'):
        model.propagate_heatmaps(inputs, source[..., :4])


def _batch_sizes(module):
    """Record the batch size of every forward call of ``module``."""
    sizes = []
    module.register_forward_pre_hook(
        lambda mod, args: sizes.append(int(args[0].size(0))))
    return sizes


@pytest.mark.parametrize('chunk', [1, 2, 4])
def test_max_crops_per_pass_bounds_every_pass_and_keeps_outputs(chunk):
    """Chunked inference: no backbone pass or offset-branch call sees more
    than ``max_crops_per_pass`` crops, and the heatmaps equal the one-pass
    ones (2 persons x 5 frames, key frame with cached offsets)."""
    whole = _model().eval()
    chunked = _model(test_cfg=dict(max_crops_per_pass=chunk)).eval()
    chunked.load_state_dict(whole.state_dict())
    backbone_sizes = _batch_sizes(chunked.backbone)
    branch_sizes = _batch_sizes(chunked.neck.offset_feats)
    inputs = make_inputs(2, 5)
    samples = make_data_samples(2, [list(TEST_WEIGHTS)] * 2)
    with torch.no_grad():
        expected = whole(inputs, samples, mode='tensor')
        out = chunked(inputs, samples, mode='tensor')
    assert max(backbone_sizes) == min(chunk, 10)
    assert sum(backbone_sizes) == 10
    # the key frame's offsets are cached; 4 supporting frames x 2 persons
    # go through the offset branch (plus the cache's one zero difference)
    assert max(branch_sizes) <= chunk
    assert sum(branch_sizes) == 8 + 1
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-6)


def _shares_memory(part, whole):
    start = whole.untyped_storage().data_ptr()
    end = start + whole.untyped_storage().nbytes()
    return start <= part.untyped_storage().data_ptr() < end


@pytest.mark.parametrize('channels_last', [False, True])
def test_frame_major_crops_copy_at_most_their_own_range(channels_last):
    """A pass reads its crops frame-major without a frame-major copy of the
    whole batch: a range inside one frame is a view, a longer range is
    copied alone; all crops at once equal transpose + flatten."""
    frames = torch.randn(3, 4, 3, 8, 6)  # B=3, T=4
    if channels_last:  # the preprocessor's layout: frame-major NHWC
        frames = frames.permute(1, 0, 3, 4,
                                2).contiguous().permute(1, 0, 4, 2, 3)
    every = frames.transpose(0, 1).flatten(0, 1)
    assert torch.equal(frame_major_crops(frames), every)
    for start, end in [(0, 3), (4, 6), (2, 7), (5, 12), (11, 12)]:
        crops = frame_major_crops(frames, start, end)
        assert torch.equal(crops, every[start:end]), (start, end)
        one_frame = start // 3 == (end - 1) // 3
        assert _shares_memory(crops, frames) == one_frame, (start, end)
        if channels_last:
            assert crops.is_contiguous(memory_format=torch.channels_last)
    for start, end in [(-1, 2), (3, 3), (0, 13)]:
        with pytest.raises(ValueError, match='not within the 12 crops'):
            frame_major_crops(frames, start, end)


@pytest.mark.parametrize('chunk', [None, 3])
def test_flip_test_flips_each_pass_alone(chunk):
    """Flip test mirrors the crops pass by pass: the same heatmaps as the
    model on mirrored inputs, with or without passes."""
    cfg_test = dict(flip_test=True, max_crops_per_pass=chunk)
    model = _model(test_cfg=cfg_test).eval()
    inputs = make_inputs(2, 3)
    samples = make_data_samples(2, [[0.5, 0.25, 0.25]] * 2)
    batch = model._prepare(inputs, samples)
    with torch.no_grad():
        mirrored = model.extract_feat(batch._replace(flip=True))
        by_hand = model.extract_feat(model._prepare(inputs.flip(-1), samples))
    torch.testing.assert_close(mirrored[0], by_hand[0], rtol=0, atol=1e-6)


def test_max_crops_per_pass_is_ignored_in_training_and_checked():
    model = _model(test_cfg=dict(max_crops_per_pass=1)).train()
    assert model.crops_per_pass() is None
    assert model.eval().crops_per_pass() == 1
    for bad in (0, 2.0, True, '4'):
        with pytest.raises(ValueError, match='max_crops_per_pass'):
            _model(test_cfg=dict(max_crops_per_pass=bad))


def test_channels_last_frames_give_the_same_predictions_and_gradients():
    """The preprocessor's channels-last frames change the layout the
    convolutions run in, not the model's outputs (float rounding aside)."""
    model = _model(
        stage2=False, test_cfg=dict(flip_test=True, output_heatmaps=True))
    frames = [
        torch.randint(
            0,
            256, (5, 3, 64, 32),
            dtype=torch.uint8,
            generator=torch.Generator().manual_seed(seed)) for seed in range(2)
    ]
    state = {k: v.clone() for k, v in model.state_dict().items()}

    def run(channels_last):
        # each run from the same weights and BN statistics (a training
        # forward updates the latter)
        model.load_state_dict(state)
        model.data_preprocessor.channels_last = channels_last
        model.eval()
        batch = dict(
            inputs=frames,
            data_samples=make_data_samples(2, [TEST_WEIGHTS] * 2))
        heatmaps = torch.stack(
            [result.pred_fields.heatmaps for result in model.test_step(batch)])
        model.train()
        model.zero_grad()
        batch = dict(
            inputs=[f[:2] for f in frames],
            data_samples=make_data_samples(2, [[0.0, 1.0]] * 2))
        data = model.data_preprocessor(batch, training=True)
        model.loss(**data)['loss_kpt'].backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters()}
        return data['inputs'], heatmaps, grads

    plain_inputs, plain, plain_grads = run(False)
    nhwc_inputs, nhwc, nhwc_grads = run(True)
    # (B, T, 3, H, W): the channels are the innermost axis in memory
    assert nhwc_inputs.stride(2) == 1 and plain_inputs.stride(2) != 1
    torch.testing.assert_close(nhwc, plain, rtol=1e-4, atol=1e-5)
    assert plain_grads.keys() == nhwc_grads.keys()
    for name, grad in plain_grads.items():
        torch.testing.assert_close(
            nhwc_grads[name], grad, rtol=1e-3, atol=1e-6, msg=name)
