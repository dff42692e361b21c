"""Refuse checkpoints that are no checkpoints or do not fit the model.

mmengine loads checkpoints non-strictly: a checkpoint of another
architecture only logs a "missing keys" warning, and inference then runs on
random weights. For inference (``tools/test.py``, the video demo,
``tools/propagate_poses.py``) that is an error here unless the user passes
``--allow-partial-checkpoint``. Only weights named in
:data:`ALLOWED_UNLOADED_SUFFIXES` may stay unloaded: BatchNorm's
``num_batches_tracked`` counters, which older checkpoints lack and which
inference does not use.

Training is not affected: ``load_from`` of stage 2 loads a stage-1
checkpoint into a model with a new warping neck, as documented.

Files that are empty, truncated, text or another pickle get one line
naming the file (:class:`InputFileError`) instead of the
``EOFError`` / ``UnpicklingError`` of ``torch.load``.
"""
import os.path as osp
import re
from typing import Dict, List, Optional

import torch
from mmengine.model import is_model_wrapper
from torch import nn

from ..errors import InputFileError

# weights that may stay unloaded at inference (suffixes of state dict keys)
ALLOWED_UNLOADED_SUFFIXES = ('num_batches_tracked', )

ALLOW_PARTIAL_FLAG = '--allow-partial-checkpoint'


def _is_remote(path: str) -> bool:
    return '://' in str(path)


def read_checkpoint(path: str) -> dict:
    """Load a checkpoint on the CPU with torch's safe unpickler.

    Args:
        path (str): The checkpoint file.

    Returns:
        dict: The checkpoint.

    Raises:
        InputFileError: One line naming the file if it is missing,
            empty, unreadable or not a dict (e.g. a tensor or a list).
    """
    from . import safe_checkpoint
    safe_checkpoint.allow_mmengine_checkpoint_globals()
    if not osp.exists(path):
        raise InputFileError(f'{path}: checkpoint not found')
    if not osp.isfile(path):
        raise InputFileError(f'{path}: is not a file')
    if osp.getsize(path) == 0:
        raise InputFileError(f'{path}: empty file (0 bytes), not a checkpoint')
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:  # torch raises many types for bad files
        detail = str(err).strip().splitlines()
        detail = detail[0][:160] if detail else ''
        raise InputFileError(
            f'{path}: not a readable PyTorch checkpoint (truncated, text or '
            f'another format?): {type(err).__name__}'
            f'{": " + detail if detail else ""}') from err
    if not isinstance(checkpoint, dict):
        raise InputFileError(
            f'{path}: not a checkpoint: holds a {type(checkpoint).__name__}, '
            'expected a dict with "state_dict"')
    return checkpoint


def checkpoint_state_dict(checkpoint: dict, path: str) -> Dict[str, object]:
    """The weights of a checkpoint (``state_dict`` or the dict itself).

    Raises:
        InputFileError: If there are no tensors to load.
    """
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict) or not any(
            isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise InputFileError(
            f'{path}: not a checkpoint: no "state_dict" with tensors')
    return {re.sub(r'^module\.', '', k): v for k, v in state_dict.items()}


def unloaded_weights(model: nn.Module, state_dict: Dict[str,
                                                        object]) -> List[str]:
    """Model weights that ``state_dict`` leaves at their initial values.

    The model's own key remapping (load pre-hooks, e.g. PoseWarper's head
    conv moved into the warping neck) is applied because the weights are
    actually loaded (non-strictly) into ``model``; entries whose shape
    does not match are left out and count as unloaded.

    Args:
        model (nn.Module): The model; its weights are overwritten.
        state_dict (dict): The checkpoint's weights.

    Returns:
        list[str]: Unloaded keys, except :data:`ALLOWED_UNLOADED_SUFFIXES`.
    """
    if is_model_wrapper(model):
        model = model.module
    own = model.state_dict()
    fitting = {
        k: v
        for k, v in state_dict.items()
        if not (k in own and isinstance(v, torch.Tensor)
                and tuple(v.shape) != tuple(own[k].shape))
    }
    try:
        missing = model.load_state_dict(fitting, strict=False).missing_keys
    except RuntimeError:
        # a remapped key of the wrong shape: nothing can be trusted
        missing = list(own)
    return [k for k in missing if not k.endswith(ALLOWED_UNLOADED_SUFFIXES)]


def check_weights_fit(model: nn.Module, checkpoint: dict, path: str) -> None:
    """Raise if ``checkpoint`` leaves model weights unloaded.

    Raises:
        InputFileError: Naming the file, how many weights stay
            unloaded and the flag that accepts it.
    """
    state_dict = checkpoint_state_dict(checkpoint, path)
    missing = unloaded_weights(model, state_dict)
    if missing:
        total = len(model.state_dict())
        shown = ', '.join(missing[:3]) + (', ...' if len(missing) > 3 else '')
        raise InputFileError(
            f'{path}: leaves {len(missing)} of {total} model weights '
            f'unloaded ({shown}); it does not fit this config (another '
            f'architecture or stage?). Pass {ALLOW_PARTIAL_FLAG} to run '
            'with those weights at their initial values')


def load_inference_checkpoint(model: nn.Module,
                              path: str,
                              allow_partial: bool = False,
                              checkpoint: Optional[dict] = None) -> dict:
    """Load a checkpoint for inference, refusing one that does not fit.

    Args:
        model (nn.Module): The model to load into.
        path (str): The checkpoint file (a URL is loaded by mmengine
            without the file checks).
        allow_partial (bool): Accept unloaded weights (mmengine's warning
            is still logged).
        checkpoint (dict, optional): The content of ``path`` if it was
            already read with :func:`read_checkpoint`.

    Returns:
        dict: The checkpoint.

    Raises:
        InputFileError: See :func:`read_checkpoint` and
            :func:`check_weights_fit`.
    """
    from mmengine.runner import load_checkpoint
    if _is_remote(path):
        return load_checkpoint(model, path, map_location='cpu')
    if checkpoint is None:
        checkpoint = read_checkpoint(path)
    if not allow_partial:
        check_weights_fit(model, checkpoint, path)
    from mmengine.runner.checkpoint import _load_checkpoint_to_model
    _load_checkpoint_to_model(model, checkpoint)
    return checkpoint


def init_inference_model(config: str,
                         checkpoint: Optional[str],
                         device: str = 'cpu',
                         allow_partial: bool = False) -> nn.Module:
    """:func:`mmpose.apis.init_model` with the checkpoint checks above.

    Args:
        config (str): Model config file.
        checkpoint (str, optional): Checkpoint file (None: initial weights).
        device (str): Torch device.
        allow_partial (bool): Accept a checkpoint that leaves weights
            unloaded.

    Returns:
        nn.Module: The model in eval mode, with ``cfg`` and
        ``dataset_meta`` (from the checkpoint's meta when it has one).
    """
    from mmpose.apis import init_model
    content = None
    if checkpoint is not None and not _is_remote(checkpoint):
        content = read_checkpoint(checkpoint)  # before the model build
    model = init_model(config, None, device=device)
    if checkpoint is not None:
        ckpt = load_inference_checkpoint(model, checkpoint, allow_partial,
                                         content)
        meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
        if isinstance(meta, dict) and 'dataset_meta' in meta:
            model.dataset_meta = meta['dataset_meta']
    model.to(device)
    model.eval()
    return model
