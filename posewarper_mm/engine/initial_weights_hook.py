"""Hook that says, at the start of training, where the weights come from."""
import logging
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS


def _has_pretrained_init(module) -> bool:
    """Whether ``module.init_cfg`` (a dict or list) loads ``Pretrained``."""
    init_cfg = getattr(module, 'init_cfg', None)
    if init_cfg is None:
        return False
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(
        str(cfg.get('type', '')) == 'Pretrained' and cfg.get('checkpoint')
        for cfg in cfgs if hasattr(cfg, 'get'))


@HOOKS.register_module()
class InitialWeightsCheckHook(Hook):
    """Warn when a recipe that needs pretrained weights starts from random.

    The PoseTrack18 recipes start from weights trained elsewhere: stage 1
    from COCO-pretrained HRNet, stage 2 from the stage-1 checkpoint. A run
    with neither ``load_from`` nor a ``Pretrained`` ``init_cfg`` on the
    backbone (and not resuming) trains from random initialisation, which
    is rarely what the user meant; this hook logs a warning saying so, with
    ``hint`` on how to give the weights. A recipe that trains from scratch
    by design (the quickstart) sets ``from_scratch=True`` and gets one info
    line instead.

    Args:
        hint (str): How to give the expected weights, appended to the
            warning.
        from_scratch (bool): Training from random weights is intended.
            Defaults to False.
    """

    priority = 'VERY_LOW'

    def __init__(self, hint: str = '', from_scratch: bool = False) -> None:
        self.hint = hint
        self.from_scratch = from_scratch

    @staticmethod
    def weights_source(runner) -> Optional[str]:
        """Where the starting weights come from, or None for random.

        Args:
            runner (Runner): The runner about to train.

        Returns:
            str, optional: A short description of the source.
        """
        cfg = getattr(runner, 'cfg', None) or {}
        if cfg.get('resume', False):
            return 'resumed checkpoint'
        load_from = cfg.get('load_from', None)
        if load_from:
            return f'load_from={load_from}'
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        backbone = getattr(model, 'backbone', None)
        if backbone is not None and _has_pretrained_init(backbone):
            return 'Pretrained init_cfg of the backbone'
        return None

    def before_train(self, runner) -> None:
        """Log where the weights come from when they are random."""
        if self.weights_source(runner) is not None:
            return
        if self.from_scratch:
            print_log(
                'Training from random initialisation, as this config '
                'intends (no load_from, no Pretrained backbone init).',
                logger='current',
                level=logging.INFO)
            return
        print_log(
            'Training starts from RANDOM initialisation: neither load_from '
            'nor a Pretrained init_cfg of the backbone is set, but this '
            'recipe expects pretrained weights. ' + self.hint,
            logger='current',
            level=logging.WARNING)
