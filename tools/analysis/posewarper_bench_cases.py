"""The timed workloads of the PoseWarper benchmark.

Every workload is a zero-argument callable over inputs prepared once, so
all variants of one precision mode run on the same tensors and weights.
"""
import contextlib
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Union

import torch
from posewarper_bench_utils import synchronize
from torch import Tensor, nn

# the neck's deformable-convolution backends compared in the deform section
BACKENDS = ('mmcv', 'torchvision', 'pytorch')


@dataclass(frozen=True)
class Mode:
    """Numeric precision and memory layout of one benchmark table.

    Attributes:
        name (str): ``fp32``, ``bf16``, ``fp32-cl`` or ``bf16-cl``.
        autocast_dtype (torch.dtype, optional): Autocast dtype or None.
        channels_last (bool): Convolution weights in channels-last layout.
    """
    name: str
    autocast_dtype: Optional[torch.dtype]
    channels_last: bool

    @classmethod
    def parse(cls, name: str) -> 'Mode':
        """Parse ``fp32``/``bf16`` with an optional ``-cl`` suffix."""
        base, _, suffix = name.partition('-')
        dtypes = {'fp32': None, 'bf16': torch.bfloat16}
        if base not in dtypes or suffix not in ('', 'cl'):
            raise ValueError(
                f'unknown mode {name!r}: use fp32, bf16, fp32-cl or bf16-cl')
        return cls(name, dtypes[base], suffix == 'cl')

    @property
    def is_fp32(self) -> bool:
        """bool: Whether the mode computes in full precision."""
        return self.autocast_dtype is None

    def autocast(self, device: torch.device):
        """Autocast context of this mode (disabled in fp32)."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=self.autocast_dtype)


@dataclass
class Case:
    """One row of the benchmark table.

    Attributes:
        key (str): Identifier used in JSON and for ratios.
        section (str): ``inference``, ``deform`` or ``train``.
        label (str): Row text.
        fn (Callable): The work of one call.
        crops (int): Person crops handled per call (for per-crop figures).
        ref (str, optional): Key of the row the ratio is taken against.
    """
    key: str
    section: str
    label: str
    fn: Callable[[], object]
    crops: int
    ref: Optional[str] = None


class StageTimer:
    """Time the forward calls of named submodules through hooks.

    A submodule may run several times in one call of the workload (e.g.
    the backbone once per chunk of crops): its times are summed until
    :meth:`end_call`, which appends one sample per submodule.

    Args:
        modules (dict[str, nn.Module | list[nn.Module]]): Submodules to
            time; a list is timed as one part (the sum of its members).
        device (torch.device): Synchronised at every boundary.
        clock (Callable): Timer function. Defaults to
            ``time.perf_counter``.
    """

    def __init__(self,
                 modules: Dict[str, Union[nn.Module, List[nn.Module]]],
                 device: torch.device,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.modules = modules
        self.device = device
        self.clock = clock
        self.samples: Dict[str, List[float]] = {k: [] for k in modules}
        self._starts: Dict[str, float] = {}
        self._totals: Dict[str, float] = {k: 0.0 for k in modules}
        self._handles: list = []

    def _pre_hook(self, name: str):

        def hook(module, args):
            synchronize(self.device)
            self._starts[name] = self.clock()

        return hook

    def _post_hook(self, name: str):

        def hook(module, args, output):
            synchronize(self.device)
            self._totals[name] += self.clock() - self._starts.pop(name)

        return hook

    def end_call(self) -> None:
        """Close one workload call: one summed sample per submodule."""
        for name, total in self._totals.items():
            self.samples[name].append(total)
            self._totals[name] = 0.0

    def wrap(self, fn: Callable[[], object]) -> Callable[[], object]:
        """``fn`` with the hooks attached, then :meth:`end_call`.

        The hooks are attached for the call only, so the submodules' runs
        in other workloads timed in alternation with ``fn`` (which may
        share the submodules) are not counted.
        """

        def call():
            with self:
                out = fn()
            self.end_call()
            return out

        return call

    def __enter__(self) -> 'StageTimer':
        for name, modules in self.modules.items():
            if isinstance(modules, nn.Module):
                modules = [modules]
            for module in modules:
                self._handles.append(
                    module.register_forward_pre_hook(self._pre_hook(name)))
                self._handles.append(
                    module.register_forward_hook(self._post_hook(name)))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []


class InferenceWorkloads:
    """Single-frame HRNet and the naive / batched 5-frame PoseWarper
    (and the naive one with the key frame's cached offsets).

    Args:
        stage1 (nn.Module): Stage-1 ``TopdownPoseEstimator`` (eval).
        stage2 (nn.Module): ``PoseWarperEstimator`` (eval).
        frames (Tensor): (B, T, 3, H, W), key frame first.
        samples (list): Data samples with ``frame_weights`` metainfo.
        weights (Tensor): (B, T) frame weights.
        mode (Mode): Precision mode.
    """

    def __init__(self, stage1: nn.Module, stage2: nn.Module, frames: Tensor,
                 samples: list, weights: Tensor, mode: Mode) -> None:
        self.stage1 = stage1
        self.stage2 = stage2
        self.frames = frames
        self.samples = samples
        self.weights = weights
        self.mode = mode

    @contextlib.contextmanager
    def _context(self):
        with torch.no_grad(), self.mode.autocast(self.frames.device):
            yield

    def single(self) -> Tensor:
        """(a) Stage-1 model on the key frames: (B, K, h, w)."""
        with self._context():
            return self.stage1._forward(self.frames[:, 0])

    def naive(self) -> Tensor:
        """(b) One backbone call per frame, one warp call per frame; the
        key frame's offsets are recomputed from its zero difference."""
        return self._frame_by_frame(cached_key_offsets=False)

    def naive_cached(self) -> Tensor:
        """(b') As (b), but the key frame is warped with its cached
        constant offsets: (b) without the one piece of work that (c)
        skips, so (b')/(b) is the most (c) can save without batching."""
        return self._frame_by_frame(cached_key_offsets=True)

    def _frame_by_frame(self, cached_key_offsets: bool) -> Tensor:
        """(b) or (b'): each frame through the backbone and the warp on
        its own; the key frame's offsets cached or recomputed."""
        backbone, neck = self.stage2.backbone, self.stage2.neck
        with self._context():
            heatmaps = [
                neck.heatmaps(backbone(self.frames[:, t]))
                for t in range(self.frames.size(1))
            ]
            key = heatmaps[0]
            if cached_key_offsets:
                offsets = neck.key_frame_offsets(key.size(2), key.size(3), key)
                warped = [neck.deform(key, offsets)]
            else:
                warped = [neck.warp(key, key - key)]
            warped += [neck.warp(hm, key - hm) for hm in heatmaps[1:]]
            stacked = torch.stack(warped, dim=1)
            return self.stage2.head.forward((stacked, self.weights))

    def batched(self) -> Tensor:
        """(c) The estimator itself: one backbone pass over all frames and
        persons, cached key-frame offsets."""
        with self._context():
            return self.stage2._forward(self.frames, self.samples)


class DeformBackendWorkloads:
    """The warping neck (and its deformable convs alone) per backend.

    Args:
        eval_necks (dict[str, nn.Module]): Backend -> neck in eval mode.
        train_necks (dict[str, nn.Module]): Backend -> neck in train mode.
        feats (Tensor): Backbone features of all frames, frame-major
            (T*B, C, h, w).
        num_frames (int): T of ``feats``.
        train_frame (int): Frame warped in the training-style call
            (stage 2 warps only the supporting frame).
        mode (Mode): Precision mode.
    """

    def __init__(self, eval_necks: Dict[str, nn.Module],
                 train_necks: Dict[str, nn.Module], feats: Tensor,
                 num_frames: int, train_frame: int, mode: Mode) -> None:
        self.eval_necks = eval_necks
        self.train_necks = train_necks
        self.feats = feats
        self.num_frames = num_frames
        batch = feats.size(0) // num_frames
        self.train_feats = feats[:(train_frame + 1) * batch]
        self.train_frame = train_frame
        self.mode = mode
        any_neck = next(iter(eval_necks.values()))
        with torch.no_grad():
            heatmaps = any_neck.heatmaps(feats)
            frames = heatmaps.unflatten(0, (num_frames, batch))
            self.source = heatmaps
            self.offsets = any_neck.compute_offsets(
                (frames[:1] - frames).flatten(0, 1))

    def neck_forward(self, backend: str) -> Tensor:
        """Eval-mode neck over all frames (as in inference)."""
        neck = self.eval_necks[backend]
        with torch.no_grad(), self.mode.autocast(self.feats.device):
            return neck(self.feats, num_frames=self.num_frames)

    def neck_forward_backward(self, backend: str) -> Tensor:
        """Train-mode neck on (key, support) warping the support frame,
        then backward of a squared-output loss."""
        neck = self.train_necks[backend]
        neck.zero_grad(set_to_none=True)
        with self.mode.autocast(self.feats.device):
            out = neck(
                self.train_feats,
                num_frames=self.train_frame + 1,
                frame_slots=[self.train_frame])
        loss = out.float().square().mean()
        loss.backward()
        return loss.detach()

    def deform_forward(self, backend: str) -> Tensor:
        """The deformable convs alone (all dilations, all frames)."""
        neck = self.eval_necks[backend]
        with torch.no_grad(), self.mode.autocast(self.feats.device):
            return neck.deform(self.source, self.offsets)

    def deform_forward_backward(self, backend: str) -> Tensor:
        """The deformable convs alone, forward and backward (gradients of
        input, offsets and weights)."""
        neck = self.train_necks[backend]
        neck.zero_grad(set_to_none=True)
        source = self.source.detach().requires_grad_(True)
        offsets = [o.detach().requires_grad_(True) for o in self.offsets]
        with self.mode.autocast(self.feats.device):
            out = neck.deform(source, offsets)
        loss = out.float().square().mean()
        loss.backward()
        return loss.detach()


class TrainStep:
    """One optimisation step: forward, loss, backward, Adam update.

    Args:
        model (nn.Module): Estimator in train mode.
        inputs (Tensor): (B, 3, H, W) or (B, T, 3, H, W).
        samples (list): Data samples with targets (and frame weights).
        mode (Mode): Precision mode (autocast around the forward).
        lr (float): Adam learning rate. Defaults to 1e-4.
    """

    def __init__(self,
                 model: nn.Module,
                 inputs: Tensor,
                 samples: Sequence,
                 mode: Mode,
                 lr: float = 1e-4) -> None:
        self.model = model.train()
        # the accuracy metric is not part of the optimisation step (and
        # mmpose converts bf16 heatmaps to numpy for it, which fails)
        model.train_cfg = {**(model.train_cfg or {}), 'compute_acc': False}
        self.inputs = inputs
        self.samples = list(samples)
        self.mode = mode
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise ValueError('the model has no trainable parameters')
        self.optimizer = torch.optim.Adam(params, lr=lr)

    def __call__(self) -> Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        with self.mode.autocast(self.inputs.device):
            losses = self.model.loss(self.inputs, self.samples)
        loss = sum(v for k, v in losses.items() if k.startswith('loss'))
        loss.backward()
        self.optimizer.step()
        return loss.detach()
