"""ONNX export (tools/deployment/pytorch2onnx.py, apis.deployment) and the
onnxruntime backend of the video demo."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmpose.apis import init_model

from posewarper_mm.apis.deployment import (OnnxPoseModel, export_onnx,
                                           onnx_session, reference_heatmaps)
from posewarper_mm.errors import ConfigError
from tests.testing import load_tool
from tests.testing.clips import REPO_ROOT, TINY_CONFIG
from tests.testing.models import train_steps
from tests.testing.tiny_quickstart import STAGE1_CFG

pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')

TOLERANCE = 1e-4  # largest difference / largest heatmap value
KEYPOINT_TOLERANCE = 1.0  # pixels, the demo's --backend onnxruntime


@pytest.fixture(scope='module')
def models():
    """The quickstart configs' models: initial and trained weights."""
    torch.manual_seed(0)
    out = {}
    for name, config, frames in (('stage1', STAGE1_CFG, 1),
                                 ('stage2', TINY_CONFIG, 2)):
        out[f'{name} initial'] = init_model(config, None, device='cpu')
        out[f'{name} trained'] = train_steps(
            init_model(config, None, device='cpu'), 5, frames)
    offsets = out['stage2 trained'].neck.offset_layers[0].weight
    assert offsets.abs().max() > 0  # the warp is no longer the identity
    return out


@pytest.mark.parametrize('deform_op', ['pytorch', 'onnx'])
@pytest.mark.parametrize('name', ['stage1 initial', 'stage1 trained',
                                  'stage2 initial', 'stage2 trained'])
def test_export_equals_pytorch_with_a_dynamic_batch(models, name, deform_op,
                                                    tmp_path):
    model = models[name]
    path = str(tmp_path / 'model.onnx')
    info = export_onnx(model, path, deform_op)
    assert info['frames'][:2] == [-1, 1 if 'stage1' in name else 5]
    session = onnx_session(path, threads=1)
    for batch in (1, 3):
        frames = torch.randn(batch, *info['frames'][1:])
        ref = reference_heatmaps(model, frames).numpy()
        out = session.run(None, {'frames': frames.numpy()})[0]
        assert out.shape == ref.shape == (batch, 17, 24, 16)
        assert np.abs(out - ref).max() <= TOLERANCE * np.abs(ref).max()


def test_tool_verifies_and_reports(models, tmp_path, capsys):
    """The trained stage-2 checkpoint (plain-PyTorch backend in training)
    exports through both deform ops and passes --verify."""
    tool = load_tool('tools/deployment/pytorch2onnx.py')
    checkpoint = str(tmp_path / 'stage2.pth')
    model = models['stage2 trained']
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=model.dataset_meta)), checkpoint)
    for op, opset in (('pytorch', 16), ('onnx', 19)):
        out = str(tmp_path / f'{op}.onnx')
        assert tool.main([TINY_CONFIG, checkpoint, '--out', out, '--verify',
                          '--deform-op', op, '--batch', '3']) == 0
        printed = capsys.readouterr().out
        assert f'deform op {op}, opset {opset}' in printed
        assert 'max rel diff' in printed and ': ok' in printed


@pytest.mark.parametrize('deform_op, opset, message', [
    ('mmcv', None, "use 'pytorch' or 'onnx'"),
    ('torchvision', None, "use 'pytorch' or 'onnx'"),
    ('pytorch', 13, 'needs opset >= 16'),
    ('onnx', 17, 'needs opset >= 19'),
])
def test_unsupported_exports_name_the_fix(models, deform_op, opset, message,
                                          tmp_path):
    with pytest.raises(ConfigError, match=message):
        export_onnx(models['stage2 initial'], str(tmp_path / 'x.onnx'),
                    deform_op, opset)


def test_the_plugin_imports_without_onnx():
    """posewarper_mm and its apis import neither onnx nor onnxruntime."""
    code = ('import sys, posewarper_mm, posewarper_mm.apis, '
            'posewarper_mm.apis.deployment; '
            'print(sorted(m for m in sys.modules if m.startswith("onnx")))')
    proc = subprocess.run([sys.executable, '-c', code], cwd=str(REPO_ROOT),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == '[]'


def test_demo_runs_the_exported_model(models, clip_dir, tmp_path):
    """End to end on a clip: the demo's onnxruntime backend gives the
    PyTorch keypoints within the stated tolerance; a window other than the
    exported one is a one-line error."""
    video_demo = load_tool('demo/posewarper_video_demo.py')
    model = models['stage2 trained']
    checkpoint = str(tmp_path / 'stage2.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=model.dataset_meta)), checkpoint)
    onnx_file = str(tmp_path / 'stage2.onnx')
    export_onnx(model, onnx_file, 'pytorch')
    results = {}
    for backend, weights in (('pytorch', checkpoint),
                             ('onnxruntime', onnx_file)):
        out = tmp_path / backend
        result = video_demo.main([
            TINY_CONFIG, weights, '--input', clip_dir, '--output-root',
            str(out), '--device', 'cpu', '--backend', backend, '--no-video'
        ])
        with open(result['json']) as f:
            results[backend] = json.load(f)['annotations']
    assert len(results['pytorch']) == len(results['onnxruntime']) == 10
    for ref, ort in zip(results['pytorch'], results['onnxruntime']):
        ref_xy = np.array(ref['keypoints']).reshape(17, 3)[:, :2]
        ort_xy = np.array(ort['keypoints']).reshape(17, 3)[:, :2]
        assert np.abs(ref_xy - ort_xy).max() <= KEYPOINT_TOLERANCE
    assert video_demo.cli([
        TINY_CONFIG, onnx_file, '--input', clip_dir, '--output-root',
        str(tmp_path / 'online'), '--backend', 'onnxruntime', '--online',
        '--no-video'
    ]) == 1


def test_onnx_model_refuses_a_file_without_its_window(models, tmp_path):
    import onnx
    path = str(tmp_path / 'plain.onnx')
    export_onnx(models['stage1 initial'], path)
    proto = onnx.load(path)
    del proto.metadata_props[:]
    onnx.save(proto, path)
    with pytest.raises(ConfigError, match='not exported by'):
        OnnxPoseModel(models['stage1 initial'], path)
