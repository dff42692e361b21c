"""tools.quickstart.pipeline (``python -m tools.quickstart``) end to end in its
short mode."""
import importlib
import json
import math
import os.path as osp
import re
import subprocess
import sys

import pytest

from posewarper_mm.posetrack import frame_index_from_name

ROW = re.compile(r'^\| (?P<method>[^|]+) \|(?P<cells>( [^|]+ \|){8})$')
SEED_CELL = re.compile(r'^(\d+\.\d) \((\d+\.\d)-(\d+\.\d)\)$')
HELD_OUT_ROWS = ('Codec ceiling (GT through the codec, no network)',
                 'Single-frame HRNet (stage 1)',
                 'Single-frame HRNet (stage 1), no flip test',
                 'PoseWarper, 5 frames', 'PoseWarper, 5 frames, no flip test',
                 'PoseWarper, 3 frames (offsets -1..1)')
PROPAGATION_ROWS = ('copy nearest labeled pose',
                    'pseudo-labeling (single-frame HRNet)',
                    'optical flow (DIS) propagation', 'PoseWarper propagation')
# with --propagate-then-train
SPARSE_TRAINING_ROWS = ('Single-frame HRNet, sparse + propagated labels',
                        'Single-frame HRNet, sparse + true labels of the '
                        'propagated joints',
                        'Single-frame HRNet, all true labels (dense)')
TABLES = ('all frames', 'occluded frames', 'blurred frames', 'clear frames',
          'sparse-labeled training videos (unlabeled frames)')


def _tables(report: str):
    """Table title -> [(method, [cell, ...])] of the report's AP tables."""
    tables, title = {}, None
    for line in report.splitlines():
        if line.startswith('## PoseTrack AP, '):
            title = line[len('## PoseTrack AP, '):]
            tables[title] = []
        elif line.startswith('## '):
            title = None
        match = ROW.match(line)
        if title and match and match['method'].strip() != 'Method':
            cells = [c.strip() for c in match['cells'].strip(' |').split('|')]
            tables[title].append((match['method'].strip(), cells))
    return tables


def _plain_cell(cell):
    return [float(cell)]


def _check_rows(tables, parse_mean, held_out_rows=HELD_OUT_ROWS):
    """Every table's rows; the joints' cells are numbers, the Mean cell
    is read by ``parse_mean`` (with seeds: the mean and its range)."""
    assert list(tables) == list(TABLES)
    for title, rows in tables.items():
        expected = PROPAGATION_ROWS if title == TABLES[-1] else held_out_rows
        assert [method for method, _ in rows] == list(expected), title
        for method, cells in rows:
            assert len(cells) == 8
            parsers = [_plain_cell] * 7 + [parse_mean]
            for cell, parse in zip(cells, parsers):
                values = parse(cell)
                assert all(math.isfinite(v) and 0 <= v <= 100
                           for v in values), (title, method, cell)


def _seed_cell(cell):
    match = SEED_CELL.match(cell)
    assert match, cell
    mean, low, high = (float(v) for v in match.groups())
    assert low <= mean <= high, cell
    return mean, low, high


def test_quickstart_quick_mode(repo_root, tmp_path):
    work_dir, data_root = tmp_path / 'work', tmp_path / 'data'
    cmd = [
        sys.executable, '-m', 'tools.quickstart', '--quick', '--work-dir',
        str(work_dir), '--data-root',
        str(data_root)
    ]
    proc = subprocess.run(
        cmd, cwd=repo_root, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert '| Method | Head | Shoulder | Elbow | Wrist | Hip | Knee |' \
        in proc.stdout
    # one line per step, the tables; the tools' output goes to the logs
    assert 'Config:' not in proc.stdout
    # (14 step lines, 5 tables of 9 or 10 lines, the reading, the log
    # paths)
    assert len(proc.stdout.splitlines()) < 85, proc.stdout
    for step in ('train_stage_1', 'train_stage_2', 'codec_ceiling',
                 'test_single_frame_hrnet_stage_1', 'test_posewarper_5_frames',
                 'propagation'):
        log = work_dir / 'logs' / f'{step}.log'
        assert f'(log: {log})' in proc.stdout
        assert log.stat().st_size > 0

    report = (work_dir / 'report.md').read_text()
    _check_rows(_tables(report), _plain_cell)
    assert (work_dir / 'joint_ap.png').stat().st_size > 1000
    assert (work_dir / 'training_curves.png').stat().st_size > 1000
    assert '](training_curves.png)' in report
    assert 'curves show the training loss only' in report
    assert '## Reading' in report and 'no gain is claimed' in report
    assert 'Computed on: CPU (' in report or 'Computed on: GPU (' in report
    # the warping figure, or one line saying that there is none
    section = report.split('\n## What the warping does\n\n')[1]
    if '](warping.png)' in section.split('\n## ')[0]:
        assert section.startswith('Video 00000')
        assert (work_dir / 'warping.png').stat().st_size > 1000
    else:
        assert section.startswith('No joint of the held-out occluded frames')
    for step in ('codec ceiling', 'train stage 1', 'train stage 2',
                 'propagation'):
        assert f'| {step} |' in report
    # one option per line
    assert 'python tools/train.py \\\n    configs/quickstart/' in report
    assert '\n    --cfg-options \\\n        train_dataloader.' in report
    assert 'randomness.seed' not in report

    # a second run with two seeds reuses the data and the first seed's
    # checkpoints, trains the second seed and reports mean and range; with
    # --propagate-then-train both seeds also train on propagated labels,
    # here only those of the frames next to a labeled one
    proc = subprocess.run(
        cmd + ['--seeds', '2', '--propagate-then-train', '--max-distance',
               '1'],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'data: using the generated dataset' in proc.stdout
    assert 'stage 1: using' in proc.stdout
    assert '==> train stage 1 (seed 1) ...' in proc.stdout
    assert (work_dir / 'seed_1' / 'stage2' / 'iter_4.pth').is_file()
    report = (work_dir / 'report.md').read_text()
    assert 'Mean over 2 seeds (0, 1)' in report
    assert '--cfg-options' in report and 'randomness.seed=1' in report
    tables = _tables(report)
    _check_rows(tables, _seed_cell, HELD_OUT_ROWS + SPARSE_TRAINING_ROWS)
    for seed_dir in (work_dir, work_dir / 'seed_1'):
        merged = json.loads(
            (seed_dir / 'posetrack18_train_propagated.json').read_text())
        marked = [a['is_propagated'] for a in merged['annotations']]
        assert any(marked) and not all(marked)
        frame = {img['id']: frame_index_from_name(img['file_name'])
                 for img in merged['images']}
        source = {a['id']: a['image_id'] for a in merged['annotations']}
        distances = {abs(frame[a['image_id']] - frame[source[
            a['propagated_from']]]) for a in merged['annotations']
            if a['is_propagated']}
        assert distances == {1}  # every 4th labeled: 2 is left unlabeled
        quality = (seed_dir / 'label_quality.md').read_text()
        assert '| propagated labels, share within PCKh@0.5 (%) |' in quality
    assert 'Trained on the sparse labels (' in report
    # the codec ceiling does not depend on the seed
    _, low, high = _seed_cell(tables['all frames'][0][1][-1])
    assert low == high


def test_schedule_options_scale_each_configs_own_lr_steps():
    quickstart = importlib.import_module('tools.quickstart.pipeline')
    from mmengine.config import Config
    for config in (quickstart.STAGE1_CFG, quickstart.STAGE2_CFG):
        cfg = Config.fromfile(osp.join(quickstart.REPO_ROOT, config))
        length = cfg.train_cfg.max_iters
        steps = list(cfg.param_scheduler[0].milestones)
        # the configured length runs the config's steps unchanged
        opts = quickstart.schedule_options(config, length)
        assert f'param_scheduler.0.milestones=[{steps[0]},{steps[1]}]' in opts
        assert f'train_cfg.max_iters={length}' in opts
        # half the length: each step at the same fraction of the run
        half = quickstart.schedule_options(config, length // 2)
        scaled = [round(m * (length // 2) / length) for m in steps]
        assert (f'param_scheduler.0.milestones=[{scaled[0]},{scaled[1]}]'
                in half)
        assert f'default_hooks.checkpoint.interval={length // 2}' in half


def test_label_rate_and_distance_options(capsys):
    quickstart = importlib.import_module('tools.quickstart.pipeline')
    args = quickstart.parse_args([])
    assert args.data_kw == quickstart.DATA_KW
    assert args.data_root == 'data/quickstart' and args.max_distance is None
    # another label rate is other data: a data root of its own by default
    args = quickstart.parse_args(['--sparse-every', '10'])
    assert args.data_kw == dict(quickstart.DATA_KW, sparse_every=10)
    assert args.data_root == 'data/quickstart_sparse10'
    args = quickstart.parse_args(['--quick', '--sparse-every', '2',
                                  '--data-root', 'elsewhere'])
    assert args.data_kw == dict(quickstart.QUICK_DATA_KW, sparse_every=2)
    assert args.data_root == 'elsewhere'
    for argv, message in (
            (['--sparse-every', '0'], '--sparse-every must be at least 1'),
            (['--propagate-then-train', '--max-distance', '0'],
             '--max-distance must be at least 1'),
            (['--max-distance', '3'],
             '--max-distance needs --propagate-then-train')):
        with pytest.raises(SystemExit):
            quickstart.parse_args(argv)
        assert message in capsys.readouterr().err


def test_data_from_other_settings_is_refused(tmp_path, capsys):
    """Generated data is reused only when its recorded settings are this
    run's; an older or --quick dataset is refused with a message instead of
    being scored as if it were the data the report describes."""
    quickstart = importlib.import_module('tools.quickstart.pipeline')
    root, kw = tmp_path / 'data', dict(quickstart.QUICK_DATA_KW)
    job = quickstart.Job(str(tmp_path / 'work'))
    quickstart.prepare_data(job, str(root), kw)  # nothing there: generated
    assert list(job.times) == ['generate data']
    assert json.loads((root / quickstart.DATA_MANIFEST).read_text()) == \
        json.loads(json.dumps(kw))
    quickstart.prepare_data(job, str(root), kw)  # the same settings: reused
    assert list(job.times) == ['generate data']
    assert 'data: using the generated dataset' in capsys.readouterr().out
    (root /
     quickstart.DATA_MANIFEST).write_text(json.dumps(quickstart.DATA_KW))
    with pytest.raises(SystemExit, match=r'--fresh'):
        quickstart.prepare_data(job, str(root), kw)
    (root / quickstart.DATA_MANIFEST).unlink()  # no record: older data
    with pytest.raises(SystemExit, match='holds generated data with other'):
        quickstart.prepare_data(job, str(root), kw)


TOOL = """
import os
import sys


def main(argv):
    print('python output', argv)
    os.write(1, b'C-level output\\n')
    print('warning text', file=sys.stderr)
    if argv == ['exit']:
        raise SystemExit('tool.py: error: bad input file x.json')
    if argv == ['crash']:
        raise KeyError('deep')
"""
# the job in a process of its own: the console is then the process's real
# stdout and stderr, not pytest's capture objects
JOB = """
import sys
from tools.quickstart.pipeline import Job
job = Job(sys.argv[1])
for argv in (['a', 'b'], ['exit'], ['crash']):
    try:
        job.run_in_process('fake test ' + argv[0], sys.argv[2], argv)
    except SystemExit as exc:
        print('STOPPED:', exc)
print('COMMANDS:', job.commands)
print('TIMED:', sorted(job.times))
"""


def test_run_in_process_sends_a_tools_output_to_its_log(repo_root, tmp_path):
    """Python's, C code's and stderr output of the tool go to the step's
    log; the console gets the step line, and on failure the log's tail."""
    tool = tmp_path / 'tool.py'
    tool.write_text(TOOL)
    work = tmp_path / 'work'
    proc = subprocess.run([sys.executable, '-c', JOB,
                           str(work),
                           str(tool)],
                          cwd=repo_root,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    logs = {
        argv: (work / 'logs' / f'fake_test_{argv}.log').read_text()
        for argv in ('a', 'exit', 'crash')
    }
    # success: one console line, everything else in the log
    first = out.split('==> ')[1]
    assert first.startswith('fake test a ... ') and '(log: ' in first
    assert 'output' not in first and 'warning' not in proc.stderr
    assert logs['a'].startswith(f'$ python {tool} a b\n')
    for line in ("python output ['a', 'b']", 'C-level output', 'warning text'):
        assert line in logs['a']
    # failures stop the job with the log's tail on the console
    for argv, message in (('exit', 'bad input file x.json'),
                          ('crash', "KeyError: 'deep'")):
        assert message in logs[argv]
        assert f'STOPPED: quickstart: step "fake test {argv}" failed' in out
        assert message in out
    assert f"COMMANDS: [['python', '{tool}', 'a', 'b'], ['python', " \
        f"'{tool}', 'exit'], ['python', '{tool}', 'crash']]" in out
    assert "TIMED: ['fake test a', 'fake test crash', 'fake test exit']" \
        in out
