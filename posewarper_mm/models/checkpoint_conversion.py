"""Convert published PoseWarper checkpoints into this package's layout.

Target layout (:class:`PoseWarperEstimator`)::

    backbone.<mmpose HRNet names>     conv1, bn1, conv2, bn2, layer1,
                                      transition1-3, stage2-4
    neck.trans_layer.{weight,bias}    single-frame head conv (48 -> 17)
    neck.offset_feats.*               residual blocks
    neck.offset_layers.<i>.weight     offset conv of dilation i
    neck.deform_conv_layers.<i>.weight

Source layouts:

``official``
    facebookresearch/PoseWarper ``pose_hrnet.py``: HRNet keys at the top
    level (mmpose's HRNet uses the same names), ``final_layer.*``,
    ``offset_feats.*``, ``offsets{1..5}.weight``, ``deform_conv{1..5}.weight``;
    a ``module.`` prefix (DataParallel) is stripped.
``mmpose0x-stage1``
    mmpose 0.x single-frame model: ``backbone.*`` plus the head conv as
    ``keypoint_head.final_layer.*`` (or already ``neck.trans_layer.*``, as in
    the released stage-1 checkpoint).
``mmpose0x-stage2``
    mmpose 0.x ``PoseWarper``: ``backbone.*``, ``neck.*`` (same names as
    here), optional ``keypoint_head.*``.

The head conv goes to ``neck.trans_layer`` (warping model) or
``head.final_layer`` (single-frame model), chosen by ``head_conv_target``.
"""
import re
from collections import OrderedDict
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import torch
from torch import Tensor

LAYOUTS = ('official', 'mmpose0x-stage1', 'mmpose0x-stage2', 'auto')
HEAD_CONV_TARGETS = ('neck.trans_layer', 'head.final_layer')
HRNET_ROOTS = ('conv1', 'bn1', 'conv2', 'bn2', 'layer1', 'transition1',
               'transition2', 'transition3', 'stage2', 'stage3', 'stage4')
_NUMBERED = re.compile(r'^(offsets|deform_conv)(\d+)\.(.+)$')
_NUMBERED_TARGET = {
    'offsets': 'neck.offset_layers',
    'deform_conv': 'neck.deform_conv_layers'
}
_SOURCE_HEAD_CONVS = ('keypoint_head.final_layer.', 'head.final_layer.',
                      'neck.trans_layer.')


class CheckpointConversionError(ValueError):
    """A checkpoint cannot be converted; the message names file and keys."""


def _keys_text(keys: Iterable[str], limit: int = 12) -> str:
    keys = sorted(keys)
    text = ', '.join(keys[:limit])
    if len(keys) > limit:
        text += f', ... ({len(keys)} keys in total)'
    return text


def extract_state_dict(checkpoint, source: str) -> 'OrderedDict[str, Tensor]':
    """Return the tensor state dict of a loaded checkpoint object.

    Accepts a bare state dict or a dict holding it under ``state_dict`` or
    ``model``; strips ``module.`` prefixes.
    """
    if not isinstance(checkpoint, Mapping):
        raise CheckpointConversionError(
            f'{source}: expected a dict checkpoint, got '
            f'{type(checkpoint).__name__}')
    state_dict = checkpoint
    for wrapper in ('state_dict', 'model'):
        if isinstance(checkpoint.get(wrapper), Mapping):
            state_dict = checkpoint[wrapper]
            break
    not_tensors = [k for k, v in state_dict.items() if not torch.is_tensor(v)]
    if not_tensors or not state_dict:
        raise CheckpointConversionError(
            f'{source}: no state dict of tensors found (non-tensor entries: '
            f'{_keys_text(not_tensors)})')
    return OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in state_dict.items())


def detect_layout(state_dict: Mapping[str, Tensor], source: str) -> str:
    """Guess the source layout from the key names."""
    roots = {key.split('.')[0] for key in state_dict}
    if 'backbone' in roots:
        if any(k.startswith('neck.offset_feats.') for k in state_dict):
            return 'mmpose0x-stage2'
        return 'mmpose0x-stage1'
    if roots & set(HRNET_ROOTS) or 'offset_feats' in roots:
        return 'official'
    raise CheckpointConversionError(
        f'{source}: cannot recognise the checkpoint layout from its keys '
        f'({_keys_text(state_dict)}); give --layout explicitly')


def _add_num_batches_tracked(state_dict: Dict[str, Tensor]) -> None:
    """Add BN ``num_batches_tracked`` counters that old files lack."""
    for key in list(state_dict):
        if key.endswith('.running_mean'):
            counter = key[:-len('running_mean')] + 'num_batches_tracked'
            state_dict.setdefault(counter, torch.tensor(0, dtype=torch.long))


def _check_head_conv_target(target: str) -> str:
    if target not in HEAD_CONV_TARGETS:
        raise CheckpointConversionError(
            f'head_conv_target must be one of {HEAD_CONV_TARGETS}, got '
            f'{target!r}')
    return target


def convert_official(state_dict: Mapping[str, Tensor],
                     source: str,
                     head_conv_target: str = 'neck.trans_layer'
                     ) -> 'OrderedDict[str, Tensor]':
    """Convert an official PoseWarper (``pose_hrnet``) state dict."""
    head_conv_target = _check_head_conv_target(head_conv_target)
    converted: 'OrderedDict[str, Tensor]' = OrderedDict()
    unknown: List[str] = []
    for key, value in state_dict.items():
        root, _, rest = key.partition('.')
        numbered = _NUMBERED.match(key)
        if root in HRNET_ROOTS:
            new_key = 'backbone.' + key
        elif root == 'final_layer':
            new_key = f'{head_conv_target}.{rest}'
        elif root == 'offset_feats':
            new_key = 'neck.' + key
        elif numbered and int(numbered.group(2)) >= 1:
            kind, number, param = numbered.groups()
            new_key = f'{_NUMBERED_TARGET[kind]}.{int(number) - 1}.{param}'
        else:
            unknown.append(key)
            continue
        converted[new_key] = value
    if unknown:
        raise CheckpointConversionError(
            f'{source}: keys not in the official PoseWarper layout: '
            f'{_keys_text(unknown)}')
    _add_num_batches_tracked(converted)
    return converted


def convert_mmpose0x(state_dict: Mapping[str, Tensor],
                     source: str,
                     stage: int,
                     head_conv_target: Optional[str] = None
                     ) -> 'OrderedDict[str, Tensor]':
    """Convert an mmpose 0.x stage-1 (``TopDown``) or stage-2 state dict.

    Args:
        state_dict (Mapping[str, Tensor]): Source state dict.
        source (str): File name for error messages.
        stage (int): 1 or 2.
        head_conv_target (str, optional): Stage 1 only: where the head
            conv goes. None keeps ``neck.trans_layer`` and maps
            ``keypoint_head.final_layer`` to ``head.final_layer``. Stage-2
            keys keep their place (``keypoint_head.*`` becomes ``head.*``).
    """
    if stage not in (1, 2):
        raise CheckpointConversionError(f'stage must be 1 or 2, got {stage}')
    if head_conv_target is not None:
        _check_head_conv_target(head_conv_target)
    has_warping = any(k.startswith('neck.offset_feats.') for k in state_dict)
    if stage == 1 and has_warping:
        raise CheckpointConversionError(
            f'{source}: has warping weights (neck.offset_feats.*), so it is a '
            'stage-2 checkpoint; use --layout mmpose0x-stage2')
    if stage == 2 and not has_warping:
        raise CheckpointConversionError(
            f'{source}: has no neck.offset_feats.* keys, so it is not a '
            'stage-2 PoseWarper checkpoint; use --layout mmpose0x-stage1')
    converted: 'OrderedDict[str, Tensor]' = OrderedDict()
    unknown: List[str] = []
    for key, value in state_dict.items():
        head_conv = next((p for p in _SOURCE_HEAD_CONVS if key.startswith(p)),
                         None)
        if stage == 1 and head_conv is not None:
            target = head_conv_target or (
                'neck.trans_layer'
                if head_conv == 'neck.trans_layer.' else 'head.final_layer')
            converted[f'{target}.{key[len(head_conv):]}'] = value
        elif key.startswith('backbone.') or (stage == 2
                                             and key.startswith('neck.')):
            converted[key] = value
        elif stage == 2 and key.startswith(('keypoint_head.', 'head.')):
            converted['head.' + key.split('.', 1)[1]] = value
        else:
            unknown.append(key)
    if unknown:
        raise CheckpointConversionError(
            f'{source}: keys not in the mmpose 0.x stage-{stage} layout: '
            f'{_keys_text(unknown)}')
    return converted


def convert_state_dict(state_dict: Mapping[str, Tensor],
                       layout: str = 'auto',
                       source: str = '<state dict>',
                       head_conv_target: Optional[str] = None
                       ) -> Tuple['OrderedDict[str, Tensor]', str]:
    """Convert ``state_dict`` from ``layout`` into this package's layout.

    Args:
        state_dict (Mapping[str, Tensor]): Source weights (``module.``
            prefixes allowed).
        layout (str): One of :data:`LAYOUTS`.
        source (str): File name used in error messages.
        head_conv_target (str, optional): ``'neck.trans_layer'`` or
            ``'head.final_layer'``; see :func:`convert_mmpose0x`.

    Returns:
        tuple: The converted state dict and the layout actually used.
    """
    if layout not in LAYOUTS:
        raise CheckpointConversionError(
            f'{source}: unknown layout {layout!r}; choose one of {LAYOUTS}')
    state_dict = extract_state_dict(state_dict, source)
    if layout == 'auto':
        layout = detect_layout(state_dict, source)
    if layout == 'official':
        converted = convert_official(state_dict, source,
                                     head_conv_target or 'neck.trans_layer')
    else:
        converted = convert_mmpose0x(state_dict, source,
                                     1 if layout.endswith('stage1') else 2,
                                     head_conv_target)
    return converted, layout


def head_conv_target_of(model_keys: Iterable[str]) -> Optional[str]:
    """Where a model keeps its heatmap conv: neck or head (None if absent)."""
    keys = set(model_keys)
    for target in HEAD_CONV_TARGETS:
        if f'{target}.weight' in keys:
            return target
    return None


def load_strictly(model: torch.nn.Module, state_dict: Mapping[str, Tensor],
                  source: str) -> None:
    """Load ``state_dict`` into ``model``; raise naming file and keys.

    Raises:
        CheckpointConversionError: on missing, unexpected or mis-shaped
            keys.
    """
    own = model.state_dict()
    mismatched = [
        f'{key} {tuple(value.shape)} vs model {tuple(own[key].shape)}'
        for key, value in state_dict.items()
        if key in own and own[key].shape != value.shape
    ]
    if mismatched:
        raise CheckpointConversionError(
            f'{source}: shape mismatch for {_keys_text(mismatched)}')
    try:
        result = model.load_state_dict(state_dict, strict=False)
    except RuntimeError as err:
        raise CheckpointConversionError(
            f'{source}: loading into the model failed: {err}') from err
    problems = []
    if result.missing_keys:
        problems.append(f'missing keys: {_keys_text(result.missing_keys)}')
    if result.unexpected_keys:
        problems.append(
            f'unexpected keys: {_keys_text(result.unexpected_keys)}')
    if problems:
        raise CheckpointConversionError(
            f'{source}: converted weights do not match the model: ' +
            '; '.join(problems))
