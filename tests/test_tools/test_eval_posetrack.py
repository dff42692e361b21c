"""tools/eval_posetrack.py as a command-line program."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from posewarper_mm.evaluation.functional import evaluate_posetrack
from posewarper_mm.posetrack import POSETRACK18_KEYPOINT_NAMES
from tests.testing import load_tool

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'eval_posetrack.py'
KEYS = ['Head', 'Shoulder', 'Elbow', 'Wrist', 'Hip', 'Knee', 'Ankle', 'Total']


def _run(*args):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([str(REPO), env.get('PYTHONPATH', '')])
    return subprocess.run([sys.executable,
                           str(TOOL), *map(str, args)],
                          cwd=str(REPO),
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=300)


def _video(folder, name, persons):
    """One frame of video 1 with persons = list of (17, 3) lists + scores."""
    img_id = 10000010000
    anns = [
        dict(
            image_id=img_id,
            track_id=t,
            keypoints=kpts,
            scores=scores,
            bbox_head=[0, 0, 30, 40])
        for t, (kpts, scores) in enumerate(persons)
    ]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(
        json.dumps(
            dict(
                images=[
                    dict(
                        id=img_id,
                        file_name='images/val/000001_mpii_test/000000.jpg')
                ],
                annotations=anns,
                categories=[
                    dict(
                        name='person',
                        keypoints=list(POSETRACK18_KEYPOINT_NAMES))
                ])))


@pytest.fixture
def dirs(tmp_path):
    """GT: one person with all 17 joints; prediction: it, slightly off for
    half of the joints beyond the 15 px radius, plus a false positive."""
    gt = [[100 + 10 * k, 200 + 5 * k, 1] for k in range(17)]
    pred = [[x + (20 if k % 2 else 1), y, 0] for k, (x, y, _) in enumerate(gt)]
    fp = [[900 + k, 900, 0] for k in range(17)]
    scores = [0.5 + 0.01 * k for k in range(17)]
    _video(tmp_path / 'gt', 'v1.json', [(sum(gt, []), [])])
    _video(tmp_path / 'pred', 'v1.json', [(sum(pred, []), scores),
                                          (sum(fp, []), [0.3] * 17)])
    return tmp_path / 'gt', tmp_path / 'pred'


def test_prints_table_and_writes_json(dirs, tmp_path):
    gt_dir, pred_dir = dirs
    out = tmp_path / 'res' / 'ap.json'
    proc = _run('--gt-dir', gt_dir, '--pred-dir', pred_dir, '--json', out,
                '--name', 'MyMethod')
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == ('| Method | Head | Shoulder | Elbow | Wrist | Hip | '
                        'Knee | Ankle | Mean |')
    assert lines[2].startswith('| MyMethod | ')
    with open(out) as f:
        written = json.load(f)
    assert list(written) == KEYS
    expected = evaluate_posetrack(str(gt_dir), str(pred_dir))
    for key in KEYS:
        assert written[key] == pytest.approx(expected[key], abs=1e-12), key
    cells = [c.strip() for c in lines[2].strip('|').split('|')][1:]
    assert cells == [f'{expected[k]:.1f}' for k in KEYS]
    # joints 1 px off are found (100), those 20 px off are not (0)
    assert expected['nose'] == 100.0 and expected['head_bottom'] == 0.0
    assert 0 < expected['Total'] < 100


def test_missing_prediction_file_fails_with_its_name(dirs):
    gt_dir, pred_dir = dirs
    os.remove(pred_dir / 'v1.json')
    proc = _run('--gt-dir', gt_dir, '--pred-dir', pred_dir)
    assert proc.returncode != 0
    assert str(pred_dir / 'v1.json') in proc.stderr
    assert proc.stdout == ''


def test_malformed_gt_file_fails_with_its_name(dirs, capsys):
    gt_dir, pred_dir = dirs
    (gt_dir / 'v1.json').write_text('{')
    # in-process: main() returns the exit status
    status = load_tool(TOOL).main(
        ['--gt-dir', str(gt_dir), '--pred-dir',
         str(pred_dir)])
    assert status == 1
    err = capsys.readouterr().err
    assert str(gt_dir / 'v1.json') in err and 'malformed JSON' in err
