"""ONNX export of the pose models and inference with onnxruntime.

The exported graph is the network alone: normalised crops ``frames``
(B, T, 3, H, W), key frame first, as the config's data preprocessor gives
them, to ``heatmaps`` (B, K, h, w), with a dynamic batch. A PoseWarper
model's test-window weights (T,) are baked in; a single-frame model takes
T = 1. The deformable convolutions export as plain PyTorch ops
(``grid_sample``, opset 16) or as ONNX's ``DeformConv`` (opset 19), from
weights of any backend. Pre- and post-processing (pipeline, normalisation,
flip test, decoding) stay the config's, in PyTorch (:class:`OnnxPoseModel`).
``onnx`` and ``onnxruntime`` are imported only here, when used
(``requirements/deploy.txt``).
"""
import copy
import json
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmpose.structures import PoseDataSample
from torch import Tensor, nn

from ..datasets.temporal_window import TemporalWindow
from ..errors import ConfigError
from ..models.necks.deform_conv_backends import BackendDeformConv2d

# deform op -> lowest opset that has its operators
DEFORM_OPS = {'pytorch': 16, 'onnx': 19}


def is_multi_frame(model: nn.Module) -> bool:
    """Whether ``model`` warps supporting frames (a PoseWarper model)."""
    return callable(getattr(model, 'propagate_heatmaps', None))


def test_window(model: nn.Module) -> TemporalWindow:
    """The key-first test window of the model's config (T = 1 for a
    single-frame model)."""
    if not is_multi_frame(model):
        return TemporalWindow((0, ), (1.0, ))
    dataset = model.cfg.test_dataloader.dataset
    offsets = dataset.get('frame_offsets', (-2, -1, 0, 1, 2))
    weights = dataset.get('frame_weights', None)
    window = TemporalWindow.with_default_weights(offsets) if weights is None \
        else TemporalWindow(offsets, weights)
    return window.key_first()


class HeatmapGraph(nn.Module):
    """The exported network: ``frames`` (B, T, 3, H, W) -> heatmaps
    (B, K, h, w), with the window's weights (T,) as constants.

    Args:
        model (nn.Module): A top-down model (mmpose's single-frame
            estimator or :class:`PoseWarperEstimator`), in eval mode.
        weights (Sequence[float]): Key-first frame weights (T,).
        heatmap_size (tuple[int, int]): (h, w) of the heatmaps, for the
            key frame's constant offsets.
    """

    def __init__(self, model: nn.Module, weights: Sequence[float],
                 heatmap_size) -> None:
        super().__init__()
        self.model = model
        self.weights = [float(w) for w in weights]
        self.multi_frame = is_multi_frame(model)
        self.key_offsets: List[Tensor] = []
        if self.multi_frame and self.weights[0] != 0:
            with torch.no_grad():
                like = next(model.parameters())
                self.key_offsets = model.neck.key_frame_offsets(
                    *heatmap_size, like)

    def forward(self, frames: Tensor) -> Tensor:
        model = self.model
        if not self.multi_frame:
            return model.head.forward(model.extract_feat(frames[:, 0]))
        num_frames = len(self.weights)
        crops = frames.transpose(0, 1).reshape(-1, *frames.shape[2:])
        heatmaps = model.neck.heatmaps(model.backbone(crops))
        heatmaps = heatmaps.reshape(num_frames, -1, *heatmaps.shape[1:])
        key = heatmaps[0]
        out = None
        for slot, weight in enumerate(self.weights):
            if weight == 0:
                continue
            if slot == 0:
                warped = model.neck.deform(key, self.key_offsets)
            else:
                warped = model.neck.warp(heatmaps[slot], key - heatmaps[slot])
            out = weight * warped if out is None else out + weight * warped
        head = model.head
        return head.final_layer(head.conv_layers(head.deconv_layers(out)))


def export_onnx(model: nn.Module, path: str, deform_op: str = 'pytorch',
                opset: Optional[int] = None) -> dict:
    """Export ``model`` (eval mode, weights loaded) to ``path``.

    Args:
        model (nn.Module): A model from :func:`mmpose.apis.init_model`; it
            is not changed (a copy switches its deformable convolutions to
            ``deform_op``).
        path (str): The ``.onnx`` file.
        deform_op (str): ``'pytorch'`` or ``'onnx'`` (:data:`DEFORM_OPS`).
        opset (int, optional): ONNX opset; default the op's lowest.

    Returns:
        dict: ``frames`` shape (with -1 for the batch), ``weights``,
        ``deform_op`` and ``opset`` of the export.

    Raises:
        ConfigError: For a deform op or opset that cannot export.
    """
    if deform_op not in DEFORM_OPS:
        raise ConfigError(
            f'deform op {deform_op!r} cannot be exported to ONNX (mmcv\'s and '
            "torchvision's kernels have no ONNX form); use "
            f'{" or ".join(map(repr, DEFORM_OPS))}')
    opset = DEFORM_OPS[deform_op] if opset is None else int(opset)
    if opset < DEFORM_OPS[deform_op]:
        raise ConfigError(
            f'deform op {deform_op!r} needs opset >= {DEFORM_OPS[deform_op]} '
            f'(got {opset}): raise --opset, or use the other deform op')
    graph_model = copy.deepcopy(model).cpu().float().eval()
    for module in graph_model.modules():
        if isinstance(module, BackendDeformConv2d):
            module.backend = deform_op
    width, height = model.cfg.codec.input_size
    heat_w, heat_h = model.cfg.codec.heatmap_size
    window = test_window(model)
    graph = HeatmapGraph(graph_model, window.weights, (heat_h, heat_w))
    example = torch.zeros(2, window.num_frames, 3, height, width)
    with torch.no_grad():
        torch.onnx.export(
            graph, (example, ), path, input_names=['frames'],
            output_names=['heatmaps'], opset_version=opset,
            dynamic_axes=dict(frames={0: 'batch'}, heatmaps={0: 'batch'}),
            dynamo=False)
    info = dict(frames=[-1, window.num_frames, 3, height, width],
                frame_offsets=list(window.offsets),
                frame_weights=list(window.weights), deform_op=deform_op,
                opset=opset)
    import onnx
    proto = onnx.load(path)  # the window, for OnnxPoseModel's checks
    onnx.helper.set_model_props(
        proto, {key: json.dumps(value) for key, value in info.items()})
    onnx.save(proto, path)
    return info


def reference_heatmaps(model: nn.Module, frames: Tensor) -> Tensor:
    """The PyTorch model's own heatmaps (B, K, h, w) of normalised
    ``frames`` (B, T, 3, H, W) with its test window's weights."""
    window = test_window(model)
    with torch.no_grad():
        if not is_multi_frame(model):
            return model(frames[:, 0], None, mode='tensor')
        samples = [
            PoseDataSample(metainfo=dict(frame_weights=window.weights_array()))
            for _ in range(frames.size(0))
        ]
        return model(frames, samples, mode='tensor')


def onnx_session(path: str, threads: Optional[int] = None):
    """An onnxruntime CPU session of ``path`` (``threads`` intra-op)."""
    try:
        import onnxruntime as ort
    except ImportError as err:
        raise ImportError(
            'the onnxruntime backend needs onnxruntime: pip install -r '
            'requirements/deploy.txt') from err
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = int(threads)
    return ort.InferenceSession(path, options,
                                providers=['CPUExecutionProvider'])


class OnnxPoseModel:
    """A model whose network runs in onnxruntime, usable where the
    PyTorch model is (:func:`~.inference.inference_posewarper`, the video
    demo): the config's pipeline, data preprocessor, flip test and
    decoding run as usual, the exported graph in between.

    Args:
        model (nn.Module): The config's model (its weights are not used).
        path (str): The exported ``.onnx`` file.
        threads (int, optional): onnxruntime's intra-op threads.
    """

    def __init__(self, model: nn.Module, path: str,
                 threads: Optional[int] = None) -> None:
        self.model = model.cpu().eval()
        self.session = onnx_session(path, threads)
        self.cfg = model.cfg
        self.dataset_meta = model.dataset_meta
        self.data_preprocessor = model.data_preprocessor
        meta = self.session.get_modelmeta().custom_metadata_map
        if 'frame_weights' not in meta:
            raise ConfigError(f'{path}: not exported by '
                              'tools/deployment/pytorch2onnx.py (no frame '
                              'weights in its metadata)')
        self.path = path
        self.frame_weights = np.asarray(json.loads(meta['frame_weights']),
                                        dtype=np.float32)

    @property
    def test_cfg(self) -> dict:
        """The config model's ``test_cfg`` (flip test, decoding)."""
        return self.model.test_cfg

    def heatmaps(self, frames: Tensor) -> Tensor:
        """Heatmaps (B, K, h, w) of normalised ``frames`` (B, T, 3, H, W)."""
        array = np.ascontiguousarray(frames.float().cpu().numpy())
        return torch.from_numpy(self.session.run(None, {'frames': array})[0])

    def test_step(self, data: dict) -> List[PoseDataSample]:
        """mmengine's ``test_step``: ``data`` from the test pipeline."""
        data = self.data_preprocessor(data, False)
        inputs, samples = data['inputs'], data['data_samples']
        frames = inputs if inputs.dim() == 5 else inputs.unsqueeze(1)
        for sample in samples:
            weights = np.asarray(sample.metainfo.get('frame_weights', [1.0]),
                                 dtype=np.float32)
            if weights.shape != self.frame_weights.shape or not np.allclose(
                    weights, self.frame_weights, atol=1e-6):
                raise ConfigError(
                    f'{self.path} was exported with the frame weights '
                    f'{self.frame_weights.tolist()} (key first); these '
                    f'frames come with {weights.tolist()}: run the window '
                    'it was exported with, or export the one you run')
        head, test_cfg = self.model.head, self.model.test_cfg
        feats = self.heatmaps(frames)
        if test_cfg.get('flip_test', False):
            feats = [feats, self.heatmaps(frames.flip(-1))]
        head.forward = lambda x: x  # the graph ends with the head's layers
        try:
            preds = head.predict(feats, samples, test_cfg=test_cfg)
        finally:
            del head.forward
        instances, fields = preds if isinstance(preds, tuple) else (preds,
                                                                    None)
        return self.model.add_pred_to_datasample(instances, fields, samples)


def init_onnx_model(config: str, path: str,
                    threads: Optional[int] = None) -> OnnxPoseModel:
    """:class:`OnnxPoseModel` of ``config`` and the exported ``path``."""
    from mmpose.apis import init_model
    return OnnxPoseModel(init_model(config, None, device='cpu'), path,
                         threads)


__all__ = [
    'DEFORM_OPS', 'HeatmapGraph', 'OnnxPoseModel',
    'export_onnx', 'init_onnx_model', 'is_multi_frame', 'onnx_session',
    'reference_heatmaps', 'test_window'
]
