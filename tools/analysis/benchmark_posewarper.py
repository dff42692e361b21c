"""Benchmark PoseWarper inference, deformable-conv backends and training.

Per crop: (a) single-frame HRNet, (b) 5-frame PoseWarper done naively, (b')
(b) with cached key-frame offsets, (c) PoseWarper batched, (c3) (c) on 3
frames; the neck per deform-conv backend; stage-1 and stage-2 training
steps. Targets: time ratios to (a) within 1.15x of the FLOP ratios; (c) at
most 0.9x (b)'s time, 2x its memory. Exit 1 if (b') or (c) differ from (b)
by over 1e-5 (fp32; 1e-4 on a GPU), 3 if a case fails. ``--profile``: parts
of (b)-(c).
"""
import argparse
import copy
import json
import os
import os.path as osp
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import List, Optional

import torch
from benchmark_cases import (BACKENDS, CLOCKS, HEATMAP_STRIDE, MIB, MODES,
                             Case, autocast, build_models, case_flops,
                             error_text, failing, format_number,
                             inference_workloads, load_bench_config,
                             markdown_table, measure_cases, paired_ratio,
                             part_times, peak_bytes, set_memory_format,
                             timing_record, timing_stats, train_step)
from mmpose.registry import MODELS

from posewarper_mm.datasets.temporal_window import TemporalWindow

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = [osp.join('configs', f'posewarper{stage}_hrnet-w48_posetrack18.py')
           for stage in ('', '-stage1')]  # stage 2, stage 1
SEED, TOLERANCE, SHORT_OFFSETS = 0, 1e-5, (-1, 0, 1)
# fp32 on a GPU: cuDNN may sum in another order for 1 and 5 crops a call
CUDA_TOLERANCE = 1e-4
DEFAULT_OUT_MD = osp.join('work_dirs', 'benchmark', 'benchmark_posewarper.md')
EXIT_MISMATCH, EXIT_CASE_FAILED = 1, 3
MUST_AGREE = ('naive_vs_batched', 'naive_vs_cached')  # else EXIT_MISMATCH
INFERENCE_CASES = dict(a='single', b='naive', bk='naive_cached', c='batched',
                       short='batched_short')  # --cases -> row keys
LABELS = dict(
    single='(a) single-frame HRNet', naive='(b) PoseWarper 5 frames, naive',
    naive_cached="(b') PoseWarper 5 frames, naive, cached key-frame offsets",
    batched='(c) PoseWarper 5 frames, batched',
    neck_fwd='neck forward (eval, 5 frames)', deform_fwd='deform convs '
    'only, forward', neck_fwd_bwd='neck forward+backward (train, T=2)',
    deform_fwd_bwd='deform convs only, forward+backward')
PAIRED = dict(  # (b') vs (b), (c) vs (b'), (c) vs (b): per-round ratios
              cached_vs_naive=('naive_cached', 'naive'),
              batched_vs_cached=('batched', 'naive_cached'),
              batched_vs_naive=('batched', 'naive'))
BATCHED_TIME_TARGET, BATCHED_MEMORY_TARGET = 0.9, 2.0  # (c) vs (b)
SECTIONS = dict(inference='Inference per person crop (eval mode)',
                deform='Deformable convolution backends inside the neck',
                train='Training step (forward + backward + Adam) at the '
                'same batch')
HEADERS = ('Case', 'ms/call median', 'min-max ms', 'ms/crop', 'crops/s',
           'ratio', 'GFLOPs/crop', 'FLOP ratio', 'deform % time', 'peak MiB')
NOTE = 'Ratios of per-crop medians; peak MiB: above the level before a call.'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add('--profile', action='store_true', help="time the parts of (b), (b')"
        ' and (c) on the CPU (default: batch 1, 1 repeat, 1 thread)')
    add('--device', help='cpu or cuda[:N] (default: cuda if available)')
    add('--batch', type=int, help='person crops per call (default 2)')
    add('--repeats', type=int, help='timed calls (default 5; quick 3)')
    add('--warmup', type=int, default=1)
    add('--input-size', type=int, nargs=2, metavar=('H', 'W'),
        help='crop size (default 384 288; quick 64 64)')
    add('--quick', action='store_true', help='tiny HRNet and neck')
    add('--modes', help=f'comma list of {MODES} (default: CPU fp32, GPU all)')
    add('--crops-per-pass', type=int, help="(c)'s test_cfg.max_crops_"
        "per_pass (0: all at once; default: the config's)")
    add('--threads', type=int, help='torch threads (quick, profile: 1)')
    add('--clock', choices=tuple(CLOCKS), default='wall', help='process: '
        'CPU seconds of this process, robust to other jobs (CPU only)')
    for name in ('memory', 'flops', 'check'):  # memory, FLOPs, outputs
        add(f'--no-{name}', dest=name, action='store_false')
    add('--sections', default=','.join(SECTIONS))
    add('--cases', default=','.join(INFERENCE_CASES))
    add('--cudnn-benchmark', action='store_true', help="cuDNN's autotuner")
    add('--lever', help="a name for the run's speed lever in the GPU "
        "check's table (kept out of its goals)")
    add('--compile', action='store_true', help='torch.compile the backbones '
        '(the neck calls custom deformable-conv ops); needs --no-flops')
    add('--out-json')
    add('--out-md', help=f'default: {DEFAULT_OUT_MD} (profile: none)')
    args = parser.parse_args(argv)
    prof, quick = args.profile, args.quick  # their defaults:
    for name, value in dict(
            batch=1 if prof else 2, repeats=1 if prof else 3 if quick else 5,
            threads=1 if quick or prof else None, out_md=None if prof else
            DEFAULT_OUT_MD, input_size=[64, 64] if quick else [384, 288]
    ).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.sections, names, args.modes = (
        [s.strip() for s in text.split(',') if s.strip()]
        for text in (args.sections, args.cases, args.modes or ''))
    args.cases = [INFERENCE_CASES[c] for c in INFERENCE_CASES if c in names]
    for bad, message in (
            (min(args.batch, args.repeats) < 1 or min(
                args.warmup, args.crops_per_pass or 0) < 0, 'need --batch, '
             '--repeats >= 1 and --warmup, --crops-per-pass >= 0'),
            (args.profile and args.device not in (None, 'cpu'),
             '--profile runs on the CPU'),
            (set(args.sections) - set(SECTIONS), f'--sections: {SECTIONS}'),
            (set(names) - set(INFERENCE_CASES) or not names,
             f'--cases: unknown or none in {names}'),
            (set(args.modes) - set(MODES), f'--modes: choose from {MODES}'),
            (args.compile and (args.flops or args.profile), '--compile '
             'counts no FLOPs and profiles nothing: add --no-flops'),
            (any(s < 32 or s % 32 for s in args.input_size),
             '--input-size values must be multiples of 32 (the HRNet '
             f'branches downsample by 32), got {args.input_size}')):
        if bad:
            parser.error(message)
    args.sections = set(args.sections) | {'inference'}
    return args


def _compare(fn_a, fn_b) -> dict:
    """Max abs and relative (to max |b|) difference of two outputs."""
    try:
        a, b = fn_a().float(), fn_b().float()
    except Exception as err:
        return dict(error=error_text(err))
    diff, scale = float((a - b).abs().max()), float(b.abs().max())
    return dict(max_abs_diff=diff, max_rel_diff=diff / scale if scale > 0
                else None, max_abs_value=scale)


def output_tolerance(mode: str, device: torch.device) -> Optional[float]:
    """The most (b') and (c) may differ from (b): fp32 only."""
    if not mode.startswith('fp32'):
        return None
    return CUDA_TOLERANCE if device.type == 'cuda' else TOLERANCE


def run_mode(mode: str, stage1, stage2, frames: torch.Tensor, cfg,
             args) -> dict:
    """All cases of a mode on (B, T, 3, H, W) ``frames``, checks, targets."""
    batch, neck = frames.size(0), stage2.neck
    for model in (stage1, stage2):
        set_memory_format(model, mode.endswith('-cl'))
    neck.clear_key_offsets_cache()
    run = dict(repeats=args.repeats, warmup=args.warmup, device=frames.device,
               memory=args.memory, clock=CLOCKS[args.clock])
    work = inference_workloads(stage1, stage2, frames, cfg.test_weights,
                               mode)
    short = TemporalWindow(cfg.test_offsets, cfg.test_weights).subset(
        SHORT_OFFSETS)  # its slots in the key-first test window:
    slots = [list(cfg.test_offsets).index(o) for o in short.offsets]
    work['batched_short'] = inference_workloads(
        stage1, stage2, frames[:, slots].contiguous(), short.weights,
        mode)['batched']
    labels = dict(LABELS, batched_short=f'(c{len(slots)}) PoseWarper '
                  f'{len(slots)} frames (offsets {sorted(short.offsets)}), '
                  'batched')
    # the estimator calls the neck's parts: time the sum of its layers
    parts = dict(backbone=[stage2.backbone], neck=[
        neck.trans_layer, neck.offset_feats, *neck.offset_layers,
        *neck.deform_conv_layers])
    records = measure_cases([
        Case(key, 'inference', labels[key], work[key], batch, dict(
            single=None, batched_short='batched').get(key, 'single'))
        for key in args.cases], parts=dict(batched=parts), **run)
    for record in [r for r in records if 'stage_samples' in r]:
        total = record['seconds']['median']
        for name, part in record['stage_samples'].items():
            records.append(dict(
                key=f'batched_{name}', section='inference',
                label=f'(c) of which {name}', crops=batch, ref='single',
                samples=part, share_of_batched=timing_stats(part)['median']
                / total if total else None, **timing_record(part, batch)))
    checks = dict(tolerance=output_tolerance(mode, frames.device))
    for name, key in (('naive_vs_batched', 'batched'),
                      ('naive_vs_cached', 'naive_cached')):  # vs (b)
        if args.check and key in ('batched', *args.cases):
            checks[name] = _compare(work['naive'], work[key])
    if 'deform' in args.sections:
        records += _deform_records(stage2, cfg.stage2.neck, frames, mode,
                                   checks, run)
    if 'train' in args.sections:
        records += _train_records(stage1, stage2, frames, cfg, mode, run)
    try:
        flops = case_flops(stage1, stage2, frames, cfg, slots) \
            if args.flops else {}
    except Exception as err:  # reported, not fatal
        flops, checks['flops_error'] = {}, error_text(err)
    by_key = {r['key']: r for r in records}
    for record in records:  # FLOPs per crop, ratios to ``ref`` (listed first)
        record.update({f'{k}_per_crop': v
                       for k, v in flops.get(record['key'], {}).items()})
        for field, name in (('per_crop_seconds', 'ratio'),
                            ('flops_per_crop', 'flop_ratio')):
            if field in record and field in by_key.get(record['ref'], {}):
                record[name] = _ratio(by_key, record['key'], record['ref'],
                                      field)
    return dict(mode=mode, cases=records, checks=checks,
                targets=targets(by_key))


def _deform_records(stage2, neck_cfg, frames, mode, checks, run) -> list:
    """The neck and its deform convs per backend, checked against mmcv."""
    num_frames, batch = frames.size(1), frames.size(0)
    with torch.no_grad():  # all frames' features, heatmaps and offsets
        feats = stage2.backbone(frames.transpose(0, 1).flatten(0, 1))[0]
        source = stage2.neck.heatmaps(feats)
        maps = source.unflatten(0, (num_frames, batch))
        offsets = stage2.neck.compute_offsets((maps[:1] - maps).flatten(0, 1))
    necks, errors = {}, {}
    for backend in BACKENDS:
        try:
            neck = MODELS.build(dict(copy.deepcopy(neck_cfg),
                                     deform_backend=backend))
            neck.load_state_dict(stage2.neck.state_dict())
            set_memory_format(neck.to(frames.device), mode.endswith('-cl'))
            necks[backend] = (neck.eval(), copy.deepcopy(neck).train())
        except Exception as err:
            errors[backend] = error_text(err)

    def forward(fn):
        with torch.no_grad(), autocast(mode, feats.device):
            return fn()

    def backward(neck, fn):  # of a squared-output loss
        neck.zero_grad(set_to_none=True)
        with autocast(mode, feats.device):
            out = fn()
        loss = out.float().square().mean()
        loss.backward()
        return loss.detach()

    work = dict(  # (eval neck, train neck) -> one call
        neck_fwd=lambda n, _: forward(lambda: n(feats, num_frames=num_frames)),
        # train mode: the supporting frame of (key, support) warped
        neck_fwd_bwd=lambda _, n: backward(n, lambda: n(
            feats[:2 * batch], num_frames=2, frame_slots=[1])),
        deform_fwd=lambda n, _: forward(lambda: n.deform(source, offsets)),
        deform_fwd_bwd=lambda _, n: backward(n, lambda: n.deform(
            source.detach().requires_grad_(True),
            [o.detach().requires_grad_(True) for o in offsets])))
    for backend in [b for b in BACKENDS[1:] if {'mmcv', b} <= set(necks)]:
        checks[f'mmcv_vs_{backend}_neck'] = _compare(
            lambda: work['neck_fwd'](*necks['mmcv']),
            lambda: work['neck_fwd'](*necks[backend]))
    records = []
    for key in work:
        for backend in BACKENDS:
            fn = (lambda w=work[key], n=necks[backend]: w(*n)) \
                if backend in necks else failing(errors[backend])
            records += measure_cases([Case(
                f'{key}_{backend}', 'deform', f'{LABELS[key]} [{backend}]',
                fn, batch, None if backend == 'mmcv' else f'{key}_mmcv')],
                **run)
    return records


def _train_records(stage1, stage2, frames, cfg, mode, run) -> list:
    """Stage-1 vs stage-2 training steps at the same batch."""
    batch, num_train = frames.size(0), len(cfg.train_weights)
    records = []
    for key, label, model, inputs, weights, ref in (
            ('train_stage1', 'stage 1: HRNet, all trainable', stage1,
             frames[:, 0].contiguous(), (1.0, ), None),
            ('train_stage2', f'stage 2: frozen backbone, T={num_train}, '
             f'weights {list(cfg.train_weights)}', stage2,
             frames[:, :num_train].contiguous(), cfg.train_weights,
             'train_stage1')):
        model = copy.deepcopy(model)
        params = dict(total=sum(p.numel() for p in model.parameters()),
                      trainable=sum(p.numel() for p in model.parameters()
                                    if p.requires_grad))
        try:
            step = train_step(model, inputs, weights, mode, SEED)
        except Exception as err:
            step = failing(error_text(err))
        records += measure_cases([Case(key, 'train', label, step, batch,
                                       ref)], **run)
        records[-1]['parameters'] = params
        del model, step  # one copy at a time
    return records


def _ratio(by_key: dict, key: str, ref: str, field: str) -> Optional[float]:
    value, base = (by_key.get(k, {}).get(field) for k in (key, ref))
    if isinstance(value, dict):
        value, base = value.get('median'), (base or {}).get('median')
    return None if value is None or not base else value / base


def targets(by_key: dict) -> dict:
    """:data:`PAIRED` time and FLOP ratios; (c) vs (b) against targets."""
    result = {}
    for name, (key, ref) in PAIRED.items():
        if name == 'batched_vs_naive' or key in by_key and ref in by_key:
            paired = paired_ratio(by_key.get(key, {}), by_key.get(ref))
            result[name] = dict(ratio=paired['median'] if paired else _ratio(
                by_key, key, ref, 'per_crop_seconds'), paired=paired,
                flop_ratio=_ratio(by_key, key, ref, 'flops_per_crop'))
    item = result['batched_vs_naive']
    memory = _ratio(by_key, 'batched', 'naive', 'peak_bytes')
    item.update(memory_ratio=memory, limit=BATCHED_TIME_TARGET,
                memory_limit=BATCHED_MEMORY_TARGET, met=None
                if item['ratio'] is None or memory is None else
                (item['ratio'] <= BATCHED_TIME_TARGET
                 and memory <= BATCHED_MEMORY_TARGET))
    return result


def _row(record: dict, refs: dict) -> list:
    get, label = record.get, record['label']
    if 'error' in record:
        return [f'{label} — FAILED: {record["error"]}'] + \
            ['n/a'] * (len(HEADERS) - 1)
    if get('share_of_batched') is not None:
        label += f' ({record["share_of_batched"] * 100:.0f}% of (c))'
    sec, ms = record['seconds'], lambda s: format_number(s, 1, 1e3)
    ratio = 'n/a' if get('ratio') is None else \
        f'{record["ratio"]:.2f}x vs {refs.get(record["ref"], record["ref"])}'
    return [label, ms(sec['median']), f'{ms(sec["minimum"])}-'
            f'{ms(sec["maximum"])}', ms(record['per_crop_seconds']['median']),
            format_number(get('crops_per_second'), 2), ratio,
            format_number(get('flops_per_crop'), 2, 1e-9),
            format_number(get('flop_ratio'), 2, suffix='x'),
            format_number(get('deform_share'), 1, 100),
            format_number(get('peak_bytes'), 1, 1 / MIB)]


def _summary(checks: dict, targets: dict) -> List[str]:
    lines, tol = ['### Checks', ''], checks['tolerance']
    for name, item in [(k, v) for k, v in checks.items() if k != 'tolerance']:
        if name == 'flops_error' or 'error' in item:
            error = item if name == 'flops_error' else item['error']
            lines.append(f'- {name}: FAILED: {error}')
            continue
        lines.append(f'- {name}: max abs diff {item["max_abs_diff"]:.3g} '
                     f'(max |heatmap| {item["max_abs_value"]:.3g})')
        if name in MUST_AGREE and tol is not None:
            verdict = 'OK' if item['max_abs_diff'] <= tol else 'FAIL'
            lines[-1] += f' — {verdict} (tolerance {tol:g})'
    lines += ['', '### Targets', '']
    for name, item in targets.items():  # ratios, limits, verdict
        paired, met = item.get('paired'), item.get('met')
        text = ', '.join(f'{k} {format_number(v, 2)}' for k, v in item.items()
                         if k not in ('paired', 'met') and v is not None)
        if paired:
            text += f', per round {paired["minimum"]:.2f}-' \
                f'{paired["maximum"]:.2f}'
        lines.append(f'- {name}: {text}' + (
            '' if met is None else ' — MET' if met else ' — NOT MET'))
    return lines


def report_markdown(meta: dict, results: List[dict]) -> str:
    """The report: settings, then tables, checks and targets per mode."""
    lines = ['# PoseWarper benchmark', ''] + [
        f'- {key}: {value}' for key, value in meta.items()
        if key not in ('calibration', 'cudnn_benchmark', 'tf32')] + ['', NOTE]
    for result in results:
        records = result['cases']
        refs = {r['key']: (  # how ratios name a row: (a), mmcv, stage 1
            r['label'].split()[0] if r['label'][0] == '(' else 'mmcv'
            if r['key'].endswith('_mmcv') else 'stage ' + r['key'][11:]
            if r['section'] == 'train' else r['key']) for r in records}
        lines += ['', f'## Mode `{result["mode"]}`']
        for section, title in SECTIONS.items():
            rows = [_row(r, refs) for r in records if r['section'] == section]
            if rows:
                lines += ['', f'### {title}', '',
                          markdown_table(HEADERS, rows)]
        params = [r for r in records if 'parameters' in r]
        if params:
            lines += ['', 'Trainable parameters: ' + '; '.join(
                f'{r["key"]} {r["parameters"]["trainable"] / 1e6:.2f}M of '
                f'{r["parameters"]["total"] / 1e6:.2f}M' for r in params)]
        lines += [''] + _summary(result['checks'], result['targets'])
    return '\n'.join(lines) + '\n'


def profile(args, cfg, stage1, stage2, frames) -> str:
    """CPU seconds and calls per part of (b), (b') and (c); top ops."""
    from torch.profiler import ProfilerActivity, profile
    work = inference_workloads(stage1, stage2, frames, cfg.test_weights,
                               'fp32')
    neck, size = stage2.neck, args.input_size
    parts = dict(backbone=[stage2.backbone], trans_layer=[neck.trans_layer],
                 offset_feats=[neck.offset_feats],
                 offset_convs=list(neck.offset_layers),
                 deform_convs=list(neck.deform_conv_layers))
    lines = [f'### Profile: input {size[0]}x{size[1]}, batch {args.batch}, '
             f'{args.threads} thread(s), {"quick models" * args.quick} '
             f'offsets {list(cfg.test_offsets)}, (c) max_crops_per_pass '
             f'{cfg.crops_per_pass}, {args.repeats} hook-timed call(s)', '']
    diff = (work['naive']() - work['batched']()).abs().max().item()
    for label, key in (('(b) naive', 'naive'),
                       ("(b') naive, cached key-frame offsets",
                        'naive_cached'), ('(c) batched', 'batched')):
        print(f'[profile] {label} ...', file=sys.stderr, flush=True)
        seconds, calls, total = Counter(), Counter(), 0.0
        with part_times(parts, frames.device, time.process_time, seconds,
                        calls):
            for _ in range(args.repeats):
                start = time.process_time()
                work[key]()
                total += time.process_time() - start
        total /= args.repeats
        seconds = {k: seconds[k] / args.repeats for k in parts}
        seconds['other'] = total - sum(seconds.values())
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True,
                     profile_memory=True) as prof:
            work[key]()
        lines += [
            f'#### {label}: {total * 1e3:.0f} ms per call (CPU seconds)', '',
            markdown_table(('part', 'calls', 'ms', 'share'), [
                (k, calls[k] // args.repeats if k in parts else '',
                 f'{v * 1e3:.0f}', f'{v / total:.1%}')
                for k, v in seconds.items()]).replace('|  |', '| |'), '',
            f'Peak live tensor memory: {peak_bytes(prof) / MIB:.1f} MiB', '',
            '```',
            prof.key_averages(group_by_input_shape=True).table(
                sort_by='self_cpu_time_total', row_limit=12,
                max_shapes_column_width=90), '```', '']
    return '\n'.join(lines + [f'(b) vs (c) max abs diff: {diff:.3g}']) + '\n'


def exit_code(results: List[dict]) -> int:
    """EXIT_MISMATCH, else EXIT_CASE_FAILED if a case failed, else 0."""
    mismatch = any(c.get(name) and c['tolerance'] is not None and c[
        name].get('max_abs_diff', float('inf')) > c['tolerance']
        for c in (r['checks'] for r in results) for name in MUST_AGREE)
    failed = any('error' in c for r in results for c in r['cases'])
    return EXIT_MISMATCH if mismatch else EXIT_CASE_FAILED if failed else 0


def run_meta(args: argparse.Namespace, cfg, device: torch.device,
             device_name: str) -> dict:
    """What a run measured and how: the ``meta`` of its json.

    On a GPU the outputs checks run in full fp32 (no TF32), and cuDNN's
    autotuner is on only with ``--cudnn-benchmark``.
    """
    import mmcv
    meta = dict(
        device=str(device), device_name=device_name, torch=torch.__version__,
        mmcv=mmcv.__version__, threads=torch.get_num_threads(),
        stage2_config=CONFIGS[0], stage1_config=CONFIGS[1], quick=args.quick,
        input_size=list(args.input_size), heatmap_size=[
            s // HEATMAP_STRIDE for s in args.input_size], batch=args.batch,
        repeats=args.repeats, warmup=args.warmup, clock=args.clock,
        test_frame_offsets=list(cfg.test_offsets),
        test_frame_weights=list(cfg.test_weights),
        train_frame_weights=list(cfg.train_weights),
        short_offsets=sorted(SHORT_OFFSETS), deform_backend=cfg.stage2[
            'neck'].get('deform_backend', 'mmcv'),
        max_crops_per_pass=cfg.crops_per_pass,
        memory=args.memory, flops=args.flops, sections=sorted(args.sections),
        cases=list(args.cases), outputs_check=args.check,
        cudnn_benchmark=args.cudnn_benchmark, compiled=args.compile,
        lever=args.lever,
        load_average_start=' '.join(f'{v:.2f}' for v in os.getloadavg()))
    if device.type == 'cuda':
        meta['tf32'] = False
    return meta


def main(argv: Optional[List[str]] = None) -> int:

    def write(path: Optional[str], text: str) -> None:
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text)

    args = parse_args(argv)
    device = torch.device(args.device or (
        'cuda' if torch.cuda.is_available() and not args.profile else 'cpu'))
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda requested but no GPU is available')
    if args.clock == 'process' and device.type != 'cpu':
        raise SystemExit('--clock process measures CPU time; use it with '
                         '--device cpu')
    torch.set_num_threads(args.threads or torch.get_num_threads())
    if device.type == 'cuda':  # full fp32 for the outputs checks
        torch.backends.cudnn.allow_tf32 = \
            torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.benchmark = args.cudnn_benchmark
    cfg = load_bench_config(*(osp.join(REPO, c) for c in CONFIGS),
                            args.quick, args.crops_per_pass)
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else \
        next((line.split(':', 1)[1].strip() for line in Path(
            '/proc/cpuinfo').read_text().splitlines()
            if line.startswith('model name')), 'unknown')
    meta = run_meta(args, cfg, device, name)
    gen = torch.Generator().manual_seed(SEED)  # (B, T, 3, H, W)
    frames = torch.randn(args.batch, len(cfg.test_weights), 3,
                         *args.input_size, generator=gen).to(device)
    stage1, stage2, meta['calibration'] = build_models(cfg, frames, SEED)
    if args.compile:  # compiled at the first (warm-up) call of each shape
        for model in (stage1, stage2):
            model.backbone = torch.compile(model.backbone)
    if args.profile:
        text, code = profile(args, cfg, stage1, stage2, frames), 0
    else:
        results = []
        for mode in args.modes or MODES[:1 if device.type == 'cpu' else None]:
            print(f'[benchmark] mode {mode} ...', file=sys.stderr, flush=True)
            results.append(run_mode(mode, stage1, stage2, frames, cfg, args))
        meta.update(load_average_end=' '.join(
            f'{v:.2f}' for v in os.getloadavg()), process_max_rss_mib=round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
        code, text = exit_code(results), report_markdown(meta, results)
        write(args.out_json, json.dumps(dict(
            meta=meta, results=results, exit_code=code), indent=2,
            default=str))
    print(text)
    write(args.out_md, text)
    return code


if __name__ == '__main__':
    sys.exit(main())
