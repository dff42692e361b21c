"""MultiFramePoseDataPreprocessor: per-frame colour and normalisation."""
import pytest
import torch
from mmengine.dataset import default_collate, pseudo_collate
from mmpose.structures import PoseDataSample

from tests.testing.models import MEAN, STD, build


def _preprocessor(**kwargs):
    cfg = dict(
        type='MultiFramePoseDataPreprocessor',
        mean=MEAN,
        std=STD,
        bgr_to_rgb=True)
    cfg.update(kwargs)
    return build(cfg)


def _frames(num_frames, height=6, width=4, seed=0):
    """Random uint8 BGR frames (T, 3, H, W)."""
    gen = torch.Generator().manual_seed(seed)
    frames = torch.randint(
        0,
        256, (num_frames, 3, height, width),
        generator=gen,
        dtype=torch.uint8)
    return frames


def _batch(samples):
    return dict(
        inputs=samples,
        data_samples=[PoseDataSample() for _ in range(len(samples))])


def test_per_frame_bgr_to_rgb_and_normalisation():
    samples = [_frames(5, seed=1), _frames(5, seed=2)]
    out = _preprocessor()(_batch(samples))
    inputs = out['inputs']
    assert inputs.shape == (2, 5, 3, 6, 4)
    assert inputs.dtype == torch.float32
    mean = torch.tensor(MEAN).view(3, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1)
    for b, sample in enumerate(samples):
        for t in range(5):  # frame t stays at t, channels reversed
            rgb = sample[t].flip(0).float()
            torch.testing.assert_close(inputs[b, t], (rgb - mean) / std)


def test_known_pixel_values():
    frame = torch.zeros(1, 3, 2, 2, dtype=torch.uint8)
    frame[0, 0] = 255  # blue channel of BGR
    inputs = _preprocessor()(_batch([frame]))['inputs']
    # after conversion blue is channel 2 (mean 103.53, std 57.375)
    torch.testing.assert_close(inputs[0, 0, 2],
                               torch.full((2, 2), (255 - 103.53) / 57.375))
    torch.testing.assert_close(inputs[0, 0, 0],
                               torch.full((2, 2), -123.675 / 58.395))


def test_frames_are_not_reordered():
    frames = torch.stack([
        torch.full((3, 2, 2), value, dtype=torch.uint8)
        for value in (10, 20, 30)
    ])
    inputs = _preprocessor(
        mean=None, std=None, bgr_to_rgb=False)(_batch([frames]))['inputs']
    assert inputs[0, :, 0, 0, 0].tolist() == [10.0, 20.0, 30.0]


def test_single_image_counts_as_one_frame():
    image = _frames(1)[0]
    out = _preprocessor()(_batch([image, image.clone()]))
    assert out['inputs'].shape == (2, 1, 3, 6, 4)
    multi = _preprocessor()(_batch([image[None], image[None]]))
    assert torch.equal(out['inputs'], multi['inputs'])


def test_stacked_tensor_input():
    frames = torch.stack([_frames(2, seed=3), _frames(2, seed=4)])
    stacked = _preprocessor()(_batch(frames))
    listed = _preprocessor()(_batch(list(frames)))
    assert torch.equal(stacked['inputs'], listed['inputs'])


def test_mixed_frame_counts_raise():
    with pytest.raises(ValueError, match=r'same number of frames T.*\[5, 2'):
        _preprocessor()(_batch([_frames(5), _frames(2)]))


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match='expected'):
        _preprocessor()(_batch([torch.zeros(2, 2, 3, 4, 4)]))
    with pytest.raises(ValueError, match='3 channels'):
        _preprocessor()(_batch([torch.zeros(2, 4, 4, 4, dtype=torch.uint8)]))


def test_metainfo_and_padding():
    samples = [_frames(2, height=6, width=4), _frames(2, height=5, width=3)]
    out = _preprocessor(pad_size_divisor=4)(_batch(samples))
    assert out['inputs'].shape == (2, 2, 3, 8, 4)
    metas = [sample.metainfo for sample in out['data_samples']]
    assert metas[0]['batch_input_shape'] == (8, 4)
    assert metas[0]['pad_shape'] == (8, 4)
    assert metas[1]['pad_shape'] == (8, 4)
    assert torch.all(out['inputs'][1, :, :, 5:] == 0)


def test_single_frame_output_for_single_frame_models():
    samples = [_frames(1, seed=3), _frames(1, seed=4)]
    multi = _preprocessor()(_batch(samples))['inputs']
    single = _preprocessor(single_frame_output=True)(_batch(samples))
    assert single['inputs'].shape == (2, 3, 6, 4)
    assert torch.equal(single['inputs'], multi[:, 0])
    with pytest.raises(ValueError, match='T=2 frames'):
        _preprocessor(single_frame_output=True)(
            _batch([_frames(2), _frames(2)]))


def test_padded_batch_normalises_each_sample_as_alone():
    samples = [_frames(2, height=6, width=4), _frames(2, height=5, width=3)]
    padded = _preprocessor(pad_size_divisor=4)(_batch(samples))['inputs']
    for b, sample in enumerate(samples):
        alone = _preprocessor()(_batch([sample]))['inputs'][0]
        height, width = sample.shape[-2:]
        assert torch.equal(padded[b, :, :, :height, :width], alone)


def test_loader_batches_collated_either_way_give_the_same_inputs():
    items = [
        dict(inputs=_frames(3, seed=seed), data_samples=PoseDataSample())
        for seed in (5, 6)
    ]
    stacked = default_collate(items)
    assert isinstance(stacked['inputs'], torch.Tensor)
    listed = pseudo_collate(items)
    assert torch.equal(_preprocessor()(stacked)['inputs'],
                       _preprocessor()(listed)['inputs'])


def test_cpu_model_passes_the_data_samples_through():
    batch = _batch([_frames(1), _frames(1, seed=1)])
    samples = list(batch['data_samples'])
    out = _preprocessor()(batch)
    assert all(a is b for a, b in zip(out['data_samples'], samples))
    assert out['data_samples'][0].metainfo['batch_input_shape'] == (6, 4)


@pytest.mark.parametrize('num_frames, single', [(1, True), (5, False)])
def test_channels_last_keeps_the_values_and_stores_frames_nhwc(
        num_frames, single):
    samples = [_frames(num_frames, seed=seed) for seed in (7, 8)]
    kwargs = dict(single_frame_output=single)
    plain = _preprocessor(**kwargs)(_batch(samples))['inputs']
    nhwc = _preprocessor(
        channels_last=True, **kwargs)(_batch(samples))['inputs']
    assert nhwc.shape == plain.shape
    assert torch.equal(nhwc, plain)
    assert not plain.is_contiguous(memory_format=torch.channels_last)
    # the estimator's frame-major (T*B, 3, H, W) view: NHWC, no copy
    frames = nhwc if single else nhwc.transpose(0, 1).flatten(0, 1)
    assert frames.data_ptr() == nhwc.data_ptr()
    assert frames.stride(1) == 1
    assert frames.is_contiguous(memory_format=torch.channels_last)
