"""PoseWarper on a video, in the style of mmpose's inferencers."""
import logging
import os.path as osp
from dataclasses import dataclass, field
from typing import (Callable, Dict, Iterator, List, Optional, Sequence, Tuple,
                    Union)

import cv2
import mmcv
import mmengine
import numpy as np
import torch
from mmengine.infer.infer import ModelType
from mmengine.logging import print_log
from mmengine.structures import InstanceData
from mmpose.apis.inferencers import Pose2DInferencer
from mmpose.structures import PoseDataSample, split_instances

from ..datasets.temporal_window import TemporalWindow
from ..engine import init_inference_model
from ..errors import InputFileError, OutputLocationError
from ..posetrack import (PoseTrackVideoResults, frame_file_name,
                         posetrack_image_id)
from ..utils import PendingOutputs, prepare_output_file
from .deployment import OnnxPoseModel, test_window
from .inference import build_instance_data, instances_to_persons
from .person_boxes import (BoxProvider, DetectionJsonBoxes, DetInferencerBoxes,
                           WholeFrameBoxes)
from .tracking import PoseTracker
from .video_frames import FrameWindow, FrameWindowStream, open_frame_source

BACKENDS = ('pytorch', 'onnxruntime')
Frames = Union[str, np.ndarray, Sequence[np.ndarray]]


@dataclass
class _Run:
    """What one call of the inferencer writes and remembers."""
    video_name: Optional[str]
    bbox_json: Optional[str]
    allow_short: bool
    fps: Optional[float]
    tracker: Optional[PoseTracker]
    out_paths: Dict[str, str]
    name: str = 'video'
    frame_name: Callable[[int], str] = frame_file_name
    frame_files: Optional[List[str]] = None
    outputs: PendingOutputs = field(default_factory=PendingOutputs)
    predictions: List[dict] = field(default_factory=list)
    posetrack: Optional[PoseTrackVideoResults] = None


def _frame_boxes(value, index: int) -> np.ndarray:
    """Given boxes of frame ``index`` as float32 (N, 5) xyxy + score."""
    boxes = np.asarray(value, dtype=np.float32)
    if boxes.size == 0:
        return np.zeros((0, 5), dtype=np.float32)
    if boxes.ndim != 2 or boxes.shape[1] not in (4, 5) \
            or not np.isfinite(boxes).all():
        raise ValueError(f'bboxes of frame {index} must be finite (N, 4) '
                         f'or (N, 5) xyxy[, score], got {value!r}')
    if boxes.shape[1] == 4:
        boxes = np.concatenate([boxes, np.ones_like(boxes[:, :1])], axis=1)
    return boxes


def _output_files(places: Dict[str, str], name: str) -> Dict[str, str]:
    """The output files of video ``name`` (``''``: none): the video (a
    folder, or a file name with an extension, as mmpose's), mmpose's json
    (a folder) and the PoseTrack18 file (a ``.json``, or a folder)."""
    vis, pred, posetrack = (places[k] for k in ('visualization', 'prediction',
                                                'posetrack'))
    if vis and not osp.splitext(vis)[1]:
        vis = osp.join(vis, f'{name}.mp4')
    if pred:
        pred = osp.join(pred, f'{name}.json')
    if posetrack and not posetrack.endswith('.json'):
        posetrack = osp.join(posetrack, f'{name}.json')
    return dict(visualization=vis, prediction=pred, posetrack=posetrack)


class PoseWarperInferencer(Pose2DInferencer):
    """mmpose's ``Pose2DInferencer`` for PoseWarper: every key frame of a
    video is estimated from its temporal window.

    The windows come from :class:`FrameWindowStream` (bounded memory, the
    window clamped to the video): the config's test window, or with
    ``online`` its past frames only (:meth:`TemporalWindow.online`).
    Inputs are a video file, a folder of frames, ``'webcam:<id>'`` or a
    list of BGR frames (H, W, 3), each one video. Person boxes per frame
    come from the call's ``bboxes``, else its ``bbox_json``, else the
    ``det_model`` detector, else the whole frame. Track ids
    (:class:`PoseTracker`) go into ``track_ids`` of the predictions, the
    ``track_id`` of mmpose's prediction json (``pred_out_dir``) and of the
    PoseTrack18 file (``posetrack_out``). Every output file is written
    under a temporary name and renamed when the video is complete.

    Args:
        model (str): The PoseWarper (or single-frame) config file.
        weights (str, optional): Its checkpoint (checked as the tools do),
            or the exported ``.onnx`` file with ``backend='onnxruntime'``.
        device, scope, det_model, det_weights, det_cat_ids, show_progress:
            As mmpose's ``Pose2DInferencer`` (``det_cat_ids`` 0: person).
        backend (str): ``'pytorch'`` or ``'onnxruntime'``
            (:class:`~.deployment.OnnxPoseModel`, CPU).
        window (TemporalWindow, optional): The window (default: the
            config's test window).
        online (bool): Past frames only; no frame after the key is read.
        allow_partial (bool): Accept a checkpoint that leaves weights
            unloaded.
        onnx_threads (int, optional): onnxruntime's intra-op threads.

    Example::

        >>> inferencer = PoseWarperInferencer(CONFIG, CKPT)
        >>> for result in inferencer('video.mp4', vis_out_dir='out',
        ...                          posetrack_out='out'):
        ...     persons = result['predictions'][0]
    """

    preprocess_kwargs: set = {'bbox_thr', 'nms_thr', 'bboxes'}
    forward_kwargs: set = {'pose_based_nms'}

    def __init__(self, model: Union[ModelType, str],
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 scope: Optional[str] = 'mmpose',
                 det_model: Optional[Union[ModelType, str]] = None,
                 det_weights: Optional[str] = None,
                 det_cat_ids: Union[int, Tuple[int, ...]] = 0,
                 show_progress: bool = False, *, backend: str = 'pytorch',
                 window: Optional[TemporalWindow] = None,
                 online: bool = False, allow_partial: bool = False,
                 onnx_threads: Optional[int] = None) -> None:
        if backend not in BACKENDS:
            raise ValueError(f'backend must be one of {BACKENDS}, got '
                             f'{backend!r}')
        if isinstance(model, str) and not osp.isfile(model):
            raise FileNotFoundError(f'{model}: config file not found')
        if backend == 'onnxruntime' and weights is None:
            raise ValueError('the onnxruntime backend needs the exported '
                             '.onnx file as weights')
        self.backend, self.allow_partial = backend, allow_partial
        self._run: Optional[_Run] = None
        super().__init__(model, weights if backend == 'pytorch' else None,
                         device, scope, det_model, det_weights, det_cat_ids,
                         show_progress)
        torch_model = self.model
        if backend == 'onnxruntime':
            self.model = OnnxPoseModel(torch_model, weights, onnx_threads)
        window = window or test_window(torch_model)
        self.window = window.online() if online else window.key_first()
        self.online = online

    def _init_model(self, cfg, weights: Optional[str],
                    device: str = 'cpu') -> torch.nn.Module:
        """The model of ``cfg`` with the checks of the tools
        (:func:`~posewarper_mm.engine.init_inference_model`)."""
        return init_inference_model(cfg, weights, device, self.allow_partial)

    def __call__(self, inputs: Frames, return_datasamples: bool = False,
                 batch_size: int = 1, out_dir: Optional[str] = None, *,
                 video_name: Optional[str] = None,
                 bbox_json: Optional[str] = None,
                 posetrack_out: Optional[str] = None,
                 tracking: Optional[str] = 'iou', tracking_thr: float = 0.3,
                 allow_short_video: bool = False, fps: Optional[float] = None,
                 **kwargs) -> Iterator[dict]:
        """Estimate the poses of every frame of one video; yields mmpose's
        result dict (``predictions``, ``visualization``) per frame.

        Args:
            inputs (str | np.ndarray | Sequence[np.ndarray]): A video file,
                a folder of frames, ``'webcam:<id>'`` or BGR frames.
            out_dir, **kwargs: As mmpose's inferencers (``bboxes``: per
                frame (N, 4) or (N, 5) xyxy[, score], or a provider
                ``(frame_index, frame) -> (N, 5)``; ``bbox_thr``,
                ``nms_thr``, ``vis_out_dir`` (a folder, or the ``.mp4``),
                ``pred_out_dir``, ``kpt_thr``, ``draw_bbox``, ...).
            video_name (str, optional): The video's name in the outputs,
                its PoseTrack image ids and the ``bbox_json`` match
                (default: the file or folder name).
            bbox_json (str, optional): A PoseTrack-style detection json;
                only the records of this video apply
                (:class:`DetectionJsonBoxes`).
            posetrack_out (str, optional): The PoseTrack18 result file, or
                a folder for ``<video name>.json``.
            tracking (str, optional): ``'iou'``, ``'oks'`` or None (the
                index in the frame).
            tracking_thr (float): The least IoU / OKS of a match.
            allow_short_video (bool): Warn, not fail, when a video decodes
                fewer frames than its container announces.
            fps (float, optional): Frame rate of the written video
                (default: the input's).

        Raises:
            FileNotFoundError, InputFileError: For bad inputs (one line
                naming the file); OutputLocationError for bad outputs.
        """
        if 'bboxes' in kwargs and bbox_json:
            raise ValueError('give bboxes or bbox_json, not both')
        sigmas = self.model.dataset_meta.get('sigmas')
        tracker = None if tracking in (None, 'none') else PoseTracker(
            tracking, tracking_thr, sigmas)
        if out_dir is not None:
            kwargs.setdefault('vis_out_dir', f'{out_dir}/visualizations')
            kwargs.setdefault('pred_out_dir', f'{out_dir}/predictions')
        out_paths = dict(visualization=kwargs.get('vis_out_dir') or '',
                         prediction=kwargs.get('pred_out_dir') or '',
                         posetrack=posetrack_out or '')
        run = _Run(video_name, bbox_json, allow_short_video, fps, tracker,
                   out_paths)
        self._run = run
        self._video_input = False
        try:
            yield from super().__call__(inputs, return_datasamples,
                                        batch_size, None, **kwargs)
            self._release_writer()
            for path in run.outputs.commit():
                print_log(f'{path} has been written', logger='current',
                          level=logging.INFO)
        except BaseException:
            self._release_writer()
            run.outputs.discard()
            raise

    # inputs: one video as a stream of windows
    def _inputs_to_list(self, inputs: Frames) -> FrameWindowStream:
        run = self._run
        if isinstance(inputs, str):
            source = open_frame_source(inputs, run.allow_short)
            run.frame_name = source.frame_name
            run.frame_files = getattr(source, 'files', None)
            return self._start_video(source, source.name, source.fps,
                                     source.frame_size)
        frames = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
        if not frames or any(
                not isinstance(f, np.ndarray) or f.ndim != 3
                or f.shape != frames[0].shape for f in frames):
            raise ValueError('inputs must be a video file, a folder of '
                             "frames, 'webcam:<id>' or BGR frames (H, W, 3)"
                             ' of one size')
        height, width = frames[0].shape[:2]
        return self._start_video(frames, 'video', 25.0, (width, height))

    def _get_webcam_inputs(self, inputs: str) -> FrameWindowStream:
        frames = super()._get_webcam_inputs(inputs)
        if not self._video_input:
            raise InputFileError(f'{inputs}: cannot open the camera')
        info = self.video_info
        fps = info['fps'] if info['fps'] and info['fps'] > 0 else 25.0
        return self._start_video(frames, 'webcam', fps,
                                 (int(info['width']), int(info['height'])))

    def _start_video(self, frames, name: str, fps: float,
                     size: Tuple[int, int]) -> FrameWindowStream:
        """Name the video and its outputs (checked before any inference);
        the stream of windows of ``frames``."""
        run = self._run
        run.name = run.video_name or name
        run.posetrack = PoseTrackVideoResults(run.name)
        self._video_input = True
        self.video_info = dict(fps=run.fps or fps, name=f'{run.name}.mp4',
                               writer=None, width=size[0], height=size[1],
                               predictions=[])
        paths = run.out_paths = _output_files(run.out_paths, run.name)
        seen: Dict[str, str] = {}
        for what, path in paths.items():
            if not path:
                continue
            if osp.abspath(path) in seen:
                raise OutputLocationError(
                    f'{path}: both the {seen[osp.abspath(path)]} and the '
                    f'{what} output would be written here; give them '
                    'different folders')
            seen[osp.abspath(path)] = what
            prepare_output_file(path, f'{what} output')
        if paths['visualization']:
            self._open_writer(paths['visualization'], size)
        return FrameWindowStream(frames, self.window, self.online)

    # boxes and data
    def _box_provider(self, bboxes, bbox_thr: float,
                      nms_thr: float) -> BoxProvider:
        run = self._run
        if callable(bboxes):
            return lambda i, frame: _frame_boxes(bboxes(i, frame), i)
        if bboxes is not None:
            return lambda i, frame: _frame_boxes(
                bboxes[i] if i < len(bboxes) else [], i)
        if run.bbox_json:
            files = run.frame_files
            names = [osp.basename(f) for f in files] if files else None
            ids = [posetrack_image_id(run.name, i)
                   for i in range(len(files))] if files else None
            return DetectionJsonBoxes(run.bbox_json, bbox_thr, names, ids,
                                      run.name)
        if self.detector is not None:
            return DetInferencerBoxes(self.detector, self.det_cat_ids,
                                      bbox_thr, nms_thr)
        return WholeFrameBoxes()

    def preprocess(self, inputs: FrameWindowStream, batch_size: int = 1,
                   bboxes=None, bbox_thr: float = 0.3, nms_thr: float = 0.3,
                   **kwargs) -> Iterator[Tuple[dict, List[FrameWindow]]]:
        """Per key frame its collated crops (``inputs`` empty for a frame
        without a person) and ``[window]``."""
        boxes = self._box_provider(bboxes, bbox_thr, nms_thr)
        for window in inputs:
            dets = boxes(window.index, window.key_frame)
            infos = self.preprocess_single(window, window.index, bboxes=dets)
            if infos:
                yield self.collate_fn(infos), [window]
            else:
                yield dict(inputs=[],
                           data_samples=[self._empty_sample(window)]), [
                               window
                           ]

    def _metainfo(self, window: FrameWindow) -> dict:
        return dict(img_path=self._run.frame_name(window.index),
                    frame_numbers=window.frame_numbers)

    def preprocess_single(self, input: FrameWindow, index: int,
                          bbox_thr: float = 0.3, nms_thr: float = 0.3,
                          bboxes: np.ndarray = ()) -> List[dict]:
        """The pipeline's data of each person box (N, 5) xyxy + score of
        key frame ``index``, cropped from every frame of the window."""
        meta = dict(self.model.dataset_meta, **self._metainfo(input))
        return [
            self.pipeline(build_instance_data(
                input.frames, box[:4], input.weights, input.offsets,
                float(box[4]), meta)) for box in bboxes
        ]

    def _empty_sample(self, window: FrameWindow) -> PoseDataSample:
        height, width = window.key_frame.shape[:2]
        num_keypoints = self.model.dataset_meta['num_keypoints']
        sample = PoseDataSample(metainfo=dict(
            self._metainfo(window), ori_shape=(height, width),
            img_shape=(height, width)))
        sample.pred_instances = InstanceData(
            keypoints=np.zeros((0, num_keypoints, 2), np.float32),
            keypoint_scores=np.zeros((0, num_keypoints), np.float32),
            bboxes=np.zeros((0, 4), np.float32),
            bbox_scores=np.zeros(0, np.float32))
        return sample

    @torch.no_grad()
    def forward(self, inputs: dict, bbox_thr: float = -1,
                pose_based_nms: bool = False) -> List[PoseDataSample]:
        """One merged sample per key frame, with ``track_ids`` (N,)."""
        if inputs['inputs']:
            samples = super().forward(inputs, True, bbox_thr, pose_based_nms)
        else:
            samples = inputs['data_samples']
        tracker = self._run.tracker
        for sample in samples:
            inst = sample.pred_instances
            inst.track_ids = np.arange(len(inst), dtype=np.int64) \
                if tracker is None else tracker(inst)
        return samples

    # outputs
    def visualize(self, inputs: List[FrameWindow], preds, **kwargs):
        """mmpose's drawing on the key frames."""
        return super().visualize([w.key_frame for w in inputs], preds,
                                 **kwargs)

    def _open_writer(self, path: str, size: Tuple[int, int]) -> None:
        """Open the video writer of frames of ``size`` (w, h) at the
        temporary name of ``path``, before any inference."""
        tmp = self._run.outputs.add(path)
        writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*'mp4v'),
                                 self.video_info['fps'], tuple(size))
        if not writer.isOpened():
            writer.release()
            raise OutputLocationError(
                f'{path}: OpenCV cannot write an mp4v video here (no encoder '
                'in this OpenCV build, or the location is not writable)')
        self.video_info.update(writer=writer, output_file=path)

    def save_visualization(self, visualization: np.ndarray, vis_out_dir: str,
                           img_name: Optional[str] = None) -> None:
        """Append an RGB frame (H, W, 3) to the video."""
        info = self.video_info
        frame = mmcv.rgb2bgr(visualization)
        size = (int(info['width']), int(info['height']))
        if (frame.shape[1], frame.shape[0]) != size:
            frame = cv2.resize(frame, size)
        info['writer'].write(frame)

    def postprocess(self, preds: List[PoseDataSample], visualization,
                    return_datasample=None, return_datasamples: bool = False,
                    pred_out_dir: str = '') -> dict:
        """mmpose's result dict, each instance with its ``track_id``; the
        frame is recorded for the prediction and PoseTrack18 files."""
        result = super().postprocess(preds, visualization, return_datasample,
                                     return_datasamples, '')
        run = self._run
        frames = []
        for sample in preds:
            instances = split_instances(sample.pred_instances)
            for inst, track_id in zip(instances,
                                      sample.pred_instances.track_ids):
                inst['track_id'] = int(track_id)
            index = int(sample.metainfo['frame_numbers'][0])
            if run.out_paths['prediction']:
                run.predictions.append(dict(frame_id=index,
                                            instances=instances))
            run.posetrack.add_frame(index, run.frame_name(index),
                                    instances_to_persons([sample]))
            frames.append(instances)
        if not (return_datasamples or return_datasample):
            result['predictions'] = frames
        return result

    def _finalize_video_processing(self, pred_out_dir: str = '') -> None:
        """Close the video; write the prediction and PoseTrack18 files
        under their temporary names."""
        self._release_writer()
        run = self._run
        if run.out_paths['prediction']:
            mmengine.dump(run.predictions,
                          run.outputs.add(run.out_paths['prediction']),
                          file_format='json', indent='  ')
        if run.out_paths['posetrack']:
            run.posetrack.dump(run.outputs.add(run.out_paths['posetrack']))

    def _release_writer(self) -> None:
        info = getattr(self, 'video_info', None)
        if info and info.get('writer') is not None:
            info['writer'].release()
            info['writer'] = None
