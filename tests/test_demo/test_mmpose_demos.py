"""mmpose's own demo scripts run with the PoseWarper config (T=1).

The scripts shipped in the installed mmpose package are run unchanged in
a child process, on the real PoseTrack18 samples and on a generated clip.
"""
import json
import subprocess
import sys
from pathlib import Path

import cv2
import mmpose
import numpy as np

from tests.testing.clips import (SAMPLE_DATA, TINY_CONFIG, read_video,
                                 sample_video_dir, subprocess_env)

MMPOSE_DEMO = Path(mmpose.__file__).resolve().parent / '.mim' / 'demo'
TOPDOWN = MMPOSE_DEMO / 'topdown_demo_with_mmdet.py'
INFERENCER = MMPOSE_DEMO / 'inferencer_demo.py'


def _run(script: Path, args, cwd) -> str:
    assert script.is_file(), f'{script} not shipped with mmpose'
    proc = subprocess.run([sys.executable,
                           str(script), *map(str, args)],
                          cwd=str(cwd),
                          env=subprocess_env(),
                          capture_output=True,
                          text=True,
                          timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return output


def _sample_image() -> Path:
    sample_video_dir()  # skips when the samples are absent
    return SAMPLE_DATA / 'images' / 'val' / '003418_mpii_test' / '000000.jpg'


def _sample_mp4() -> Path:
    return sample_video_dir() / '000001_mpiinew_test.mp4'


def _topdown(detector, checkpoint, source, out_dir, bbox_thr):
    det_config, det_checkpoint = detector
    return _run(TOPDOWN, [
        det_config, det_checkpoint, TINY_CONFIG, checkpoint, '--input', source,
        '--output-root', out_dir, '--save-predictions', '--device', 'cpu',
        '--bbox-thr', bbox_thr, '--draw-bbox'
    ], out_dir.parent)


def _check_instances(instances, num, box=None):
    assert len(instances) == num
    for inst in instances:
        assert np.asarray(inst['keypoints']).shape == (17, 2)
        assert np.asarray(inst['keypoint_scores']).shape == (17, )
        if box is not None:
            assert np.allclose(inst['bbox'], [box])


def test_topdown_demo_image(tiny_detector, tiny_checkpoint, tmp_path):
    image = _sample_image()
    out = tmp_path / 'out'
    _topdown(tiny_detector, tiny_checkpoint, image, out, 0.3)
    vis = cv2.imread(str(out / '000000.jpg'))
    assert vis.shape == cv2.imread(str(image)).shape
    with open(out / 'results_000000.json') as f:
        results = json.load(f)
    assert results['meta_info']['dataset_name'] == 'posetrack18'
    _check_instances(results['instance_info'], 2)  # two boxes, score 0.5


def test_topdown_demo_video_without_boxes(tiny_detector, tiny_checkpoint,
                                          tmp_path):
    """No box passes the threshold: mmpose uses the whole frame."""
    out = tmp_path / 'out'
    _topdown(tiny_detector, tiny_checkpoint, _sample_mp4(), out, 0.9)
    frames = read_video(str(out / '000001_mpiinew_test.mp4'))
    assert len(frames) == 5
    assert frames[0].shape == (720, 1280, 3)
    with open(out / 'results_000001_mpiinew_test.json') as f:
        results = json.load(f)
    assert [r['frame_id'] for r in results['instance_info']] == \
        [1, 2, 3, 4, 5]
    for frame in results['instance_info']:
        _check_instances(frame['instances'], 1, [0, 0, 1280, 720])


def test_topdown_demo_generated_clip(tiny_detector, tiny_checkpoint, clip_mp4,
                                     tmp_path):
    out = tmp_path / 'out'
    _topdown(tiny_detector, tiny_checkpoint, clip_mp4, out, 0.3)
    frames = read_video(str(out / Path(clip_mp4).name))
    assert len(frames) == 10 and frames[0].shape == (120, 160, 3)
    with open(out / f'results_{Path(clip_mp4).stem}.json') as f:
        results = json.load(f)
    assert len(results['instance_info']) == 10
    for frame in results['instance_info']:
        _check_instances(frame['instances'], 2)


def _inferencer(checkpoint, source, out_dir, *extra):
    return _run(INFERENCER, [
        source, '--pose2d', TINY_CONFIG, '--pose2d-weights', checkpoint,
        '--device', 'cpu', '--vis-out-dir', out_dir / 'vis', '--pred-out-dir',
        out_dir / 'pred', *extra
    ], out_dir.parent)


def test_inferencer_demo_image_uses_whole_image(tiny_checkpoint, tmp_path):
    """The dataset module path names no known object type, so the
    inferencer has no default detector and takes the whole image."""
    image = _sample_image()
    out = tmp_path / 'out'
    _inferencer(tiny_checkpoint, image, out)
    assert cv2.imread(str(out / 'vis' / '000000.jpg')).shape == \
        (1080, 1920, 3)
    with open(out / 'pred' / '000000.json') as f:
        instances = json.load(f)
    _check_instances(instances, 1, [0, 0, 1920, 1080])


def test_inferencer_demo_video(tiny_checkpoint, tmp_path):
    out = tmp_path / 'out'
    _inferencer(tiny_checkpoint, _sample_mp4(), out)
    frames = read_video(str(out / 'vis' / '000001_mpiinew_test.mp4'))
    assert len(frames) == 5 and frames[0].shape == (720, 1280, 3)
    with open(out / 'pred' / '000001_mpiinew_test.json') as f:
        results = json.load(f)
    assert len(results) == 5
    for frame in results:
        _check_instances(frame['instances'], 1, [0, 0, 1280, 720])


def test_inferencer_demo_generated_clip_with_detector(tiny_detector,
                                                      tiny_checkpoint,
                                                      clip_mp4, tmp_path):
    det_config, det_checkpoint = tiny_detector
    out = tmp_path / 'out'
    _inferencer(tiny_checkpoint, clip_mp4, out, '--det-model', det_config,
                '--det-weights', det_checkpoint, '--det-cat-ids', 0)
    frames = read_video(str(out / 'vis' / Path(clip_mp4).name))
    assert len(frames) == 10 and frames[0].shape == (120, 160, 3)
    with open(out / 'pred' / f'{Path(clip_mp4).stem}.json') as f:
        results = json.load(f)
    assert len(results) == 10
    for frame in results:
        _check_instances(frame['instances'], 2)
