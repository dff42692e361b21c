"""The main job (``tools/quickstart.py``) end to end in its short mode."""
import math
import re
import subprocess
import sys

ROW = re.compile(r'^\| (?P<method>[^|]+) \|(?P<cells>( [^|]+ \|){8})$')


def _table_rows(report: str):
    rows = []
    for line in report.splitlines():
        match = ROW.match(line)
        if match and match['method'].strip() not in ('Method', 'step'):
            cells = [c.strip() for c in match['cells'].strip(' |').split('|')]
            rows.append((match['method'].strip(), [float(c) for c in cells]))
    return rows


def test_quickstart_quick_mode(repo_root, tmp_path):
    work_dir, data_root = tmp_path / 'work', tmp_path / 'data'
    cmd = [
        sys.executable, 'tools/quickstart.py', '--quick', '--work-dir',
        str(work_dir), '--data-root',
        str(data_root)
    ]
    proc = subprocess.run(
        cmd, cwd=repo_root, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert '| Method | Head | Shoulder | Elbow | Wrist | Hip | Knee |' \
        in proc.stdout

    report = (work_dir / 'report.md').read_text()
    rows = _table_rows(report)
    methods = {method for method, _ in rows}
    assert methods == {
        'Single-frame HRNet (stage 1)', 'PoseWarper, 5 frames',
        'copy nearest labeled pose', 'PoseWarper propagation'
    }
    # four tables: all, occluded and blurred frames, propagation
    assert len(rows) == 2 * 4
    for method, values in rows:
        assert len(values) == 8
        assert all(math.isfinite(v) and 0 <= v <= 100 for v in values), \
            (method, values)
    assert (work_dir / 'joint_ap.png').stat().st_size > 1000
    for step in ('train stage 1', 'train stage 2', 'propagation'):
        assert f'| {step} |' in report
    assert 'tools/train.py configs/quickstart/' in report

    # a second run reuses data and checkpoints instead of retraining
    proc = subprocess.run(
        cmd, cwd=repo_root, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'data: using the generated dataset' in proc.stdout
    assert 'stage 1: using' in proc.stdout
