"""Export a pose model of posewarper_mm to ONNX; check and time it.

The graph takes normalised crops ``frames`` (B, T, 3, H, W), key frame
first, as the config's data preprocessor gives them (B dynamic, T and the
window's weights from the config's test window, T = 1 for a single-frame
model), and returns the heatmaps (B, K, h, w). Checkpoints of any
deformable-convolution backend export through ``--deform-op pytorch``
(``grid_sample``, opset 16) or ``onnx`` (ONNX's ``DeformConv``, opset 19).

``--verify`` runs the same random frames through the PyTorch model (its
configured backend) and onnxruntime and fails (exit 1) when the largest
difference exceeds 1e-4 of the largest heatmap value. ``--benchmark N``
times N rounds of PyTorch (mmcv's kernel and the plain-PyTorch backend) and
onnxruntime (both deform ops) on the CPU.

Examples::

    python tools/deployment/pytorch2onnx.py CONFIG CKPT --out m.onnx --verify
    python tools/deployment/pytorch2onnx.py CONFIG --out m.onnx \\
        --deform-op onnx --benchmark 3 --batches 1 8 --threads 1
"""
import argparse
import copy
import os.path as osp
import statistics
import sys
import tempfile
import time
from typing import Dict, List

import numpy as np
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from posewarper_mm.apis.deployment import (DEFORM_OPS, export_onnx,  # noqa
                                           is_multi_frame, onnx_session,
                                           reference_heatmaps)
from posewarper_mm.engine import ALLOW_PARTIAL_FLAG  # noqa: E402
from posewarper_mm.engine import init_inference_model  # noqa: E402
from posewarper_mm.errors import ConfigError, InputFileError  # noqa: E402
from posewarper_mm.models.necks import BackendDeformConv2d  # noqa: E402

RELATIVE_TOLERANCE = 1e-4


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add = parser.add_argument
    add('config', help='model config file')
    add('checkpoint', nargs='?',
        help='checkpoint (default: the initial weights, with a warning)')
    add('--out', required=True, help='the .onnx file to write')
    add('--random-offsets', type=int, metavar='SEED',
        help='without a checkpoint: draw the offset convs from N(0, 1e-4) '
        '(their initial weights are 0, an identity warp)')
    add('--deform-op', default='pytorch', choices=sorted(DEFORM_OPS),
        help='how the deformable convolutions are exported')
    add('--opset', type=int, help='ONNX opset (default: the lowest the '
        'deform op needs)')
    add('--verify', action='store_true',
        help='compare onnxruntime with PyTorch on random frames')
    add('--batch', type=int, default=2, help='frames per --verify run')
    add('--benchmark', type=int, metavar='ROUNDS',
        help='time PyTorch and onnxruntime, this many rounds')
    add('--batches', type=int, nargs='+', default=[1, 8],
        help='batch sizes of --benchmark')
    add('--threads', type=int, default=1, help='CPU threads of both')
    add(ALLOW_PARTIAL_FLAG, action='store_true',
        help='export even if the checkpoint leaves weights unloaded')
    return parser.parse_args(argv)


def random_frames(info: dict, batch: int, seed: int = 0) -> torch.Tensor:
    """Normalised-scale random frames (batch, T, 3, H, W)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, *info['frames'][1:], generator=gen)


def compare(model, path: str, frames: torch.Tensor,
            threads: int) -> Dict[str, float]:
    """Largest absolute and relative (to the largest reference value)
    difference of onnxruntime's heatmaps from the PyTorch model's."""
    ref = reference_heatmaps(model, frames).numpy()
    out = onnx_session(path, threads).run(None, {'frames': frames.numpy()})[0]
    if out.shape != ref.shape:
        raise ConfigError(f'{path}: heatmaps {out.shape}, PyTorch '
                          f'{ref.shape}')
    diff = float(np.abs(out - ref).max())
    return dict(max_abs=diff, max_rel=diff / float(np.abs(ref).max()))


def with_backend(model, backend: str):
    """A copy of ``model`` whose deformable convolutions use ``backend``."""
    model = copy.deepcopy(model)
    for module in model.modules():
        if isinstance(module, BackendDeformConv2d):
            module.backend = backend
    return model


def time_rounds(fn, rounds: int) -> List[float]:
    fn()  # warm-up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def benchmark(model, info: dict, args) -> str:
    """A Markdown table of ms per call: PyTorch (mmcv, plain) and
    onnxruntime (both deform ops), median (min-max) and ratio to mmcv."""
    torch.set_num_threads(args.threads)
    rows = [('PyTorch, mmcv kernel', with_backend(model, 'mmcv'))]
    if is_multi_frame(model):
        rows.append(('PyTorch, plain-PyTorch backend',
                     with_backend(model, 'pytorch')))
    with tempfile.TemporaryDirectory() as tmp:
        for op in sorted(DEFORM_OPS) if is_multi_frame(model) else ['pytorch']:
            path = osp.join(tmp, f'{op}.onnx')
            export_onnx(model, path, op)
            rows.append((f'onnxruntime, {op} deform op' if is_multi_frame(
                model) else 'onnxruntime', onnx_session(path, args.threads)))
        lines = ['| case | ' + ' | '.join(
            f'batch {b}: ms per call | ratio' for b in args.batches) + ' |',
            '|---|' + '---:|---:|' * len(args.batches)]
        cells = {name: [] for name, _ in rows}
        for batch in args.batches:
            frames = random_frames(info, batch)
            base = None
            for name, runner in rows:
                if isinstance(runner, torch.nn.Module):
                    run = lambda: reference_heatmaps(runner, frames)  # noqa
                else:
                    array = frames.numpy()
                    run = lambda: runner.run(None, {'frames': array})  # noqa
                times = [t * 1000 for t in time_rounds(run, args.benchmark)]
                median = statistics.median(times)
                base = base or median
                cells[name] += [f'{median:.0f} ({min(times):.0f}-'
                                f'{max(times):.0f})', f'{median / base:.2f}x']
        lines += [f'| {name} | ' + ' | '.join(cell) + ' |'
                  for name, cell in cells.items()]
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if not args.checkpoint:
            print('no checkpoint: exporting the initial weights',
                  file=sys.stderr)
        model = init_inference_model(args.config, args.checkpoint, 'cpu',
                                     args.allow_partial_checkpoint)
        if args.random_offsets is not None and is_multi_frame(model):
            gen = torch.Generator().manual_seed(args.random_offsets)
            for layer in model.neck.offset_layers:
                layer.weight.data = 1e-4 * torch.randn(
                    layer.weight.shape, generator=gen)
        info = export_onnx(model, args.out, args.deform_op, args.opset)
        print(f'{args.out}: frames {info["frames"]} -> heatmaps, weights '
              f'{[round(w, 4) for w in info["frame_weights"]]}, deform op '
              f'{info["deform_op"]}, opset {info["opset"]}')
        status = 0
        if args.verify:
            diff = compare(model, args.out, random_frames(info, args.batch),
                           args.threads)
            ok = diff['max_rel'] <= RELATIVE_TOLERANCE
            print(f'verify (batch {args.batch}): max abs diff '
                  f'{diff["max_abs"]:.3e}, max rel diff {diff["max_rel"]:.3e} '
                  f'(tolerance {RELATIVE_TOLERANCE:g}): '
                  f'{"ok" if ok else "FAILED"}')
            status = 0 if ok else 1
        if args.benchmark:
            print(benchmark(model, info, args))
        return status
    except (FileNotFoundError, InputFileError, ConfigError) as err:
        raise SystemExit(f'pytorch2onnx.py: error: {err}')


if __name__ == '__main__':
    sys.exit(main())
