"""tools/env/check_gpu.sh: its own logic, end to end, on CPU (--dry-run).

The dry run installs a wheelhouse (here one probe wheel) into a venv over
the running interpreter's environment, then runs every step with tiny
sizes; only the CUDA kernel tests are skipped.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / 'tools' / 'env' / 'check_gpu.sh'
STEPS = [
    'install', 'versions', 'cuda-tests', 'bench-b1-fp32', 'bench-b2-bf16-cl',
    'bench-b2-fp32', 'bench-b1-bf16-cl', 'data', 'train-stage1',
    'test-stage1', 'fast-exit', 'train-stage2', 'test-stage2', 'lever-cudnn',
    'lever-deform', 'lever-compile'
]
BENCH_RUNS = {'b1-fp32': 1, 'b2-bf16-cl': 2, 'b2-fp32': 2, 'b1-bf16-cl': 1,
              'b2-bf16-cl-cudnn': 2, 'b2-bf16-cl-deform': 2,
              'b2-bf16-cl-compile': 2}


def _write_probe_wheel(folder: Path) -> Path:
    """A minimal pure-Python wheel, ``pwmm_probe 0.1``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        'pwmm_probe/__init__.py':
        b'VALUE = 42\n',
        'pwmm_probe-0.1.dist-info/METADATA':
        b'Metadata-Version: 2.1\nName: pwmm-probe\nVersion: 0.1\n',
        'pwmm_probe-0.1.dist-info/WHEEL':
        b'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n'
        b'Tag: py3-none-any\n',
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(
            hashlib.sha256(data).digest()).rstrip(b'=').decode()
        record.append(f'{name},sha256={digest},{len(data)}')
    record.append('pwmm_probe-0.1.dist-info/RECORD,,')
    path = folder / 'pwmm_probe-0.1-py3-none-any.whl'
    with zipfile.ZipFile(path, 'w') as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr('pwmm_probe-0.1.dist-info/RECORD',
                    '\n'.join(record) + '\n')
    return path


def _run(tmp_path: Path, wheelhouse: Path, out: Path, **env_extra):
    env = {
        **os.environ,
        'PWMM_PYTHON': sys.executable,
        'PWMM_GPU_SCRATCH': str(tmp_path / 'scratch'),
        'OMP_NUM_THREADS': '1',
        **env_extra,
    }
    return subprocess.run(
        ['bash', str(SCRIPT), '--dry-run',
         str(wheelhouse),
         str(out)],
        cwd=str(REPO),
        env=env,
        capture_output=True,
        text=True,
        timeout=400)


def _summary(stdout: str) -> dict:
    """``{step: status}`` from the summary table the script prints."""
    assert '==== summary' in stdout, stdout[-3000:]
    table = stdout.split('==== summary', 1)[1].splitlines()[2:]
    rows = [line.split() for line in table if line.strip()]
    return {row[0]: row[1] for row in rows if row[0] != 'total'}


def test_dry_run_runs_every_step(tmp_path):
    wheelhouse = tmp_path / 'wheelhouse'
    _write_probe_wheel(wheelhouse)
    out = tmp_path / 'out'
    proc = _run(tmp_path, wheelhouse, out)
    detail = proc.stdout[-6000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, detail
    statuses = _summary(proc.stdout)
    assert list(statuses) == STEPS, detail
    assert statuses == {step: 'ok' for step in STEPS}, detail
    # the CUDA tests ran their collection and skipped themselves (the
    # step's own commands ran)
    cuda_log = (out / '03_cuda-tests.log').read_text()
    assert 'SKIPPED' in cuda_log and 'CUDA' in cuda_log, cuda_log[-2000:]

    # the wheelhouse went into the new venv, over the parent environment
    install_log = (out / '01_install.log').read_text()
    assert 'pwmm-probe==0.1' in install_log
    venv_py = tmp_path / 'scratch' / 'venv' / 'bin' / 'python'
    probe = subprocess.run([
        str(venv_py), '-c',
        'import pwmm_probe, torch, mmcv._ext; print(pwmm_probe.VALUE)'
    ],
                           capture_output=True,
                           text=True,
                           timeout=120)
    assert probe.stdout.strip() == '42', probe.stderr[-2000:]
    # the steps left their results
    for tag, batch in BENCH_RUNS.items():
        bench = json.loads((out / f'bench_{tag}.json').read_text())
        assert bench['meta']['batch'] == batch
        assert bench['exit_code'] == 0
        assert bench['meta']['cudnn_benchmark'] == tag.endswith('cudnn')
        assert bench['meta']['compiled'] == tag.endswith('compile')
    for stage in (1, 2):
        metrics = json.loads((out / f'metrics_stage{stage}.json').read_text())
        assert metrics
    summary = (out / 'summary.md').read_text()
    assert '| train-stage2 | ok |' in summary
    assert '| cuda-tests | ok |' in summary
    # the GPU table: every timed case of every run, with FLOP rates
    assert '## GPU table' in summary and 'TFLOP/s' in summary
    assert summary.count(
        '| batch 2 | bf16-cl | (c) PoseWarper 5 frames, batched |') == 1
    assert '- batched, bf16-cl, batch 32: at least 15%' in summary
    # the levers' rows, apart from the goals' runs
    deform = json.loads((out / 'bench_b2-bf16-cl-deform.json').read_text())
    assert {c['key'] for c in deform['results'][0]['cases']} >= {
        f'neck_fwd_{backend}' for backend in ('mmcv', 'pytorch')}
    for lever in ('cudnn.benchmark', 'torch.compile', 'deform-backends'):
        assert f'| batch 2 {lever} | bf16-cl | (c) PoseWarper 5 frames, ' \
            'batched |' in summary
    # each training run and the fast-exit run timed their end
    for step in ('train-stage1', 'train-stage2', 'fast-exit'):
        row = next(line for line in summary.splitlines()
                   if line.startswith(f'| {step} |'))
        assert 's from the last checkpoint to the exit' in row, row
        assert 'teardown: loader workers' in row, row


def test_failures_are_reported_per_step(tmp_path):
    """No wheel: install fails, the steps after it are skipped, exit 1."""
    wheelhouse = tmp_path / 'empty'
    wheelhouse.mkdir()
    out = tmp_path / 'out'
    proc = _run(tmp_path, wheelhouse, out)
    assert proc.returncode == 1, proc.stdout[-3000:]
    statuses = _summary(proc.stdout)
    assert list(statuses) == STEPS
    assert statuses['install'] == 'FAIL(rc=1)'
    others = set(statuses.values()) - {'FAIL(rc=1)'}
    assert others == {'skipped-after-failure'}
    assert 'no wheels in' in proc.stdout


def test_usage_errors(tmp_path):
    proc = subprocess.run(['bash', str(SCRIPT),
                           str(tmp_path)],
                          capture_output=True,
                          text=True,
                          timeout=30)
    assert proc.returncode == 2
    assert 'usage' in proc.stderr.lower() or 'WHEELHOUSE' in proc.stderr
    proc = subprocess.run([
        'bash',
        str(SCRIPT),
        str(tmp_path / 'missing'),
        str(tmp_path / 'out')
    ],
                          capture_output=True,
                          text=True,
                          timeout=30)
    assert proc.returncode == 2
    assert 'no wheelhouse folder' in proc.stderr
