"""Hooks of the Runner: checks before training and testing, metric file."""
import logging
import os.path as osp
from typing import Dict, Optional, Sequence

import mmengine
from mmengine.dist import master_only
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS

from ..errors import ConfigError
from ..utils.outputs import prepare_output_dir, prepare_output_file
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
