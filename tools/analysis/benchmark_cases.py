"""Models, workloads, timing and FLOP counts of ``benchmark_posewarper.py``.

FLOPs: mmengine's ``FlopAnalyzer`` (a multiply-add is one FLOP) on one crop,
deformable convolutions counted as ``N*H_out*W_out*kh*kw*(C_out*C_in/groups
+ BILINEAR_MACS*C_in)``; a training step: forward + 2x trainable forward.
"""
import contextlib
import copy
import time
from collections import Counter, defaultdict, namedtuple
from math import prod
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
import torchvision.ops  # noqa: F401  (imported before any trace)
from mmengine.analysis import FlopAnalyzer
from mmengine.analysis.jit_handles import get_shape
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample
from torch import Tensor, nn

import posewarper_mm  # noqa: F401  (registers the models)
from posewarper_mm.datasets.temporal_window import TemporalWindow

BACKENDS = ('mmcv', 'torchvision', 'pytorch')  # of the deform section
MODES = ('fp32', 'bf16', 'fp32-cl', 'bf16-cl')  # -cl: channels-last convs
CLOCKS = dict(wall=time.perf_counter, process=time.process_time)
HEATMAP_STRIDE, OFFSET_STD_PIXELS, BILINEAR_MACS, MIB = 4, 2.0, 4, 2.0**20
# profiler events of the deformable convs (mmcv, torchvision, pytorch)
DEFORM_OP_NAMES = ('deformconv2d', 'deform_conv2d', 'bilinearsamplebackward')
# --quick: HRNet stages of one block and 8-64 channels, a 2-block neck
QUICK_HRNET = {
    f'stage{n}': dict(num_modules=1, num_branches=n,
                      block='BASIC' if n > 1 else 'BOTTLENECK',
                      num_blocks=(1, ) * n, num_channels=(8, 16, 32, 64)[:n])
    for n in (1, 2, 3, 4)}
QUICK_NECK = dict(inner_channels=16, dilations=(1, 2),
                  res_blocks_cfg=dict(block='BASIC', num_blocks=2))
# a table row: ``fn`` does a call of ``crops`` crops; ratios are to ``ref``
Case = namedtuple('Case', 'key section label fn crops ref', defaults=[None])
# the two model configs and the key-first test window
BenchConfig = namedtuple('BenchConfig', 'stage1 stage2 test_weights '
                         'test_offsets train_weights crops_per_pass')


def timing_stats(samples: Sequence[float], scale: float = 1.0) -> dict:
    """Median, min, max, quartiles and count of ``samples`` x ``scale``."""
    values = np.asarray(samples, dtype=np.float64) * scale
    q1, median, q3 = (float(v) for v in np.quantile(values, (.25, .5, .75)))
    return dict(median=median, minimum=float(values.min()),
                maximum=float(values.max()), q1=q1, q3=q3,
                repeats=len(values))


def timing_record(samples: Sequence[float], crops: int) -> dict:
    stats = timing_stats(samples)
    return dict(seconds=stats, per_crop_seconds=timing_stats(
        samples, 1.0 / crops), crops_per_second=crops / stats['median']
        if stats['median'] > 0 else None)


def synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def part_times(parts: Dict[str, List[nn.Module]], device: torch.device,
               clock: Callable[[], float], seconds: Counter, calls: Counter):
    """While active, sum the forward time of each group of (non-nested)
    modules of ``parts`` in ``seconds`` and count the calls in ``calls``."""
    start = {}

    def hook(name: str, pre: bool) -> Callable:
        def fn(*_):
            synchronize(device)
            if pre:
                start[name] = clock()
            else:
                seconds[name] += clock() - start.pop(name)
                calls[name] += 1
        return fn

    handles = [handle for name, modules in parts.items() for m in modules
               for handle in (m.register_forward_pre_hook(hook(name, True)),
                              m.register_forward_hook(hook(name, False)))]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def peak_bytes(prof) -> int:
    """Peak live tensor memory of a ``profile_memory`` profiler run."""
    live = peak = 0
    for _, nbytes in sorted((e.start_ns(), int(e.nbytes()))
                            for e in prof.profiler.kineto_results.events()
                            if e.name() == '[memory]'):
        live += nbytes
        peak = max(peak, live)
    return peak


def peak_memory(fn: Callable, device: torch.device) -> dict:
    """Peak memory of a call of ``fn`` above the level before it; on the CPU
    also the ``deform_share`` of its time in deformable convolutions."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        fn()
        torch.cuda.synchronize(device)
        total = torch.cuda.max_memory_allocated(device)
        return dict(peak_bytes=int(total - before), peak_total_bytes=int(
            total), memory_method='torch.cuda.max_memory_allocated')
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU],
                 profile_memory=True) as prof:
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start

    def is_deform(event) -> bool:
        return any(part in event.name.lower() for part in DEFORM_OP_NAMES)

    deform = 0.0
    for event in filter(is_deform, prof.events()):
        parent = event.cpu_parent
        while parent is not None and not is_deform(parent):
            parent = parent.cpu_parent
        deform += event.cpu_time_total / 1e6 if parent is None else 0.0
    return dict(peak_bytes=peak_bytes(prof),
                memory_method='torch.profiler allocator events',
                deform_share=deform / elapsed if elapsed > 0 else None)


def error_text(err: BaseException) -> str:
    return f'{type(err).__name__}: {err}'.strip().splitlines()[0][:300]


def failing(message: str) -> Callable:
    def fn():
        raise RuntimeError(message)
    return fn


def measure_cases(cases: Sequence[Case], repeats: int, warmup: int,
                  device: torch.device, memory: bool = True,
                  clock=time.perf_counter, parts: Optional[dict] = None,
                  parts_in_timed_calls: Optional[bool] = None) -> List[dict]:
    """Time ``cases`` round by round (the order flipped every other round,
    so a drifting machine weighs on all alike), then their peak memory; a
    failing case gets an ``error``, ``parts[key]`` its ``stage_samples``.

    The parts are timed during the timed calls on a CPU, and in ``repeats``
    calls of their own on a GPU (``parts_in_timed_calls`` overrides), where
    the synchronisation around each part would slow the timed calls.
    """
    parts, failed = parts or {}, {}
    if parts_in_timed_calls is None:
        parts_in_timed_calls = device.type != 'cuda'
    stages = {key: defaultdict(list) for key in parts}
    samples: List[List[float]] = [[] for _ in cases]

    def call(i: int, with_parts: bool = parts_in_timed_calls) -> None:
        key, seconds = cases[i].key, Counter()
        timed_parts = parts.get(key, {}) if with_parts else {}
        try:
            if key not in failed:
                with part_times(timed_parts, device, clock, seconds,
                                Counter()):
                    cases[i].fn()
                for name in timed_parts:
                    stages[key][name].append(seconds[name])
        except Exception as err:
            failed[key] = error_text(err)

    for i in [i for i in range(len(cases)) for _ in range(warmup)]:
        call(i)
    for round_idx in range(repeats):
        order = range(len(cases))
        for i in (reversed(order) if round_idx % 2 else order):
            synchronize(device)
            start = clock()
            call(i)
            synchronize(device)
            samples[i].append(clock() - start)
    if not parts_in_timed_calls:
        for i in [i for i, c in enumerate(cases) if c.key in parts
                  for _ in range(repeats)]:
            call(i, with_parts=True)
    records, timed = [], {}
    for case, case_samples in zip(cases, samples):
        records.append(dict(key=case.key, section=case.section,
                            label=case.label, crops=case.crops, ref=case.ref))
        if case.key in failed:
            records[-1]['error'] = failed[case.key]
            continue
        if case.key in parts:
            records[-1]['stage_samples'] = {
                name: values[-repeats:]
                for name, values in stages[case.key].items()}
        records[-1].update(samples=case_samples, timed_with=[
            c.key for c in cases if c.key not in failed],
            **timing_record(case_samples, case.crops))
        timed[case.key] = records[-1]
    for record in timed.values():
        if (ratio := paired_ratio(record, timed.get(record['ref']))):
            record['paired_ratio'] = ratio
    for case in [c for c in cases if memory and c.key in timed]:
        try:
            timed[case.key].update(peak_memory(case.fn, device))
        except Exception as err:  # reported in the table, not fatal
            timed[case.key]['error'] = error_text(err)
    return records


def paired_ratio(record: dict, ref: Optional[dict]) -> Optional[dict]:
    """Stats of the per-round ratios of two cases timed together, or None."""
    if ref is None or ref['key'] not in record.get('timed_with', ()):
        return None
    ratios = [(mine / record['crops']) / (base / ref['crops'])
              for mine, base in zip(record['samples'], ref['samples'])
              if base > 0]
    return timing_stats(ratios) if ratios else None


def autocast(mode: str, device: torch.device):
    """The autocast context of a mode of :data:`MODES`."""
    return contextlib.nullcontext() if mode.startswith('fp32') else \
        torch.autocast(device.type, dtype=torch.bfloat16)


def inference_workloads(stage1: nn.Module, stage2: nn.Module,
                        frames: Tensor, weights: Sequence[float],
                        mode: str) -> Dict[str, Callable[[], Tensor]]:
    """(a) ``single``, (b) ``naive``, (b') ``naive_cached``, (c) ``batched``
    on key-first (B, T, 3, H, W) ``frames``: (B, K, h, w) heatmaps."""
    batch, backbone, neck = frames.size(0), stage2.backbone, stage2.neck
    samples = [PoseDataSample(metainfo=dict(frame_weights=np.asarray(
        weights, dtype=np.float32))) for _ in range(batch)]
    weight_tensor = torch.tensor([list(weights)] * batch,
                                 device=frames.device)

    def run(fn: Callable[[], Tensor]) -> Tensor:
        with torch.no_grad(), autocast(mode, frames.device):
            return fn()

    def frame_by_frame(cached_key_offsets: bool) -> Tensor:
        heatmaps = [neck.heatmaps(backbone(frames[:, t]))
                    for t in range(frames.size(1))]
        key = heatmaps[0]
        if cached_key_offsets:
            warped = [neck.deform(key, neck.key_frame_offsets(
                key.size(2), key.size(3), key))]
        else:
            warped = [neck.warp(key, key - key)]
        warped += [neck.warp(hm, key - hm) for hm in heatmaps[1:]]
        return stage2.head.forward((torch.stack(warped, dim=1),
                                    weight_tensor))

    return dict(
        single=lambda: run(lambda: stage1._forward(frames[:, 0])),
        naive=lambda: run(lambda: frame_by_frame(False)),
        naive_cached=lambda: run(lambda: frame_by_frame(True)),
        batched=lambda: run(lambda: stage2._forward(frames, samples)))


def train_step(model: nn.Module, inputs: Tensor, frame_weights: Sequence,
               mode: str, seed: int) -> Callable[[], Tensor]:
    """Adam steps of ``model`` on (B, [T,] 3, H, W) ``inputs``, random GT."""
    model.train()
    # the accuracy metric is no part of the step (and fails in bf16)
    model.train_cfg = {**(model.train_cfg or {}), 'compute_acc': False}
    gen, samples = torch.Generator().manual_seed(seed), []
    num_keypoints, device = model.head.out_channels, inputs.device
    for _ in range(inputs.size(0)):
        samples.append(PoseDataSample(metainfo=dict(
            frame_weights=np.asarray(frame_weights, dtype=np.float32))))
        samples[-1].gt_fields = PixelData(heatmaps=torch.rand(
            num_keypoints, *[s // HEATMAP_STRIDE for s in inputs.shape[-2:]],
            generator=gen).to(device))
        samples[-1].gt_instance_labels = InstanceData(
            keypoint_weights=torch.ones(1, num_keypoints, device=device))
    optimizer = torch.optim.Adam(
        [p for p in model.parameters() if p.requires_grad], lr=1e-4)

    def step() -> Tensor:
        optimizer.zero_grad(set_to_none=True)
        with autocast(mode, inputs.device):
            losses = model.loss(inputs, samples)
        loss = sum(v for k, v in losses.items() if k.startswith('loss'))
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def load_bench_config(stage2_path: str, stage1_path: str, quick: bool,
                      crops_per_pass: Optional[int] = None) -> BenchConfig:
    """The model configs (``quick``: tiny) and the test window."""
    cfg2 = Config.fromfile(stage2_path)
    stage2, stage1 = (copy.deepcopy(cfg.model)
                      for cfg in (cfg2, Config.fromfile(stage1_path)))
    if quick:
        for model in (stage1, stage2):
            model.backbone.extra = ConfigDict(copy.deepcopy(QUICK_HRNET))
        stage2.neck.update(copy.deepcopy(QUICK_NECK))
    channels = stage2.backbone.extra.stage4.num_channels[0]
    stage2.neck.in_channels = stage1.head.in_channels = channels
    if crops_per_pass is not None:
        stage2.test_cfg = ConfigDict(stage2.get('test_cfg', None) or {})
        stage2.test_cfg.max_crops_per_pass = crops_per_pass or None
    test_ds = cfg2.val_dataloader.dataset
    window = TemporalWindow(test_ds.frame_offsets,
                            test_ds.frame_weights).key_first()
    return BenchConfig(
        stage1, stage2, window.weights, window.offsets, tuple(
            float(w) for w in cfg2.train_dataloader.dataset.frame_weights),
        (stage2.get('test_cfg', None) or {}).get('max_crops_per_pass', None))


@torch.no_grad()
def build_models(cfg: BenchConfig, frames: Tensor, seed: int) -> tuple:
    """Seeded stage-1 and stage-2 models sharing the stage-1 weights, offsets
    scaled to std ``OFFSET_STD_PIXELS`` (not identity warps); calibration."""

    def scale_to_std(conv: nn.Conv2d, output: Tensor, target: float):
        std = float(output.float().std())
        if std > 0:
            conv.weight.mul_(target / std)
            if conv.bias is not None:
                conv.bias.mul_(target / std)

    init_default_scope('mmpose')
    models = []
    for i, model_cfg in enumerate((cfg.stage1, cfg.stage2)):
        torch.manual_seed(seed + i)  # PyTorch's default init, seeded
        models.append(MODELS.build(copy.deepcopy(model_cfg)).to(
            frames.device).eval())
    stage1, stage2 = models
    scale_to_std(stage1.head.final_layer, stage1._forward(frames[:, 0]), 1.0)
    result = stage2.load_state_dict(stage1.state_dict(), strict=False)
    if result.unexpected_keys:
        raise RuntimeError('stage-1 keys not used by the stage-2 model: '
                           f'{result.unexpected_keys}')
    neck = stage2.neck
    torch.manual_seed(seed + 2)
    for module in [*neck.offset_feats.modules(), *neck.offset_layers]:
        if isinstance(module, nn.Conv2d):
            module.reset_parameters()
    key, other = neck.heatmaps(stage2.backbone(
        torch.cat([frames[:, 0], frames[:, 1]]))).chunk(2)
    feats = neck.offset_feats(key - other)
    for layer in neck.offset_layers:
        scale_to_std(layer, layer(feats), OFFSET_STD_PIXELS)
    offsets = neck.compute_offsets(key - other)
    neck.clear_key_offsets_cache()
    return stage1, stage2, dict(
        heatmap_std=float(key.std()),
        offset_std=[float(o.std()) for o in offsets],
        not_from_stage1=sorted({'.'.join(k.split('.')[:2])
                                for k in result.missing_keys}))


def set_memory_format(module: nn.Module, channels_last: bool) -> None:
    """Channels-last or contiguous weights of the ordinary convs."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    for sub in module.modules():
        if isinstance(sub, (nn.Conv2d, nn.ConvTranspose2d)):
            sub.weight.data = sub.weight.data.contiguous(memory_format=fmt)


def deform_conv_flops(x_shape: Sequence[int], w_shape: Sequence[int],
                      out_shape: Sequence[int]) -> int:
    """Multiply-adds of a deformable conv from its x, weight, out shapes."""
    out_channels, group_channels, kh, kw = w_shape
    positions = x_shape[0] * prod(out_shape[2:]) * kh * kw
    return int(positions * (out_channels * group_channels
                            + x_shape[1] * BILINEAR_MACS))


# mmcv: (input, offset, weight, ...); torchvision: (input, weight, ...)
DEFORM_CONV_HANDLES = {
    op: lambda inputs, outputs, w=w: Counter(deform_conv=deform_conv_flops(
        get_shape(inputs[0]), get_shape(inputs[w]), get_shape(outputs[0])))
    for op, w in (('prim::PythonOp.DeformConv2dFunction', 2),
                  ('torchvision::deform_conv2d', 1))}


class _Workload(nn.Module):
    """``fn(inputs)`` to trace, ``inputs`` a constant (shapes stay ints)."""

    def __init__(self, fn: Callable, inputs: Tensor, modules: dict) -> None:
        super().__init__()
        self.fn, self.inputs = fn, inputs
        self.parts = nn.ModuleDict(modules)

    def forward(self, dummy: Tensor) -> Tensor:
        return self.fn(self.inputs)


def count_flops(fn: Callable[[Tensor], Tensor], inputs: Tensor,
                modules: Dict[str, nn.Module]) -> dict:
    """``total``, ``deform_conv``, ``trainable``, ``unsupported`` FLOPs."""
    analyzer = FlopAnalyzer(_Workload(fn, inputs, modules),
                            (inputs.new_zeros(1), ))
    analyzer.set_op_handle(**DEFORM_CONV_HANDLES)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    by_module = analyzer.by_module()
    trainable = sum(
        by_module.get(f'parts.{part}.{name}', 0)
        for part, model in modules.items()
        for name, sub in model.named_modules()
        if next(sub.children(), None) is None
        and any(p.requires_grad for p in sub.parameters(recurse=False)))
    return dict(total=int(analyzer.total()),
                deform_conv=int(analyzer.by_operator().get('deform_conv', 0)),
                trainable=int(trainable),
                unsupported=dict(analyzer.unsupported_ops()))


def case_flops(stage1: nn.Module, stage2: nn.Module, frames: Tensor,
               cfg: BenchConfig, short_slots: Sequence[int]) -> dict:
    """Case key -> FLOPs per crop, on one crop of (B, T, 3, H, W) frames."""
    crop, num_frames, slots = frames[:1], frames.size(1), list(short_slots)
    short = [float(cfg.test_weights[s]) for s in slots]
    models = dict(stage1=stage1, stage2=stage2)

    def count(fn, inputs, mods=models, train=False) -> dict:
        item = count_flops(fn, inputs, mods)
        if not train:
            return dict(flops=item['total'], deform_flops=item['deform_conv'])
        return dict(flops=item['total'] + 2 * item['trainable'],
                    deform_flops=3 * item['deform_conv'],
                    forward_flops=item['total'],
                    trainable_forward_flops=item['trainable'])

    def work(name, inputs, weights=cfg.test_weights):
        return inference_workloads(stage1, stage2, inputs, weights,
                                   'fp32')[name]()

    # fill the key-frame offsets cache first, as the timed calls find it
    work('batched', crop)
    work('batched', crop[:, slots], short)
    with torch.no_grad():
        rows = {name: count(lambda x, n=name: work(n, x), crop)
                for name in ('single', 'naive', 'naive_cached', 'batched')}
        rows['batched_short'] = count(lambda x: work('batched', x, short),
                                      crop[:, slots])
        backbone = count(lambda x: stage2.backbone(x.flatten(0, 1))[0], crop,
                         dict(backbone=stage2.backbone))['flops']
        rows['batched_backbone'] = dict(flops=backbone, deform_flops=0)
        rows['batched_neck'] = dict(
            flops=rows['batched']['flops'] - backbone,
            deform_flops=rows['batched']['deform_flops'])
        feats = stage2.backbone(crop.transpose(0, 1).flatten(0, 1))[0]
        neck_eval = count(lambda x: stage2.neck(x, num_frames=num_frames),
                          feats, dict(neck=stage2.neck))
    train_neck = copy.deepcopy(stage2.neck).train()
    neck_step = count(lambda x: train_neck(x, num_frames=2, frame_slots=[1]),
                      feats[:2], dict(model=train_neck), train=True)
    # the deform-only backward (input, offsets, weights): twice its forward
    height, width = feats.shape[-2:]
    deform = num_frames * sum(
        deform_conv_flops((1, layer.in_channels, height, width),
                          tuple(layer.weight.shape),
                          (1, layer.out_channels, height, width))
        for layer in stage2.neck.deform_conv_layers)
    per_backend = dict(
        neck_fwd=neck_eval, neck_fwd_bwd=dict(
            flops=neck_step['flops'], deform_flops=neck_step['deform_flops']),
        deform_fwd=dict(flops=deform, deform_flops=deform),
        deform_fwd_bwd=dict(flops=3 * deform, deform_flops=3 * deform))
    rows.update((f'{key}_{backend}', row) for key, row in per_backend.items()
                for backend in BACKENDS)
    num_train = len(cfg.train_weights)
    train_slots = [t for t, w in enumerate(cfg.train_weights) if w != 0]
    model1, model2 = (copy.deepcopy(m).train() for m in (stage1, stage2))
    rows['train_stage1'] = count(lambda x: model1._forward(x), crop[:, 0],
                                 dict(model=model1), train=True)
    rows['train_stage2'] = count(
        lambda x: model2.neck(model2.backbone(x.transpose(0, 1).flatten(
            0, 1)), num_frames=num_train, frame_slots=train_slots),
        crop[:, :num_train], dict(model=model2), train=True)
    return rows


def format_number(value: Optional[float], digits: int = 1,
                  scale: float = 1.0, suffix: str = '') -> str:
    """``value * scale`` in fixed point, 'n/a' for None or non-finite."""
    if value is None or not abs(value * scale) < float('inf'):
        return 'n/a'
    return f'{value * scale:.{digits}f}{suffix}'


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence]) -> str:
    aligns = ['---'] + ['---:'] * (len(headers) - 1)
    return '\n'.join('| ' + ' | '.join(map(str, row)) + ' |'
                     for row in [headers, aligns, *rows])
