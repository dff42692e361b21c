"""Main job: PoseWarper on generated sparse-label videos, start to finish.

Generates the videos (kept when present), trains stage 1 (single-frame
HRNet) and stage 2 (PoseWarper) with the quickstart configs, tests both on
the held-out videos beside the codec ceiling, compares propagation on the
training videos, and writes ``<work-dir>/report.md``. Each step runs one of
the project's tools, its output in ``<work-dir>/logs/``. With ``--seeds N``
both stages train once per seed (the configs' seed in ``<work-dir>``, the
next ones in ``<work-dir>/seed_<S>/``); the report gives mean and range.
``--propagate-then-train`` adds the steps of :mod:`.sparse_training`::

    python -m tools.quickstart              # full run
    python -m tools.quickstart --quick      # a few iterations (tests)
    python -m tools.quickstart --fresh      # regenerate data, retrain
    python -m tools.quickstart --seeds 2    # two seeds, mean and range
    python -m tools.quickstart --propagate-then-train  # + sparse training
"""
import argparse
import contextlib
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import time
import traceback
import warnings
from typing import (Callable, Dict, Iterator, List, Mapping, Optional,
                    Sequence, TextIO, Tuple)

# the console shows the steps only (mmengine may warn about pkg_resources)
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

from posewarper_mm.evaluation.functional import evaluate_posetrack  # noqa
from posewarper_mm.posetrack import load_json  # noqa: E402
from tools import REPO_ROOT, load_tool  # noqa: E402
from . import (codec_ceiling, eval_propagation, report,  # noqa: E402
               sparse_training, synthetic, warping_example)
from .gt_subsets import flagged_gt_dir  # noqa: E402
from .report import Tables, read_curves  # noqa: E402
from .reuse import reuse_output  # noqa: E402

STAGE1_CFG = 'configs/quickstart/posewarper-stage1_hrnet-tiny_synthetic.py'
STAGE2_CFG = 'configs/quickstart/posewarper_hrnet-tiny_synthetic.py'
# a second compute thread uses the time the loader process idles
TRAIN_ENV = {'OMP_NUM_THREADS': '2'}
# 96 training videos labeled every 5th frame, 8 held out; fast occluders and
# camera shakes make hard frames a neighbour shows (docs/quickstart_runs.md)
DATA_KW = dict(
    num_videos=104, num_frames=40, videos_per_split=(96, 8), sparse_every=5,
    seed=0, occluder_speed=(0.10, 0.16), max_occluders=4,
    shake_blur_prob=0.35, shake_blur_strength=(0.05, 0.09))
QUICK_DATA_KW = dict(
    num_videos=4, num_frames=12, videos_per_split=(2, 2), sparse_every=4,
    seed=0)
QUICK_ITERS = (6, 4)
# the settings, written beside the data: other settings' data is refused
DATA_MANIFEST = 'quickstart_data.json'
PROPAGATION_VIDEOS = 8  # the first training videos (the cost grows with them)
SHORT_OFFSETS = (-1, 0, 1)  # the same stage-2 model on a 3-frame window
# mmengine's training log line, e.g. "Iter(train) [ 50/800] ..."
TRAIN_ITER = re.compile(r'Iter\(train\)\s*\[\s*(\d+)/(\d+)\]')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add = parser.add_argument
    add('--work-dir', default='work_dirs/quickstart')
    add('--data-root', help='default: data/quickstart, with --sparse-every '
        'N other than 5 data/quickstart_sparse<N>')
    add('--fresh', action='store_true',
        help='delete the generated data and the work dir')
    add('--quick', action='store_true',
        help='tiny data and a few iterations (a check)')
    add('--seeds', type=int, default=1, help="train and test with the "
        "configs' seed and the next ones; the report gives mean and range")
    add('--stage2-config', default=STAGE2_CFG,
        help='the stage-2 config (a variant of the quickstart\'s)')
    add('--propagate-then-train', action='store_true',
        help='also train the single-frame model on sparse + propagated '
        'labels and on all true labels (tools/quickstart/sparse_training.py)')
    add('--sparse-every', type=int,
        help='label every N-th training frame (default: 5; 4 with --quick)')
    add('--max-distance', type=int,
        help='--propagate-then-train labels only the unlabeled frames this '
        'close to a labeled one (default: all)')
    add('--propagated-min-score', type=float,
        help='--propagate-then-train trains on the propagated joints scored '
        'at least this (PoseTrackVideoPairDataset.propagated_min_score)')
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error('--seeds must be at least 1')
    for name in ('sparse_every', 'max_distance'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be at least 1')
    for name in ('max_distance', 'propagated_min_score'):
        if getattr(args, name) is not None and not args.propagate_then_train:
            parser.error(f'--{name.replace("_", "-")} needs '
                         '--propagate-then-train')
    if args.propagated_min_score is not None and \
            not 0 <= args.propagated_min_score <= 1:
        parser.error('--propagated-min-score must be in [0, 1]')
    data_kw = QUICK_DATA_KW if args.quick else DATA_KW
    if args.sparse_every is not None:
        data_kw = dict(data_kw, sparse_every=args.sparse_every)
    args.data_kw = data_kw
    if args.data_root is None:
        args.data_root = 'data/quickstart' if data_kw['sparse_every'] == \
            DATA_KW['sparse_every'] else \
            f'data/quickstart_sparse{data_kw["sparse_every"]}'
    return args


@contextlib.contextmanager
def _output_to(log: TextIO) -> Iterator[None]:
    """Send this process's stdout and stderr (the file descriptors: C
    code's and logging's output too) to ``log`` for the block."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, saved_fd in enumerate(saved, 1):
            os.dup2(saved_fd, fd)
            os.close(saved_fd)


def _wait(proc: subprocess.Popen, log_file: str, name: str) -> None:
    """Wait for ``proc``; on a terminal, show its training progress."""
    bar = None
    while proc.poll() is None:
        time.sleep(0.5)
        if not sys.stdout.isatty():
            continue
        with open(log_file, encoding='utf-8', errors='replace') as f:
            found = TRAIN_ITER.findall(f.read())
        if found:
            done, total = (int(v) for v in found[-1])
            if bar is None:
                from tqdm import tqdm
                print()
                bar = tqdm(total=total, desc=name, unit='iter', leave=False,
                           file=sys.stdout,
                           ncols=shutil.get_terminal_size().columns or 80)
            bar.update(done - bar.n)
    if bar is not None:
        bar.close()
        print(f'==> {name} ...', end='', flush=True)


class Job:
    """Runs the steps, a tool's output to ``<work_dir>/logs/<step>.log``
    and one line per step to the console; keeps their commands, times and
    log files. A failed step stops the job with the log's tail."""

    def __init__(self, work_dir: str) -> None:
        self.log_dir = osp.join(work_dir, 'logs')
        self.commands: List[List[str]] = []
        self.times: Dict[str, float] = {}
        self.logs: Dict[str, str] = {}

    def run(self, name: str, cmd: List[str], env: Dict[str, str]) -> None:
        """Run a tool as a subprocess (``cmd[0]``: this interpreter)."""

        def call(log: TextIO) -> int:
            proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log,
                                    stderr=subprocess.STDOUT,
                                    env={**os.environ, **env})
            _wait(proc, log.name, name)
            return proc.returncode

        words = [f'{k}={v}' for k, v in env.items()] + ['python', *cmd[1:]]
        self._step(name, words, call)

    def run_in_process(self, name: str, script: str, argv: List[str]) -> None:
        """Like :meth:`run`, but call ``main(argv)`` of a tool's path
        (``'tools/test.py'``) or of a lab module (``__name__``) in this
        process, sparing an interpreter start and the imports."""
        if script.endswith('.py'):
            words, main = ['python', script, *argv], load_tool(script).main
        else:
            words = ['python', '-m', script, *argv]
            main = sys.modules[script].main

        def call(log: TextIO) -> int:
            with _output_to(log):
                try:
                    main(argv)
                except SystemExit as exc:  # argparse, or a one-line error
                    if exc.code not in (None, 0):
                        print(exc.code, file=sys.stderr)
                        return exc.code if isinstance(exc.code, int) else 1
                except Exception:  # the step fails, as a subprocess would
                    traceback.print_exc()
                    return 1
            return 0

        self._step(name, words, call)

    def _step(self, name: str, words: List[str],
              call: Callable[[TextIO], int]) -> None:
        """Log the command, run ``call(log)``, time it; on failure print
        the log's tail and stop."""
        self.commands.append(words)
        os.makedirs(self.log_dir, exist_ok=True)
        slug = re.sub(r'[^a-z0-9]+', '_', name.lower()).strip('_')
        log_file = self.logs[name] = osp.join(self.log_dir, slug + '.log')
        print(f'==> {name} ...', end='', flush=True)
        start = time.time()
        with open(log_file, 'w', encoding='utf-8') as log:
            log.write(f'$ {" ".join(words)}\n')
            log.flush()
            returncode = call(log)
        elapsed = time.time() - start
        self.times[name] = self.times.get(name, 0.0) + elapsed
        if returncode != 0:
            with open(log_file, encoding='utf-8', errors='replace') as f:
                tail = f.readlines()[-30:]
            print(' failed\n' + ''.join(tail), flush=True)
            raise SystemExit(f'quickstart: step "{name}" failed '
                             f'(exit code {returncode}): {" ".join(words)}\n'
                             f'full log: {log_file}')
        print(f' {report.fmt_time(elapsed)}  (log: {log_file})', flush=True)

    def timed(self, name: str, fn: Callable, *args, **kwargs):
        """Run a Python step and time it."""
        print(f'==> {name} ...', end='', flush=True)
        start = time.time()
        out = fn(*args, **kwargs)
        elapsed = time.time() - start
        self.times[name] = self.times.get(name, 0.0) + elapsed
        print(f' {report.fmt_time(elapsed)}', flush=True)
        return out


def _load_config(config: str):
    """A quickstart config (path relative to the repository root)."""
    from mmengine.config import Config
    return Config.fromfile(osp.join(REPO_ROOT, config))


def data_options(data_root: str) -> List[str]:
    """``--cfg-options`` that point a quickstart config at ``data_root``,
    a generated PoseTrack18-format dataset."""
    root = data_root.rstrip('/') + '/'
    evaluator = (f'ann_file={root}annotations/posetrack18_val.json',
                 f'gt_folder={root}annotations/val')
    return ([f'{s}_dataloader.dataset.data_root={root}'
             for s in ('train', 'val', 'test')] +
            [f'{s}_evaluator.{e}' for s in ('val', 'test') for e in evaluator])


def schedule_options(config: str, iters: int) -> List[str]:
    """``--cfg-options`` that run a config's schedule for ``iters``
    iterations, each LR step scaled by ``iters / max_iters``."""
    cfg = _load_config(config)
    length = int(cfg.train_cfg.max_iters)
    steps = ','.join(
        str(round(m * iters / length))
        for m in cfg.param_scheduler[0].milestones)
    return [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
            f'param_scheduler.0.end={iters}',
            f'param_scheduler.0.milestones=[{steps}]',
            f'default_hooks.checkpoint.interval={iters}']


def train_options(config: str, iters: int, seed: int,
                  base_seed: int) -> List[str]:
    """``--cfg-options`` of a training run: the schedule for ``iters``,
    the loss logged about 50 times (training curves) and ``seed`` unless it
    is the configs' own."""
    options = [*schedule_options(config, iters),
               f'default_hooks.logger.interval={max(1, iters // 50)}']
    if seed != base_seed:
        options.append(f'randomness.seed={seed}')
    return options


def short_window_options(config: str) -> List[str]:
    """``--cfg-options`` that test a config on :data:`SHORT_OFFSETS`, with
    its test weights of those offsets renormalised."""
    from posewarper_mm.datasets.temporal_window import TemporalWindow
    dataset = _load_config(config).test_dataloader.dataset
    window = TemporalWindow(dataset.frame_offsets,
                            dataset.frame_weights).subset(SHORT_OFFSETS)
    offsets = ','.join(str(o) for o in window.offsets)
    weights = ','.join(f'{w:.7g}' for w in window.weights)
    return [f'test_dataloader.dataset.frame_offsets=[{offsets}]',
            f'test_dataloader.dataset.frame_weights=[{weights}]']


def run_seed(job: Job, seed: int, base_seed: int, run_dir: str, data_root: str,
             iters: Sequence[int], subsets: Mapping[str, str],
             ceiling_dir: str, suffix: str, stage2_cfg: str = STAGE2_CFG,
             propagate_then_train: bool = False,
             max_distance: Optional[int] = None,
             min_score: Optional[float] = None
             ) -> Tuple[Tables, Dict[str, str]]:
    """Train both stages with ``seed`` (given on the command line unless
    it is the configs' own) for ``iters``, stage 2 with ``stage2_cfg``
    (and with ``propagate_then_train`` the single-frame models of
    :mod:`.sparse_training`, labels propagated up to ``max_distance``
    frames and trained on from ``min_score``), test them on each of
    ``subsets`` (table title -> GT folder) and compare propagation, in
    ``run_dir``.

    Returns:
        tuple: The tables and the training work dirs (name -> folder).
    """
    stage_dirs = {f'stage {i}': osp.join(run_dir, f'stage{i}') for i in (1, 2)}
    common = data_options(data_root)

    def train(stage: str, config: str, work_dir: str, n: int,
              extra: List[str]) -> str:
        """Train ``config`` for ``n`` iterations unless its checkpoint
        is there; returns the checkpoint."""
        ckpt = osp.join(work_dir, f'iter_{n}.pth')
        cmd = ['tools/train.py', config, '--work-dir', work_dir,
               '--no-validate', '--cfg-options', *common,
               *train_options(config, n, seed, base_seed), *extra]
        if not reuse_output(ckpt, cmd, stage):
            job.run(f'train {stage}{suffix}', [sys.executable, *cmd],
                    TRAIN_ENV)
        return ckpt

    ckpts = {'stage 1': train('stage 1', STAGE1_CFG, stage_dirs['stage 1'],
                              iters[0], [])}
    ckpts['stage 2'] = train('stage 2', stage2_cfg, stage_dirs['stage 2'],
                             iters[1], [f'load_from={ckpts["stage 1"]}'])

    no_flip = ['model.test_cfg.flip_test=False']
    stage1 = (STAGE1_CFG, ckpts['stage 1'])
    stage2 = (stage2_cfg, ckpts['stage 2'])
    tests = {  # row -> (prediction folder, (config, checkpoint), options)
        report.SINGLE_ROW: ('single_frame', stage1, []),
        report.SINGLE_NO_FLIP_ROW: ('single_frame_no_flip', stage1, no_flip),
        report.WARP_ROW: ('posewarper', stage2, []),
        report.WARP_NO_FLIP_ROW: ('posewarper_no_flip', stage2, no_flip),
        report.SHORT_ROW: ('posewarper_3_frames', stage2,
                           short_window_options(stage2_cfg))}
    if propagate_then_train:
        more, work_dirs = sparse_training.propagate_then_train(
            job, run_dir, data_root, stage2,
            lambda name, work_dir, extra: train(name, STAGE1_CFG, work_dir,
                                                iters[0], extra), suffix,
            max_distance, min_score)
        stage_dirs.update(work_dirs)
        for row, ckpt in more.items():
            tests[row] = (sparse_training.RUNS[row][2], (STAGE1_CFG, ckpt), [])
    pred_dirs = {report.CEILING_ROW: ceiling_dir}
    for row, (folder, model, extra) in tests.items():
        pred_dirs[row] = osp.join(run_dir, 'preds', folder)
        job.run_in_process(f'test {row}{suffix}', 'tools/test.py', [
            *model, '--work-dir', osp.join(run_dir, 'test'), '--pred-dir',
            pred_dirs[row], '--cfg-options', *common, *extra])

    tables: Tables = job.timed(
        'PoseTrack AP' + suffix, lambda: {
            subset: {row: evaluate_posetrack(gt_dir, pred)
                     for row, pred in pred_dirs.items()}
            for subset, gt_dir in subsets.items()})
    prop_json = osp.join(run_dir, 'propagation.json')
    job.run_in_process('propagation' + suffix, eval_propagation.__name__, [
        *stage2, '--data-root', data_root, '--work-dir',
        osp.join(run_dir, 'propagation'), '--out-json', prop_json,
        '--max-videos', str(PROPAGATION_VIDEOS), '--single-frame', *stage1])
    tables[report.PROPAGATION_TABLE] = load_json(prop_json)
    return tables, stage_dirs


def prepare_data(job: Job, data_root: str, data_kw: Mapping) -> None:
    """Generate the videos into ``data_root`` and record their settings
    beside them, unless it holds videos of these settings already.

    Raises:
        SystemExit: It holds videos of other settings.
    """
    manifest = osp.join(data_root, DATA_MANIFEST)
    if osp.isfile(osp.join(data_root, 'annotations/posetrack18_val.json')):
        wanted = json.loads(json.dumps(dict(data_kw)))  # tuples as lists
        found = load_json(manifest) if osp.isfile(manifest) else None
        if found != wanted:
            raise SystemExit(
                f'error: {data_root} holds generated data with other '
                f'settings ({manifest}: {found}; this run generates '
                f'{wanted}). Move it away, give another --data-root, or '
                'start over with --fresh (which also deletes the work dir).')
        print(f'data: using the generated dataset in {data_root}')
        return
    job.timed('generate data', synthetic.generate_posetrack_dataset,
              data_root, **data_kw)
    with open(manifest, 'w', encoding='utf-8') as f:
        json.dump(dict(data_kw), f, indent=1)


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
    iters = QUICK_ITERS if args.quick else [
        int(_load_config(config).train_cfg.max_iters)
        for config in (STAGE1_CFG, args.stage2_config)]
    base_seed = int(_load_config(STAGE1_CFG).randomness.seed)
    seeds = [base_seed + i for i in range(args.seeds)]
    start = time.time()
    import torch  # the tools compute on the GPU when they see one
    device = f'GPU ({torch.cuda.get_device_name(0)})' \
        if torch.cuda.is_available() else f'CPU ({os.cpu_count()} cores)'
    print(f'device: {device}')

    prepare_data(job, data_root, args.data_kw)
    ceiling_dir = osp.join(work_dir, 'preds', 'codec_ceiling')
    job.run_in_process('codec ceiling', codec_ceiling.__name__, [
        STAGE2_CFG, '--pred-dir', ceiling_dir, '--cfg-options',
        *data_options(data_root)])
    gt_dir = osp.join(data_root, 'annotations', 'val')
    subsets = {'all frames': gt_dir}
    for title, flags, flagged in (('occluded', ['occluded'], True),
                                  ('blurred', ['blurred'], True),
                                  ('clear', ['occluded', 'blurred'], False)):
        subsets[f'{title} frames'] = flagged_gt_dir(
            gt_dir, osp.join(work_dir, f'gt_{title}'), flags, flagged)

    per_seed, curves, first = [], {}, None
    for seed in seeds:
        run_dir = work_dir if seed == seeds[0] else osp.join(
            work_dir, f'seed_{seed}')
        tables, stage_dirs = run_seed(
            job, seed, base_seed, run_dir, data_root, iters, subsets,
            ceiling_dir, '' if len(seeds) == 1 else f' (seed {seed})',
            args.stage2_config, args.propagate_then_train, args.max_distance,
            args.propagated_min_score)
        per_seed.append(tables)
        first = first or stage_dirs
        for stage, folder in stage_dirs.items():
            run = read_curves(folder)
            if run is not None:
                curves.setdefault(stage, {})[f'seed {seed}'] = run
    preds = osp.join(work_dir, 'preds')
    warping = warping_example.figure_step(
        job, args.stage2_config,
        osp.join(first['stage 2'], f'iter_{iters[1]}.pth'), data_root,
        gt_dir, subsets['occluded frames'],
        osp.join(preds, 'single_frame'), osp.join(preds, 'posewarper'),
        osp.join(work_dir, warping_example.FIGURE))
    total = time.time() - start
    report_file = osp.join(work_dir, 'report.md')
    sparse_labels = sparse_training.labeled_frames(data_root) \
        if args.propagate_then_train else None
    print(report.write_report(report_file, per_seed, seeds, job, total,
                              curves, args.quick, device, warping,
                              sparse_labels))
    print(f'\nlogs: {job.log_dir}\nreport: {report_file}\n'
          f'total time: {total / 60:.1f} min')


if __name__ == '__main__':
    main()
