"""tools/convert_checkpoint.py: official and mmpose 0.x layouts."""
import re
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner.checkpoint import load_checkpoint
from mmpose.models.necks import PoseWarperNeck

from posewarper_mm.errors import InputFileError
from tests.testing import load_tool
from tests.testing.models import (build, estimator_cfg, hrnet_cfg,
                                  make_data_samples, make_inputs, randomize_,
                                  small_neck_cfg, stage1_cfg)

_converter = load_tool('tools/convert_checkpoint.py')
convert_state_dict = _converter.convert_state_dict
detect_layout = _converter.detect_layout
load_strictly = _converter.load_strictly
REPO = Path(__file__).resolve().parents[2]
OFFICIAL_NUMBERED = re.compile(
    r'^neck\.(offset_layers|deform_conv_layers)\.(\d+)\.weight$')


def _official_name(key):
    """Our key -> name in facebookresearch/PoseWarper's pose_hrnet."""
    if key.startswith('backbone.'):
        return key[len('backbone.'):]
    if key.startswith('neck.trans_layer.'):
        return 'final_layer.' + key[len('neck.trans_layer.'):]
    if key.startswith('neck.offset_feats.'):
        return key[len('neck.'):]
    kind, index = OFFICIAL_NUMBERED.match(key).groups()
    prefix = 'offsets' if kind == 'offset_layers' else 'deform_conv'
    return f'{prefix}{int(index) + 1}.weight'


def _model(seed=3):
    model = build(estimator_cfg())
    randomize_(model, seed=seed, scale=0.05)
    return model


def _official_checkpoint(model):
    state = OrderedDict(('module.' + _official_name(key), value.clone())
                        for key, value in model.state_dict().items())
    return {'epoch': 19, 'model': 'pose_hrnet', 'state_dict': state}


def test_mmpose_hrnet_uses_the_official_hrnet_names():
    keys = set(build(hrnet_cfg()).state_dict())
    for name in [
            'conv1.weight', 'bn1.running_var', 'bn2.num_batches_tracked',
            'layer1.0.conv3.weight', 'layer1.0.downsample.1.running_mean',
            'transition1.0.0.weight', 'transition1.1.0.0.weight',
            'transition1.1.0.1.bias', 'transition3.3.0.0.weight',
            'stage2.0.branches.1.0.bn2.weight',
            'stage2.0.fuse_layers.0.1.0.weight',
            'stage2.0.fuse_layers.1.0.0.1.running_var',
            'stage3.0.fuse_layers.2.0.1.0.weight',
            'stage4.0.branches.3.0.conv2.weight',
            'stage4.0.fuse_layers.0.3.1.weight'
    ]:
        assert name in keys, name
    # stage 4 keeps only the high-resolution output, as in pose_hrnet
    assert not any(k.startswith('stage4.0.fuse_layers.1.') for k in keys)


def test_official_layout_is_lossless_and_loads_strictly():
    model = _model()
    checkpoint = _official_checkpoint(model)
    assert 'module.offsets2.weight' in checkpoint['state_dict']
    assert 'module.deform_conv1.weight' in checkpoint['state_dict']
    converted, layout = convert_state_dict(checkpoint, 'auto', 'off.pth')
    assert layout == 'official'
    expected = model.state_dict()
    assert list(converted) == list(expected)
    for key, value in expected.items():
        assert torch.equal(converted[key], value), key
    fresh = build(estimator_cfg())
    load_strictly(fresh, converted, 'off.pth')
    inputs = make_inputs(2, 3)
    samples = make_data_samples(2, [[0.5, 0.25, 0.25]] * 2)
    with torch.no_grad():
        assert torch.equal(fresh.eval()._forward(inputs, samples),
                           model.eval()._forward(inputs, samples))


def test_official_layout_without_bn_counters():
    model = _model()
    state = _official_checkpoint(model)['state_dict']
    for key in [k for k in state if k.endswith('num_batches_tracked')]:
        del state[key]
    converted, _ = convert_state_dict(state, 'official', 'off.pth')
    load_strictly(build(estimator_cfg()), converted, 'off.pth')


def _mmpose_reference(seed=5):
    hrnet = build(hrnet_cfg())
    neck_args = {k: v for k, v in small_neck_cfg().items() if k != 'type'}
    neck = PoseWarperNeck(**neck_args)
    randomize_(hrnet, seed=seed, scale=0.05)
    randomize_(neck, seed=seed + 1, scale=0.05)
    hrnet.eval()  # mmpose's HRNet.train() returns None
    neck.eval()
    return hrnet, neck


def test_mmpose0x_stage2_outputs_equal_mmpose_neck():
    hrnet, neck = _mmpose_reference()
    state = OrderedDict([('backbone.' + k, v)
                         for k, v in hrnet.state_dict().items()] +
                        [('neck.' + k, v)
                         for k, v in neck.state_dict().items()])
    converted, layout = convert_state_dict({
        'meta': {
            'mmcv_version': '1.7.0'
        },
        'state_dict': state
    })
    assert layout == 'mmpose0x-stage2'
    ours = build(estimator_cfg())
    load_strictly(ours, converted, 'mm0.pth')
    ours.eval()
    weights = [0.3, 0.1, 0.25, 0.25, 0.1]
    inputs = make_inputs(2, 5)
    frames = inputs.transpose(0, 1).flatten(0, 1)
    with torch.no_grad():
        # mmpose's neck selects in_index only from a list, not a tuple
        expected = neck([list(hrnet(frames))], weights)
        actual = ours._forward(inputs, make_data_samples(2, [weights] * 2))
    assert expected.abs().max() > 1e-3
    assert (actual - expected).abs().max() <= 1e-5


def test_mmpose0x_stage1_to_single_frame_and_warping_models():
    stage1 = build(stage1_cfg())
    randomize_(stage1, seed=8)
    state = OrderedDict((key.replace('head.', 'keypoint_head.', 1), value)
                        for key, value in stage1.state_dict().items())
    converted, layout = convert_state_dict(state, source='s1.pth')
    assert layout == 'mmpose0x-stage1'
    assert 'head.final_layer.weight' in converted
    load_strictly(build(stage1_cfg()), converted, 's1.pth')
    to_neck, _ = convert_state_dict(
        state,
        'mmpose0x-stage1',
        's1.pth',
        head_conv_target='neck.trans_layer')
    assert torch.equal(to_neck['neck.trans_layer.weight'],
                       stage1.head.final_layer.weight)
    with pytest.raises(
            InputFileError, match=r's1\.pth.*missing keys: neck\.deform_conv'):
        load_strictly(build(estimator_cfg()), to_neck, 's1.pth')


@pytest.mark.parametrize('state, layout, message', [
    ({
        'conv1.weight': torch.zeros(1),
        'extra.w': torch.zeros(1)
    }, 'official', r'bad\.pth.*not in the official.*extra\.w'),
    ({
        'foo.weight': torch.zeros(1)
    }, 'auto', r'bad\.pth.*cannot recognise'),
    ({
        'backbone.conv1.weight': torch.zeros(1)
    }, 'mmpose0x-stage2', r'bad\.pth.*not a stage-2'),
    ({
        'backbone.x': torch.zeros(1),
        'neck.offset_feats.0.w': torch.zeros(1)
    }, 'mmpose0x-stage1', r'bad\.pth.*stage-2 checkpoint'),
    ({
        'backbone.x': torch.zeros(1),
        'head2.w': torch.zeros(1)
    }, 'mmpose0x-stage1', r'bad\.pth.*head2\.w'),
    ({
        'conv1.weight': torch.zeros(1)
    }, 'caffe', r'bad\.pth.*unknown layout'),
    ({
        'meta': {
            'epoch': 1
        }
    }, 'auto', r'bad\.pth.*no state dict'),
])
def test_conversion_errors_name_file_and_keys(state, layout, message):
    with pytest.raises(InputFileError, match=message):
        convert_state_dict(state, layout, 'bad.pth')


def test_detect_layout():
    assert detect_layout({'stage2.0.x': 0}, 'f') == 'official'
    assert detect_layout({'backbone.x': 0}, 'f') == 'mmpose0x-stage1'


def test_tool_end_to_end(tmp_path):
    tool = load_tool('tools/convert_checkpoint.py')
    model = _model()
    src = tmp_path / 'official.pth'
    torch.save(_official_checkpoint(model), src)
    src_bytes = src.read_bytes()
    config = tmp_path / 'stage2.py'
    Config(
        dict(
            model=estimator_cfg(),
            custom_imports=dict(imports=['posewarper_mm']))).dump(config)
    dst = tmp_path / 'out' / 'converted.pth'
    assert tool.main(
        [str(src),
         str(dst), '--layout', 'official', '--config',
         str(config)]) == 0
    saved = torch.load(dst, map_location='cpu', weights_only=True)
    assert saved['meta']['source_layout'] == 'official'
    assert saved['meta']['strictly_loaded'] is True
    fresh = build(estimator_cfg())
    load_checkpoint(fresh, str(dst), map_location='cpu', strict=True)
    for key, value in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key

    with pytest.raises(SystemExit, match='--force'):
        tool.main([str(src), str(dst)])
    assert tool.main([str(src), str(dst), '--force']) == 0
    with pytest.raises(SystemExit, match='overwrite the source'):
        tool.main([str(src), str(src), '--force'])
    assert src.read_bytes() == src_bytes


def test_tool_reports_missing_keys(tmp_path):
    tool = load_tool('tools/convert_checkpoint.py')
    checkpoint = _official_checkpoint(_model())
    del checkpoint['state_dict']['module.offsets2.weight']
    src = tmp_path / 'partial.pth'
    torch.save(checkpoint, src)
    config = tmp_path / 'stage2.py'
    Config(dict(model=estimator_cfg())).dump(config)
    with pytest.raises(
            SystemExit, match=r'partial\.pth.*neck\.offset_layers\.1\.weight'):
        tool.main(
            [str(src),
             str(tmp_path / 'dst.pth'), '--config',
             str(config)])
    assert not (tmp_path / 'dst.pth').exists()


_CONVERT_UNDER_LIMIT = '''
import resource, signal, sys
from tests.testing import load_tool
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))
load_tool('tools/convert_checkpoint.py').main(sys.argv[1:])
'''


def test_a_failed_write_keeps_the_existing_file(tmp_path, repo_root):
    """A write that fails part-way (file-size limit, as a full disk) ends
    in one line, leaves ``dst`` as it was and no temporary file."""
    model = _model()
    src = tmp_path / 'official.pth'
    torch.save(_official_checkpoint(model), src)
    assert src.stat().st_size > 64 * 1024
    dst = tmp_path / 'out' / 'converted.pth'
    dst.parent.mkdir()
    dst.write_bytes(b'the earlier conversion')
    proc = subprocess.run(
        [sys.executable, '-c', _CONVERT_UNDER_LIMIT, str(src), str(dst),
         '--layout', 'official', '--force'],
        cwd=str(repo_root), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr[-3000:]
    error = proc.stderr.strip().splitlines()[-1]
    assert error == (f'{dst}: cannot write the converted checkpoint (File '
                     'too large); the existing file is kept'), error
    assert dst.read_bytes() == b'the earlier conversion'
    assert sorted(p.name for p in dst.parent.iterdir()) == ['converted.pth']
