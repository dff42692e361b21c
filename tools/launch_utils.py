"""What ``tools/train.py`` and ``tools/test.py`` share: work dir,
visualisation and launcher flags, ``--resume``, and :func:`run_runner`.

``--resume`` continues a run, never restarts it from elsewhere. mmpose's
train tool merges ``--cfg-options`` after ``--resume``, so a ``load_from``
given there made mmengine resume from that file. :func:`resolve_resume`
decides once every override is merged, and logs the decision:

- ``--resume PATH``: resume from ``PATH``;
- ``--resume`` and the work dir has a ``last_checkpoint``: resume from
  it (``load_from`` only initialises a fresh run, so it is not used);
- ``--resume`` and no checkpoint yet: a fresh run from ``load_from``;
- no ``--resume`` and the work dir has a checkpoint: a fresh run, with a
  warning that names the checkpoint and ``--resume``.

The checkpoint a run resumes from or starts with is read before the
Runner is built, so a truncated or foreign file is one line naming it.

The scripts import this module as a sibling (``tools/`` is first on
``sys.path`` when they run).
"""
import argparse
import ctypes
import gc
import logging
import os
import os.path as osp
import signal
import sys
import time
from typing import Callable, Optional

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner, find_latest_checkpoint

from posewarper_mm.engine import (read_checkpoint, setup_cpu_distributed,
                                  teardown_distributed)
from posewarper_mm.errors import (ConfigError, InputFileError,
                                  OutputLocationError)

AUTO_RESUME = 'auto'
# errors in the user's files, paths and config: one line, no traceback
USER_ERRORS = (InputFileError, OutputLocationError, ConfigError)


def resolve_work_dir(cfg: Config, work_dir: Optional[str],
                     config_path: str) -> None:
    """Set ``cfg.work_dir``: ``work_dir`` (the command line), else the
    config's, else ``./work_dirs/<config name>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])


def add_visualization_args(parser: argparse.ArgumentParser,
                           subject: str) -> None:
    """Add ``--show-dir``, ``--show``, ``--interval`` and ``--wait-time``
    about ``subject`` (e.g. ``'predictions'``) to ``parser``."""
    add = parser.add_argument
    add('--show-dir',
        help=f'directory where the visualised {subject} are saved')
    add('--show', action='store_true',
        help=f'display the {subject} in a window')
    add('--interval', type=int, default=1,
        help='visualise every INTERVAL-th sample')
    add('--wait-time', type=float, default=1,
        help='display time of every window (seconds)')


def parse_launcher_args(parser: argparse.ArgumentParser,
                        argv=None) -> argparse.Namespace:
    """Add ``--launcher`` and the local rank to ``parser``, parse ``argv``
    and set ``LOCAL_RANK`` from the argument when torchrun did not."""
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_visualization(cfg: Config, args: argparse.Namespace) -> None:
    """Switch on ``default_hooks.visualization`` for ``--show`` or
    ``--show-dir`` (a ConfigError if the config has none)."""
    hooks = cfg.get('default_hooks', None) or {}
    if 'visualization' not in hooks:
        raise ConfigError(
            f'{args.config}: --show/--show-dir need '
            'default_hooks.visualization=dict(type="PoseVisualizationHook")')
    vis = cfg.default_hooks.visualization
    vis.update(enable=True, show=args.show, out_dir=args.show_dir,
               interval=args.interval)
    if args.show:
        vis.wait_time = args.wait_time


def run_runner(prog: str, make_config: Callable[[], Config],
               run: Callable[[Runner], None]) -> None:
    """Build the Runner from ``make_config()`` and call ``run(runner)``.

    One of :data:`USER_ERRORS` ends the process with exit status 1 and one
    line, ``<prog>: error: <message>``. Whatever happens, the runner (and
    its loader workers) is released before the process group is torn down;
    each step of the end is timed in the log (``teardown: ...``).
    """
    stop_with_launcher()
    succeeded, runner = False, None
    try:
        cfg = make_config()
        setup_cpu_distributed(cfg)
        runner = Runner.from_cfg(cfg)
        run(runner)
        succeeded = True
    except USER_ERRORS as error:
        raise SystemExit(f'{prog}: error: {error}') from None
    finally:
        start = time.perf_counter()
        if runner is not None:
            release_loaders(runner)
        loaders = time.perf_counter()
        runner = None
        gc.collect()
        released = time.perf_counter()
        if succeeded:
            _log(f'teardown: loader workers {loaders - start:.1f} s, '
                 f'runner {released - loaders:.1f} s')
        teardown_distributed(succeeded)
        if succeeded and os.environ.get('PWMM_FAST_EXIT') == '1':
            fast_exit()


def release_loaders(runner: Runner) -> None:
    """Stop the worker processes of the runner's data loaders now, each
    timed, instead of in whatever order garbage collection finds them."""
    for name in ('train', 'val', 'test'):
        loop = getattr(runner, f'_{name}_loop', None)
        loader = getattr(loop, 'dataloader', None)
        iterator = getattr(loader, '_iterator', None)
        if iterator is None or not hasattr(iterator, '_shutdown_workers'):
            continue
        start = time.perf_counter()
        iterator._shutdown_workers()
        loader._iterator = None
        _log(f'teardown: {name} loader, {len(iterator._workers)} workers, '
             f'{time.perf_counter() - start:.1f} s')


def fast_exit() -> None:
    """End a finished run now: flush the logs and leave without the
    interpreter's finalisation (library threads and contexts), which the
    OS reclaims. Opt-in (``PWMM_FAST_EXIT=1``) while its saving is
    measured; the checkpoints are already flushed to disk."""
    _log('teardown: fast exit')
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def latest_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint named by ``<work_dir>/last_checkpoint``, if any; an
    :class:`InputFileError` if the file is empty or names a missing one."""
    record = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(record):
        return None
    path = find_latest_checkpoint(work_dir)
    if not path or not osp.isfile(path):
        raise InputFileError(
            f'{record}: names the checkpoint {path!r}, which does not '
            'exist; resume from a checkpoint with --resume PATH or remove '
            'the file to start a fresh run')
    return path


def resolve_resume(cfg: Config, resume: Optional[str]) -> str:
    """Set ``cfg.resume`` and ``cfg.load_from`` for ``--resume [PATH]``.

    Args:
        cfg (Config): The merged config with ``work_dir``; updated.
        resume (str, optional): None (no flag), ``'auto'`` (no path) or a
            checkpoint path.

    Returns:
        str: ``'none'``, ``'path'`` (resume from the given file),
        ``'work_dir'`` (from the work dir's last checkpoint) or ``'fresh'``
        (no checkpoint yet: start from ``load_from`` or the initialisation).
    """
    return _resume_mode(cfg, resume)


def check_start_checkpoint(cfg: Config) -> Config:
    """Read the checkpoint that the run resumes from or starts with
    (``cfg`` from :func:`resolve_resume`), before any work.

    Raises:
        InputFileError: One line naming the option and the file, if it is
            missing or not a readable checkpoint.
    """
    path, option = cfg.get('load_from', None), 'load_from'
    if cfg.get('resume', False):
        option = '--resume'
        path = path or latest_checkpoint(cfg.work_dir)
    if path and '://' not in str(path):
        try:
            read_checkpoint(path)
        except InputFileError as err:
            raise InputFileError(f'{option}: {err}') from None
    return cfg


def _resume_mode(cfg: Config, resume: Optional[str]) -> str:
    load_from = cfg.get('load_from', None)
    if resume is None:
        latest = latest_checkpoint(cfg.work_dir)
        if latest is not None:
            print_log(
                f'work_dir {cfg.work_dir} holds the checkpoint {latest} of an '
                'earlier run; this run starts anew and its checkpoints '
                'replace it as the last one. Pass --resume to continue it '
                'instead.', logger='current', level=logging.WARNING)
        return 'none'
    if resume != AUTO_RESUME:
        cfg.resume, cfg.load_from = True, resume
        _log(f'--resume: resuming from {resume}' +
             (f' (not from load_from {load_from}, which only initialises '
              'a fresh run)' if load_from and load_from != resume else ''))
        return 'path'
    latest = latest_checkpoint(cfg.work_dir)
    if latest is not None:
        # load_from None: the runner finds that file and logs it as resumed
        cfg.resume, cfg.load_from = True, None
        _log(f'--resume: resuming from {latest}, the last checkpoint in '
             f'work_dir {cfg.work_dir}' +
             (f'; load_from {load_from} is not used because it only '
              'initialises a run that has no checkpoint yet'
              if load_from else ''))
        return 'work_dir'
    cfg.resume, cfg.load_from = False, load_from
    _log(f'--resume: no checkpoint in work_dir {cfg.work_dir} yet; '
         'starting a fresh run from ' +
         (f'load_from {load_from}' if load_from else
          "the model's initialisation (load_from is not set)"))
    return 'fresh'


def use_atomic_checkpoints(cfg: Config) -> None:
    """Write checkpoints with ``AtomicCheckpointHook`` where the config
    asks for mmengine's plain ``CheckpointHook`` (same arguments)."""
    hook = (cfg.get('default_hooks', None) or {}).get('checkpoint', None)
    if hook is not None and hook.get('type') in ('CheckpointHook',
                                                 'mmengine.CheckpointHook'):
        hook.type = 'AtomicCheckpointHook'
        _log('checkpoints are written with AtomicCheckpointHook (a failed '
             'write keeps the previous checkpoint)')


def stop_with_launcher() -> None:
    """Under torchrun, end this worker (SIGTERM) when its launcher dies,
    even by SIGKILL, instead of training on as an orphan (Linux only)."""
    if 'TORCHELASTIC_RUN_ID' not in os.environ:
        return
    launcher = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != launcher or launcher == 1:
        os.kill(os.getpid(), signal.SIGTERM)  # it died before the prctl


def _log(msg: str) -> None:
    print_log(msg, logger='current', level=logging.INFO)
