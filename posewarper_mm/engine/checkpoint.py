"""Reading checkpoints safely, and refusing those that do not fit a model.

torch's ``weights_only`` loader rebuilds only allow-listed globals;
:func:`allow_mmengine_checkpoint_globals` adds exactly those of mmengine
checkpoints (message hub, numpy meta), with ``builtins.getattr`` bound to
:func:`history_buffer_statistic`. Any other global is still refused.

At inference a checkpoint that leaves model weights unloaded (other than
:data:`ALLOWED_UNLOADED_SUFFIXES`) is an :class:`InputFileError` unless
``allow_partial`` (the tools' :data:`ALLOW_PARTIAL_FLAG`); mmengine alone
would only warn. Training is not checked (stage 2 loads a stage-1 file).
"""
import importlib
import inspect
import os.path as osp
import pickle
import re
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.model import is_model_wrapper
from torch import nn

from ..errors import InputFileError

ALLOWED_UNLOADED_SUFFIXES = ('num_batches_tracked', )
ALLOW_PARTIAL_FLAG = '--allow-partial-checkpoint'
SafeGlobal = Union[Callable, Tuple[Callable, str]]
# numpy dtypes in mmengine/mmpose checkpoints (int32: numpy 1 on Windows)
_NUMPY_DTYPES = ('uint8', 'int32', 'int64', 'float32', 'float64')
_HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')
_applied = False


def history_buffer_statistic(owner: Any, name: str) -> Callable:
    """``getattr`` while unpickling, limited to the statistics methods of
    :class:`HistoryBuffer` (else :class:`pickle.UnpicklingError`)."""
    if (owner is HistoryBuffer and isinstance(name, str)
            and not name.startswith('_')
            and (name in _HISTORY_BUFFER_STATISTICS
                 or name in HistoryBuffer._statistics_methods)):
        method = vars(HistoryBuffer).get(name)
        if inspect.isfunction(method):
            return method
    raise pickle.UnpicklingError(
        f'Refusing getattr({owner!r}, {name!r}) while loading a checkpoint '
        'with weights_only=True: only the statistics methods of '
        'mmengine.logging.HistoryBuffer are allowed.')


def mmengine_checkpoint_safe_globals() -> List[SafeGlobal]:
    """The globals of mmengine checkpoints for ``add_safe_globals``; numpy
    functions under the numpy 1 and 2 names (either reads the other's)."""
    safe: List[SafeGlobal] = [
        HistoryBuffer, (history_buffer_statistic, 'builtins.getattr'),
        np.ndarray, np.dtype]
    try:
        multiarray = importlib.import_module('numpy._core.multiarray')
    except ImportError:  # numpy < 2
        multiarray = importlib.import_module('numpy.core.multiarray')
    for func_name in ('_reconstruct', 'scalar'):
        for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):
            safe.append(
                (getattr(multiarray, func_name), f'{module}.{func_name}'))
    # every dtype instance has its own class (e.g. numpy.dtypes.Float32DType)
    for name in _NUMPY_DTYPES:
        dtype_cls = type(np.dtype(name))
        if dtype_cls is not np.dtype and dtype_cls not in safe:
            safe.append(dtype_cls)
    return safe


def allow_mmengine_checkpoint_globals() -> bool:
    """Allow-list :func:`mmengine_checkpoint_safe_globals` for
    ``torch.load`` (once); False on torch < 2.4, which has no allow-list."""
    global _applied
    if not _applied and hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(
            mmengine_checkpoint_safe_globals())
        _applied = True
    return _applied


def read_checkpoint(path: str, weights_only: bool = True) -> dict:
    """The checkpoint ``path``, loaded on the CPU (by the safe unpickler
    unless not ``weights_only``); :class:`InputFileError` if it is missing,
    empty, unreadable or not a dict."""
    allow_mmengine_checkpoint_globals()
    if not osp.exists(path):
        raise InputFileError(f'{path}: checkpoint not found')
    if not osp.isfile(path):
        raise InputFileError(f'{path}: is not a file')
    if osp.getsize(path) == 0:
        raise InputFileError(f'{path}: empty file (0 bytes), not a checkpoint')
    try:
        checkpoint = torch.load(
            path, map_location='cpu', weights_only=weights_only)
    except Exception as err:  # torch raises many types for bad files
        lines = str(err).strip().splitlines()
        detail = f': {lines[0][:160]}' if lines else ''
        raise InputFileError(
            f'{path}: not a readable PyTorch checkpoint (truncated, text or '
            f'another format?): {type(err).__name__}{detail}') from err
    if not isinstance(checkpoint, dict):
        raise InputFileError(
            f'{path}: not a checkpoint: holds a {type(checkpoint).__name__}, '
            'expected a dict with "state_dict"')
    return checkpoint


def unloaded_weights(model: nn.Module,
                     state_dict: Dict[str, object]) -> List[str]:
    """Keys of ``model`` (but :data:`ALLOWED_UNLOADED_SUFFIXES`) that
    ``state_dict`` leaves unloaded when loaded into it non-strictly (load
    pre-hooks apply; entries of the wrong shape count as unloaded)."""
    model = model.module if is_model_wrapper(model) else model
    own = model.state_dict()
    fitting = {k: v for k, v in state_dict.items()
               if not (k in own and isinstance(v, torch.Tensor)
                       and tuple(v.shape) != tuple(own[k].shape))}
    try:
        missing = model.load_state_dict(fitting, strict=False).missing_keys
    except RuntimeError:  # a remapped key of the wrong shape
        missing = list(own)
    return [k for k in missing if not k.endswith(ALLOWED_UNLOADED_SUFFIXES)]


def check_weights_fit(model: nn.Module, checkpoint: dict, path: str) -> None:
    """Raise :class:`InputFileError` if ``checkpoint`` (read from ``path``)
    has no weights or leaves weights of ``model`` unloaded."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict) or not any(
            isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise InputFileError(
            f'{path}: not a checkpoint: no "state_dict" with tensors')
    state_dict = {re.sub(r'^module\.', '', k): v
                  for k, v in state_dict.items()}
    missing = unloaded_weights(model, state_dict)
    if missing:
        shown = ', '.join(missing[:3]) + (', ...' if len(missing) > 3 else '')
        raise InputFileError(
            f'{path}: leaves {len(missing)} of {len(model.state_dict())} '
            f'model weights unloaded ({shown}); it does not fit this config '
            f'(another architecture or stage?). Pass {ALLOW_PARTIAL_FLAG} '
            'to run with those weights at their initial values')


def load_inference_checkpoint(model: nn.Module, path: str,
                              allow_partial: bool = False,
                              checkpoint: Optional[dict] = None) -> dict:
    """Load and return ``path`` (or its content ``checkpoint``) into
    ``model`` for inference, checked by :func:`check_weights_fit` unless
    ``allow_partial``; a URL goes to mmengine unchecked."""
    from mmengine.runner import load_checkpoint
    from mmengine.runner.checkpoint import _load_checkpoint_to_model
    if '://' in str(path):
        return load_checkpoint(model, path, map_location='cpu')
    if checkpoint is None:
        checkpoint = read_checkpoint(path)
    if not allow_partial:
        check_weights_fit(model, checkpoint, path)
    _load_checkpoint_to_model(model, checkpoint)
    return checkpoint


def init_inference_model(config: str, checkpoint: Optional[str],
                         device: str = 'cpu',
                         allow_partial: bool = False) -> nn.Module:
    """:func:`mmpose.apis.init_model` with the checks above: the model of
    ``config`` in eval mode on ``device``, with the weights of
    ``checkpoint`` (None: initial weights) and its ``dataset_meta``."""
    from mmpose.apis import init_model
    content = None
    if checkpoint is not None and '://' not in checkpoint:
        content = read_checkpoint(checkpoint)  # before the model build
    model = init_model(config, None, device=device)
    if checkpoint is not None:
        ckpt = load_inference_checkpoint(model, checkpoint, allow_partial,
                                         content)
        meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
        if isinstance(meta, dict) and 'dataset_meta' in meta:
            model.dataset_meta = meta['dataset_meta']
    return model.to(device).eval()
