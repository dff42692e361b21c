"""Convert official / mmpose 0.x PoseWarper checkpoints to this layout.

Examples::

    python tools/convert_checkpoint.py posewarper_official.pth \\
        work_dirs/posewarper_w48.pth --layout official \\
        --config configs/<stage-2 config>.py
    python tools/convert_checkpoint.py mmpose0x_stage1.pth stage1.pth \\
        --layout mmpose0x-stage1

With ``--config`` the converted weights are loaded strictly into the model
built from that config (any missing, unexpected or mis-shaped key is an
error) and the single-frame head conv is placed where that model keeps it.
The output is ``{'state_dict': ..., 'meta': ...}``, usable as ``load_from``.
"""
import argparse
import os
import sys
import tempfile
from pathlib import Path

import torch


def parse_args(argv=None) -> argparse.Namespace:
    from posewarper_mm.models.checkpoint_conversion import LAYOUTS
    parser = argparse.ArgumentParser(
        description='Convert a PoseWarper checkpoint (official or mmpose '
        '0.x) into the posewarper_mm layout.')
    parser.add_argument('src', help='source checkpoint (never modified)')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument(
        '--layout',
        choices=LAYOUTS,
        default='auto',
        help='layout of SRC (default: detect from the key names)')
    parser.add_argument(
        '--config', help='model config to strictly load the result into')
    parser.add_argument(
        '--force', action='store_true', help='overwrite an existing DST')
    parser.add_argument(
        '--unsafe-load',
        action='store_true',
        help='unpickle SRC with weights_only=False (only for files you '
        'trust; needed when SRC stores arbitrary Python objects)')
    return parser.parse_args(argv)


def load_source(src: Path, unsafe: bool):
    """Read the source checkpoint on the CPU.

    Raises:
        SystemExit: One line naming ``src`` if it is empty, not a PyTorch
            file (text, truncated) or not a dict.
    """
    import posewarper_mm.engine  # noqa: F401  (allow-lists mmengine types)
    if src.stat().st_size == 0:
        raise SystemExit(f'{src}: empty file (0 bytes), not a checkpoint')
    try:
        checkpoint = torch.load(
            src, map_location='cpu', weights_only=not unsafe)
    except Exception as err:  # torch raises many types for bad files
        lines = str(err).strip().splitlines()
        detail = f'{type(err).__name__}: {lines[0][:160]}' if lines else \
            type(err).__name__
        if not unsafe and 'weights only' in str(err).lower():
            raise SystemExit(
                f'{src}: cannot read the checkpoint safely ({detail}). If '
                'you trust the file, retry with --unsafe-load.') from err
        raise SystemExit(
            f'{src}: not a readable PyTorch checkpoint (truncated, text or '
            f'another format?): {detail}') from err
    if not isinstance(checkpoint, dict):
        raise SystemExit(f'{src}: not a checkpoint: holds a '
                         f'{type(checkpoint).__name__}, expected a dict')
    return checkpoint


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
    """Write ``obj`` next to ``dst`` and rename it into place."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(
        prefix=dst.name + '.', suffix='.tmp', dir=dst.parent)
    os.close(handle)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main(argv=None) -> int:
    args = parse_args(argv)
    from posewarper_mm.models.checkpoint_conversion import (
        CheckpointConversionError, convert_state_dict, head_conv_target_of,
        load_strictly)
    src, dst = Path(args.src), Path(args.dst)
    if not src.is_file():
        raise SystemExit(f'{src}: source checkpoint not found')
    if dst.exists() and dst.resolve() == src.resolve():
        raise SystemExit(f'{dst}: refusing to overwrite the source file')
    if dst.exists() and not args.force:
        raise SystemExit(f'{dst}: already exists; use --force to overwrite')

    checkpoint = load_source(src, args.unsafe_load)
    model = build_model(args.config) if args.config else None
    target = (
        head_conv_target_of(model.state_dict()) if model is not None else
        None)
    try:
        state_dict, layout = convert_state_dict(
            checkpoint, args.layout, source=str(src), head_conv_target=target)
        if model is not None:
            load_strictly(model, state_dict, str(src))
    except CheckpointConversionError as err:
        raise SystemExit(str(err))

    import mmpose
    meta = dict(
        source=src.name,
        source_layout=layout,
        config=args.config,
        strictly_loaded=model is not None,
        converter='posewarper_mm tools/convert_checkpoint.py',
        mmpose_version=mmpose.__version__,
        num_tensors=len(state_dict),
        num_elements=int(sum(v.numel() for v in state_dict.values())))
    save_atomically({'state_dict': state_dict, 'meta': meta}, dst)
    print(f'{src} ({layout}) -> {dst}: {len(state_dict)} tensors'
          f'{", strictly loaded into " + args.config if model else ""}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
