"""Training and testing support: safe checkpoint loading, CPU DDP, hooks.

Importing this package allow-lists the globals of mmengine checkpoints for
torch's ``weights_only`` loader (see :mod:`.safe_checkpoint`).
"""
from ..errors import InputFileError
from .checkpoint_check import (ALLOW_PARTIAL_FLAG, ALLOWED_UNLOADED_SUFFIXES,
                               check_weights_fit, init_inference_model,
                               load_inference_checkpoint, read_checkpoint,
                               unloaded_weights)
from .cpu_distributed import (init_gloo_process_group, needs_cpu_distributed,
                              setup_cpu_distributed, teardown_distributed)
from .initial_weights_hook import InitialWeightsCheckHook
from .preflight_hook import PreflightCheckHook
from .safe_checkpoint import (allow_mmengine_checkpoint_globals,
                              history_buffer_statistic,
                              mmengine_checkpoint_safe_globals)
from .save_metrics_hook import SaveTestMetricsHook

allow_mmengine_checkpoint_globals()

__all__ = [
    'ALLOWED_UNLOADED_SUFFIXES', 'ALLOW_PARTIAL_FLAG', 'InputFileError',
    'InitialWeightsCheckHook', 'PreflightCheckHook', 'SaveTestMetricsHook',
    'allow_mmengine_checkpoint_globals', 'check_weights_fit',
    'history_buffer_statistic', 'init_gloo_process_group',
    'init_inference_model', 'load_inference_checkpoint',
    'mmengine_checkpoint_safe_globals', 'needs_cpu_distributed',
    'read_checkpoint', 'setup_cpu_distributed', 'teardown_distributed',
    'unloaded_weights'
]
