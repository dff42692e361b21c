"""Run the distributed launch scripts many times and count clean exits.

A run that finished its work must exit 0; an abort at interpreter exit
(``terminate called without an active exception``, SIGABRT) is counted
separately from other failures. Each run uses the quickstart stage-1
config on the tiny generated videos and the short schedule of the tool
tests (:mod:`posewarper_mm.testing.tiny_quickstart`; 2 iterations, 2
processes by default; CPU processes with gloo on a machine without a
GPU)::

    python tools/analysis/repeat_dist_runs.py --runs 20 --out-dir /tmp/rep

The logs of failed runs are kept in ``OUT_DIR/failed/``. Exit status: 0 when
every run exited 0 without an abort.
"""
import argparse
import os
import os.path as osp
import statistics
import subprocess
import sys
import time
from typing import Dict, List

from posewarper_mm.testing.tiny_quickstart import (STAGE1_CFG, data_options,
                                                   generate_tiny_videos,
                                                   short_schedule)
from posewarper_mm.testing.tiny_topdown_experiment import free_port

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ABORT_MARKERS = ('terminate called', 'SIGABRT', 'Signal 6')


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=20, help='runs per script')
    parser.add_argument(
        '--nproc', type=int, default=2, help='processes per run')
    parser.add_argument(
        '--out-dir', required=True, help='data, work dirs and failed logs')
    parser.add_argument(
        '--scripts',
        nargs='+',
        default=['dist_train.sh', 'dist_test.sh'],
        choices=['dist_train.sh', 'dist_test.sh'])
    return parser.parse_args(argv)


def _run(command: List[str], log_file: str) -> Dict:
    env = dict(os.environ, PORT=str(free_port()), OMP_NUM_THREADS='1')
    start = time.time()
    proc = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True)
    seconds = time.time() - start
    aborted = any(marker in proc.stdout for marker in ABORT_MARKERS)
    if proc.returncode != 0 or aborted:
        os.makedirs(osp.dirname(log_file), exist_ok=True)
        with open(log_file, 'w') as f:
            f.write(proc.stdout)
    return dict(rc=proc.returncode, aborted=aborted, seconds=seconds)


def main(argv=None) -> int:
    """Run the scripts ``--runs`` times each and print the counts."""
    args = parse_args(argv)
    out_dir = osp.abspath(args.out_dir)
    data_root = osp.join(out_dir, 'data')
    if not osp.isdir(data_root):
        generate_tiny_videos(data_root)
    options = [*data_options(data_root), *short_schedule(2, batch_size=2)]
    tools = osp.join(REPO_ROOT, 'tools')
    checkpoint = osp.join(out_dir, 'ckpt', 'iter_2.pth')
    if not osp.isfile(checkpoint):
        subprocess.run([
            sys.executable,
            osp.join(tools, 'train.py'), STAGE1_CFG, '--work-dir',
            osp.dirname(checkpoint), '--no-validate', '--cfg-options', *options
        ],
                       cwd=REPO_ROOT,
                       check=True,
                       stdout=subprocess.DEVNULL)

    results: Dict[str, List[Dict]] = {}
    for script in args.scripts:
        results[script] = []
        for run in range(args.runs):
            work_dir = osp.join(out_dir, 'work', f'{script}_{run}')
            if script == 'dist_train.sh':
                command = [
                    'bash',
                    osp.join(tools, script), STAGE1_CFG,
                    str(args.nproc), '--work-dir', work_dir, '--no-validate',
                    '--cfg-options', *options
                ]
            else:
                command = [
                    'bash',
                    osp.join(tools, script), STAGE1_CFG, checkpoint,
                    str(args.nproc), '--work-dir', work_dir, '--cfg-options',
                    *options
                ]
            result = _run(command,
                          osp.join(out_dir, 'failed', f'{script}_{run}.log'))
            results[script].append(result)
            print(
                f'{script} run {run + 1}/{args.runs}: exit {result["rc"]}'
                f'{" ABORT" if result["aborted"] else ""} '
                f'{result["seconds"]:.1f} s',
                flush=True)

    print(f'\n| script ({args.nproc} processes) | runs | exit 0 | '
          'non-zero | aborts | median s |')
    print('|---|---:|---:|---:|---:|---:|')
    clean = True
    for script, runs in results.items():
        ok = sum(r['rc'] == 0 for r in runs)
        aborts = sum(r['aborted'] for r in runs)
        clean &= ok == len(runs) and aborts == 0
        median = statistics.median(r['seconds'] for r in runs)
        print(f'| {script} | {len(runs)} | {ok} | {len(runs) - ok} | '
              f'{aborts} | {median:.1f} |')
    return 0 if clean else 1


if __name__ == '__main__':
    sys.exit(main())
