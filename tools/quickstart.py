"""Main job: PoseWarper on generated sparse-label videos, start to finish.

Generates a small synthetic PoseTrack18-format dataset (skipped when
present), trains stage 1 (single-frame HRNet) on the labeled frames, trains
stage 2 (PoseWarper) on labeled key frames with unlabeled supporting frames,
evaluates both on held-out videos (all frames, then only the occluded and
only the blurred ones), compares pose propagation with copying the nearest
labeled pose on the sparse-labeled training videos, and writes
``<work-dir>/report.md`` with the table, the commands, the stage times and
a per-joint AP plot.

Every step runs the project's ordinary tools (``tools/train.py``,
``tools/test.py``, ``tools/analysis/eval_propagation.py``) with the
quickstart configs, which inherit the real PoseTrack18 recipes.

Examples::

    python tools/quickstart.py                # full run
    python tools/quickstart.py --quick        # a few iterations (tests)
    python tools/quickstart.py --fresh        # regenerate data, retrain

``DATA_KW``, :func:`data_options` and :func:`schedule_options` are also
read by ``tools/gpu/check_gpu.sh`` and the tests' quickstart helpers
(``posewarper_mm.testing.tiny_quickstart``).
"""
import argparse
import json
import math
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Dict, List, Mapping, Optional

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the package, and tools/analysis for gt_subsets (shared with
# tools/analysis/eval_propagation.py)
for _path in (REPO_ROOT, osp.join(REPO_ROOT, 'tools', 'analysis')):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from gt_subsets import filter_gt_dir  # noqa: E402

from posewarper_mm.datasets import synthetic  # noqa: E402
from posewarper_mm.evaluation import functional as posetrack_eval  # noqa

STAGE1_CFG = 'configs/quickstart/posewarper-stage1_hrnet-tiny_synthetic.py'
STAGE2_CFG = 'configs/quickstart/posewarper_hrnet-tiny_synthetic.py'
# Training runs one compute thread beside its data-loading process: on two
# cores, more threads than cores makes PyTorch's thread pool wait.
TRAIN_ENV = {'OMP_NUM_THREADS': '1'}
DATA_KW = dict(
    num_videos=12,
    num_frames=40,
    videos_per_split=(8, 4),
    sparse_every=5,
    seed=0)
QUICK_DATA_KW = dict(
    num_videos=4,
    num_frames=12,
    videos_per_split=(2, 2),
    sparse_every=4,
    seed=0)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/quickstart')
    parser.add_argument('--data-root', default='data/quickstart')
    parser.add_argument(
        '--fresh',
        action='store_true',
        help='delete the generated data and the work dir first')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='tiny data and a few iterations (checks the pipeline only)')
    parser.add_argument('--stage1-iters', type=int, default=None)
    parser.add_argument('--stage2-iters', type=int, default=None)
    return parser.parse_args(argv)


class Job:
    """Runs the steps, keeps their commands and times."""

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.commands: List[str] = []
        self.times: Dict[str, float] = {}

    def run(self,
            name: str,
            cmd: List[str],
            env: Optional[Dict[str, str]] = None) -> None:
        """Run one tool as a subprocess, streaming its output."""
        shown = ' '.join(cmd).replace(sys.executable, 'python')
        if env:
            shown = ' '.join(f'{k}={v}' for k, v in env.items()) + ' ' + shown
        self.commands.append(shown)
        print(f'\n==> [{name}] {shown}', flush=True)
        start = time.time()
        proc = subprocess.run(
            cmd, cwd=REPO_ROOT, env={
                **os.environ,
                **(env or {})
            })
        self.times[name] = self.times.get(name, 0.0) + time.time() - start
        if proc.returncode != 0:
            raise SystemExit(f'quickstart: step "{name}" failed '
                             f'(exit code {proc.returncode}): {shown}')

    def timed(self, name: str, fn, *args, **kwargs):
        """Run a Python step and time it."""
        print(f'\n==> [{name}]', flush=True)
        start = time.time()
        out = fn(*args, **kwargs)
        self.times[name] = self.times.get(name, 0.0) + time.time() - start
        return out


def data_options(data_root: str) -> List[str]:
    """``--cfg-options`` that point a quickstart config at ``data_root``.

    Args:
        data_root (str): Root of a generated PoseTrack18-format dataset.

    Returns:
        list[str]: ``key=value`` overrides of every data path.
    """
    root = data_root.rstrip('/') + '/'
    return [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        f'val_evaluator.ann_file={root}annotations/posetrack18_val.json',
        f'val_evaluator.gt_folder={root}annotations/val',
        f'test_evaluator.ann_file={root}annotations/posetrack18_val.json',
        f'test_evaluator.gt_folder={root}annotations/val',
    ]


def schedule_options(iters: int) -> List[str]:
    """Shorten or lengthen an iteration-based quickstart schedule."""
    first, second = int(iters * 2 / 3), int(iters * 0.87)
    return [
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'param_scheduler.0.end={iters}',
        f'param_scheduler.0.milestones=[{first},{second}]',
        f'default_hooks.checkpoint.interval={iters}'
    ]


def configured_iters(config: str) -> int:
    """``train_cfg.max_iters`` of a quickstart config."""
    from mmengine.config import Config
    return int(
        Config.fromfile(osp.join(REPO_ROOT, config)).train_cfg.max_iters)


SUMMARY_COLUMNS = ('Head', 'Shoulder', 'Elbow', 'Wrist', 'Hip', 'Knee',
                   'Ankle', 'Total')


def plot_joint_ap(tables: Mapping[str, Mapping[str, Mapping[str, float]]],
                  out_file: str) -> str:
    """Bar plot of the AP columns per method, one panel per table.

    Args:
        tables: Table name -> method -> result (``Head`` ... ``Total``).
        out_file (str): PNG path.

    Returns:
        str: ``out_file``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(
        len(tables), 1, figsize=(12, 3.2 * len(tables)), squeeze=False)
    x = np.arange(len(SUMMARY_COLUMNS))
    for ax, (title, rows) in zip(axes[:, 0], tables.items()):
        width = 0.8 / max(len(rows), 1)
        for i, (method, result) in enumerate(rows.items()):
            values = [result[c] for c in SUMMARY_COLUMNS]
            ax.bar(
                x + (i - (len(rows) - 1) / 2) * width,
                values,
                width,
                label=method)
        ax.set_xticks(x,
                      [c if c != 'Total' else 'Mean' for c in SUMMARY_COLUMNS])
        ax.set_ylabel('AP (%)')
        ax.set_ylim(0, 100)
        ax.set_title(title)
        ax.legend(loc='upper left', bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100, bbox_inches='tight')
    plt.close(fig)
    return out_file


def _fmt_time(seconds: float) -> str:
    return f'{seconds / 60:.1f} min' if seconds >= 60 else f'{seconds:.0f} s'


def write_report(out_file: str,
                 tables: Mapping[str, Mapping[str, Mapping[str, float]]],
                 commands: List[str],
                 times: Mapping[str, float],
                 total_time: float,
                 plot_path: Optional[str] = None,
                 quick: bool = False) -> str:
    """Write the quickstart report as Markdown.

    Args:
        out_file (str): Report path.
        tables: Table name -> method -> result.
        commands (list[str]): The commands that were run, in order.
        times (Mapping[str, float]): Seconds per step.
        total_time (float): Seconds for the whole job.
        plot_path (str, optional): PNG to embed (relative link).
        quick (bool): The job ran in its shortened mode.

    Returns:
        str: ``out_file``.

    Raises:
        ValueError: A table holds a non-finite value.
    """
    for title, rows in tables.items():
        for method, result in rows.items():
            bad = [c for c in SUMMARY_COLUMNS if not math.isfinite(result[c])]
            if bad:
                raise ValueError(f'{title} / {method}: non-finite {bad}')
    lines = ['# PoseWarper quickstart on generated sparse-label videos', '']
    if quick:
        lines += [
            '> Shortened run (`--quick`): a few iterations on tiny data; '
            'the numbers check the pipeline, not the method.', ''
        ]
    for title, rows in tables.items():
        lines += [
            f'## PoseTrack AP, {title}', '',
            posetrack_eval.format_posetrack_table(rows), ''
        ]
    if plot_path:
        lines += [f'![per-column AP]({osp.basename(plot_path)})', '']
    lines += ['## Time per step', '', '| step | time |', '|---|---|']
    lines += [f'| {name} | {_fmt_time(t)} |' for name, t in times.items()]
    lines += [f'| **total** | **{_fmt_time(total_time)}** |', '']
    lines += ['## Commands', '', '```shell', *commands, '```', '']
    with open(out_file, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines))
    return out_file


def main(argv: Optional[List[str]] = None) -> None:
    """Run the quickstart."""
    args = parse_args(argv)
    work_dir = osp.abspath(args.work_dir)
    data_root = osp.abspath(args.data_root)
    if args.fresh:
        for path in (work_dir, data_root):
            if osp.isdir(path):
                print(f'--fresh: removing {path}')
                shutil.rmtree(path)
    os.makedirs(work_dir, exist_ok=True)
    job = Job(work_dir)
    py = sys.executable
    iters1 = args.stage1_iters or (6 if args.quick else
                                   configured_iters(STAGE1_CFG))
    iters2 = args.stage2_iters or (4 if args.quick else
                                   configured_iters(STAGE2_CFG))
    start = time.time()

    marker = osp.join(data_root, 'annotations', 'posetrack18_val.json')
    if osp.isfile(marker):
        print(f'data: using the generated dataset in {data_root}')
    else:
        job.timed('generate data', synthetic.generate_posetrack_dataset,
                  data_root, **(QUICK_DATA_KW if args.quick else DATA_KW))

    stage1_dir = osp.join(work_dir, 'stage1')
    stage2_dir = osp.join(work_dir, 'stage2')
    stage1_ckpt = osp.join(stage1_dir, f'iter_{iters1}.pth')
    stage2_ckpt = osp.join(stage2_dir, f'iter_{iters2}.pth')
    common = data_options(data_root)

    if osp.isfile(stage1_ckpt):
        print(f'stage 1: using {stage1_ckpt} (--fresh retrains)')
    else:
        job.run('train stage 1', [
            py, 'tools/train.py', STAGE1_CFG, '--work-dir', stage1_dir,
            '--no-validate', '--cfg-options', *common,
            *schedule_options(iters1)
        ], TRAIN_ENV)
    if osp.isfile(stage2_ckpt):
        print(f'stage 2: using {stage2_ckpt} (--fresh retrains)')
    else:
        job.run('train stage 2', [
            py, 'tools/train.py', STAGE2_CFG, '--work-dir', stage2_dir,
            '--no-validate', '--cfg-options', *common,
            *schedule_options(iters2), f'load_from={stage1_ckpt}'
        ], TRAIN_ENV)

    pred_dirs = {
        'Single-frame HRNet (stage 1)': osp.join(work_dir, 'preds',
                                                 'single_frame'),
        'PoseWarper, 5 frames': osp.join(work_dir, 'preds', 'posewarper'),
    }
    for (name, pred_dir), (cfg, ckpt) in zip(pred_dirs.items(),
                                             [(STAGE1_CFG, stage1_ckpt),
                                              (STAGE2_CFG, stage2_ckpt)]):
        job.run(f'test {name}', [
            py, 'tools/test.py', cfg, ckpt, '--work-dir',
            osp.join(work_dir, 'test'), '--pred-dir', pred_dir,
            '--cfg-options', *common
        ])

    gt_dir = osp.join(data_root, 'annotations', 'val')
    subsets = {
        'all frames':
        gt_dir,
        'occluded frames':
        filter_gt_dir(gt_dir, osp.join(work_dir, 'gt_occluded'), 'occluded'),
        'blurred frames':
        filter_gt_dir(gt_dir, osp.join(work_dir, 'gt_blurred'), 'blurred'),
    }
    tables: Dict[str, Dict[str, dict]] = {}
    for subset, subset_gt in subsets.items():
        tables[subset] = {
            name: posetrack_eval.evaluate_posetrack(subset_gt, pred_dir)
            for name, pred_dir in pred_dirs.items()
        }

    prop_json = osp.join(work_dir, 'propagation.json')
    job.run('propagation', [
        py, 'tools/analysis/eval_propagation.py', STAGE2_CFG, stage2_ckpt,
        '--data-root', data_root, '--work-dir',
        osp.join(work_dir, 'propagation'), '--out-json', prop_json
    ])
    with open(prop_json, encoding='utf-8') as f:
        tables['sparse-labeled training videos (unlabeled frames)'] = \
            json.load(f)

    total = time.time() - start
    for subset, rows in tables.items():
        print(f'\nPoseTrack AP on generated videos, {subset}:')
        print(posetrack_eval.format_posetrack_table(rows))
    plot = plot_joint_ap(tables, osp.join(work_dir, 'joint_ap.png'))
    report_file = write_report(
        osp.join(work_dir, 'report.md'),
        tables=tables,
        commands=job.commands,
        times=job.times,
        total_time=total,
        plot_path=plot,
        quick=args.quick)
    print(f'\nreport: {report_file}\ntotal time: {total / 60:.1f} min')


if __name__ == '__main__':
    main()
