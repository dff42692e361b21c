"""Data preprocessor for multi-frame (T, 3, H, W) samples."""
import math
from typing import Any, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmpose.models.data_preprocessors import PoseDataPreprocessor
from mmpose.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class MultiFramePoseDataPreprocessor(PoseDataPreprocessor):
    """Normalise every frame of (T, 3, H, W) samples; stack to (B, T, 3, H, W).

    Each frame gets the channel conversion and ``(x - mean) / std``, key
    frame first. A (3, H, W) sample counts as T=1; all samples of a batch
    have the same T. Frames are padded with ``pad_value`` to the largest
    H, W of the batch rounded up to ``pad_size_divisor``. The arguments
    are :class:`PoseDataPreprocessor`'s (no batch augments), plus:

    Args:
        single_frame_output (bool): Return (B, 3, H, W) for single-frame
            models (the stage-1 model fed by the multi-frame pipeline with
            T = 1); T > 1 is then an error. Defaults to False.
        channels_last (bool): Store every frame channels-last (NHWC strides;
            the estimator's frame-major view stays NHWC); outputs change by
            float rounding. Defaults to False.
    """

    def __init__(self, mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 pad_size_divisor: int = 1, pad_value: Union[float, int] = 0,
                 bgr_to_rgb: bool = False, rgb_to_bgr: bool = False,
                 non_blocking: Optional[bool] = False,
                 single_frame_output: bool = False,
                 channels_last: bool = False) -> None:
        super().__init__(
            mean=mean, std=std, pad_size_divisor=pad_size_divisor,
            pad_value=pad_value, bgr_to_rgb=bgr_to_rgb, rgb_to_bgr=rgb_to_bgr,
            non_blocking=non_blocking, batch_augments=None)
        self.single_frame_output = single_frame_output
        self.channels_last = channels_last

    def cast_data(self, data: Any) -> Any:
        """Move the batch to the model's device; on the CPU the
        ``data_samples`` (built there by the loader) are kept as they are
        rather than rebuilt field by field."""
        if self.device.type != 'cpu' or not isinstance(data, Mapping) or \
                'data_samples' not in data:
            return super().cast_data(data)
        rest = {k: v for k, v in data.items() if k != 'data_samples'}
        moved = super().cast_data(rest)
        return {**moved, 'data_samples': data['data_samples']}

    def _as_frames(self, sample: Tensor, index: int) -> Tensor:
        """(3, H, W) -> (1, 3, H, W); (T, 3, H, W) unchanged."""
        where = f'{type(self).__name__}: sample {index} of the batch'
        if not isinstance(sample, Tensor):
            raise TypeError(f'{where} is a {type(sample).__name__}, expected '
                            'a tensor')
        sample = sample.unsqueeze(0) if sample.dim() == 3 else sample
        shape = tuple(sample.shape)
        if sample.dim() != 4:
            raise ValueError(f'{where} has shape {shape}; expected (T, C, H, '
                             'W) or (C, H, W)')
        if self._channel_conversion and shape[1] != 3:
            raise ValueError(f'{where} has shape {shape}; channel conversion '
                             'needs 3 channels')
        if self._enable_normalize and self.mean.shape[0] not in (1, shape[1]):
            raise ValueError(f'{where} has shape {shape}; mean/std have '
                             f'{self.mean.shape[0]} values')
        return sample

    def _normalise(self, frames: Tensor) -> Tensor:
        """Channel conversion, then normalisation of (..., C, H, W)."""
        if self._channel_conversion:
            frames = frames[..., [2, 1, 0], :, :]
        frames = frames.float()
        if self._enable_normalize:
            frames = (frames - self.mean) / self.std
        return frames

    def _pad(self, frames: Tensor, height: int, width: int) -> Tensor:
        """Pad (T, C, h, w) frames at the bottom and right to (height,
        width) with ``pad_value``."""
        pad = (0, width - frames.size(-1), 0, height - frames.size(-2))
        return F.pad(frames, pad, 'constant', self.pad_value) if any(pad) \
            else frames

    def _padded_size(self, height: int, width: int) -> Tuple[int, int]:
        divisor = self.pad_size_divisor
        return (math.ceil(height / divisor) * divisor,
                math.ceil(width / divisor) * divisor)

    @staticmethod
    def _to_channels_last(batch: Tensor) -> Tensor:
        """``batch`` (B, [T,] 3, H, W) with each frame stored NHWC; a 5-D
        batch is (T, B, H, W, 3) in memory, so its frame-major view
        ``transpose(0, 1).flatten(0, 1)`` needs no copy."""
        if batch.dim() == 4:
            return batch.contiguous(memory_format=torch.channels_last)
        return batch.permute(1, 0, 3, 4, 2).contiguous().permute(1, 0, 4, 2,
                                                                 3)

    def forward(self, data: dict, training: bool = False) -> dict:
        """Normalise, pad and stack a batch of multi-frame samples.

        Args:
            data (dict): ``inputs``: (T, 3, H, W) or (3, H, W) tensors, or
                one stacked tensor; ``data_samples``: ``PoseDataSample``s.
            training (bool): Unused.

        Returns:
            dict: ``inputs`` float (B, T, 3, H, W) (or (B, 3, H, W), see
            ``single_frame_output``) and ``data_samples`` with
            ``batch_input_shape`` and ``pad_shape`` in their metainfo.
        """
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, Tensor):
            if inputs.dim() not in (4, 5):
                raise ValueError(f'{type(self).__name__}: a stacked batch '
                                 'must be (B, T, C, H, W) or (B, C, H, W), '
                                 f'got shape {tuple(inputs.shape)}')
            inputs = list(inputs.unbind(0))
        if not isinstance(inputs, (list, tuple)) or len(inputs) == 0:
            raise TypeError(
                f'{type(self).__name__}: data["inputs"] must be a non-empty '
                f'list of tensors, got {type(inputs).__name__}')
        samples = [self._as_frames(s, i) for i, s in enumerate(inputs)]
        per_sample = [sample.size(0) for sample in samples]
        if len(set(per_sample)) > 1:
            raise ValueError(
                f'{type(self).__name__}: all samples of a batch must have '
                f'the same number of frames T, got {per_sample}')
        pad_h, pad_w = self._padded_size(
            max(s.size(-2) for s in samples), max(s.size(-1) for s in samples))
        if all(sample.shape[-2:] == (pad_h, pad_w) for sample in samples):
            # nothing to pad (top-down crops): one op over the whole batch
            batch_inputs = self._normalise(torch.stack(samples))
        else:
            batch_inputs = torch.stack(
                [self._pad(self._normalise(s), pad_h, pad_w) for s in samples])
        if self.single_frame_output:
            if batch_inputs.size(1) != 1:
                raise ValueError(
                    f'{type(self).__name__}: single_frame_output=True but '
                    f'the samples have T={batch_inputs.size(1)} frames; use '
                    'the dataset with `single_frame=True` or a multi-frame '
                    'model')
            batch_inputs = batch_inputs[:, 0]
        if self.channels_last:
            batch_inputs = self._to_channels_last(batch_inputs)

        data_samples = data.get('data_samples', None)
        if data_samples is not None:
            for data_sample, sample in zip(data_samples, samples):
                data_sample.set_metainfo({
                    'batch_input_shape': (pad_h, pad_w),
                    'pad_shape': self._padded_size(*sample.shape[-2:])})
        return {'inputs': batch_inputs, 'data_samples': data_samples}
