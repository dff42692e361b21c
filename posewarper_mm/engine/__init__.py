"""Training and testing support: safe checkpoint loading, CPU DDP, hooks.

Importing this package allow-lists the globals of mmengine checkpoints for
torch's ``weights_only`` loader (see :mod:`.safe_checkpoint`).
"""
from .cli_config import resolve_work_dir
from .cpu_distributed import (init_gloo_process_group, needs_cpu_distributed,
                              setup_cpu_distributed, teardown_distributed)
from .initial_weights_hook import InitialWeightsCheckHook
from .resume import apply_resume_arg, finalize_auto_resume
from .safe_checkpoint import (allow_mmengine_checkpoint_globals,
                              history_buffer_statistic,
                              mmengine_checkpoint_safe_globals)
from .save_metrics_hook import SaveTestMetricsHook

allow_mmengine_checkpoint_globals()

__all__ = [
    'InitialWeightsCheckHook', 'SaveTestMetricsHook',
    'allow_mmengine_checkpoint_globals', 'apply_resume_arg',
    'finalize_auto_resume', 'history_buffer_statistic',
    'init_gloo_process_group', 'mmengine_checkpoint_safe_globals',
    'needs_cpu_distributed', 'resolve_work_dir', 'setup_cpu_distributed',
    'teardown_distributed'
]
