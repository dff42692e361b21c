"""Runner support: safe checkpoint loading and checks, CPU DDP, hooks.

Importing it allow-lists mmengine checkpoints for ``torch.load``.
"""
from .checkpoint import (ALLOW_PARTIAL_FLAG, ALLOWED_UNLOADED_SUFFIXES,
                         allow_mmengine_checkpoint_globals, check_weights_fit,
                         history_buffer_statistic, init_inference_model,
                         load_inference_checkpoint,
                         mmengine_checkpoint_safe_globals, read_checkpoint,
                         unloaded_weights)
from .cpu_distributed import (init_gloo_process_group, needs_cpu_distributed,
                              setup_cpu_distributed, teardown_distributed)
from .hooks import (AtomicCheckpointHook, InitialWeightsCheckHook,
                    PreflightCheckHook, SaveTestMetricsHook)

allow_mmengine_checkpoint_globals()

__all__ = [
    'ALLOWED_UNLOADED_SUFFIXES', 'ALLOW_PARTIAL_FLAG', 'AtomicCheckpointHook',
    'InitialWeightsCheckHook', 'PreflightCheckHook', 'SaveTestMetricsHook',
    'allow_mmengine_checkpoint_globals', 'check_weights_fit',
    'history_buffer_statistic', 'init_gloo_process_group',
    'init_inference_model', 'load_inference_checkpoint',
    'mmengine_checkpoint_safe_globals', 'needs_cpu_distributed',
    'read_checkpoint', 'setup_cpu_distributed',
    'teardown_distributed', 'unloaded_weights']
