"""tools/analysis/benchmark_posewarper.py and its timing helpers."""
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.testing import load_tool

REPO = Path(__file__).resolve().parents[2]
TOOL = 'tools/analysis/benchmark_posewarper.py'
_utils = load_tool('tools/analysis/posewarper_bench_utils.py')
(TimingStats, cpu_peak_tensor_bytes, format_markdown_table, format_number,
 get_clock, quantile, time_callable,
 time_interleaved) = (_utils.TimingStats, _utils.cpu_peak_tensor_bytes,
                      _utils.format_markdown_table, _utils.format_number,
                      _utils.get_clock, _utils.quantile, _utils.time_callable,
                      _utils.time_interleaved)
EXPECTED_KEYS = [
    'single', 'naive', 'naive_cached', 'batched', 'batched_backbone',
    'batched_neck', 'batched_short', 'neck_fwd_mmcv', 'neck_fwd_torchvision',
    'neck_fwd_pytorch', 'neck_fwd_bwd_mmcv', 'neck_fwd_bwd_torchvision',
    'neck_fwd_bwd_pytorch', 'deform_fwd_mmcv', 'deform_fwd_torchvision',
    'deform_fwd_pytorch', 'deform_fwd_bwd_mmcv', 'deform_fwd_bwd_torchvision',
    'deform_fwd_bwd_pytorch', 'train_stage1', 'train_stage2'
]
DERIVED_KEYS = ('batched_backbone', 'batched_neck')


def _load_tool():
    return load_tool(TOOL)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('q', [0.0, 0.25, 0.5, 0.75, 1.0])
def test_quantile_matches_numpy(q):
    values = [5.0, 1.0, 4.0, 2.5, 9.0, 3.0]
    assert quantile(values, q) == pytest.approx(np.quantile(values, q))


def test_quantile_rejects_bad_input():
    with pytest.raises(ValueError, match='no samples'):
        quantile([], 0.5)
    with pytest.raises(ValueError, match='not in'):
        quantile([1.0], 1.5)


def test_timing_stats_and_scaling():
    stats = TimingStats.from_samples([0.4, 0.1, 0.2, 0.3])
    assert stats.median == pytest.approx(0.25)
    assert (stats.minimum, stats.maximum) == (0.1, 0.4)
    assert stats.q1 == pytest.approx(0.175)
    assert stats.q3 == pytest.approx(0.325)
    assert stats.repeats == 4
    half = stats.scaled(0.5)
    assert half.median == pytest.approx(0.125)
    assert half.maximum == pytest.approx(0.2)
    assert half.repeats == 4
    assert stats.to_dict()['median'] == pytest.approx(0.25)


def test_time_callable_counts_warmup_and_repeats():
    calls = []
    samples = time_callable(
        lambda: calls.append(1),
        repeats=3,
        warmup=2,
        device=torch.device('cpu'))
    assert len(calls) == 5
    assert len(samples) == 3 and all(s >= 0 for s in samples)
    with pytest.raises(ValueError, match='repeats >= 1'):
        time_callable(lambda: None, 0, 0, torch.device('cpu'))


def test_stage_timer_sums_the_calls_of_one_workload_call():
    """A submodule run several times in one call (the backbone once per
    chunk of crops) gives one sample per call: the sum of its runs."""
    _load_tool()
    from posewarper_bench_cases import StageTimer
    ticks = iter(range(100))
    layer = torch.nn.Identity()

    def work():
        for _ in range(3):
            layer(torch.zeros(1))

    timer = StageTimer(
        dict(layer=layer),
        torch.device('cpu'),
        clock=lambda: float(next(ticks)))
    call = timer.wrap(work)
    call()
    work()  # another workload between two calls: not counted
    call()
    # each run reads the clock twice (start, end): 1 tick per run
    assert timer.samples == {'layer': [3.0, 3.0]}
    assert not layer._forward_hooks and not layer._forward_pre_hooks


def test_time_interleaved_alternates_the_order():
    """One call of each workload per round, the order flipped every round,
    so a slow stretch of the machine falls on every workload."""
    calls = []
    fns = [lambda: calls.append('a'), lambda: calls.append('b')]
    samples = time_interleaved(
        fns, repeats=3, warmup=1, device=torch.device('cpu'))
    assert calls == ['a', 'b', 'a', 'b', 'b', 'a', 'a', 'b']
    assert [len(s) for s in samples] == [3, 3]
    with pytest.raises(ValueError, match='a workload'):
        time_interleaved([], 1, 0, torch.device('cpu'))


def test_measure_cases_pairs_rounds_and_isolates_failures():
    """Cases timed in the same rounds get the per-round ratio against their
    ref; a case that fails is reported without stopping the others."""
    _load_tool()
    import posewarper_bench_runner as runner
    from posewarper_bench_cases import Case

    # a clock that makes every call of 'slow' take 2 ticks in round 0 and
    # 4 in round 1 (drift), 'fast' 1 and 3: per-round ratios 2 and 4/3
    durations = iter([1, 2, 4, 3])  # round 0: fast, slow; round 1: slow, fast
    now = [0.0]

    def clock():
        return now[0]

    def work():
        now[0] += next(durations)

    def broken():
        raise RuntimeError('out of memory')

    cases = [
        Case('fast', 'inference', 'fast', work, 2),
        Case('slow', 'inference', 'slow', work, 2, 'fast'),
        Case('bad', 'inference', 'bad', broken, 2, 'fast'),
    ]
    orig = runner.get_clock
    runner.get_clock = lambda name: clock
    try:
        fast, slow, bad = runner.measure_cases(
            cases,
            repeats=2,
            warmup=0,
            device=torch.device('cpu'),
            memory=False)
    finally:
        runner.get_clock = orig
    assert fast['samples'] == [1, 3] and slow['samples'] == [2, 4]
    assert slow['paired_ratio']['median'] == pytest.approx((2 + 4 / 3) / 2)
    assert slow['paired_ratio']['minimum'] == pytest.approx(4 / 3)
    assert 'paired_ratio' not in fast
    assert bad['error'] == 'RuntimeError: out of memory'
    assert 'samples' not in bad


def test_process_clock_counts_cpu_work():
    assert get_clock('wall') is time.perf_counter
    with pytest.raises(ValueError, match='unknown clock'):
        get_clock('gpu')

    def busy():
        end = time.process_time() + 0.02
        while time.process_time() < end:
            pass

    samples = time_callable(
        busy,
        repeats=2,
        warmup=0,
        device=torch.device('cpu'),
        clock=get_clock('process'))
    assert all(0.02 <= s < 1.0 for s in samples)


@pytest.mark.parametrize('backend', ['mmcv', 'torchvision', 'pytorch'])
def test_deform_share_sees_every_backend(backend):
    """The profile attributes each backend's forward to the deformable
    convolution (the pytorch backend through its named range), so no
    backend's deform share is silently 0."""
    _load_tool()
    from posewarper_bench_profile import profile_call

    from posewarper_mm.models.necks.deform_conv_backends import \
        BackendDeformConv2d
    layer = BackendDeformConv2d(
        17, 17, 3, padding=3, dilation=3, deform_groups=17, backend=backend)
    x, offset = torch.randn(2, 17, 24, 18), torch.randn(2, 306, 24, 18)
    with torch.no_grad():
        layer(x, offset)  # first-call costs (torchvision loads its ops)
        share = profile_call(lambda: layer(x, offset))['deform_share']
    assert 0.5 < share <= 1.05


@pytest.mark.parametrize('backend', ['mmcv', 'torchvision', 'pytorch'])
def test_deform_share_sees_every_backward(backend):
    """A profiled backward alone is attributed too (the pytorch backend
    through its sampling backward), so training rows' deform shares are
    not silently missing the backward."""
    _load_tool()
    from posewarper_bench_profile import profile_call

    from posewarper_mm.models.necks.deform_conv_backends import \
        BackendDeformConv2d
    layer = BackendDeformConv2d(
        17, 17, 3, padding=3, dilation=3, deform_groups=17, backend=backend)
    x = torch.randn(2, 17, 24, 18)
    offset = torch.randn(2, 306, 24, 18, requires_grad=True)
    layer(x, offset).sum().backward()  # first-call costs
    out = layer(x, offset)
    profile = profile_call(lambda: out.sum().backward())
    assert profile['deform_seconds'] > 0
    assert profile['deform_share'] > 0.3


def test_cpu_peak_tensor_bytes_sees_transient_allocations():
    size = 4 * 2**20

    def work():
        a = torch.empty(size, dtype=torch.uint8)
        b = torch.empty(size, dtype=torch.uint8)
        del a, b
        c = torch.empty(size // 2, dtype=torch.uint8)
        return c.numel()

    peak = cpu_peak_tensor_bytes(work)
    assert peak is not None
    # both 4 MiB blocks were alive together; the 2 MiB one came after
    assert 2 * size <= peak < 2 * size + 2**20


def test_markdown_table_and_numbers():
    table = format_markdown_table(['Case', 'ms'], [['a', '1.0'], ['b', '2']])
    assert table.splitlines() == [
        '| Case | ms |', '| --- | ---: |', '| a | 1.0 |', '| b | 2 |'
    ]
    with pytest.raises(ValueError, match='row 0 has 1 cells'):
        format_markdown_table(['Case', 'ms'], [['a']])
    assert format_number(1.234, 2) == '1.23'
    assert format_number(float('nan')) == 'n/a'
    assert format_number(None) == 'n/a'


# ---------------------------------------------------------------------------
# the tool
# ---------------------------------------------------------------------------
def test_exit_code_flags_mismatch_and_failures():
    tool = _load_tool()
    ok = dict(
        cases=[dict(key='single')],
        checks=dict(tolerance=1e-5, naive_vs_batched=dict(max_abs_diff=1e-7)))
    assert tool._exit_code([ok], 1e-5) == 0
    bad = dict(
        ok,
        checks=dict(tolerance=1e-5, naive_vs_batched=dict(max_abs_diff=1e-3)))
    assert tool._exit_code([ok, bad], 1e-5) == tool.EXIT_MISMATCH
    cached = dict(
        ok, checks=dict(ok['checks'], naive_vs_cached=dict(max_abs_diff=1e-3)))
    assert tool._exit_code([cached], 1e-5) == tool.EXIT_MISMATCH
    bf16 = dict(
        ok,
        checks=dict(tolerance=None, naive_vs_batched=dict(max_abs_diff=1e-2)))
    assert tool._exit_code([bf16], 1e-5) == 0
    failed = dict(ok, cases=[dict(key='single', error='RuntimeError: x')])
    assert tool._exit_code([failed], 1e-5) == tool.EXIT_CASE_FAILED


def test_rejects_bad_arguments():
    tool = _load_tool()
    with pytest.raises(SystemExit):
        tool.parse_args(['--input-size', '64', '48'])
    with pytest.raises(SystemExit):
        tool.parse_args(['--batch', '0'])
    args = tool.parse_args(['--quick'])
    assert args.input_size == [64, 64] and args.repeats == 3
    assert args.threads == 1


def test_cases_option():
    tool = _load_tool()
    assert tool.parse_args([]).cases == [
        'single', 'naive', 'naive_cached', 'batched', 'batched_short'
    ]
    assert tool.parse_args(['--cases', 'c,bk,b'
                            ]).cases == ['naive', 'naive_cached', 'batched']
    # the table's order, whatever the order asked
    assert tool.parse_args(['--cases', 'c, b']).cases == ['naive', 'batched']
    for bad in ('b,d', ','):
        with pytest.raises(SystemExit):
            tool.parse_args(['--cases', bad])


def test_selected_cases_only(tmp_path):
    """``--cases b,c --no-check``: (b) and (c) timed in the same rounds,
    nothing else timed, no outputs check, and the exit code ignores it."""
    out = tmp_path / 'bench.json'
    tool = _load_tool()
    code = tool.main([
        '--quick', '--device', 'cpu', '--batch', '1', '--sections',
        'inference', '--cases', 'b,c', '--no-check', '--no-memory',
        '--no-flops', '--repeats', '2', '--warmup', '0', '--out-md', '',
        '--out-json',
        str(out)
    ])
    assert code == 0
    result = json.loads(out.read_text())
    assert result['meta']['cases'] == ['naive', 'batched']
    assert result['meta']['outputs_check'] is False
    (mode, ) = result['results']
    keys = [c['key'] for c in mode['cases']]
    assert keys == ['naive', 'batched', *DERIVED_KEYS]
    assert 'naive_vs_batched' not in mode['checks']
    paired = mode['targets']['batched_vs_naive']['paired']
    assert paired['repeats'] == 2 and _finite_positive(paired['median'])


def _finite_positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) \
        and value > 0


@pytest.fixture(scope='module')
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('bench')
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([str(REPO), env.get('PYTHONPATH', '')])
    proc = subprocess.run([
        sys.executable, '-W', 'ignore',
        str(REPO / TOOL), '--quick', '--device', 'cpu', '--batch', '2',
        '--out-json',
        str(out / 'bench.json'), '--out-md',
        str(out / 'bench.md')
    ],
                          cwd=str(REPO),
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)
    return proc, out


def test_quick_run_produces_complete_table(quick_run):
    proc, out = quick_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads((out / 'bench.json').read_text())
    assert result['exit_code'] == 0
    assert result['meta']['quick'] is True
    assert result['meta']['test_frame_weights'] == [0.3, 0.1, 0.25, 0.25, 0.1]
    (mode, ) = result['results']
    assert mode['mode'] == 'fp32'
    cases = {c['key']: c for c in mode['cases']}
    assert sorted(cases) == sorted(EXPECTED_KEYS)
    for key, case in cases.items():
        assert 'error' not in case, (key, case.get('error'))
        assert case['crops'] == 2
        for stat in ('median', 'minimum', 'maximum', 'q1', 'q3'):
            assert _finite_positive(case['seconds'][stat]), (key, stat)
        assert case['per_crop_seconds']['median'] == pytest.approx(
            case['seconds']['median'] / 2)
        assert _finite_positive(case['crops_per_second'])
        if key not in DERIVED_KEYS:
            assert isinstance(case['peak_bytes'], int), key
            assert case['peak_bytes'] > 0, key
        if case['ref'] is not None:
            assert _finite_positive(case['ratio']), key
    # the parts of (c) cannot take longer than (c) itself, repeat by repeat
    # (medians of the parts come from different repeats than the median of
    # the whole, so they need not add up below it)
    totals = cases['batched']['samples']
    parts = [cases[k]['samples'] for k in DERIVED_KEYS]
    assert all(len(p) == len(totals) for p in parts)
    for i, total in enumerate(totals):
        assert sum(p[i] for p in parts) <= total * 1.001, i
    assert cases['naive']['ratio'] == pytest.approx(
        cases['naive']['per_crop_seconds']['median'] /
        cases['single']['per_crop_seconds']['median'])
    # stage 2 trains only the offset branch of the neck
    stage1 = cases['train_stage1']['parameters']
    stage2 = cases['train_stage2']['parameters']
    assert stage1['trainable'] == stage1['total']
    assert 0 < stage2['trainable'] < stage2['total']


def test_quick_run_outputs_agree(quick_run):
    proc, out = quick_run
    result = json.loads((out / 'bench.json').read_text())
    checks = result['results'][0]['checks']
    assert checks['tolerance'] == 1e-5
    naive = checks['naive_vs_batched']
    assert naive['max_abs_diff'] <= 1e-5
    assert checks['naive_vs_cached']['max_abs_diff'] <= 1e-5
    # the heatmaps are not trivially zero
    assert naive['max_abs_value'] > 0.1
    for backend in ('torchvision', 'pytorch'):
        assert checks[f'mmcv_vs_{backend}_neck']['max_abs_diff'] <= 1e-4
    offsets = result['meta']['calibration']['offset_std']
    assert all(o > 0.5 for o in offsets)


def test_quick_run_markdown(quick_run):
    proc, out = quick_run
    markdown = (out / 'bench.md').read_text()
    assert markdown.strip() in proc.stdout
    for label in ('(a) single-frame HRNet', '(b) PoseWarper 5 frames, naive',
                  "(b') PoseWarper 5 frames, naive, cached key-frame offsets",
                  '(c) PoseWarper 5 frames, batched', '(c) of which backbone',
                  '(c) of which neck', '[mmcv]', '[torchvision]', '[pytorch]',
                  'stage 1: HRNet, all trainable', 'stage 2: frozen backbone'):
        assert label in markdown, label
    assert '| Case | ms/call median |' in markdown
    assert 'FAILED' not in markdown
    assert '- neck mmcv vs pytorch: max abs diff' in markdown
    assert '— OK (tolerance 1e-05)' in markdown
    for column in ('GFLOPs/crop', 'FLOP ratio', 'GFLOP/s', 'deform % time'):
        assert f' {column} |' in markdown, column
    assert '(c3) PoseWarper 3 frames (offsets [-1, 0, 1]), batched' in \
        markdown
    # the time/FLOP target of (b), (c) and the 3-frame window vs (a)
    assert markdown.count('(target <= 1.15x)') == 3
    assert 'batched (c) vs naive (b): time ' in markdown
    assert "- naive (b) vs (b'): max abs diff" in markdown
    assert "naive with cached key-frame offsets (b') vs naive (b): time " \
        in markdown
    assert "batched (c) vs (b'): time " in markdown
    # (a), (b), (c) and the short window are timed round by round
    assert 'rounds timed in alternation' in markdown
    assert 'stage-2 vs stage-1 training step: time ' in markdown


def test_quick_run_counts_flops(quick_run):
    proc, out = quick_run
    mode = json.loads((out / 'bench.json').read_text())['results'][0]
    assert 'flops_error' not in mode['checks']
    cases = {c['key']: c for c in mode['cases']}
    for key, case in cases.items():
        assert _finite_positive(case['flops_per_crop']), key
        if key not in DERIVED_KEYS:
            assert _finite_positive(case['gflops_per_second']), key
            assert 0 <= case['deform_share'] <= 1, key
        if case['ref'] is not None:
            assert _finite_positive(case['flop_ratio']), key
    # no deformable convolution is counted as 0
    for key in ('naive', 'naive_cached', 'batched', 'batched_short',
                'neck_fwd_mmcv', 'neck_fwd_torchvision', 'deform_fwd_mmcv',
                'train_stage2'):
        assert cases[key]['deform_flops_per_crop'] > 0, key
    assert cases['single']['deform_flops_per_crop'] == 0
    # the cached key-frame offsets save work; 3 frames cost less than 5
    assert cases['batched']['flops_per_crop'] < \
        cases['naive']['flops_per_crop']
    # (b') skips exactly the work (c) skips
    assert cases['naive_cached']['flops_per_crop'] == pytest.approx(
        cases['batched']['flops_per_crop'], rel=1e-9)
    assert targets_flop_ratio(mode, 'cached_vs_naive') < 1
    assert targets_flop_ratio(mode, 'batched_vs_cached') == pytest.approx(1)
    assert cases['batched_short']['flops_per_crop'] < \
        cases['batched']['flops_per_crop']
    targets = mode['targets']
    for name in ('naive_vs_single', 'batched_vs_single', 'short_vs_single'):
        assert _finite_positive(targets[name]['flop_ratio']), name
        assert targets[name]['limit'] == 1.15
    assert _finite_positive(targets['batched_vs_naive']['memory_ratio'])
    paired = targets['batched_vs_naive']['paired']
    assert paired['minimum'] <= targets['batched_vs_naive']['ratio'] <= \
        paired['maximum']
    assert cases['batched']['timed_with'] == [
        'single', 'naive', 'naive_cached', 'batched', 'batched_short'
    ]


def targets_flop_ratio(mode: dict, name: str) -> float:
    item = mode['targets'][name]
    assert _finite_positive(item['ratio']), name
    assert item['paired']['repeats'] >= 1, name
    return item['flop_ratio']


def test_short_window():
    _load_tool()
    from posewarper_bench_runner import short_window
    weights = (0.3, 0.1, 0.25, 0.25, 0.1)  # key first
    slots, short = short_window((0, -2, -1, 1, 2), weights, (-1, 0, 1))
    assert slots == [0, 2, 3]
    assert short == pytest.approx([0.3 / 0.8, 0.25 / 0.8, 0.25 / 0.8])
    assert short_window((0, -2, -1, 1, 2), weights, (1, 0))[0] == [0, 3]
    with pytest.raises(ValueError, match='contain the key frame'):
        short_window((0, -2, -1, 1, 2), weights, (-1, 1))
    with pytest.raises(ValueError, match=r'short window \[-2, 0\]'):
        short_window((0, -1, 1), (0.4, 0.3, 0.3), (-2, 0))


@pytest.mark.parametrize('backend', ['mmcv', 'torchvision'])
def test_deform_conv_flop_handle(backend):
    """mmengine's counter with our handle counts the deformable conv as
    conv multiply-adds plus 4 per bilinearly sampled value."""
    _load_tool()
    from posewarper_bench_flops import (BILINEAR_MACS, count_flops,
                                        deform_conv_flops)

    from posewarper_mm.models.necks.deform_conv_backends import \
        BackendDeformConv2d
    layer = BackendDeformConv2d(
        4, 6, 3, padding=2, dilation=2, deform_groups=2, backend=backend)
    x = torch.randn(2, 4, 5, 7)
    offset = torch.randn(2, layer.offset_channels, 5, 7)
    result = count_flops(lambda t: layer(t, offset), x, dict(layer=layer))
    # N * H * W * kh * kw * (C_out * C_in + 4 * C_in)
    expected = 2 * 5 * 7 * 3 * 3 * (6 * 4 + BILINEAR_MACS * 4)
    assert deform_conv_flops((2, 4, 5, 7), (6, 4, 3, 3),
                             (2, 6, 5, 7)) == expected
    assert result['total'] == result['deform_conv'] == expected > 0
    assert result['unsupported'] == {}


def test_profile_tool_quick_run(tmp_path):
    """The per-layer profile covers (b), (b') and (c), each with its parts
    and operators, and checks that (b) and (c) agree."""
    _load_tool()
    import posewarper_bench_profile as profile_tool
    out = tmp_path / 'profile.md'
    assert profile_tool.main(['--quick', '--out-md', str(out)]) == 0
    text = out.read_text()
    for label in ('(b) naive', "(b') naive, cached key-frame offsets",
                  '(c) batched'):
        assert f'#### {label}: ' in text, label
    assert text.count('| offset_feats |') == 3
    diff = float(text.split('(b) vs (c) max abs diff: ')[1].split()[0])
    assert diff <= 1e-5
