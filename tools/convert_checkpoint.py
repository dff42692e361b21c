"""Convert official / mmpose 0.x PoseWarper checkpoints to this layout.

Examples::

    python tools/convert_checkpoint.py posewarper_official.pth \\
        work_dirs/posewarper_w48.pth --layout official \\
        --config configs/<stage-2 config>.py
    python tools/convert_checkpoint.py mmpose0x_stage1.pth stage1.pth \\
        --layout mmpose0x-stage1

The output, ``{'state_dict': ..., 'meta': ...}``, is usable as
``load_from``. With ``--config`` it is loaded strictly into that config's
model, and the single-frame head conv goes where that model keeps it
(``neck.trans_layer`` or ``head.final_layer``). Source layouts:

- ``official`` (facebookresearch/PoseWarper ``pose_hrnet.py``): HRNet keys
  at the top level (mmpose's names), ``final_layer.*``, ``offset_feats.*``,
  ``offsets{1..5}.weight``, ``deform_conv{1..5}.weight``;
- ``mmpose0x-stage1``: ``backbone.*`` and ``keypoint_head.final_layer.*``
  (or ``neck.trans_layer.*``, as in the released stage-1 checkpoint);
- ``mmpose0x-stage2``: ``backbone.*``, ``neck.*`` (names as here),
  optional ``keypoint_head.*``.

``module.`` prefixes are stripped.
"""
import argparse
import io
import os
import re
import sys
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Iterable, List, Mapping, Optional, Tuple

import torch
from torch import Tensor

from posewarper_mm.engine import read_checkpoint
from posewarper_mm.errors import ConfigError, InputFileError
from posewarper_mm.utils import replace_atomically

LAYOUTS = ('official', 'mmpose0x-stage1', 'mmpose0x-stage2', 'auto')
HEAD_CONV_TARGETS = ('neck.trans_layer', 'head.final_layer')
HRNET_ROOTS = ('conv1', 'bn1', 'conv2', 'bn2', 'layer1', 'transition1',
               'transition2', 'transition3', 'stage2', 'stage3', 'stage4')
_NUMBERED = re.compile(r'^(offsets|deform_conv)(\d+)\.(.+)$')
_NUMBERED_TARGET = dict(offsets='neck.offset_layers',
                        deform_conv='neck.deform_conv_layers')
_SOURCE_HEAD_CONVS = ('keypoint_head.final_layer.', 'head.final_layer.',
                      'neck.trans_layer.')


def _keys_text(keys: Iterable[str], limit: int = 12) -> str:
    keys = sorted(keys)
    text = ', '.join(keys[:limit])
    if len(keys) > limit:
        text += f', ... ({len(keys)} keys in total)'
    return text


def extract_state_dict(checkpoint, source: str) -> 'OrderedDict[str, Tensor]':
    """The tensors of a checkpoint (a state dict, or a dict holding it as
    ``state_dict`` or ``model``), without ``module.`` prefixes."""
    if not isinstance(checkpoint, Mapping):
        raise InputFileError(f'{source}: expected a dict checkpoint, got '
                             f'{type(checkpoint).__name__}')
    state_dict = checkpoint
    for wrapper in ('state_dict', 'model'):
        if isinstance(checkpoint.get(wrapper), Mapping):
            state_dict = checkpoint[wrapper]
            break
    not_tensors = [k for k, v in state_dict.items() if not torch.is_tensor(v)]
    if not_tensors or not state_dict:
        raise InputFileError(
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
    raise InputFileError(
        f'{source}: cannot recognise the checkpoint layout from its keys '
        f'({_keys_text(state_dict)}); give --layout explicitly')


def _check_head_conv_target(target: str) -> str:
    if target not in HEAD_CONV_TARGETS:
        raise InputFileError('head_conv_target must be one of '
                             f'{HEAD_CONV_TARGETS}, got {target!r}')
    return target


def convert_official(state_dict: Mapping[str, Tensor], source: str,
                     head_conv_target: str = 'neck.trans_layer'
                     ) -> 'OrderedDict[str, Tensor]':
    """Convert an official PoseWarper (``pose_hrnet``) state dict, adding
    the BN ``num_batches_tracked`` counters that it lacks."""
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
        raise InputFileError(f'{source}: keys not in the official PoseWarper '
                             f'layout: {_keys_text(unknown)}')
    for key in list(converted):
        if key.endswith('.running_mean'):
            counter = key[:-len('running_mean')] + 'num_batches_tracked'
            converted.setdefault(counter, torch.tensor(0, dtype=torch.long))
    return converted


def convert_mmpose0x(state_dict: Mapping[str, Tensor], source: str,
                     stage: int, head_conv_target: Optional[str] = None
                     ) -> 'OrderedDict[str, Tensor]':
    """Convert an mmpose 0.x stage-1 (``TopDown``) or stage-2 state dict.

    Stage 1's head conv goes to ``head_conv_target``; None keeps
    ``neck.trans_layer`` and maps ``keypoint_head.final_layer`` to
    ``head.final_layer``. Stage 2 keeps its keys (``keypoint_head.*``
    becomes ``head.*``). ``source`` names the file in errors.
    """
    if stage not in (1, 2):
        raise InputFileError(f'stage must be 1 or 2, got {stage}')
    if head_conv_target is not None:
        _check_head_conv_target(head_conv_target)
    has_warping = any(k.startswith('neck.offset_feats.') for k in state_dict)
    if stage == 1 and has_warping:
        raise InputFileError(
            f'{source}: has warping weights (neck.offset_feats.*), so it is a '
            'stage-2 checkpoint; use --layout mmpose0x-stage2')
    if stage == 2 and not has_warping:
        raise InputFileError(
            f'{source}: has no neck.offset_feats.* keys, so it is not a '
            'stage-2 PoseWarper checkpoint; use --layout mmpose0x-stage1')
    converted: 'OrderedDict[str, Tensor]' = OrderedDict()
    unknown: List[str] = []
    for key, value in state_dict.items():
        head_conv = next((p for p in _SOURCE_HEAD_CONVS if key.startswith(p)),
                         None)
        if stage == 1 and head_conv is not None:
            target = head_conv_target or ('neck.trans_layer'
                                          if head_conv == 'neck.trans_layer.'
                                          else 'head.final_layer')
            converted[f'{target}.{key[len(head_conv):]}'] = value
        elif key.startswith('backbone.') or (stage == 2
                                             and key.startswith('neck.')):
            converted[key] = value
        elif stage == 2 and key.startswith(('keypoint_head.', 'head.')):
            converted['head.' + key.split('.', 1)[1]] = value
        else:
            unknown.append(key)
    if unknown:
        raise InputFileError(f'{source}: keys not in the mmpose 0.x '
                             f'stage-{stage} layout: {_keys_text(unknown)}')
    return converted


def convert_state_dict(
    state_dict: Mapping[str, Tensor], layout: str = 'auto',
    source: str = '<state dict>', head_conv_target: Optional[str] = None
) -> Tuple['OrderedDict[str, Tensor]', str]:
    """Convert a checkpoint or state dict from ``layout`` (one of
    :data:`LAYOUTS`) into this package's layout.

    Returns:
        tuple: The converted state dict and the layout used.
    """
    if layout not in LAYOUTS:
        raise InputFileError(
            f'{source}: unknown layout {layout!r}; choose one of {LAYOUTS}')
    state_dict = extract_state_dict(state_dict, source)
    if layout == 'auto':
        layout = detect_layout(state_dict, source)
    if layout == 'official':
        converted = convert_official(state_dict, source, head_conv_target
                                     or 'neck.trans_layer')
    else:
        converted = convert_mmpose0x(state_dict, source,
                                     1 if layout.endswith('stage1') else 2,
                                     head_conv_target)
    return converted, layout


def head_conv_target_of(model_keys: Iterable[str]) -> Optional[str]:
    """Where a model keeps its heatmap conv: neck or head (None if absent)."""
    keys = set(model_keys)
    return next((t for t in HEAD_CONV_TARGETS if f'{t}.weight' in keys),
                None)


def load_strictly(model: torch.nn.Module, state_dict: Mapping[str, Tensor],
                  source: str) -> None:
    """Load ``state_dict`` into ``model``; an :class:`InputFileError`
    names the file and any missing, unexpected or mis-shaped keys."""
    own = model.state_dict()
    mismatched = [f'{k} {tuple(v.shape)} vs model {tuple(own[k].shape)}'
                  for k, v in state_dict.items()
                  if k in own and own[k].shape != v.shape]
    if mismatched:
        raise InputFileError(
            f'{source}: shape mismatch for {_keys_text(mismatched)}')
    try:
        result = model.load_state_dict(state_dict, strict=False)
    except RuntimeError as err:
        raise InputFileError(
            f'{source}: loading into the model failed: {err}') from err
    problems = []
    if result.missing_keys:
        problems.append(f'missing keys: {_keys_text(result.missing_keys)}')
    if result.unexpected_keys:
        problems.append(
            f'unexpected keys: {_keys_text(result.unexpected_keys)}')
    if problems:
        raise InputFileError(
            f'{source}: converted weights do not match the model: ' +
            '; '.join(problems))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a PoseWarper checkpoint (official or mmpose '
        '0.x) into the posewarper_mm layout.')
    add = parser.add_argument
    add('src', help='source checkpoint (never modified)')
    add('dst', help='output checkpoint')
    add('--layout', choices=LAYOUTS, default='auto',
        help='layout of SRC (default: detect from the key names)')
    add('--config', help='model config to strictly load the result into')
    add('--force', action='store_true', help='overwrite an existing DST')
    add('--unsafe-load', action='store_true',
        help='unpickle SRC with weights_only=False (only for files you '
        'trust; needed when SRC stores arbitrary Python objects)')
    return parser.parse_args(argv)


def load_source(src: Path, unsafe: bool) -> dict:
    """The source checkpoint, read on the CPU (an :class:`InputFileError`
    names the file); ``unsafe`` unpickles anything."""
    try:
        return read_checkpoint(str(src), weights_only=not unsafe)
    except InputFileError as err:
        if unsafe or 'weights only' not in str(err).lower():
            raise
        raise InputFileError(f'{err}. If you trust the file, retry with '
                             '--unsafe-load.') from err


def build_model(config: str):
    """Build the model of ``config`` on the CPU."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    import posewarper_mm  # noqa: F401
    return MODELS.build(cfg.model)


def save_atomically(obj, dst: Path) -> None:
    """Write ``obj`` next to ``dst``, flush it and rename it into place:
    ``dst`` is never a partial file, and an existing one stays as it was
    if the write fails (an OSError)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    dst.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(
        prefix=dst.name + '.', suffix='.tmp', dir=dst.parent)
    try:
        with os.fdopen(handle, 'wb') as f:
            f.write(buffer.getbuffer())
        replace_atomically(tmp, str(dst))
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main(argv=None) -> int:
    """Convert; a bad input ends with a one-line SystemExit."""
    args = parse_args(argv)
    src, dst = Path(args.src), Path(args.dst)
    if not src.is_file():
        raise SystemExit(f'{src}: source checkpoint not found')
    if dst.exists() and dst.resolve() == src.resolve():
        raise SystemExit(f'{dst}: refusing to overwrite the source file')
    if dst.exists() and not args.force:
        raise SystemExit(f'{dst}: already exists; use --force to overwrite')

    try:
        checkpoint = load_source(src, args.unsafe_load)
        model = build_model(args.config) if args.config else None
        target = None if model is None else head_conv_target_of(
            model.state_dict())
        state_dict, layout = convert_state_dict(
            checkpoint, args.layout, source=str(src), head_conv_target=target)
        if model is not None:
            load_strictly(model, state_dict, str(src))
    except (InputFileError, ConfigError) as err:
        raise SystemExit(str(err))

    import mmpose
    meta = dict(
        source=src.name, source_layout=layout, config=args.config,
        strictly_loaded=model is not None,
        converter='posewarper_mm tools/convert_checkpoint.py',
        mmpose_version=mmpose.__version__, num_tensors=len(state_dict),
        num_elements=int(sum(v.numel() for v in state_dict.values())))
    try:
        save_atomically({'state_dict': state_dict, 'meta': meta}, dst)
    except OSError as err:
        kept = 'the existing file is kept' if dst.exists() else \
            'nothing was written'
        raise SystemExit(f'{dst}: cannot write the converted checkpoint '
                         f'({err.strerror or err}); {kept}')
    print(f'{src} ({layout}) -> {dst}: {len(state_dict)} tensors'
          f'{", strictly loaded into " + args.config if args.config else ""}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
