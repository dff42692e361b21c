"""Load the key frame and supporting frames of a video sample."""
from typing import List, Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.fileio import get
from mmpose.registry import TRANSFORMS

# mmpose's PackPoseInputs defaults plus the multi-frame and per-video keys.
MULTI_FRAME_META_KEYS = (
    'id', 'img_id', 'img_path', 'category_id', 'crowd_index', 'ori_shape',
    'img_shape', 'input_size', 'input_center', 'input_scale', 'flip',
    'flip_direction', 'flip_indices', 'raw_ann_info', 'dataset_name',
    'frame_weights', 'frame_offsets', 'frame_numbers', 'vid_id', 'frame_id',
    'nframes', 'file_name')


@TRANSFORMS.register_module()
class LoadVideoFrames(BaseTransform):
    """Load the frames of a sample as a list of BGR images, key first.

    Required keys: ``img_path`` (a path, or T paths key first) or ``img``
    (an ndarray, as ``mmpose.apis.inference_topdown`` gives, or a list).
    Added keys: ``img`` (list of T (H, W, 3)), ``img_shape`` and
    ``ori_shape`` (the key frame's), and for T = 1 when absent
    ``frame_weights`` ``[1.0]`` (float32) and ``frame_offsets`` ``[0]``.

    Args:
        to_float32 (bool): Convert frames to float32.
        color_type, imdecode_backend: As in :func:`mmcv.imfrombytes`.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self, to_float32: bool = False, color_type: str = 'color',
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        self.to_float32 = to_float32
        self.color_type = color_type
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args

    def _read(self, path: str) -> np.ndarray:
        try:
            content = get(path, backend_args=self.backend_args)
        except (FileNotFoundError, IsADirectoryError) as err:
            raise FileNotFoundError(f'cannot read frame {path}: {err}') \
                from err
        img = mmcv.imfrombytes(content, flag=self.color_type,
                               channel_order='bgr',
                               backend=self.imdecode_backend)
        if img is None:
            raise ValueError(f'cannot decode frame {path} (not an image or '
                             'truncated)')
        return img

    def transform(self, results: dict) -> dict:
        """Load the frames into ``results['img']`` (list, key first)."""
        if results.get('img') is not None:
            img = results['img']
            frames: List[np.ndarray] = (
                list(img) if isinstance(img, (list, tuple)) else [img])
            for frame in frames:
                if not isinstance(frame, np.ndarray):
                    raise TypeError('results["img"] must be an ndarray or a '
                                    f'list of ndarrays, got {type(frame)}')
            results.setdefault('img_path', None)
        else:
            paths = results.get('img_path')
            if paths is None:
                raise KeyError('LoadVideoFrames needs "img_path" or "img"')
            if isinstance(paths, str):
                paths = [paths]
            frames = [self._read(p) for p in paths]
            key_hw = frames[0].shape[:2]
            for p, frame in zip(paths[1:], frames[1:]):
                if frame.shape[:2] != key_hw:
                    raise ValueError(
                        f'frame {p} has size {frame.shape[:2]}, but the key '
                        f'frame {paths[0]} has size {key_hw}')
        if self.to_float32:
            frames = [f.astype(np.float32) for f in frames]
        num = len(frames)
        if 'frame_weights' not in results or 'frame_offsets' not in results:
            if num != 1:
                raise KeyError(f'{num} frames given without "frame_weights"'
                               ' and "frame_offsets"')
            results.setdefault('frame_weights', np.ones(1, dtype=np.float32))
            results.setdefault('frame_offsets', np.zeros(1, dtype=np.int64))
        num_w = len(results['frame_weights'])
        if num_w != num:
            raise ValueError(f'{num} frames but {num_w} frame_weights')
        results['img'] = frames
        results['img_shape'] = results['ori_shape'] = frames[0].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(to_float32={self.to_float32}, '
                f'color_type={self.color_type!r}, '
                f'imdecode_backend={self.imdecode_backend!r}, '
                f'backend_args={self.backend_args})')
