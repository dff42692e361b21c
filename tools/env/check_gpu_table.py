"""The tables of ``check_gpu.sh``'s summary, from its output folder.

    python tools/env/check_gpu_table.py OUT_DIR

prints the GPU table of every ``bench_*.json`` (ms and crops per second,
TFLOP/s with a multiply-add counted as 2 FLOPs, % of the card's dense bf16
peak) with the goals, then each benchmark's own tables.
:func:`end_of_run` reads a training log whose lines ``check_gpu.sh``
stamped with seconds and times its end.
"""
import glob
import json
import os
import os.path as osp
import re
import sys
from typing import Dict, Optional

# dense bf16 tensor-core peaks (TFLOP/s), by a part of the card's name
# (the first part found counts: the more specific names come first)
PEAK_TFLOPS = (('H200 NVL', 835.5), ('H200', 989.4), ('H100 NVL', 835.5),
               ('H100 PCIe', 756.5), ('H100', 989.4), ('A100', 312.0),
               ('L40S', 362.1))
# (case, mode, batch) of the goals: the share of the peak to reach
GOALS = ((('single', 'bf16-cl', 32), 0.20),
         (('batched', 'bf16-cl', 32), 0.15))
TIMED = ('inference', 'train')


def peak_tflops(name: str) -> Optional[float]:
    """The card's dense bf16 peak: ``PWMM_PEAK_TFLOPS``, else by its name;
    None for an unknown card and for a MIG slice (a share of the card)."""
    if os.environ.get('PWMM_PEAK_TFLOPS'):
        return float(os.environ['PWMM_PEAK_TFLOPS'])
    if 'MIG' in name:
        return None
    return next((p for part, p in PEAK_TFLOPS if part in name), None)


def gpu_table(out_dir: str) -> str:
    runs = [json.load(open(p))
            for p in sorted(glob.glob(osp.join(out_dir, 'bench_*.json')))]
    if not runs:
        return ''
    name = runs[0]['meta']['device_name']
    peak = peak_tflops(name)
    flops: Dict[str, float] = {}  # case -> FLOPs per crop (any run's)
    for run in runs:
        for result in run['results']:
            for case in result['cases']:
                if case.get('flops_per_crop'):
                    flops[case['key']] = case['flops_per_crop']
    lines = [
        '', f'## GPU table ({name}; dense bf16 peak '
        f'{peak or "unknown (set PWMM_PEAK_TFLOPS)"} TFLOP/s)', '',
        '| run | mode | case | ms per crop | crops/s | TFLOP/s | % of peak | '
        'peak MiB |', '|---|---|---|---:|---:|---:|---:|---:|'
    ]
    reached = {}
    for run in runs:
        batch = run['meta']['batch']
        levers = [name for name, key in (('cudnn.benchmark',
                                          'cudnn_benchmark'),
                                         ('torch.compile', 'compiled'))
                  if run['meta'].get(key)] + [
                      lever for lever in [run['meta'].get('lever')] if lever]
        tag = ' '.join([f'batch {batch}', *levers])
        for result in run['results']:
            for case in result['cases']:
                if case.get('section') not in TIMED or \
                        'per_crop_seconds' not in case:
                    continue
                per_crop = case['per_crop_seconds']['median']
                rate = 1.0 / per_crop
                # no FLOP count (its run failed or was cut short): no rate
                tflops = 2 * flops[case['key']] * rate / 1e12 \
                    if case['key'] in flops else None
                share = tflops / peak if peak and tflops is not None \
                    else None
                if not levers:  # the goals: without the levers
                    reached[(case['key'], result['mode'], batch)] = (
                        tflops, share)
                memory = case.get('peak_bytes')
                lines.append(
                    f"| {tag} | {result['mode']} | {case['label']} | "
                    f'{per_crop * 1e3:.2f} | {rate:.1f} | '
                    f"{'n/a' if tflops is None else f'{tflops:.2f}'} | "
                    f"{'' if share is None else f'{100 * share:.1f}'} | "
                    f"{'' if memory is None else f'{memory / 2**20:.0f}'} |")
    lines += ['', 'Goals (% of the dense bf16 peak):', '']
    for (case, mode, batch), goal in GOALS:
        key = (case, mode, batch)
        tflops, share = reached.get(key, (None, None))
        if tflops is None:
            verdict = 'not measured' + (' (no FLOP count)'
                                        if key in reached else '')
        elif share is None:
            verdict = (f'{tflops:.2f} TFLOP/s; the peak of this card is '
                       'unknown (set PWMM_PEAK_TFLOPS)')
        else:
            verdict = (f'{100 * share:.1f}% '
                       f'({"met" if share >= goal else "NOT met"})')
        lines.append(f'- {case}, {mode}, batch {batch}: at least '
                     f'{100 * goal:.0f}%: {verdict}')
    for path in sorted(glob.glob(osp.join(out_dir, 'bench_*.md'))):
        lines += ['', f'## {osp.basename(path)}', '', open(path).read()]
    return '\n'.join(lines)


def end_of_run(stamped: str) -> str:
    """The end of a training run from its stamped log: the seconds from
    the last checkpoint to the exit and the logged teardown steps."""
    saved = exit_at = None
    steps = []
    for line in open(stamped, encoding='utf-8', errors='replace'):
        seconds, _, text = line.strip().partition(' ')
        if 'Saving checkpoint' in text:
            saved = float(seconds)
        elif text == '<exit>':
            exit_at = float(seconds)
        elif 'teardown:' in text or 'torn down' in text:
            steps.append(re.sub(r'^.*?(teardown: |process group)', r'\1',
                                text))
    if saved is None or exit_at is None:
        return 'end of run not found in the log'
    return (f'{exit_at - saved:.1f} s from the last checkpoint to the exit '
            f'({"; ".join(steps) or "no teardown logged"})')


if __name__ == '__main__':
    print(gpu_table(sys.argv[1]))
