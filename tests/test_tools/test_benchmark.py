"""tools/analysis/benchmark_posewarper.py and benchmark_cases.py."""
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from posewarper_mm.models.necks.deform_conv_backends import BackendDeformConv2d
from tests.testing import load_tool

REPO = Path(__file__).resolve().parents[2]
TOOL = 'tools/analysis/benchmark_posewarper.py'
tool = load_tool(TOOL)
bench = load_tool('tools/analysis/benchmark_cases.py')
CPU = torch.device('cpu')
EXPECTED_KEYS = [
    'single', 'naive', 'naive_cached', 'batched', 'batched_short',
    'batched_backbone', 'batched_neck', *(
        f'{key}_{backend}'
        for key in ('neck_fwd', 'neck_fwd_bwd', 'deform_fwd', 'deform_fwd_bwd')
        for backend in ('mmcv', 'torchvision', 'pytorch')),
    'train_stage1', 'train_stage2'
]
DERIVED_KEYS = ('batched_backbone', 'batched_neck')
QUICK_INFERENCE = ['--quick', '--device', 'cpu', '--batch', '1',
                   '--sections', 'inference', '--no-memory', '--no-flops',
                   '--repeats', '2', '--warmup', '0', '--out-md', '']


def _finite_positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) \
        and value > 0


# ---------------------------------------------------------------- helpers
def test_timing_stats():
    values = [5.0, 1.0, 4.0, 2.5, 9.0, 3.0]
    stats = bench.timing_stats(values, scale=0.5)
    for name, q in (('q1', .25), ('median', .5), ('q3', .75)):
        assert stats[name] == pytest.approx(np.quantile(values, q) / 2)
    assert (stats['minimum'], stats['maximum']) == (0.5, 4.5)
    assert stats['repeats'] == 6


def test_measure_cases_alternates_pairs_and_isolates_failures():
    """One call of each case per round, the order flipped every round;
    cases timed together get the per-round ratio against their ref; a
    failing case is reported without stopping the others."""
    calls, now = [], [0.0]
    durations = {'fast': iter([9, 1, 3]), 'slow': iter([9, 2, 4])}

    def work(name):
        def fn():
            calls.append(name)
            now[0] += next(durations[name])
        return fn

    def broken():
        raise RuntimeError('out of memory')

    fast, slow, bad = bench.measure_cases([
        bench.Case('fast', 'inference', 'fast', work('fast'), 2),
        bench.Case('slow', 'inference', 'slow', work('slow'), 2, 'fast'),
        bench.Case('bad', 'inference', 'bad', broken, 2, 'fast'),
    ], repeats=2, warmup=1, device=CPU, memory=False, clock=lambda: now[0])
    # warm-up fast, slow; round 0: fast, slow; round 1: slow, fast
    assert calls == ['fast', 'slow', 'fast', 'slow', 'slow', 'fast']
    assert fast['samples'] == [1, 3] and slow['samples'] == [2, 4]
    assert slow['paired_ratio']['median'] == pytest.approx((2 + 4 / 3) / 2)
    assert slow['paired_ratio']['minimum'] == pytest.approx(4 / 3)
    assert 'paired_ratio' not in fast
    assert slow['timed_with'] == ['fast', 'slow']
    assert bad['error'] == 'RuntimeError: out of memory'
    assert 'samples' not in bad
    assert fast['per_crop_seconds']['median'] == pytest.approx(1.0)


@pytest.mark.parametrize('inline', [True, False])
def test_parts_are_timed_apart_from_the_timed_calls_on_request(inline):
    """On a GPU (``parts_in_timed_calls=False``) the part hooks, which
    synchronise, stay out of the timed calls; the parts are then timed in
    calls of their own, as many as the rounds."""
    now, hooked = [0.0], []
    part = torch.nn.Identity()

    def fn():
        hooked.append(len(part._forward_pre_hooks))
        part(torch.zeros(1))
        now[0] += 1

    record, = bench.measure_cases(
        [bench.Case('batched', 'inference', 'c', fn, 1)], repeats=3,
        warmup=1, device=CPU, memory=False, clock=lambda: now[0],
        parts=dict(batched=dict(neck=[part])), parts_in_timed_calls=inline)
    timed = hooked[1:4]  # after the warm-up call
    assert timed == ([1, 1, 1] if inline else [0, 0, 0])
    assert hooked[4:] == ([] if inline else [1, 1, 1])
    assert len(record['stage_samples']['neck']) == 3
    assert record['samples'] == [1, 1, 1]


def test_part_times_sums_the_calls_of_each_group():
    """Each module call reads the clock twice; the hooks go afterwards."""
    ticks, layer = iter(range(100)), torch.nn.Identity()
    seconds, calls = Counter(), Counter()
    with bench.part_times(dict(layer=[layer]), CPU,
                          lambda: float(next(ticks)), seconds, calls):
        for _ in range(3):
            layer(torch.zeros(1))
    layer(torch.zeros(1))  # not counted
    assert seconds == {'layer': 3.0} and calls == {'layer': 3}
    assert not layer._forward_hooks and not layer._forward_pre_hooks


def test_process_clock_counts_cpu_work():
    def busy():
        end = time.process_time() + 0.02
        while time.process_time() < end:
            pass

    (record, ) = bench.measure_cases(
        [bench.Case('busy', 'inference', 'busy', busy, 1)], repeats=2,
        warmup=0, device=CPU, memory=False,
        clock=bench.CLOCKS['process'])
    assert all(0.02 <= s < 1.0 for s in record['samples'])


@pytest.mark.parametrize('backend', ['mmcv', 'torchvision', 'pytorch'])
def test_peak_memory_sees_every_deform_backend(backend):
    """The profiled call attributes each backend's forward and backward to
    the deformable convolution (no deform share silently 0). The call is
    large enough that the profiler's own time, outside the ops, stays small
    also on a busy machine."""
    layer = BackendDeformConv2d(
        17, 17, 3, padding=3, dilation=3, deform_groups=17, backend=backend)
    x = torch.randn(4, 17, 48, 36)
    offset = torch.randn(4, 306, 48, 36, requires_grad=True)
    layer(x, offset).sum().backward()  # first-call costs
    with torch.no_grad():
        forward = bench.peak_memory(lambda: layer(x, offset), CPU)
    assert 0.5 < forward['deform_share'] <= 1.05
    out = layer(x, offset)
    backward = bench.peak_memory(lambda: out.sum().backward(), CPU)
    assert backward['deform_share'] > 0.3


def test_peak_memory_sees_transient_allocations():
    size = 4 * 2**20

    def work():
        a = torch.empty(size, dtype=torch.uint8)
        b = torch.empty(size, dtype=torch.uint8)
        del a, b
        return torch.empty(size // 2, dtype=torch.uint8)

    peak = bench.peak_memory(work, CPU)['peak_bytes']
    # both 4 MiB blocks were alive together; the 2 MiB one came after
    assert 2 * size <= peak < 2 * size + 2**20


@pytest.mark.parametrize('backend', ['mmcv', 'torchvision'])
def test_deform_conv_flop_handle(backend):
    """mmengine's counter with our handle counts the deformable conv as
    conv multiply-adds plus 4 per bilinearly sampled value."""
    layer = BackendDeformConv2d(
        4, 6, 3, padding=2, dilation=2, deform_groups=2, backend=backend)
    x = torch.randn(2, 4, 5, 7)
    offset = torch.randn(2, layer.offset_channels, 5, 7)
    result = bench.count_flops(lambda t: layer(t, offset), x,
                               dict(layer=layer))
    # N * H * W * kh * kw * (C_out * C_in + 4 * C_in)
    expected = 2 * 5 * 7 * 3 * 3 * (6 * 4 + bench.BILINEAR_MACS * 4)
    assert bench.deform_conv_flops((2, 4, 5, 7), (6, 4, 3, 3),
                                   (2, 6, 5, 7)) == expected
    assert result['total'] == result['deform_conv'] == expected > 0
    assert result['unsupported'] == {}


def test_markdown_table_and_numbers():
    table = bench.markdown_table(['Case', 'ms'], [['a', '1.0'], ['b', 2]])
    assert table.splitlines() == [
        '| Case | ms |', '| --- | ---: |', '| a | 1.0 |', '| b | 2 |'
    ]
    assert bench.format_number(1.234, 2) == '1.23'
    assert bench.format_number(0.5, 0, 100, '%') == '50%'
    assert bench.format_number(float('nan')) == 'n/a'
    assert bench.format_number(None) == 'n/a'


# --------------------------------------------------------------- the tool
def test_exit_code():
    ok = dict(cases=[dict(key='single')], checks=dict(
        tolerance=1e-5, naive_vs_batched=dict(max_abs_diff=1e-7)))
    assert tool.exit_code([ok]) == 0
    for name, check in (('naive_vs_batched', dict(max_abs_diff=1e-3)),
                        ('naive_vs_cached', dict(max_abs_diff=1e-3)),
                        ('naive_vs_cached', dict(error='RuntimeError: x'))):
        bad = dict(ok, checks=dict(ok['checks'], **{name: check}))
        assert tool.exit_code([ok, bad]) == tool.EXIT_MISMATCH, name
    bf16 = dict(ok, checks=dict(tolerance=None, naive_vs_batched=dict(
        max_abs_diff=1e-2)))
    assert tool.exit_code([bf16]) == 0
    failed = dict(ok, cases=[dict(key='single', error='RuntimeError: x')])
    assert tool.exit_code([failed]) == tool.EXIT_CASE_FAILED


def test_arguments():
    parse = tool.parse_args
    for bad in (['--input-size', '64', '48'], ['--batch', '0'],
                ['--cases', 'b,d'], ['--cases', ','], ['--sections', 'x'],
                ['--modes', 'fp16'], ['--profile', '--device', 'cuda'],
                ['--compile']):
        with pytest.raises(SystemExit):
            parse(bad)
    assert parse(['--compile', '--no-flops']).compile
    args = parse(['--quick'])
    assert args.input_size == [64, 64] and args.repeats == 3
    assert args.threads == 1 and args.sections == {'inference', 'deform',
                                                   'train'}
    args = parse(['--profile'])
    assert (args.batch, args.repeats, args.threads, args.out_md) == (
        1, 1, 1, None)
    assert parse([]).cases == [
        'single', 'naive', 'naive_cached', 'batched', 'batched_short']
    # the table's order, whatever the order asked
    assert parse(['--cases', 'c, b']).cases == ['naive', 'batched']


def test_selected_cases_pair_b_and_c(tmp_path):
    """``--cases b,c --no-check``: (b) and (c) timed in the same rounds,
    nothing else timed, no outputs check; the paired (c)/(b) ratio."""
    out = tmp_path / 'bench.json'
    assert tool.main(QUICK_INFERENCE + ['--cases', 'b,c', '--no-check',
                                        '--out-json', str(out)]) == 0
    result = json.loads(out.read_text())
    assert result['meta']['cases'] == ['naive', 'batched']
    assert result['meta']['outputs_check'] is False
    (mode, ) = result['results']
    assert [c['key'] for c in mode['cases']] == ['naive', 'batched',
                                                 *DERIVED_KEYS]
    assert 'naive_vs_batched' not in mode['checks']
    paired = mode['targets']['batched_vs_naive']['paired']
    assert paired['repeats'] == 2 and _finite_positive(paired['median'])


@pytest.mark.parametrize('broken, options, code', [
    ('batched', ['--cases', 'b,c'], 1),  # (c) disagrees with (b)
    ('naive_cached', ['--cases', 'b,bk'], 1),  # so does (b'): it fails
    ('naive_cached', ['--cases', 'bk', '--no-check'], 3),  # a case fails
])
def test_failures_set_the_exit_code(monkeypatch, tmp_path, broken, options,
                                    code):
    real = tool.inference_workloads

    def workloads(*args):
        work = real(*args)
        good = work[broken]
        work[broken] = (lambda: good() + 1) if broken == 'batched' else \
            bench.failing('the case broke')
        return work

    monkeypatch.setattr(tool, 'inference_workloads', workloads)
    out = tmp_path / 'bench.json'
    assert tool.main(QUICK_INFERENCE + options +
                     ['--out-json', str(out)]) == code
    mode = json.loads(out.read_text())['results'][0]
    if broken == 'naive_cached':
        (record, ) = [c for c in mode['cases'] if c['key'] == broken]
        assert record['error'] == 'RuntimeError: the case broke'
    else:
        assert mode['checks']['naive_vs_batched']['max_abs_diff'] >= 1


@pytest.fixture(scope='module')
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('bench')
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([str(REPO), env.get('PYTHONPATH', '')])
    proc = subprocess.run([
        sys.executable, '-W', 'ignore',
        str(REPO / TOOL), '--quick', '--device', 'cpu', '--batch', '2',
        '--out-json', str(out / 'bench.json'), '--out-md',
        str(out / 'bench.md')
    ], cwd=str(REPO), env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, json.loads((out / 'bench.json').read_text()), (
        out / 'bench.md').read_text()


def test_quick_run_json(quick_run):
    """The schema the GPU check and the docs read, and complete rows."""
    _, result, _ = quick_run
    assert result['exit_code'] == 0 and len(result['results']) == 1
    meta = result['meta']
    assert meta['quick'] is True and meta['batch'] == 2
    assert meta['test_frame_weights'] == [0.3, 0.1, 0.25, 0.25, 0.1]
    assert all(o > 0.5 for o in meta['calibration']['offset_std'])
    (mode, ) = result['results']
    assert mode['mode'] == 'fp32'
    cases = {c['key']: c for c in mode['cases']}
    assert list(cases) == EXPECTED_KEYS
    for key, case in cases.items():
        assert 'error' not in case, (key, case.get('error'))
        assert case['crops'] == 2
        for stat in ('median', 'minimum', 'maximum', 'q1', 'q3'):
            assert _finite_positive(case['seconds'][stat]), (key, stat)
        assert case['per_crop_seconds']['median'] == pytest.approx(
            case['seconds']['median'] / 2)
        if key not in DERIVED_KEYS:
            assert case['peak_bytes'] > 0, key
            assert 0 <= case['deform_share'] <= 1, key
        if case['ref'] is not None:
            assert _finite_positive(case['ratio']), key
            assert _finite_positive(case['flop_ratio']), key
    # the parts of (c) cannot take longer than (c) itself, repeat by repeat
    parts = [cases[k]['samples'] for k in DERIVED_KEYS]
    for i, total in enumerate(cases['batched']['samples']):
        assert sum(p[i] for p in parts) <= total * 1.001, i
    # stage 2 trains only the offset branch of the neck
    stage1 = cases['train_stage1']['parameters']
    stage2 = cases['train_stage2']['parameters']
    assert stage1['trainable'] == stage1['total']
    assert 0 < stage2['trainable'] < stage2['total']
    batched_vs_naive = mode['targets']['batched_vs_naive']
    assert batched_vs_naive['paired']['repeats'] == 3
    assert _finite_positive(batched_vs_naive['memory_ratio'])


def test_quick_run_outputs_agree(quick_run):
    checks = quick_run[1]['results'][0]['checks']
    assert checks['tolerance'] == 1e-5
    assert checks['naive_vs_batched']['max_abs_diff'] <= 1e-5
    assert checks['naive_vs_cached']['max_abs_diff'] <= 1e-5
    # the heatmaps are not trivially zero
    assert checks['naive_vs_batched']['max_abs_value'] > 0.1
    for backend in ('torchvision', 'pytorch'):
        assert checks[f'mmcv_vs_{backend}_neck']['max_abs_diff'] <= 1e-4


def test_quick_run_counts_flops(quick_run):
    mode = quick_run[1]['results'][0]
    assert 'flops_error' not in mode['checks']
    cases = {c['key']: c for c in mode['cases']}
    assert all(_finite_positive(c['flops_per_crop']) for c in cases.values())
    # no deformable convolution is counted as 0
    for key in ('naive', 'naive_cached', 'batched', 'batched_short',
                'neck_fwd_mmcv', 'neck_fwd_torchvision', 'deform_fwd_mmcv',
                'train_stage2'):
        assert cases[key]['deform_flops_per_crop'] > 0, key
    assert cases['single']['deform_flops_per_crop'] == 0
    flops = {k: c['flops_per_crop'] for k, c in cases.items()}
    # (b') skips exactly the work (c) skips; 3 frames cost less than 5
    assert flops['naive_cached'] == flops['batched'] < flops['naive']
    assert flops['batched_short'] < flops['batched']
    assert flops['batched'] == sum(flops[k] for k in DERIVED_KEYS)
    assert cases['train_stage2']['trainable_forward_flops_per_crop'] < \
        cases['train_stage2']['forward_flops_per_crop']


def test_quick_run_markdown(quick_run):
    proc, _, markdown = quick_run
    assert markdown.strip() in proc.stdout
    for text in ('(a) single-frame HRNet', '(b) PoseWarper 5 frames, naive',
                 "(b') PoseWarper 5 frames, naive, cached key-frame offsets",
                 '(c) PoseWarper 5 frames, batched', '(c) of which neck',
                 '(c3) PoseWarper 3 frames (offsets [-1, 0, 1]), batched',
                 '[torchvision]', 'stage 2: frozen backbone',
                 '| Case | ms/call median |', ' FLOP ratio |',
                 '- naive_vs_batched: max abs diff', 'tolerance 1e-05)',
                 '- batched_vs_naive: ratio'):
        assert text in markdown, text
    assert 'FAILED' not in markdown


def test_profile_mode(tmp_path):
    """The per-part profile covers (b), (b') and (c), each with its parts
    and operators, and checks that (b) and (c) agree."""
    out = tmp_path / 'profile.md'
    assert tool.main(['--profile', '--quick', '--out-md', str(out)]) == 0
    text = out.read_text()
    for label in ('(b) naive', "(b') naive, cached key-frame offsets",
                  '(c) batched'):
        assert f'#### {label}: ' in text, label
    assert text.count('| offset_feats |') == 3
    assert text.count('Self CPU time total') == 3
    diff = float(text.split('(b) vs (c) max abs diff: ')[1].split()[0])
    assert diff <= 1e-5


@pytest.mark.parametrize('device', ['cpu', 'cuda'])
def test_run_meta_on_each_device(device):
    """The meta of a run, also on a GPU (built without one: the CPU runs
    never reach the GPU branch)."""
    args = tool.parse_args(['--quick', '--cudnn-benchmark'])
    cfg = tool.load_bench_config(*(str(REPO / c) for c in tool.CONFIGS),
                                 True, None)
    meta = tool.run_meta(args, cfg, torch.device(device), 'some card')
    assert meta['device'] == device and meta['device_name'] == 'some card'
    assert meta['cudnn_benchmark'] is True
    assert ('tf32' in meta) == (device == 'cuda')
    if device == 'cuda':
        assert meta['tf32'] is False  # full fp32 for the outputs checks
    json.dumps(meta)  # written as the json's meta


def test_output_tolerance():
    assert tool.output_tolerance('fp32', CPU) == 1e-5
    assert tool.output_tolerance('fp32-cl', torch.device('cuda')) == 1e-4
    assert tool.output_tolerance('bf16-cl', CPU) is None
