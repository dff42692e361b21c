"""FLOPs of the benchmark's workloads, with the deformable convolutions.

The count is mmengine's :class:`~mmengine.analysis.FlopAnalyzer` (the one
mmpose's ``tools/analysis_tools/get_flops.py`` uses; one fused
multiply-add counts as one FLOP) on a jit trace of the workload. mmengine
has no handle for the deformable convolutions, which it would skip as
unsupported operators (0 FLOPs); :data:`DEFORM_CONV_HANDLES` counts them
for both kernels (mmcv's ``DeformConv2dFunction``, traced as a Python op,
and ``torchvision::deform_conv2d``) with :func:`deform_conv_flops`:

    FLOPs = N * H_out * W_out * kh * kw * (C_out * C_in / groups
                                           + BILINEAR_MACS * C_in)

the multiply-adds of the convolution over the sampled values plus the
bilinear interpolation of every sampled value (a weighted sum of its four
neighbours, ``BILINEAR_MACS = 4``). The interpolation weights, computed
once per position and deformable group, are not counted.

Training steps are not traced: their FLOPs are estimated as the forward
count plus twice the forward count of the modules that hold trainable
parameters (gradients with respect to inputs and weights, the usual 3x
rule); frozen modules cost their forward only.
"""
from collections import Counter
from math import prod
from typing import Callable, Dict, List, Optional, Sequence

import torch
from mmengine.analysis import FlopAnalyzer
from mmengine.analysis.jit_handles import get_shape
from torch import Tensor, nn

BILINEAR_MACS = 4
DEFORM_CONV_OPS = ('prim::PythonOp.DeformConv2dFunction',
                   'torchvision::deform_conv2d')


def deform_conv_flops(x_shape: Sequence[int], w_shape: Sequence[int],
                      out_shape: Sequence[int]) -> int:
    """FLOPs (multiply-adds) of one deformable convolution.

    Args:
        x_shape (Sequence[int]): Input shape (N, C_in, H, W).
        w_shape (Sequence[int]): Weight shape (C_out, C_in / groups, kh,
            kw).
        out_shape (Sequence[int]): Output shape (N, C_out, H_out, W_out).

    Returns:
        int: ``N*H_out*W_out*kh*kw*(C_out*C_in/groups +
        BILINEAR_MACS*C_in)``.
    """
    batch, in_channels = x_shape[:2]
    out_channels, group_channels, kh, kw = w_shape
    positions = batch * prod(out_shape[2:]) * kh * kw
    conv = positions * out_channels * group_channels
    sampling = positions * in_channels * BILINEAR_MACS
    return int(conv + sampling)


def _import_torchvision_ops() -> None:
    """Import torchvision's ops outside the trace: its first import calls
    an operator that returns an int, which the tracer rejects."""
    try:
        import torchvision.ops  # noqa: F401
    except ImportError:
        pass


def _deform_handle(weight_index: int) -> Callable:

    def handle(inputs: List, outputs: List) -> Counter:
        flops = deform_conv_flops(
            get_shape(inputs[0]), get_shape(inputs[weight_index]),
            get_shape(outputs[0]))
        return Counter({'deform_conv': flops})

    return handle


# mmcv: DeformConv2dFunction(input, offset, weight, ...);
# torchvision: deform_conv2d(input, weight, offset, mask, bias, ...)
DEFORM_CONV_HANDLES: Dict[str, Callable] = {
    DEFORM_CONV_OPS[0]: _deform_handle(2),
    DEFORM_CONV_OPS[1]: _deform_handle(1),
}


class _Workload(nn.Module):
    """A call of ``fn(inputs)`` as a module, so it can be traced.

    The trace gets a dummy argument and ``inputs`` enters as a constant:
    the estimator reads the number of frames and crops from its input's
    shape, which a traced input would turn into tensors.
    """

    def __init__(self, fn: Callable[[Tensor], Tensor], inputs: Tensor,
                 modules: Dict[str, nn.Module]) -> None:
        super().__init__()
        self.fn = fn
        self.inputs = inputs
        self.parts = nn.ModuleDict(modules)

    def forward(self, dummy: Tensor) -> Tensor:
        return self.fn(self.inputs)


def _analyzer(fn: Callable[[Tensor], Tensor], inputs: Tensor,
              modules: Dict[str, nn.Module]) -> FlopAnalyzer:
    _import_torchvision_ops()
    workload = _Workload(fn, inputs, modules)
    analyzer = FlopAnalyzer(workload, (inputs.new_zeros(1), ))
    analyzer.set_op_handle(**DEFORM_CONV_HANDLES)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    return analyzer


def count_flops(fn: Callable[[Tensor], Tensor], inputs: Tensor,
                modules: Optional[Dict[str, nn.Module]] = None) -> dict:
    """Trace ``fn(inputs)`` once and count its FLOPs.

    Args:
        fn (Callable): The workload, a function of one tensor.
        inputs (Tensor): Its input.
        modules (dict[str, nn.Module], optional): Modules ``fn`` calls;
            named so the per-module counts have readable scopes.

    Returns:
        dict: ``total``, ``deform_conv`` (FLOPs of the deformable
        convolutions), ``by_operator``, ``by_module`` (first-level scopes)
        and ``unsupported`` (operators counted as 0, with call counts).
    """
    analyzer = _analyzer(fn, inputs, modules or {})
    by_operator = dict(analyzer.by_operator())
    by_module = {
        name: count
        for name, count in analyzer.by_module().items()
        if name.count('.') == 2 and count
    }
    return dict(
        total=int(analyzer.total()),
        deform_conv=int(by_operator.get('deform_conv', 0)),
        by_operator=by_operator,
        by_module=by_module,
        unsupported=dict(analyzer.unsupported_ops()))


def trainable_forward_flops(fn: Callable[[Tensor], Tensor], inputs: Tensor,
                            model: nn.Module) -> dict:
    """Forward FLOPs of ``fn`` split into trainable and frozen modules.

    A leaf module counts as trainable when it holds a parameter with
    ``requires_grad``; operators outside any module count as frozen.

    Returns:
        dict: ``total``, ``trainable``, ``deform_conv`` and
        ``train_step`` (``total + 2 * trainable``, the estimate of one
        forward + backward).
    """
    analyzer = _analyzer(fn, inputs, dict(model=model))
    by_module = analyzer.by_module()
    trainable = 0
    for name, module in model.named_modules():
        if next(module.children(), None) is not None:
            continue  # leaves only
        if any(p.requires_grad for p in module.parameters(recurse=False)):
            trainable += by_module.get(f'parts.model.{name}', 0)
    total = int(analyzer.total())
    deform = int(analyzer.by_operator().get('deform_conv', 0))
    return dict(
        total=total,
        trainable=int(trainable),
        deform_conv=deform,
        train_step=total + 2 * int(trainable))


def case_flops(stage1: nn.Module, stage2: nn.Module, frames: Tensor,
               bench_cfg, short_slots: Sequence[int]) -> Dict[str, dict]:
    """FLOPs per person crop of every benchmark case, counted on one crop.

    Args:
        stage1 (nn.Module): Stage-1 model (eval).
        stage2 (nn.Module): Stage-2 model (eval).
        frames (Tensor): (B, T, 3, H, W) test frames; only the first crop
            is traced (every count is linear in the batch).
        bench_cfg (BenchConfig): Test and training frame weights.
        short_slots (Sequence[int]): Slots of the short-window case.

    Returns:
        dict: Case key -> ``flops`` and ``deform_conv`` per crop, and for
        the training steps ``forward`` and ``trainable_forward``.
    """
    from posewarper_bench_cases import InferenceWorkloads, Mode
    from posewarper_bench_models import inference_samples
    crop = frames[:1]
    fp32 = Mode.parse('fp32')
    num_frames = frames.size(1)
    short = [float(bench_cfg.test_weights[s]) for s in short_slots]

    def workload(inputs: Tensor, weights: Sequence[float]):
        tensor = torch.tensor([list(weights)], device=inputs.device)
        return InferenceWorkloads(stage1, stage2, inputs,
                                  inference_samples(1, weights), tensor,
                                  fp32)

    models = dict(stage1=stage1, stage2=stage2)
    test_weights = bench_cfg.test_weights
    # fill the key-frame offsets cache first, as the timed calls find it
    workload(crop, test_weights).batched()
    workload(crop[:, list(short_slots)], short).batched()
    result = {}
    with torch.no_grad():
        result['single'] = count_flops(
            lambda x: workload(x, test_weights).single(), crop, models)
        result['naive'] = count_flops(
            lambda x: workload(x, test_weights).naive(), crop, models)
        result['naive_cached'] = count_flops(
            lambda x: workload(x, test_weights).naive_cached(), crop,
            models)
        result['batched'] = count_flops(
            lambda x: workload(x, test_weights).batched(), crop, models)
        result['batched_short'] = count_flops(
            lambda x: workload(x, short).batched(),
            crop[:, list(short_slots)], models)
        backbone = count_flops(
            lambda x: stage2.backbone(x.flatten(0, 1))[0], crop,
            dict(backbone=stage2.backbone))
    batched = result['batched']
    result['batched_backbone'] = dict(
        total=backbone['total'], deform_conv=0)
    result['batched_neck'] = dict(
        total=batched['total'] - backbone['total'],
        deform_conv=batched['deform_conv'])
    with torch.no_grad():
        feats = stage2.backbone(crop.transpose(0, 1).flatten(0, 1))[0]
        neck_eval = count_flops(
            lambda x: stage2.neck(x, num_frames=num_frames), feats,
            dict(neck=stage2.neck))
    result.update(_neck_and_deform_flops(stage2.neck, feats, num_frames,
                                         neck_eval))
    result.update(_train_flops(stage1, stage2, frames, bench_cfg))
    return {
        key: dict(flops=value['total'], deform_conv=value['deform_conv'],
                  **{k: v for k, v in value.items()
                     if k in ('forward', 'trainable_forward')})
        for key, value in result.items()
    }


def _neck_and_deform_flops(neck: nn.Module, feats: Tensor, num_frames: int,
                           neck_eval: dict) -> Dict[str, dict]:
    """Neck and deform-only rows of the backend section (one crop)."""
    import copy

    from posewarper_bench_cases import BACKENDS
    height, width = feats.shape[-2:]
    layers = list(neck.deform_conv_layers)
    deform_one = sum(
        deform_conv_flops((1, layer.in_channels, height, width),
                          tuple(layer.weight.shape),
                          (1, layer.out_channels, height, width))
        for layer in layers)
    train_neck = copy.deepcopy(neck).train()
    pair = feats[:2]  # key and one supporting frame, one crop each
    fwd = trainable_forward_flops(
        lambda x: train_neck(x, num_frames=2, frame_slots=[1]), pair,
        train_neck)
    # the deform-only backward computes gradients of input, offsets and
    # weights: twice its forward
    rows = {}
    for backend in BACKENDS:
        rows[f'neck_fwd_{backend}'] = neck_eval
        rows[f'neck_fwd_bwd_{backend}'] = dict(
            total=fwd['train_step'], deform_conv=3 * fwd['deform_conv'])
        rows[f'deform_fwd_{backend}'] = dict(
            total=num_frames * deform_one,
            deform_conv=num_frames * deform_one)
        rows[f'deform_fwd_bwd_{backend}'] = dict(
            total=3 * num_frames * deform_one,
            deform_conv=3 * num_frames * deform_one)
    return rows


def _train_flops(stage1: nn.Module, stage2: nn.Module, frames: Tensor,
                 bench_cfg) -> Dict[str, dict]:
    """Estimated FLOPs of one training step per crop (see module doc)."""
    import copy
    crop = frames[:1]
    num_train = len(bench_cfg.train_weights)
    slots = [t for t, w in enumerate(bench_cfg.train_weights) if w != 0]
    model1 = copy.deepcopy(stage1).train()
    model2 = copy.deepcopy(stage2).train()
    one = trainable_forward_flops(lambda x: model1._forward(x), crop[:, 0],
                                  model1)

    def stage2_forward(x: Tensor) -> Tensor:
        feats = model2.backbone(x.transpose(0, 1).flatten(0, 1))
        return model2.neck(feats, num_frames=num_train, frame_slots=slots)

    two = trainable_forward_flops(stage2_forward, crop[:, :num_train],
                                  model2)
    rows = {}
    for key, item in (('train_stage1', one), ('train_stage2', two)):
        rows[key] = dict(
            total=item['train_step'],
            deform_conv=3 * item['deform_conv'],
            forward=item['total'],
            trainable_forward=item['trainable'])
    return rows
