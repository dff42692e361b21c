"""demo/posewarper_inferencer_demo.py: mmpose's flags, honest ends."""
import json
import os
import signal
import subprocess
import sys
import time

import cv2
import pytest

from tests.testing import load_tool
from tests.testing.clips import (REPO_ROOT, TINY_CONFIG, clip_frames,
                                 subprocess_env, write_truncated_avi,
                                 write_video)

DEMO = 'demo/posewarper_inferencer_demo.py'


@pytest.fixture(scope='module')
def demo():
    return load_tool(DEMO)


def _command(checkpoint, inputs, out, *extra):
    return [
        str(inputs), '--pose2d', TINY_CONFIG, '--pose2d-weights', checkpoint,
        '--device', 'cpu', '--vis-out-dir', str(out / 'vis'),
        '--pred-out-dir', str(out / 'pred'), '--posetrack-out',
        str(out / 'posetrack'), *extra
    ]


def test_mmpose_flags_and_outputs(demo, tiny_checkpoint, clip_dir, tmp_path):
    boxes = [dict(image_id=10000030000 + i, bbox=[20, 10, 50, 100], score=0.9)
             for i in range(10)]
    boxes.append(dict(image_id=10000050000, bbox=[0, 0, 9, 9], score=0.9))
    box_file = tmp_path / 'boxes.json'
    box_file.write_text(json.dumps(boxes))
    result = demo.main(_command(tiny_checkpoint, clip_dir, tmp_path,
                                '--bbox-json', str(box_file), '--online',
                                '--use-oks-tracking', '--draw-bbox',
                                '--kpt-thr', '0.1', '--radius', '2'))
    assert result['num_frames'] == 10 and result['num_persons'] == 10
    for folder, name in (('vis', '000003_mpii_val.mp4'),
                         ('pred', '000003_mpii_val.json'),
                         ('posetrack', '000003_mpii_val.json')):
        assert os.listdir(tmp_path / folder) == [name]
    with open(tmp_path / 'pred' / '000003_mpii_val.json') as f:
        pred = json.load(f)
    assert [p['frame_id'] for p in pred] == list(range(10))
    assert all(len(p['instances']) == 1 for p in pred)
    assert all('track_id' in p['instances'][0] for p in pred)
    init, call = demo.parse_args(_command(tiny_checkpoint, clip_dir,
                                          tmp_path, '--tracking', 'none'))
    assert init['online'] is False and call['tracking'] == 'none'
    with pytest.raises(SystemExit):
        demo.parse_args(_command(tiny_checkpoint, clip_dir, tmp_path,
                                 '--bbox-json', 'b.json', '--det-model',
                                 'd.py'))


def test_partial_video_is_a_one_line_error(demo, tiny_checkpoint, synthetic,
                                           tmp_path, capsys):
    frames = [cv2.imread(f) for f in clip_frames(synthetic)] * 4
    video = write_truncated_avi(frames, str(tmp_path / 'half.avi'))
    assert demo.cli(_command(tiny_checkpoint, video, tmp_path)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f'posewarper_inferencer_demo: error: {video}: decoding stopped after')
    assert 'of the 40 frames' in err[0] and '--allow-short-video' in err[0]
    assert all(not os.listdir(tmp_path / d) for d in ('vis', 'pred'))
    with pytest.warns(UserWarning, match='frames read'):
        result = demo.main(_command(tiny_checkpoint, video, tmp_path,
                                    '--allow-short-video'))
    assert 0 < result['num_frames'] < 40
    assert os.listdir(tmp_path / 'vis') == ['half.mp4']


def test_sigterm_leaves_no_finished_output(tiny_checkpoint, synthetic,
                                           tmp_path):
    """Terminated part-way, the demo removes its unfinished outputs."""
    frames = [cv2.imread(f) for f in clip_frames(synthetic)] * 30
    video = write_video(frames, str(tmp_path / 'long.mp4'))
    out = tmp_path / 'out'
    proc = subprocess.Popen(
        [sys.executable, DEMO, *_command(tiny_checkpoint, video, out)],
        cwd=str(REPO_ROOT), env=subprocess_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        vis = out / 'vis'
        if vis.is_dir() and any(n.endswith('.mp4') for n in os.listdir(vis)):
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.stderr.read()[-2000:]
    assert os.listdir(out / 'vis')[0].startswith('.long.tmp-')
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert [os.listdir(out / d) for d in ('vis', 'pred', 'posetrack')] == \
        [[], [], []]
