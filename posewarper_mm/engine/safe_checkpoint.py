"""Let torch's safe (``weights_only``) unpickler read mmengine checkpoints.

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True`` and only
rebuilds tensors, containers and globals that were explicitly allow-listed.
mmengine 0.10.7 checkpoints also store the runner's message hub (logged
scalars as :class:`mmengine.logging.HistoryBuffer` holding numpy arrays and
numpy scalars) and the dataset meta information (numpy arrays). Without an
allow-list, ``--resume``, ``load_from`` and
``init_cfg=dict(type='Pretrained')`` fail with "Weights only load failed".

:func:`allow_mmengine_checkpoint_globals` registers exactly those globals
with :func:`torch.serialization.add_safe_globals`. Safe loading stays on for
every file: a pickle that names any other global (e.g. ``os.system``) is
still rejected by torch.

``HistoryBuffer`` pickles its statistics methods as
``getattr(HistoryBuffer, 'mean')``. Allow-listing :func:`getattr` itself would
let a checkpoint walk arbitrary attributes, so the name ``builtins.getattr``
is bound to :func:`history_buffer_statistic`, which only returns the
statistics methods of ``HistoryBuffer``.
"""
import importlib
import inspect
import pickle
from typing import Any, Callable, List, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

SafeGlobal = Union[Callable, Tuple[Callable, str]]

# numpy dtypes of the arrays and scalars found in mmengine/mmpose
# checkpoints: dataset meta information (float32 sigmas and keypoint
# weights, uint8 colours), logged scalars (float64 values, int64 counts;
# int32 is numpy's default integer on Windows before numpy 2).
_NUMPY_DTYPES = ('uint8', 'int32', 'int64', 'float32', 'float64')

_HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')

_applied = False


def history_buffer_statistic(owner: Any, name: str) -> Callable:
    """Return a statistics method of ``HistoryBuffer`` by name.

    This stands in for :func:`getattr` while unpickling (see the module
    docstring): ``owner`` must be :class:`HistoryBuffer` and ``name`` one
    of its statistics methods.

    Args:
        owner (Any): The object whose attribute is requested.
        name (str): The attribute name.

    Returns:
        Callable: The unbound statistics method, e.g. ``HistoryBuffer.mean``.

    Raises:
        pickle.UnpicklingError: If the request is anything else.
    """
    if (owner is HistoryBuffer and isinstance(name, str)
            and not name.startswith('_')
            and (name in _HISTORY_BUFFER_STATISTICS
                 or name in HistoryBuffer._statistics_methods)):
        # only functions defined on the class itself, never inherited or
        # special attributes
        method = vars(HistoryBuffer).get(name)
        if inspect.isfunction(method):
            return method
    raise pickle.UnpicklingError(
        f'Refusing getattr({owner!r}, {name!r}) while loading a checkpoint '
        'with weights_only=True: only the statistics methods of '
        'mmengine.logging.HistoryBuffer are allowed.')


def _numpy_multiarray_globals() -> List[Tuple[Callable, str]]:
    """Numpy array/scalar rebuild functions under both module spellings.

    numpy 2 pickles them as ``numpy._core.multiarray.*`` and numpy 1 as
    ``numpy.core.multiarray.*``; binding both names to the installed
    functions lets either numpy read checkpoints written by the other.
    """
    try:
        multiarray = importlib.import_module('numpy._core.multiarray')
    except ImportError:  # numpy < 2
        multiarray = importlib.import_module('numpy.core.multiarray')
    pairs = []
    for func_name in ('_reconstruct', 'scalar'):
        func = getattr(multiarray, func_name)
        for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):
            pairs.append((func, f'{module}.{func_name}'))
    return pairs


def mmengine_checkpoint_safe_globals() -> List[SafeGlobal]:
    """List the globals an mmengine checkpoint needs for a safe load.

    Returns:
        list: Classes/functions, or ``(object, 'module.name')`` pairs, in
        the form accepted by :func:`torch.serialization.add_safe_globals`.
    """
    safe: List[SafeGlobal] = [
        HistoryBuffer,
        (history_buffer_statistic, 'builtins.getattr'),
        np.ndarray,
        np.dtype,
    ]
    safe.extend(_numpy_multiarray_globals())
    # Since numpy 1.20 every dtype instance has its own class (e.g.
    # ``numpy.dtypes.Float32DType``); unpickling a dtype sets its state on
    # an instance of that class.
    for name in _NUMPY_DTYPES:
        dtype_cls = type(np.dtype(name))
        if dtype_cls is not np.dtype and dtype_cls not in safe:
            safe.append(dtype_cls)
    return safe


def allow_mmengine_checkpoint_globals() -> bool:
    """Allow-list the globals of mmengine checkpoints for ``torch.load``.

    Safe to call more than once. Does nothing on torch versions without
    :func:`torch.serialization.add_safe_globals` (< 2.4), which load
    checkpoints with ``weights_only=False`` by default anyway.

    Returns:
        bool: Whether the globals are registered.
    """
    global _applied
    if _applied:
        return True
    if not hasattr(torch.serialization, 'add_safe_globals'):
        return False
    torch.serialization.add_safe_globals(mmengine_checkpoint_safe_globals())
    _applied = True
    return True
