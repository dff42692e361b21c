"""Markdown report of the PoseWarper benchmark results."""
from typing import List

from posewarper_bench_utils import MIB, format_markdown_table, format_number

# output checks that must agree within --tolerance (fp32), else exit 1
MUST_AGREE = ('naive_vs_batched', 'naive_vs_cached')

SECTIONS = (
    ('inference', 'Inference per person crop (eval mode)'),
    ('deform', 'Deformable convolution backends inside the neck'),
    ('train', 'Training step (forward + backward + Adam) at the same batch'),
)
HEADERS = ('Case', 'ms/call median', 'min-max ms', 'ms/crop', 'crops/s',
           'ratio', 'GFLOPs/crop', 'FLOP ratio', 'GFLOP/s', 'deform % time',
           'peak MiB')


def _ms(seconds) -> str:
    return format_number(None if seconds is None else seconds * 1e3, 1)


def _row(record: dict, refs: dict) -> List[str]:
    label = record['label']
    if 'error' in record:
        return [f'{label} — FAILED: {record["error"]}'] + ['n/a'] * (
            len(HEADERS) - 1)
    sec = record['seconds']
    share = record.get('share_of_batched')
    if share is not None:
        label = f'{label} ({share * 100:.0f}% of (c))'
    ratio = 'n/a'
    if record.get('ratio') is not None:
        ref = refs.get(record['ref'], record['ref'])
        ratio = f'{record["ratio"]:.2f}x vs {ref}'
    flop_ratio = record.get('flop_ratio')
    flop_ratio = 'n/a' if flop_ratio is None else f'{flop_ratio:.2f}x'
    flops = record.get('flops_per_crop')
    share = record.get('deform_share')
    peak = record.get('peak_bytes')
    return [
        label,
        _ms(sec['median']),
        f'{_ms(sec["minimum"])}-{_ms(sec["maximum"])}',
        _ms(record['per_crop_seconds']['median']),
        format_number(record.get('crops_per_second'), 2),
        ratio,
        format_number(None if flops is None else flops / 1e9, 2),
        flop_ratio,
        format_number(record.get('gflops_per_second'), 1),
        format_number(None if share is None else share * 100, 1),
        format_number(None if peak is None else peak / MIB, 1),
    ]


def _short_refs(records: List[dict]) -> dict:
    """Short names of the rows that ratios refer to."""
    refs = {}
    for record in records:
        key, label = record['key'], record['label']
        if label.startswith('('):
            refs[key] = label.split(' ')[0]
        elif key.endswith('_mmcv'):
            refs[key] = 'mmcv'
        elif key.startswith('train_stage'):
            refs[key] = 'stage ' + key[len('train_stage'):]
        else:
            refs[key] = key
    return refs


def _check_lines(checks: dict) -> List[str]:
    lines = []
    tol = checks.get('tolerance')
    backends = [(name, 'neck mmcv vs ' + name[len('mmcv_vs_'):-len('_neck')])
                for name in checks
                if name.startswith('mmcv_vs_') and name.endswith('_neck')]
    for name, title in [('naive_vs_batched', 'naive (b) vs batched (c)'),
                        ('naive_vs_cached', "naive (b) vs (b')"),
                        *backends]:
        item = checks.get(name)
        if item is None:
            continue
        if 'error' in item:
            lines.append(f'- {title}: FAILED: {item["error"]}')
            continue
        text = (f'- {title}: max abs diff {item["max_abs_diff"]:.3g} '
                f'(max |heatmap| {item["max_abs_value"]:.3g})')
        if name in MUST_AGREE and tol is not None:
            verdict = 'OK' if item['max_abs_diff'] <= tol else 'FAIL'
            text += f' — {verdict} (tolerance {tol:g})'
        lines.append(text)
    if 'flops_error' in checks:
        lines.append(f'- FLOP count: FAILED: {checks["flops_error"]}')
    return lines


def _x(value) -> str:
    text = format_number(value, 2)
    return text if text == 'n/a' else text + 'x'


def _target_lines(targets: dict) -> List[str]:
    titles = dict(
        naive_vs_single='naive 5-frame (b) vs single-frame (a)',
        batched_vs_single='batched 5-frame (c) vs single-frame (a)',
        short_vs_single='batched short window vs single-frame (a)',
        short_vs_batched='batched short window vs 5 frames (c)',
        train_stage2_vs_stage1='stage-2 vs stage-1 training step')
    lines = []
    for name, title in titles.items():
        item = targets.get(name)
        if item is None or item['ratio'] is None:
            continue
        text = (f'- {title}: time {_x(item["ratio"])}, FLOPs '
                f'{_x(item["flop_ratio"])}')
        if item.get('deform_share') is not None:
            text += (f', deformable convs {item["deform_share"] * 100:.0f}% '
                     'of the time')
        if item['limit'] is not None:
            verdict = 'n/a' if item['met'] is None else (
                'MET' if item['met'] else 'NOT MET')
            text += (f'; time/FLOP ratio '
                     f'{_x(item.get("time_over_flops"))} (target <= '
                     f'{item["limit"]:g}x) — {verdict}')
        lines.append(text)
    paired_titles = dict(
        cached_vs_naive=("naive with cached key-frame offsets (b') vs "
                         'naive (b)', 'the saving of the skipped work '
                         'alone'),
        batched_vs_cached=("batched (c) vs (b')", "what (c)'s batching "
                           'adds'))
    for name, (title, meaning) in paired_titles.items():
        item = targets.get(name)
        if item is not None and item['ratio'] is not None:
            lines.append(f'- {title}: time {_x(item["ratio"])}'
                         f'{_rounds(item)}, FLOPs '
                         f'{_x(item["flop_ratio"])} ({meaning})')
    item = targets.get('batched_vs_naive')
    if item is not None and item['ratio'] is not None:
        verdict = 'n/a' if item['met'] is None else (
            'MET' if item['met'] else 'NOT MET')
        lines.append(
            f'- batched (c) vs naive (b): time {_x(item["ratio"])}'
            f'{_rounds(item)} (target <= {item["limit"]:g}x), FLOPs '
            f'{_x(item["flop_ratio"])}, peak memory '
            f'{_x(item["memory_ratio"])} (target <= '
            f'{item["memory_limit"]:g}x) — {verdict}')
    return lines


def _rounds(item: dict) -> str:
    """How a paired time ratio was taken, or '' for a ratio of medians."""
    paired = item.get('paired')
    if not paired:
        return ''
    return (f', median of {paired["repeats"]} rounds timed in '
            f'alternation, {_x(paired["minimum"])}-'
            f'{_x(paired["maximum"])}')


def mode_markdown(result: dict) -> str:
    """Tables, checks and targets of one precision mode."""
    records = result['cases']
    refs = _short_refs(records)
    parts = [f'## Mode `{result["mode"]}`']
    for section, title in SECTIONS:
        rows = [_row(r, refs) for r in records if r['section'] == section]
        if rows:
            parts += [f'### {title}', format_markdown_table(HEADERS, rows)]
    params = [r for r in records if r['section'] == 'train'
              and 'parameters' in r]
    if params:
        parts.append('Trainable parameters: ' + '; '.join(
            f'{r["key"]} {r["parameters"]["trainable"] / 1e6:.2f}M of '
            f'{r["parameters"]["total"] / 1e6:.2f}M' for r in params))
    parts += ['### Checks', '\n'.join(_check_lines(result['checks']))]
    parts += ['### Targets', '\n'.join(_target_lines(result['targets']))]
    return '\n\n'.join(parts)


def report_markdown(meta: dict, results: List[dict]) -> str:
    """The whole report: settings, then one block per mode."""
    lines = ['# PoseWarper benchmark', '']
    for key in ('device', 'device_name', 'torch', 'mmcv', 'threads',
                'stage2_config', 'stage1_config', 'quick', 'input_size',
                'heatmap_size', 'batch', 'repeats', 'warmup', 'clock',
                'test_frame_offsets', 'test_frame_weights',
                'train_frame_weights', 'short_offsets', 'deform_backend',
                'max_crops_per_pass',
                'memory', 'flops', 'sections', 'cases', 'outputs_check',
                'load_average_start', 'load_average_end',
                'process_max_rss_mib'):
        if key in meta:
            lines.append(f'- {key}: {meta[key]}')
    lines += [
        '', 'Times are per call (clock: wall = elapsed, process = CPU '
        'seconds of all threads of the process); ms/crop and crops/s '
        'divide by the person crops per call (the batch). Ratios compare '
        'per-crop medians. Peak MiB: memory allocated '
        'during one call above what was held before it (CPU: PyTorch '
        'allocator events via torch.profiler; GPU: '
        'torch.cuda.max_memory_allocated). Training steps compute the '
        'loss only (the acc_pose metric of mmpose is switched off). '
        'GFLOPs/crop: mmengine FlopAnalyzer (one multiply-add = one FLOP) '
        'on one crop, deformable convolutions included (convolution plus '
        '4 multiply-adds of bilinear sampling per sampled value); training '
        'rows: forward + 2x the forward of the trainable modules. FLOP '
        'ratio: against the same row as the time ratio. GFLOP/s: FLOPs per '
        'call / median time. deform % time: share of one profiled call '
        'spent in the deformable convolutions (forward and backward; CPU '
        'only).'
    ]
    body = '\n'.join(lines)
    return '\n\n'.join([body] + [mode_markdown(r) for r in results]) + '\n'
