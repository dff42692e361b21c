"""demo/posewarper_video_demo.py: videos, folders, boxes, online mode."""
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from posewarper_mm.errors import InputFileError
from tests.testing.clips import (REPO_ROOT, TINY_CONFIG, read_video,
                                 sample_video_dir, subprocess_env, write_video)


def _run(video_demo, checkpoint, source, out_dir, *extra):
    return video_demo.main([
        TINY_CONFIG, checkpoint, '--input',
        str(source), '--output-root',
        str(out_dir), '--device', 'cpu', *extra
    ])


def _check_outputs(result, num_frames, size):
    frames = read_video(result['video'])
    assert len(frames) == num_frames
    assert all((f.shape[1], f.shape[0]) == size for f in frames)
    with open(result['json']) as f:
        data = json.load(f)
    assert len(data['images']) == num_frames
    assert [img['frame_index'] for img in data['images']] == \
        list(range(num_frames))
    assert result['num_frames'] == num_frames
    return data


def test_folder_whole_frame(video_demo, tiny_checkpoint, clip_dir, tmp_path):
    result = _run(video_demo, tiny_checkpoint, clip_dir, tmp_path)
    data = _check_outputs(result, 10, (160, 120))
    assert result['video'].endswith('000003_mpii_val.mp4')
    # one whole-frame person per frame, PoseTrack ids of video 3
    assert len(data['annotations']) == 10
    assert data['images'][4]['id'] == 10000030004
    assert data['images'][4]['file_name'] == '000003_mpii_val/000004.jpg'
    assert data['annotations'][0]['bbox'] == [0, 0, 160, 120]
    kpts = np.array(data['annotations'][0]['keypoints']).reshape(17, 3)
    assert np.isfinite(kpts).all()


def test_video_with_box_json_and_empty_frames(video_demo, tiny_checkpoint,
                                              clip_mp4, tmp_path):
    boxes = [
        dict(frame_index=i, bbox=[20, 10, 50, 100], score=0.9)
        for i in range(10) if i not in (3, 4)
    ]
    boxes.append(dict(image_id=10000030000, bbox=[90, 5, 50, 110], score=0.8))
    boxes.append(dict(frame_index=5, bbox=[0, 0, 30, 30], score=0.1))
    box_file = tmp_path / 'boxes.json'
    box_file.write_text(json.dumps(boxes))
    result = _run(video_demo, tiny_checkpoint, clip_mp4, tmp_path / 'out',
                  '--bbox-json', str(box_file), '--draw-bbox')
    data = _check_outputs(result, 10, (160, 120))
    per_frame = [
        sum(a['image_id'] == img['id'] for a in data['annotations'])
        for img in data['images']
    ]
    # frame 0 has two boxes, frames 3 and 4 none, the 0.1 box is dropped
    assert per_frame == [2, 1, 1, 0, 0, 1, 1, 1, 1, 1]
    first = [a for a in data['annotations'] if a['image_id'] == 10000030000]
    assert [a['bbox'] for a in first] == [[20, 10, 50, 100], [90, 5, 50, 110]]
    assert [a['score'] for a in first] == pytest.approx([0.9, 0.8])


def test_online_mode_uses_past_frames_only(video_demo, tiny_checkpoint,
                                           clip_dir, tmp_path, monkeypatch):
    from posewarper_mm.apis import inferencer as inferencer_module
    reads = []
    calls = []
    open_source = inferencer_module.open_frame_source
    preprocess = inferencer_module.PoseWarperInferencer.preprocess_single

    class Recording:

        def __init__(self, source):
            self.source = source

        def __getattr__(self, name):
            return getattr(self.source, name)

        def __iter__(self):
            for index, frame in enumerate(self.source):
                reads.append(index)
                yield frame

    def recording_preprocess(self, window, index, **kwargs):
        calls.append((max(reads), window.offsets.tolist(),
                      window.weights.tolist()))
        return preprocess(self, window, index, **kwargs)

    monkeypatch.setattr(inferencer_module, 'open_frame_source',
                        lambda path, allow: Recording(open_source(path)))
    monkeypatch.setattr(inferencer_module.PoseWarperInferencer,
                        'preprocess_single', recording_preprocess)
    result = _run(video_demo, tiny_checkpoint, clip_dir, tmp_path, '--online',
                  '--no-video')
    assert result['video'] is None and result['num_frames'] == 10
    assert [c[0] for c in calls] == list(range(10))  # never ahead
    assert all(c[1] == [0, -2, -1] for c in calls)
    assert np.allclose(calls[0][2], np.array([0.3, 0.1, 0.25]) / 0.65)


def test_short_video_clamps_the_window(video_demo, tiny_checkpoint, synthetic,
                                       tmp_path):
    frames = [
        cv2.imread(f) for f in sorted(synthetic['frame_files']['val'])[:2]
    ]
    clip = write_video(frames, str(tmp_path / 'short.mp4'))
    result = _run(video_demo, tiny_checkpoint, clip, tmp_path / 'out',
                  '--offsets', '-3', '-1', '0', '1', '3')
    _check_outputs(result, 2, (160, 120))


def test_detector_boxes(video_demo, tiny_checkpoint, tiny_detector, clip_mp4,
                        tmp_path):
    det_config, det_checkpoint = tiny_detector
    result = _run(video_demo, tiny_checkpoint, clip_mp4, tmp_path,
                  '--det-config', det_config, '--det-checkpoint',
                  det_checkpoint, '--bbox-thr', '0.0', '--nms-thr', '0.9')
    data = _check_outputs(result, 10, (160, 120))
    counts = [
        sum(a['image_id'] == img['id'] for a in data['annotations'])
        for img in data['images']
    ]
    # max_per_img=2 in the tiny detector config
    assert counts == [2] * 10
    first = [a for a in data['annotations'] if a['image_id'] == 10000030000]
    boxes = sorted(a['bbox'] for a in first)
    assert boxes == [[0, 0, 32, 64], [32, 96, 64, 64]]
    assert all(a['score'] == pytest.approx(0.5) for a in first)


def test_real_sample_video(video_demo, tiny_checkpoint, tmp_path):
    video = sample_video_dir() / '000001_mpiinew_test.mp4'
    result = _run(video_demo, tiny_checkpoint, video, tmp_path)
    data = _check_outputs(result, 5, (1280, 720))
    assert data['images'][0]['id'] == 10000010000


def test_bad_inputs_name_the_file(video_demo, tiny_checkpoint, tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.mp4'):
        _run(video_demo, tiny_checkpoint, tmp_path / 'missing.mp4', tmp_path)
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'not a video at all' * 20)
    with pytest.raises(InputFileError, match='broken.mp4'):
        _run(video_demo, tiny_checkpoint, broken, tmp_path)
    with pytest.raises(SystemExit):  # no key frame offset
        _run(video_demo, tiny_checkpoint, broken, tmp_path, '--offsets', '-1',
             '1')
    with pytest.raises(SystemExit):
        _run(video_demo, tiny_checkpoint, broken, tmp_path, '--offsets', '0',
             '1', '--weights', '1.0')
    with pytest.raises(SystemExit):  # weights must sum to 1
        _run(video_demo, tiny_checkpoint, broken, tmp_path, '--offsets', '0',
             '1', '--weights', '0.5', '0.6')


def test_command_line_error_message(tiny_checkpoint, tmp_path):
    broken = tmp_path / 'broken.avi'
    broken.write_bytes(b'\x00' * 100)
    proc = subprocess.run([
        sys.executable, 'demo/posewarper_video_demo.py', TINY_CONFIG,
        tiny_checkpoint, '--input',
        str(broken), '--output-root',
        str(tmp_path), '--device', 'cpu'
    ],
                          cwd=str(REPO_ROOT),
                          env=subprocess_env(),
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 1
    assert 'broken.avi' in proc.stderr
    assert 'posewarper_video_demo: error:' in proc.stderr
