"""The launch scripts pass their arguments and variables on correctly.

``PYTHON`` and ``srun`` are replaced by a stub that prints its arguments and
the variables the scripts set, so no training runs.
"""
import os
import os.path as osp
import stat
import subprocess

import pytest

TOOLS_DIR = osp.abspath(
    osp.join(osp.dirname(osp.abspath(__file__)), '..', '..', 'tools'))

_STUB = '''#!/usr/bin/env bash
echo "PYTHONPATH=$PYTHONPATH"
for arg in "$@"; do echo "ARG=$arg"; done
'''


@pytest.fixture
def stub_env(tmp_path):
    stub = tmp_path / 'bin' / 'stub'
    stub.parent.mkdir()
    stub.write_text(_STUB)
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    os.symlink(str(stub), str(tmp_path / 'bin' / 'srun'))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ('NNODES', 'NODE_RANK', 'PORT', 'MASTER_ADDR', 'GPUS',
                     'GPUS_PER_NODE', 'CPUS_PER_TASK', 'SRUN_ARGS')
    }
    env['PATH'] = f'{stub.parent}{os.pathsep}{env["PATH"]}'
    env['PYTHON'] = str(stub)
    env['PYTHONPATH'] = '/existing/path'
    return env


def _run(script, args, env):
    proc = subprocess.run(['bash', osp.join(TOOLS_DIR, script), *args],
                          env=env,
                          stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE,
                          text=True,
                          timeout=60)
    args_seen = [
        line[len('ARG='):] for line in proc.stdout.splitlines()
        if line.startswith('ARG=')
    ]
    return proc, args_seen


def _pythonpath(proc):
    line = next(line for line in proc.stdout.splitlines()
                if line.startswith('PYTHONPATH='))
    return line[len('PYTHONPATH='):].split(os.pathsep)


def test_dist_train_defaults(stub_env):
    proc, args = _run('dist_train.sh',
                      ['cfg.py', '2', '--amp', '--cfg-options', 'a=1'],
                      stub_env)
    assert proc.returncode == 0, proc.stderr
    assert args == [
        '-m', 'torch.distributed.run', '--nnodes=1', '--node_rank=0',
        '--master_addr=127.0.0.1', '--nproc_per_node=2',
        '--master_port=29500',
        osp.join(TOOLS_DIR, 'train.py'), 'cfg.py', '--launcher', 'pytorch',
        '--amp', '--cfg-options', 'a=1'
    ]
    path = _pythonpath(proc)
    assert osp.realpath(path[0]) == osp.dirname(TOOLS_DIR)
    assert '/existing/path' in path


def test_dist_test_environment(stub_env):
    stub_env.update(NNODES='2', NODE_RANK='1', PORT='29777',
                    MASTER_ADDR='10.0.0.5')
    proc, args = _run('dist_test.sh',
                      ['cfg.py', 'ckpt.pth', '4', '--out', 'm.json'],
                      stub_env)
    assert proc.returncode == 0, proc.stderr
    assert args == [
        '-m', 'torch.distributed.run', '--nnodes=2', '--node_rank=1',
        '--master_addr=10.0.0.5', '--nproc_per_node=4',
        '--master_port=29777',
        osp.join(TOOLS_DIR, 'test.py'), 'cfg.py', 'ckpt.pth', '--launcher',
        'pytorch', '--out', 'm.json'
    ]


@pytest.mark.parametrize('script,args', [('dist_train.sh', ['cfg.py']),
                                         ('dist_test.sh', ['c.py', 'k.pth']),
                                         ('slurm_train.sh', ['p', 'j', 'c']),
                                         ('slurm_test.sh', ['p', 'j', 'c'])])
def test_usage_errors(stub_env, script, args):
    proc, seen = _run(script, args, stub_env)
    assert proc.returncode == 2
    assert 'usage:' in proc.stderr and seen == []


def test_slurm_train(stub_env):
    stub_env.update(GPUS='4', GPUS_PER_NODE='2', CPUS_PER_TASK='3',
                    SRUN_ARGS='--quotatype=auto --time=10')
    proc, args = _run('slurm_train.sh',
                      ['part', 'job', 'cfg.py', 'work', '--resume'],
                      stub_env)
    assert proc.returncode == 0, proc.stderr
    assert args == [
        '-p', 'part', '--job-name=job', '--gres=gpu:2', '--ntasks=4',
        '--ntasks-per-node=2', '--cpus-per-task=3', '--kill-on-bad-exit=1',
        '--quotatype=auto', '--time=10', stub_env['PYTHON'], '-u',
        osp.join(TOOLS_DIR, 'train.py'), 'cfg.py', '--work-dir=work',
        '--launcher=slurm', '--resume'
    ]


def test_slurm_test_defaults(stub_env):
    proc, args = _run('slurm_test.sh', ['part', 'job', 'cfg.py', 'ck.pth'],
                      stub_env)
    assert proc.returncode == 0, proc.stderr
    assert args == [
        '-p', 'part', '--job-name=job', '--gres=gpu:8', '--ntasks=8',
        '--ntasks-per-node=8', '--cpus-per-task=5', '--kill-on-bad-exit=1',
        stub_env['PYTHON'], '-u',
        osp.join(TOOLS_DIR, 'test.py'), 'cfg.py', 'ck.pth',
        '--launcher=slurm'
    ]
