"""Run every benchmark case of one precision mode and collect results."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import ConfigDict
from mmpose.registry import MODELS
from posewarper_bench_cases import (BACKENDS, Case, DeformBackendWorkloads,
                                    InferenceWorkloads, Mode, StageTimer,
                                    TrainStep)
from posewarper_bench_flops import case_flops
from posewarper_bench_models import (count_parameters, inference_samples,
                                     set_memory_format, training_samples)
from posewarper_bench_profile import profile_call
from posewarper_bench_utils import (TimingStats, get_clock, peak_memory,
                                    time_interleaved)
from torch import nn

from posewarper_mm.datasets.temporal_window import TemporalWindow

# time ratio / FLOP ratio of each multi-frame inference row vs (a)
FLOP_RATIO_TARGET = 1.15
# (c) vs (b): at most this share of (b)'s time, this multiple of its memory
BATCHED_TIME_TARGET = 0.9
BATCHED_MEMORY_TARGET = 2.0


def _error_text(err: BaseException) -> str:
    text = f'{type(err).__name__}: {err}'.strip()
    return text.splitlines()[0][:300]


def _timing_record(stats: TimingStats, crops: int) -> dict:
    return dict(
        seconds=stats.to_dict(),
        per_crop_seconds=stats.scaled(1.0 / crops).to_dict(),
        crops_per_second=crops / stats.median if stats.median > 0 else None)


def measure_case(case: Case,
                 repeats: int,
                 warmup: int,
                 device: torch.device,
                 memory: bool = True,
                 clock: str = 'wall',
                 timer: Optional[StageTimer] = None) -> dict:
    """Time one case, then measure its peak memory in a separate call.

    See :func:`measure_cases`, of which this is the one-case form.
    """
    timers = None if timer is None else {case.key: timer}
    return measure_cases([case], repeats, warmup, device, memory, clock,
                         timers)[0]


def measure_cases(cases: Sequence[Case],
                  repeats: int,
                  warmup: int,
                  device: torch.device,
                  memory: bool = True,
                  clock: str = 'wall',
                  timers: Optional[Dict[str, StageTimer]] = None
                  ) -> List[dict]:
    """Time cases in alternation, then measure each one's peak memory.

    The cases are warmed up, then timed round by round with
    :func:`time_interleaved`; a case that fails gets an ``error`` and
    stops running, the others go on. A case whose ``ref`` is timed in the
    same rounds also gets ``paired_ratio``: its time over the ref's, round
    by round (median, min-max), steadier on a drifting machine than the
    ratio of the two medians.

    Args:
        cases (Sequence[Case]): The workloads.
        repeats (int): Timed rounds.
        warmup (int): Untimed calls of each case first.
        device (torch.device): Device of the workloads.
        memory (bool): Also measure peak memory (on the CPU in one
            profiled call that also gives the deformable convolutions'
            share of the time, ``deform_share``).
        clock (str): ``'wall'`` or ``'process'`` (see
            :func:`posewarper_bench_utils.get_clock`).
        timers (dict[str, StageTimer], optional): Case key -> timer of its
            parts, attached during that case's calls only; its last
            ``repeats`` samples per part are kept.

    Returns:
        list[dict]: Per case: timings in seconds (per call and per crop),
        throughput, peak memory, or ``error`` when the case failed.
    """
    timers = timers or {}
    failed: Dict[str, str] = {}

    def guarded(key: str, fn):
        # a failing case stops only itself; its error goes in the table

        def call():
            if key not in failed:
                try:
                    fn()
                except Exception as err:
                    failed[key] = _error_text(err)

        return call

    records, fns = [], []
    for case in cases:
        records.append(
            dict(
                key=case.key,
                section=case.section,
                label=case.label,
                crops=case.crops,
                ref=case.ref))
        timer = timers.get(case.key)
        fns.append(
            guarded(case.key,
                    case.fn if timer is None else timer.wrap(case.fn)))
    samples = time_interleaved(fns, repeats, warmup, device,
                               get_clock(clock))
    timed = []
    for case, record, case_samples in zip(cases, records, samples):
        if case.key in failed:
            record['error'] = failed[case.key]
        else:
            timed.append((case, record, case_samples))
    group = [case.key for case, _, _ in timed]
    by_key = {}
    for case, record, case_samples in timed:
        timer = timers.get(case.key)
        if timer is not None:
            record['stage_samples'] = {
                name: values[-repeats:]
                for name, values in timer.samples.items()
            }
        record['samples'] = case_samples
        record['timed_with'] = group
        record.update(
            _timing_record(TimingStats.from_samples(case_samples),
                           case.crops))
        by_key[case.key] = record
    for record in by_key.values():
        ratio = paired_ratio(record, by_key.get(record['ref']))
        if ratio is not None:
            record['paired_ratio'] = ratio
    if memory:
        for case, record, _ in timed:
            try:
                record.update(_memory_record(case.fn, device))
            except Exception as err:  # reported in the table, not fatal
                record['error'] = _error_text(err)
    return records


def paired_ratio(record: dict, ref: Optional[dict]) -> Optional[dict]:
    """Per-crop time of ``record`` over that of ``ref``, round by round.

    Only for two cases timed in the same rounds (:func:`measure_cases`);
    returns the median and min-max of the per-round ratios, or None.
    """
    if ref is None or ref['key'] not in record.get('timed_with', ()):
        return None
    ratios = [(mine / record['crops']) / (base / ref['crops'])
              for mine, base in zip(record['samples'], ref['samples'])
              if base > 0]
    return TimingStats.from_samples(ratios).to_dict() if ratios else None


def _memory_record(fn, device: torch.device) -> dict:
    """Peak memory of one call (CPU: plus the deform-conv time share)."""
    if device.type == 'cpu':
        # one profiled call gives the peak and the deform-conv share
        prof = profile_call(fn)
        return dict(
            peak_bytes=prof['peak_bytes'],
            memory_method='torch.profiler allocator events',
            deform_share=prof['deform_share'])
    mem = peak_memory(fn, device)
    record = dict(
        peak_bytes=mem.get('peak_bytes'), memory_method=mem.get('method'))
    if 'peak_total_bytes' in mem:
        record['peak_total_bytes'] = mem['peak_total_bytes']
    return record


def stage_records(batched: dict, names: Sequence[str]) -> List[dict]:
    """Rows for the backbone / neck parts of the batched PoseWarper."""
    rows = []
    total = batched.get('seconds', {}).get('median')
    for name in names:
        samples = batched.get('stage_samples', {}).get(name)
        if not samples:
            continue
        stats = TimingStats.from_samples(samples)
        record = dict(
            key=f'batched_{name}',
            section='inference',
            label=f'(c) of which {name}',
            crops=batched['crops'],
            ref='single',
            samples=samples,
            share_of_batched=stats.median / total if total else None)
        record.update(_timing_record(stats, batched['crops']))
        rows.append(record)
    return rows


def add_ratios(records: List[dict]) -> None:
    """Set ``ratio`` = per-crop median / that of the ``ref`` row."""
    by_key = {r['key']: r for r in records}
    for record in records:
        ref = by_key.get(record.get('ref'))
        if ref is None or 'per_crop_seconds' not in record or \
                'per_crop_seconds' not in ref:
            continue
        base = ref['per_crop_seconds']['median']
        value = record['per_crop_seconds']['median']
        record['ratio'] = value / base if base > 0 else None


def add_flops(records: List[dict], flops: Dict[str, dict]) -> None:
    """Attach FLOPs per crop and per call, achieved GFLOP/s and the FLOP
    ratio against the ``ref`` row (the counterpart of ``ratio``)."""
    by_key = {r['key']: r for r in records}
    for record in records:
        item = flops.get(record['key'])
        if item is None:
            continue
        record['flops_per_crop'] = item['flops']
        record['deform_flops_per_crop'] = item['deform_conv']
        for extra in ('forward', 'trainable_forward'):
            if extra in item:
                record[f'{extra}_flops_per_crop'] = item[extra]
        median = record.get('seconds', {}).get('median')
        if median:
            record['gflops_per_second'] = \
                item['flops'] * record['crops'] / median / 1e9
    for record in records:
        ref = by_key.get(record.get('ref'))
        if ref is not None and ref.get('flops_per_crop') and \
                'flops_per_crop' in record:
            record['flop_ratio'] = \
                record['flops_per_crop'] / ref['flops_per_crop']


def short_window(test_offsets: Sequence[int], test_weights: Sequence[float],
                 short_offsets: Sequence[int]) -> Tuple[List[int],
                                                        List[float]]:
    """A shorter window of the same model: its slots (positions in the
    key-first test window, key frame first) and its weights (the test
    window's, renormalised; :meth:`TemporalWindow.subset`)."""
    try:
        short = TemporalWindow(test_offsets,
                               test_weights).subset(short_offsets)
    except ValueError as err:
        raise ValueError(f'short window {list(short_offsets)}: {err}') \
            from None
    slots = [list(test_offsets).index(o) for o in short.offsets]
    return slots, list(short.weights)


def max_abs_diff(a: torch.Tensor, b: torch.Tensor) -> Dict[str, float]:
    """Max absolute and relative (to max |b|) difference, in fp32."""
    diff = float((a.float() - b.float()).abs().max())
    scale = float(b.float().abs().max())
    return dict(
        max_abs_diff=diff,
        max_rel_diff=diff / scale if scale > 0 else None,
        max_abs_value=scale)


def _build_necks(neck_cfg: ConfigDict, source: nn.Module,
                 device: torch.device, mode: Mode) -> tuple:
    """Eval and train copies of the neck for every backend (or errors)."""
    eval_necks, train_necks, errors = {}, {}, {}
    for backend in BACKENDS:
        try:
            cfg = copy.deepcopy(neck_cfg)
            cfg.deform_backend = backend
            neck = MODELS.build(cfg)
            neck.load_state_dict(source.state_dict())
            neck.to(device)
            set_memory_format(neck, mode.channels_last)
            eval_necks[backend] = neck.eval()
            train_necks[backend] = copy.deepcopy(neck).train()
        except Exception as err:
            errors[backend] = _error_text(err)
    return eval_necks, train_necks, errors


def _deform_cases(work: Optional[DeformBackendWorkloads], batch: int,
                  errors: Dict[str, str]) -> List[Case]:

    def failing(message: str):

        def fn():
            raise RuntimeError(message)

        return fn

    specs = [('neck_fwd', 'neck forward (eval, 5 frames)', 'neck_forward'),
             ('neck_fwd_bwd', 'neck forward+backward (train, T=2)',
              'neck_forward_backward'),
             ('deform_fwd', 'deform convs only, forward', 'deform_forward'),
             ('deform_fwd_bwd', 'deform convs only, forward+backward',
              'deform_forward_backward')]
    cases = []
    for key, label, method in specs:
        for backend in BACKENDS:
            if backend in errors or work is None:
                fn = failing(errors.get(backend, 'no neck available'))
            else:
                fn = (lambda m=getattr(work, method), b=backend: m(b))
            cases.append(
                Case(f'{key}_{backend}', 'deform', f'{label} [{backend}]',
                     fn, batch,
                     None if backend == 'mmcv' else f'{key}_mmcv'))
    return cases


def run_mode(mode: Mode, stage1: nn.Module, stage2: nn.Module,
             neck_cfg: ConfigDict, frames: torch.Tensor, bench_cfg,
             args) -> dict:
    """All cases of one precision mode on the same inputs.

    Args:
        mode (Mode): Precision and layout.
        stage1 (nn.Module): Prepared stage-1 model (eval, on device).
        stage2 (nn.Module): Prepared stage-2 model (eval, on device).
        neck_cfg (ConfigDict): The stage-2 neck config.
        frames (Tensor): (B, T, 3, H, W) test frames on the device.
        bench_cfg (BenchConfig): Frame weights of test and training.
        args (Namespace): ``repeats``, ``warmup``, ``memory``, ``clock``,
            ``tolerance``, ``seed``, ``short_offsets``, ``flops``,
            ``sections``, ``cases`` (keys of the inference rows to time)
            and ``check`` (compare (b)'s and (c)'s outputs).

    Returns:
        dict: ``cases`` (list of records), ``checks`` and ``targets``.
    """
    device = frames.device
    batch = frames.size(0)
    for model in (stage1, stage2):
        set_memory_format(model, mode.channels_last)
    stage2.neck.clear_key_offsets_cache()
    weights = torch.tensor([bench_cfg.test_weights] * batch, device=device)
    work = InferenceWorkloads(stage1, stage2, frames,
                              inference_samples(batch, bench_cfg.test_weights),
                              weights, mode)
    run = dict(repeats=args.repeats, warmup=args.warmup, device=device,
               memory=args.memory, clock=args.clock)
    # the estimator calls the neck's parts (heatmaps per chunk of crops,
    # then the warp), so the neck is timed as the sum of its layers
    neck = stage2.neck
    neck_layers = [
        neck.trans_layer, neck.offset_feats, *neck.offset_layers,
        *neck.deform_conv_layers
    ]
    timer = StageTimer(dict(backbone=stage2.backbone, neck=neck_layers),
                       device, get_clock(args.clock))
    slots, short_weights = short_window(bench_cfg.test_offsets,
                                        bench_cfg.test_weights,
                                        args.short_offsets)
    short = InferenceWorkloads(
        stage1, stage2, frames[:, slots].contiguous(),
        inference_samples(batch, short_weights),
        torch.tensor([short_weights] * batch, device=device), mode)
    offsets = sorted(bench_cfg.test_offsets[s] for s in slots)
    # timed round by round, so the ratios share the machine's drift
    cases = [
        Case('single', 'inference', '(a) single-frame HRNet', work.single,
             batch),
        Case('naive', 'inference', '(b) PoseWarper 5 frames, naive',
             work.naive, batch, 'single'),
        Case('naive_cached', 'inference',
             "(b') PoseWarper 5 frames, naive, cached key-frame offsets",
             work.naive_cached, batch, 'single'),
        Case('batched', 'inference', '(c) PoseWarper 5 frames, batched',
             work.batched, batch, 'single'),
        Case('batched_short', 'inference',
             f'(c{len(slots)}) PoseWarper {len(slots)} frames '
             f'(offsets {offsets}), batched', short.batched, batch,
             'batched')
    ]
    inference = measure_cases([c for c in cases if c.key in args.cases],
                              timers={'batched': timer}, **run)
    records = list(inference)
    for record in inference:
        if record['key'] == 'batched':
            records += stage_records(record, ('backbone', 'neck'))
    checks = dict(tolerance=args.tolerance if mode.is_fp32 else None)
    if args.check:
        checks['naive_vs_batched'] = _compare(work.naive, work.batched)
        if 'naive_cached' in args.cases:
            checks['naive_vs_cached'] = _compare(work.naive,
                                                 work.naive_cached)

    if 'deform' in args.sections:
        with torch.no_grad():
            feats = stage2.backbone(frames.transpose(0, 1).flatten(0, 1))[0]
        eval_necks, train_necks, errors = _build_necks(neck_cfg, stage2.neck,
                                                       device, mode)
        deform = None
        if eval_necks:
            deform = DeformBackendWorkloads(eval_necks, train_necks, feats,
                                            frames.size(1), 1, mode)
        for backend in BACKENDS[1:]:
            if 'mmcv' in eval_necks and backend in eval_necks:
                checks[f'mmcv_vs_{backend}_neck'] = _compare(
                    lambda: deform.neck_forward('mmcv'),
                    lambda b=backend: deform.neck_forward(b))
        records += [
            measure_case(case, **run)
            for case in _deform_cases(deform, batch, errors)
        ]
        deform = eval_necks = train_necks = feats = None  # free the copies

    if 'train' in args.sections:
        records += _train_records(stage1, stage2, frames, bench_cfg, mode,
                                  run, args.seed)
    add_ratios(records)
    if args.flops:
        try:
            add_flops(records,
                      case_flops(stage1, stage2, frames, bench_cfg, slots))
        except Exception as err:  # reported, not fatal
            checks['flops_error'] = _error_text(err)
    return dict(
        mode=mode.name,
        cases=records,
        checks=checks,
        targets=_targets(records))


def _compare(fn_a, fn_b) -> dict:
    try:
        return max_abs_diff(fn_a(), fn_b())
    except Exception as err:
        return dict(error=_error_text(err))


def _train_records(stage1, stage2, frames, bench_cfg, mode, run,
                   seed) -> List[dict]:
    """Stage-1 vs stage-2 training steps at the same batch."""
    batch = frames.size(0)
    num_train = len(bench_cfg.train_weights)
    records = []
    specs = [('train_stage1', 'stage 1: HRNet, all trainable', stage1,
              frames[:, 0].contiguous(), (1.0, ), None),
             ('train_stage2',
              f'stage 2: frozen backbone, T={num_train}, weights '
              f'{list(bench_cfg.train_weights)}', stage2,
              frames[:, :num_train].contiguous(), bench_cfg.train_weights,
              'train_stage1')]
    for key, label, model, inputs, weights, ref in specs:
        model_copy = copy.deepcopy(model)
        params = count_parameters(model_copy)
        heatmap_size = tuple(s // 4 for s in frames.shape[-2:])
        samples = training_samples(batch, model_copy.head.out_channels,
                                   heatmap_size, frames.device, weights,
                                   seed)
        try:
            step = TrainStep(model_copy, inputs, samples, mode)
        except Exception as err:  # noqa: E722
            message = _error_text(err)

            def step():
                raise RuntimeError(message)

        record = measure_case(Case(key, 'train', label, step, batch, ref),
                              **run)
        record['parameters'] = params
        records.append(record)
        del model_copy, step
    return records


def _ratio(by_key: dict, key: str, ref: str, field: str) -> Optional[float]:
    """``field`` of row ``key`` over that of row ``ref`` (per crop)."""
    value = by_key.get(key, {}).get(field)
    base = by_key.get(ref, {}).get(field)
    if isinstance(value, dict):
        value, base = value.get('median'), (base or {}).get('median')
    if value is None or not base:
        return None
    return value / base


def _targets(records: List[dict]) -> dict:
    """Time ratios beside FLOP ratios, and (c) against (b) (and (b')).

    Inference: each multi-frame row's time ratio against (a) must stay
    within ``FLOP_RATIO_TARGET`` times its FLOP ratio. (c) must take at
    most ``BATCHED_TIME_TARGET`` of (b)'s time (the median of the
    round-by-round ratios when the two were timed in the same rounds) with
    at most ``BATCHED_MEMORY_TARGET`` times its peak memory. Training: the
    ratio beside its FLOP ratio and the deformable convolutions' time
    share, no limit.
    """
    by_key = {r['key']: r for r in records}
    result = {}
    for name, key, ref in (('naive_vs_single', 'naive', 'single'),
                           ('batched_vs_single', 'batched', 'single'),
                           ('short_vs_single', 'batched_short', 'single'),
                           ('short_vs_batched', 'batched_short', 'batched'),
                           ('train_stage2_vs_stage1', 'train_stage2',
                            'train_stage1')):
        ratio = _ratio(by_key, key, ref, 'per_crop_seconds')
        flop_ratio = _ratio(by_key, key, ref, 'flops_per_crop')
        limit = FLOP_RATIO_TARGET if ref == 'single' else None
        item = dict(
            ratio=ratio,
            flop_ratio=flop_ratio,
            limit=limit,
            deform_share=by_key.get(key, {}).get('deform_share'),
            met=None)
        if ratio is not None and flop_ratio and limit is not None:
            item['time_over_flops'] = ratio / flop_ratio
            item['met'] = ratio / flop_ratio <= limit
        result[name] = item
    # (b') vs (b): the saving of the skipped work alone; (c) vs (b'):
    # what batching adds on top (no targets)
    for name, key, ref in (('cached_vs_naive', 'naive_cached', 'naive'),
                           ('batched_vs_cached', 'batched',
                            'naive_cached')):
        if key in by_key and ref in by_key:
            result[name] = _paired_item(by_key, key, ref)
    # (c) vs (b), with its targets
    item = _paired_item(by_key, 'batched', 'naive')
    time_ratio = item['ratio']
    memory_ratio = _ratio(by_key, 'batched', 'naive', 'peak_bytes')
    item.update(
        memory_ratio=memory_ratio,
        limit=BATCHED_TIME_TARGET,
        memory_limit=BATCHED_MEMORY_TARGET,
        met=None if time_ratio is None or memory_ratio is None else
        (time_ratio <= BATCHED_TIME_TARGET
         and memory_ratio <= BATCHED_MEMORY_TARGET))
    result['batched_vs_naive'] = item
    return result


def _paired_item(by_key: dict, key: str, ref: str) -> dict:
    """Row ``key`` against row ``ref``: the time ratio (the median of the
    per-round ratios when the two were timed in the same rounds, else the
    ratio of the medians) and the FLOP ratio."""
    paired = paired_ratio(by_key.get(key, {}), by_key.get(ref))
    ratio = paired['median'] if paired else _ratio(by_key, key, ref,
                                                   'per_crop_seconds')
    return dict(
        ratio=ratio,
        paired=paired,
        flop_ratio=_ratio(by_key, key, ref, 'flops_per_crop'))
