"""Hooks of the Runner: checks before training and testing, safe
checkpoint writes, metric file."""
import contextlib
import functools
import glob
import logging
import os
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence

import mmengine
from mmengine.dist import (all_reduce_params, is_distributed, is_main_process,
                           master_only)
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import find_latest_checkpoint
from mmpose.registry import HOOKS

from ..errors import ConfigError, OutputLocationError
from ..utils.outputs import (prepare_output_dir, prepare_output_file,
                             replace_atomically)
from .checkpoint import check_weights_fit, read_checkpoint


@HOOKS.register_module()
class InitialWeightsCheckHook(Hook):
    """Warn when a recipe that needs pretrained weights starts from random.

    Without ``resume``, ``load_from`` or a ``Pretrained`` backbone
    ``init_cfg``, ``before_train`` logs a warning ending with ``hint`` (how
    to give the weights), or an info line if ``from_scratch`` (intended).
    """

    priority = 'VERY_LOW'

    def __init__(self, hint: str = '', from_scratch: bool = False) -> None:
        self.hint = hint
        self.from_scratch = from_scratch

    @staticmethod
    def weights_source(runner) -> Optional[str]:
        """Where the runner's starting weights come from; None: random."""
        cfg = getattr(runner, 'cfg', None) or {}
        if cfg.get('resume', False):
            return 'resumed checkpoint'
        load_from = cfg.get('load_from', None)
        if load_from:
            return f'load_from={load_from}'
        model = runner.model
        model = model.module if is_model_wrapper(model) else model
        init = getattr(getattr(model, 'backbone', None), 'init_cfg', None)
        for cfg in init if isinstance(init, (list, tuple)) else [init]:
            if hasattr(cfg, 'get') and cfg.get('checkpoint') and \
                    str(cfg.get('type', '')) == 'Pretrained':
                return 'Pretrained init_cfg of the backbone'
        return None

    def before_train(self, runner) -> None:
        """Log where the weights come from when they are random."""
        if self.weights_source(runner) is not None:
            return
        if self.from_scratch:
            print_log('Training from random initialisation, as this config '
                      'intends (no load_from, no Pretrained backbone init).',
                      logger='current', level=logging.INFO)
        else:
            print_log('Training starts from RANDOM initialisation: neither '
                      'load_from nor a Pretrained init_cfg of the backbone '
                      'is set, but this recipe expects pretrained weights. ' +
                      self.hint, logger='current', level=logging.WARNING)


@HOOKS.register_module()
class PreflightCheckHook(Hook):
    """Check the files of a test run before any inference.

    ``before_run`` reads ``checkpoint`` and prepares ``out_dirs`` and the
    folders of ``out_files`` (``(option, path)`` pairs), raising
    :class:`InputFileError` or :class:`OutputLocationError`;
    ``after_load_checkpoint`` refuses a checkpoint that leaves model
    weights unloaded unless ``allow_partial``.
    """

    priority = 'VERY_HIGH'

    def __init__(self, checkpoint: Optional[str] = None,
                 allow_partial: bool = False, out_dirs: Sequence = (),
                 out_files: Sequence = ()) -> None:
        self.checkpoint = checkpoint
        self.allow_partial = allow_partial
        self.out_dirs = [tuple(p) for p in out_dirs]
        self.out_files = [tuple(p) for p in out_files]

    def before_run(self, runner) -> None:
        """Check the checkpoint file and the output locations."""
        if self.checkpoint and '://' not in self.checkpoint:
            read_checkpoint(self.checkpoint)
        for option, path in self.out_dirs:
            prepare_output_dir(path, option)
        for option, path in self.out_files:
            prepare_output_file(path, option)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Refuse a checkpoint that does not fit ``runner.model``."""
        if self.checkpoint and not self.allow_partial:
            check_weights_fit(runner.model, checkpoint, self.checkpoint)


@HOOKS.register_module()
class SaveTestMetricsHook(Hook):
    """Write the metrics of the test loop to ``out_file`` (``.json``,
    ``.yaml``/``.yml`` or ``.pkl``/``.pickle``; :func:`mmengine.dump`)."""

    priority = 'LOWEST'

    def __init__(self, out_file: str) -> None:
        if not out_file.endswith(('.json', '.yaml', '.yml', '.pkl',
                                  '.pickle')):
            raise ConfigError(f'Metric output file {out_file!r} must end '
                              'with .json, .yaml, .yml, .pkl or .pickle.')
        self.out_file = out_file

    @master_only
    def after_test_epoch(self, runner,
                         metrics: Optional[Dict[str, float]] = None) -> None:
        """Write ``metrics`` (if any) on the main process."""
        if metrics is not None:
            mmengine.mkdir_or_exist(osp.dirname(osp.abspath(self.out_file)))
            mmengine.dump(dict(metrics), self.out_file)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's :class:`CheckpointHook` whose writes never cost the last
    good checkpoint (same arguments).

    A checkpoint is written under a temporary name, flushed and renamed;
    only then are the checkpoints beyond ``max_keep_ckpts`` (or the previous
    best one) removed and ``last_checkpoint`` updated. A failed write (full
    disk, file-size limit) leaves every earlier file as it was and stops
    training with an :class:`OutputLocationError` naming the file and the
    last complete checkpoint. In distributed iteration-based training the
    buffers (BN statistics) are averaged over the ranks before a save, as
    ``SyncBuffersHook`` does before validation, so the checkpoint holds the
    weights that validation scores. Non-local backends save as mmengine's.
    """

    def before_train(self, runner) -> None:
        """Set up as mmengine does, then remove the temporary files that a
        killed run left (their process is gone)."""
        super().before_train(runner)
        if not isinstance(self.file_backend, LocalBackend) or \
                not is_main_process():
            return
        for path in glob.glob(osp.join(self.out_dir, '.*.tmp-*')):
            pid = path.rsplit('-', 1)[-1]
            if pid.isdigit() and not _alive(int(pid)):
                os.remove(path)
                print_log(f'removed {path}, a checkpoint write that did '
                          'not finish', logger='current')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        """Average the buffers over the ranks before an iteration's save."""
        saves = not self.by_epoch and (
            self.every_n_train_iters(runner, self.interval, self.save_begin)
            or (self.save_last and self.is_last_train_iter(runner)))
        if saves and is_distributed():
            all_reduce_params(runner.model.buffers(), op='mean')
        super().after_train_iter(runner, batch_idx, data_batch, outputs)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        with self._safe_writes(runner):
            super()._save_checkpoint_with_step(runner, step, meta)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        with self._safe_writes(runner):
            super()._save_best_checkpoint(runner, metrics)

    @contextlib.contextmanager
    def _safe_writes(self, runner) -> Iterator[None]:
        """In the block the runner saves atomically and the backend's
        removals wait; they happen after it, and only if it succeeded."""
        if not isinstance(self.file_backend, LocalBackend):
            yield
            return
        queued: List[str] = []
        remove = self.file_backend.remove
        self.file_backend.remove = queued.append
        runner.save_checkpoint = functools.partial(
            self._save_atomically, runner, type(runner).save_checkpoint)
        try:
            yield
        finally:
            del runner.save_checkpoint  # the class's method again
            self.file_backend.remove = remove
        for path in queued:
            if self.file_backend.isfile(path):
                remove(path)

    def _save_atomically(self, runner, save, out_dir: str, filename: str,
                         *args, **kwargs) -> None:
        """``save(runner, out_dir, <temporary name>, ...)``, then renamed
        to ``filename``."""
        path = osp.join(out_dir, filename)
        tmp_name = f'.{filename}.tmp-{os.getpid()}'
        tmp_path = osp.join(out_dir, tmp_name)
        try:
            save(runner, out_dir, tmp_name, *args, **kwargs)
            if is_main_process():
                replace_atomically(tmp_path, path)
        except OSError as err:
            last = find_latest_checkpoint(runner.work_dir) or 'none'
            raise OutputLocationError(
                f'cannot write the checkpoint {path} ({err.strerror or err})'
                f'; the last complete checkpoint, {last}, is kept') from err
        finally:
            if osp.exists(tmp_path):
                os.remove(tmp_path)
