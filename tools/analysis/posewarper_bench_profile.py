"""Per-layer profile of the naive (b), naive with cached key-frame offsets
(b') and batched (c) 5-frame PoseWarper.

Builds the benchmark's models (same configs, weights and inputs as
``benchmark_posewarper.py``) and times the parts of one inference call with
forward hooks on a CPU-seconds clock (``time.process_time``), so other jobs
sharing the cores do not distort the shares. The parts are the backbone,
the neck's ``trans_layer``, its ``offset_feats`` chain, the offset convs
and the deformable convs; "other" is the rest of the call (differences,
concatenations, the weighted sum). A second, separate call runs under
``torch.profiler`` for the top operators (self CPU time, input shapes) and
the peak of live tensor memory.

Example::

    python tools/analysis/posewarper_bench_profile.py --batch 1 \\
        --repeats 1 --out-md profile.md
    # seconds-long run with the quick benchmark's tiny models
    python tools/analysis/posewarper_bench_profile.py --quick
"""
import argparse
import sys
import time
from collections import defaultdict
from typing import Callable, Dict, List, Optional

import torch
from posewarper_bench_cases import InferenceWorkloads, Mode
from posewarper_bench_models import (build_model, inference_samples,
                                     load_bench_config, prepare_models,
                                     random_frames)
from torch import nn

from posewarper_mm.models.necks import deform_conv_backends

MIB = float(2**20)


def neck_parts(model: nn.Module) -> Dict[str, List[nn.Module]]:
    """The timed parts of a PoseWarper estimator, by name."""
    neck = model.neck
    return {
        'backbone': [model.backbone],
        'trans_layer': [neck.trans_layer],
        'offset_feats': [neck.offset_feats],
        'offset_convs': list(neck.offset_layers),
        'deform_convs': [
            m for m in neck.modules()
            if isinstance(m, deform_conv_backends.BackendDeformConv2d)
        ],
    }


class PartTimer:
    """Accumulate CPU seconds spent in the forward of named module groups.

    Args:
        parts (dict[str, list[nn.Module]]): Groups of modules; nested
            calls of modules of the same group are counted once.
        clock (Callable): Timer function. Defaults to
            ``time.process_time``.
    """

    def __init__(self,
                 parts: Dict[str, List[nn.Module]],
                 clock: Callable[[], float] = time.process_time) -> None:
        self.parts = parts
        self.clock = clock
        self.seconds: Dict[str, float] = defaultdict(float)
        self.calls: Dict[str, int] = defaultdict(int)
        self._depth: Dict[str, int] = defaultdict(int)
        self._start: Dict[str, float] = {}
        self._handles: list = []

    def _hooks(self, name: str):

        def pre(module, args):
            if self._depth[name] == 0:
                self._start[name] = self.clock()
            self._depth[name] += 1

        def post(module, args, output):
            self._depth[name] -= 1
            if self._depth[name] == 0:
                self.seconds[name] += self.clock() - self._start.pop(name)
                self.calls[name] += 1

        return pre, post

    def __enter__(self) -> 'PartTimer':
        for name, modules in self.parts.items():
            pre, post = self._hooks(name)
            for module in modules:
                self._handles.append(module.register_forward_pre_hook(pre))
                self._handles.append(module.register_forward_hook(post))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []


def profile_parts(fn: Callable[[], object], parts: Dict[str, List[nn.Module]],
                  repeats: int) -> dict:
    """Median-free sum over ``repeats`` calls: seconds per part per call.

    Returns:
        dict: ``total`` and per-part CPU seconds per call, and the number of
        forward calls of each part per call.
    """
    timer = PartTimer(parts)
    total = 0.0
    with timer:
        for _ in range(repeats):
            start = time.process_time()
            fn()
            total += time.process_time() - start
    result = dict(total=total / repeats, parts={}, calls={})
    for name in parts:
        result['parts'][name] = timer.seconds[name] / repeats
        result['calls'][name] = timer.calls[name] // repeats
    return result


def profile_ops(fn: Callable[[], object], top: int) -> dict:
    """Top operators by self CPU time and the peak of live tensor memory."""
    from torch.profiler import ProfilerActivity, profile
    with profile(
            activities=[ProfilerActivity.CPU],
            record_shapes=True,
            profile_memory=True) as prof:
        fn()
    averages = prof.key_averages(group_by_input_shape=True)
    total = sum(e.self_cpu_time_total for e in averages) or 1.0
    rows = sorted(averages, key=lambda e: -e.self_cpu_time_total)[:top]
    ops = [
        dict(
            name=e.key,
            shapes=str(e.input_shapes)[:90],
            calls=e.count,
            self_ms=e.self_cpu_time_total / 1e3,
            share=e.self_cpu_time_total / total) for e in rows
    ]
    events = sorted((e.start_ns(), int(e.nbytes()))
                    for e in prof.profiler.kineto_results.events()
                    if e.name() == '[memory]')
    live = peak = 0
    for _, nbytes in events:
        live += nbytes
        peak = max(peak, live)
    return dict(ops=ops, peak_bytes=peak)


# mmcv's and torchvision's ops (forward and backward); the pytorch
# backend's named forward range and its sampling backward (the einsum's
# backward is a plain matrix product, not attributed)
DEFORM_OP_NAMES = ('deformconv2d', 'deform_conv2d', 'bilinearsamplebackward')


def _is_deform(event) -> bool:
    name = event.name.lower()
    return any(part in name for part in DEFORM_OP_NAMES)


def deform_seconds(events) -> float:
    """Inclusive CPU time of the outermost deformable-conv events (forward
    and backward, either kernel), from a profiler's event list."""
    total = 0.0
    for event in events:
        if not _is_deform(event):
            continue
        parent = event.cpu_parent
        while parent is not None and not _is_deform(parent):
            parent = parent.cpu_parent
        if parent is None:
            total += event.cpu_time_total / 1e6
    return total


def profile_call(fn: Callable[[], object]) -> dict:
    """One call of ``fn`` under the profiler: peak of live tensor memory
    and the share of the call's time spent in deformable convolutions.

    The share is the deformable convolutions' event time over the elapsed
    time of the call (both on the profiler's clock); with several threads
    it is the share of the calling thread's time.

    Returns:
        dict: ``peak_bytes`` (above the level before the call, None when
        the allocator events are not exposed), ``deform_seconds`` and
        ``deform_share``.
    """
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU],
                 profile_memory=True) as prof:
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
    peak = None
    results = getattr(prof.profiler, 'kineto_results', None)
    if results is not None:
        events = sorted((e.start_ns(), int(e.nbytes()))
                        for e in results.events() if e.name() == '[memory]')
        live = peak = 0
        for _, nbytes in events:
            live += nbytes
            peak = max(peak, live)
    deform = deform_seconds(prof.events())
    return dict(
        peak_bytes=peak,
        deform_seconds=deform,
        deform_share=deform / elapsed if elapsed > 0 else None)


def _part_table(label: str, result: dict) -> List[str]:
    lines = [
        f'#### {label}: {result["total"] * 1e3:.0f} ms per call '
        '(CPU seconds)', '', '| part | calls | ms | share |',
        '| --- | ---: | ---: | ---: |'
    ]
    known = 0.0
    for name, seconds in result['parts'].items():
        known += seconds
        lines.append(f'| {name} | {result["calls"][name]} | '
                     f'{seconds * 1e3:.0f} | '
                     f'{seconds / result["total"] * 100:.1f}% |')
    other = result['total'] - known
    lines.append(f'| other | | {other * 1e3:.0f} | '
                 f'{other / result["total"] * 100:.1f}% |')
    return lines


def _op_table(ops: dict) -> List[str]:
    lines = [
        f'Peak live tensor memory: {ops["peak_bytes"] / MIB:.1f} MiB', '',
        '| operator | input shapes | calls | self ms | share |',
        '| --- | --- | ---: | ---: | ---: |'
    ]
    for op in ops['ops']:
        shapes = op['shapes'].replace('|', '/')
        lines.append(f'| {op["name"]} | {shapes} | {op["calls"]} | '
                     f'{op["self_ms"]:.0f} | {op["share"] * 100:.1f}% |')
    return lines


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=None)
    parser.add_argument('--stage1-config', default=None)
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=1,
                        help='hook-timed calls per case (after 1 warm-up)')
    parser.add_argument('--input-size', type=int, nargs=2, default=None)
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--crops-per-pass', type=int, default=None,
                        help="(c)'s test_cfg.max_crops_per_pass (0: all "
                        "at once; default: the config's)")
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--top', type=int, default=12,
                        help='operators listed per case')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out-md', default=None)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    from benchmark_posewarper import STAGE1_CONFIG, STAGE2_CONFIG
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    size = tuple(args.input_size or ((64, 64) if args.quick else (384,
                                                                  288)))
    cfg = load_bench_config(args.config or STAGE2_CONFIG,
                            args.stage1_config or STAGE1_CONFIG, args.quick,
                            crops_per_pass=args.crops_per_pass)
    frames = random_frames(args.batch, len(cfg.test_weights), size,
                           args.seed)
    stage1 = build_model(cfg.stage1, args.seed).eval()
    stage2 = build_model(cfg.stage2, args.seed + 1).eval()
    prepare_models(stage1, stage2, frames[:, 0], frames[:, 1],
                   args.seed + 2)
    weights = torch.tensor([cfg.test_weights] * args.batch)
    work = InferenceWorkloads(stage1, stage2, frames,
                              inference_samples(args.batch,
                                                cfg.test_weights), weights,
                              Mode.parse('fp32'))
    parts = neck_parts(stage2)
    lines = [
        f'### Profile: input {size[0]}x{size[1]}, batch {args.batch}, '
        f'{args.threads} thread(s), {"quick models" if args.quick else ""}'
        f' offsets {list(cfg.test_offsets)}, (c) max_crops_per_pass '
        f'{cfg.crops_per_pass}, '
        f'{args.repeats} hook-timed call(s)', ''
    ]
    diff = (work.naive() - work.batched()).abs().max().item()
    for label, fn in (('(b) naive', work.naive),
                      ("(b') naive, cached key-frame offsets",
                       work.naive_cached), ('(c) batched', work.batched)):
        print(f'[profile] {label} ...', file=sys.stderr, flush=True)
        result = profile_parts(fn, parts, args.repeats)
        lines += _part_table(label, result) + ['']
        lines += _op_table(profile_ops(fn, args.top)) + ['']
    lines.append(f'(b) vs (c) max abs diff: {diff:.3g}')
    text = '\n'.join(lines) + '\n'
    print(text)
    if args.out_md:
        with open(args.out_md, 'w') as f:
            f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
