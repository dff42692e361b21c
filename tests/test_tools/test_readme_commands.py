"""The README's launch commands, run as written from a fresh shell.

After ``make demo`` / ``make test`` a user opens a new shell in the
repository: no environment is active and ``python`` on PATH has no torch.
The README's ``bash tools/dist_train.sh ...`` / ``bash tools/dist_test.sh
...`` lines must work as they are (the scripts find the project's
``.venv``), and its ``python tools/...`` lines after the one
``source .venv/bin/activate`` the README asks for up front. Here they run
with the quickstart configs on tiny generated videos, with 2 CPU processes
(gloo) on a machine without a GPU.
"""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from tests.testing import tiny_quickstart as qs
from tests.testing.tiny_topdown_experiment import REPO_ROOT, free_port

VENV_PYTHON = osp.join(REPO_ROOT, '.venv', 'bin', 'python')
STAGE1 = 'configs/quickstart/posewarper-stage1_hrnet-tiny_synthetic.py'

pytestmark = [
    pytest.mark.skipif(
        not osp.isfile(VENV_PYTHON)
        or osp.realpath(sys.prefix) != osp.realpath(
            osp.join(REPO_ROOT, '.venv')),
        reason='runs where the suite runs from the project .venv '
        '(make test)'),
    pytest.mark.skipif(
        torch.cuda.is_available(), reason='the CPU (gloo) path is tested')
]


def _fresh_shell_env():
    """A new login-like shell: no venv, no PYTHON, system PATH only."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ('HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'USER', 'TERM')
    }
    env['PATH'] = ('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:'
                   '/sbin:/bin')
    env['OMP_NUM_THREADS'] = '1'
    env['PORT'] = str(free_port())
    return env


def _shell(command, env, timeout=300):
    proc = subprocess.run(['bash', '-c', command],
                          cwd=REPO_ROOT,
                          env=env,
                          stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT,
                          text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f'{command}\n{proc.stdout[-5000:]}'
    assert 'terminate called' not in proc.stdout
    return proc


def test_fresh_shell_has_no_torch():
    """The premise: without the venv, plain ``python`` cannot train."""
    proc = subprocess.run(['bash', '-c', 'python3 -c "import torch"'],
                          env=_fresh_shell_env(),
                          stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT,
                          text=True)
    if proc.returncode == 0:
        pytest.skip('the system python has torch; the premise does not hold')


def test_readme_launch_commands_from_a_fresh_shell(tmp_path):
    data = qs.data_options(qs.generate_tiny_videos(str(tmp_path / 'data')))
    options = ' '.join([*data, *qs.short_schedule(2, batch_size=2)])
    env = _fresh_shell_env()
    work_dir = tmp_path / 'stage1'

    # README: bash tools/dist_train.sh CONFIG N ...
    proc = _shell(
        f'bash tools/dist_train.sh {STAGE1} 2 --work-dir {work_dir} '
        f'--no-validate --cfg-options {options}', env)
    assert 'Distributed training: True' in proc.stdout
    checkpoint = work_dir / 'iter_2.pth'
    assert checkpoint.is_file()

    # README: bash tools/dist_test.sh CONFIG CKPT N
    env['PORT'] = str(free_port())
    metrics = tmp_path / 'dist_metrics.json'
    _shell(
        f'bash tools/dist_test.sh {STAGE1} {checkpoint} 2 --work-dir '
        f'{tmp_path / "test"} --out {metrics} --cfg-options {options}', env)
    assert metrics.is_file()

    # README: source .venv/bin/activate once, then python tools/...
    metrics = tmp_path / 'metrics.json'
    _shell(
        'source .venv/bin/activate && '
        f'python tools/test.py {STAGE1} {checkpoint} --work-dir '
        f'{tmp_path / "test1"} --out {metrics} --cfg-options {options}', env)
    assert metrics.is_file()


def test_failed_rank_fails_the_launcher_with_its_error(tmp_path):
    """Every rank fails (a missing annotation file): non-zero exit, the
    rank's error in the output, no abort at exit."""
    data = qs.data_options(qs.generate_tiny_videos(str(tmp_path / 'data')))
    missing = tmp_path / 'no_such_annotations.json'
    options = ' '.join([
        *data, *qs.short_schedule(2, batch_size=2),
        f'train_dataloader.dataset.ann_file={missing}'
    ])
    proc = subprocess.run([
        'bash', '-c', f'bash tools/dist_train.sh {STAGE1} 2 --work-dir '
        f'{tmp_path / "w"} --no-validate --cfg-options {options}'
    ],
                          cwd=REPO_ROOT,
                          env=_fresh_shell_env(),
                          stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT,
                          text=True,
                          timeout=300)
    assert proc.returncode != 0
    assert str(missing) in proc.stdout
    assert 'terminate called' not in proc.stdout
