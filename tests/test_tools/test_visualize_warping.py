"""tools/analysis/visualize_warping.py on a trained quickstart checkpoint
and a generated clip."""
import cv2
import numpy as np
import pytest
import torch

from posewarper_mm.apis import inference_posewarper, input_to_image
from posewarper_mm.engine import init_inference_model
from posewarper_mm.posetrack import load_json
from tests.testing import load_tool
from tests.testing.clips import TINY_CONFIG, clip_frames, save_tiny_checkpoint
from tests.testing.models import train_steps

KEY = 1  # supporting frames -1 and -2 are clamped to frame 0
TRACK = 0


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/analysis/visualize_warping.py')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """The quickstart stage-2 model after a few steps (the warp is no
    longer the identity), saved as a checkpoint."""
    from mmpose.apis import init_model
    torch.manual_seed(0)
    model = train_steps(init_model(TINY_CONFIG, None, device='cpu'), 3, 2)
    assert model.neck.offset_layers[0].weight.abs().max() > 0
    path = tmp_path_factory.mktemp('warping') / 'stage2.pth'
    return save_tiny_checkpoint(model, str(path))


@pytest.fixture(scope='module')
def clip(synthetic):
    """Frame files and GT file of the generated val video, and the GT
    person's xyxy box on the key frame."""
    gt_file = synthetic['video_ann_files']['val'][0]
    video = load_json(gt_file)
    image = video['images'][KEY]
    ann = next(a for a in video['annotations']
               if a['image_id'] == image['id'] and a['track_id'] == TRACK)
    x, y, w, h = ann['bbox']
    return clip_frames(synthetic), gt_file, np.array([x, y, x + w, y + h])


def test_figure_draws_what_the_model_computes(tool, checkpoint, clip,
                                              clip_dir, tmp_path):
    frames, gt_file, box = clip
    out = tmp_path / 'warping.png'
    titles = tool.main([
        TINY_CONFIG, checkpoint, clip_dir, '--key-frame',
        str(KEY), '--gt-json', gt_file, '--track-id',
        str(TRACK), '--joint', 'left_wrist', '--out',
        str(out)
    ])
    model = init_inference_model(TINY_CONFIG, checkpoint)
    dilations = model.neck.dilations
    # a row per window frame: heatmaps, one field per dilation, warped;
    # then the key frame and the aggregate
    num_frames = 5
    assert len(titles) == num_frames * (len(dilations) + 2) + 2
    rows = titles[:-2:len(dilations) + 2]
    assert [t.split(',')[0] for t in rows] == [
        'frame 0 (-2)', 'frame 0 (-1)', 'frame 1 (+0)', 'frame 2 (+1)',
        'frame 3 (+2)']
    assert sum(t.startswith(f'dilation {dilations[-1]}:')
               for t in titles) == num_frames
    assert titles[-2:] == ['key frame', 'aggregate, decoded']
    image = cv2.imread(str(out))
    assert image is not None and image.shape[0] > image.shape[1] > 300

    arrays = tool.warping_arrays(model, frames, KEY, box)
    assert arrays.frame_numbers.tolist() == [1, 0, 0, 2, 3]
    assert arrays.offsets.shape[:3] == (num_frames, len(dilations), 2)
    assert np.abs(arrays.offsets).max() > 0
    # the drawn aggregate is the weighted sum of the drawn warps ...
    summed = np.tensordot(arrays.weights, arrays.warped, axes=1)
    np.testing.assert_allclose(arrays.aggregate, summed, rtol=1e-5,
                               atol=1e-6 * np.abs(summed).max())
    # ... and the model's own heatmaps and keypoints for that crop
    model.test_cfg.update(flip_test=False, output_heatmaps=True)
    window = tool.config_window(model)
    sample = inference_posewarper(
        model, [frames[n] for n in arrays.frame_numbers], box[None],
        window.weights, window.offsets)[0]
    ref = sample.pred_fields.heatmaps.numpy()
    assert not np.allclose(arrays.warped[1], arrays.heatmaps[1])
    np.testing.assert_allclose(arrays.aggregate, ref, rtol=1e-5,
                               atol=1e-6 * np.abs(ref).max())
    keypoints = input_to_image(arrays.keypoints, arrays.center, arrays.scale,
                               arrays.input_size)
    np.testing.assert_allclose(keypoints, sample.pred_instances.keypoints[0],
                               atol=1e-3)


def test_bad_person_and_key_frame_are_one_line_errors(tool, checkpoint, clip,
                                                      clip_dir, tmp_path,
                                                      capsys):
    _, gt_file, _ = clip
    common = [TINY_CONFIG, checkpoint, clip_dir, '--out',
              str(tmp_path / 'x.png')]
    assert tool.cli(common + ['--key-frame', '1', '--gt-json', gt_file,
                              '--track-id', '7']) == 1
    err = capsys.readouterr().err.strip()
    assert err.count('\n') == 0 and gt_file in err and '"track_id" 7' in err
    box = ['--bbox', '1', '2', '3', '4']
    assert tool.cli(common + ['--key-frame', '1', *box, '--weights', '1']) == 1
    assert 'frame weights [1.0] without offsets' in capsys.readouterr().err
    with pytest.raises(SystemExit, match='--key-frame 10 is not in the 10'):
        tool.main(common + ['--key-frame', '10', *box])
    assert not (tmp_path / 'x.png').exists()
