"""Validation of :class:`PoseWarpingNeck` arguments."""
from typing import Optional, Sequence, Tuple

from mmpose.models.backbones.resnet import BasicBlock, Bottleneck

from ...errors import ConfigError
from .deform_conv_backends import DEFORM_CONV_BACKENDS

RES_BLOCKS = {'BASIC': BasicBlock, 'BOTTLENECK': Bottleneck}
DEFAULT_RES_BLOCKS_CFG = dict(block='BASIC', num_blocks=20)
TRANS_CONV_KERNELS = (0, 1, 3)


def _where(name: str) -> str:
    return f'posewarper_mm.models.necks.PoseWarpingNeck: {name}'


def check_positive_int(name: str, value) -> int:
    """Return ``value`` if it is an int >= 1, else raise a clear error."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f'{_where(name)} must be an int, got {value!r}')
    if value < 1:
        raise ConfigError(f'{_where(name)} must be >= 1, got {value}')
    return value


def check_odd_kernel(name: str, value) -> int:
    """Return ``value`` if it is an odd kernel size >= 1."""
    check_positive_int(name, value)
    if value % 2 == 0:
        raise ConfigError(
            f'{_where(name)} must be odd so that the output keeps the '
            f'input size, got {value}')
    return value


def check_dilations(dilations) -> Tuple[int, ...]:
    """Return the dilations as a tuple of ints >= 1 (at least one)."""
    if isinstance(dilations, (str, bytes)) or \
            not isinstance(dilations, Sequence):
        raise TypeError(
            f'{_where("dilations")} must be a sequence of ints, got '
            f'{dilations!r}')
    if len(dilations) == 0:
        raise ConfigError(
            f'{_where("dilations")} is empty; the number of offset layers '
            'should be larger than 0')
    for value in dilations:
        check_positive_int('each of dilations', value)
    return tuple(dilations)


def check_trans_conv_kernel(kernel, in_channels: int,
                            out_channels: int) -> int:
    """Check the trans layer kernel (0 = identity, 1 or 3 = conv)."""
    if kernel not in TRANS_CONV_KERNELS or isinstance(kernel, bool):
        raise ConfigError(
            f'{_where("trans_conv_kernel")} must be one of '
            f'{TRANS_CONV_KERNELS} (0 = identity), got {kernel!r}')
    if kernel == 0 and in_channels != out_channels:
        raise ConfigError(
            f'{_where("trans_conv_kernel")}=0 (identity) needs '
            f'in_channels == out_channels, got {in_channels} and '
            f'{out_channels}')
    return kernel


def check_res_blocks_cfg(cfg: Optional[dict]) -> Tuple[type, int]:
    """Resolve ``res_blocks_cfg`` into (block class, number of blocks)."""
    if cfg is None:
        cfg = DEFAULT_RES_BLOCKS_CFG
    if not isinstance(cfg, dict):
        raise TypeError(
            f'{_where("res_blocks_cfg")} should be dict or None, got '
            f'{type(cfg).__name__}')
    unknown = set(cfg) - set(DEFAULT_RES_BLOCKS_CFG)
    if unknown:
        raise ConfigError(
            f'{_where("res_blocks_cfg")} has unknown keys '
            f'{sorted(unknown)}; allowed: {sorted(DEFAULT_RES_BLOCKS_CFG)}')
    block = cfg.get('block', DEFAULT_RES_BLOCKS_CFG['block'])
    if block not in RES_BLOCKS:
        raise ConfigError(
            f'{_where("res_blocks_cfg")}["block"] must be one of '
            f'{sorted(RES_BLOCKS)}, got {block!r}')
    num_blocks = check_positive_int(
        'res_blocks_cfg["num_blocks"]',
        cfg.get('num_blocks', DEFAULT_RES_BLOCKS_CFG['num_blocks']))
    return RES_BLOCKS[block], num_blocks


def check_deform_groups(deform_groups, out_channels: int) -> int:
    """Check that the heatmap channels split into the deformable groups."""
    check_positive_int('deform_groups', deform_groups)
    if out_channels % deform_groups != 0:
        raise ConfigError(
            f'{_where("out_channels")}={out_channels} is not divisible by '
            f'deform_groups={deform_groups}')
    return deform_groups


def check_backend(backend) -> str:
    """Check the deformable convolution backend name."""
    if backend not in DEFORM_CONV_BACKENDS:
        raise ConfigError(f'{_where("deform_backend")} must be one of '
                          f'{DEFORM_CONV_BACKENDS}, got {backend!r}')
    return backend


def check_in_index(in_index) -> int:
    """Check the index of the backbone output to use."""
    if isinstance(in_index, bool) or not isinstance(in_index, int):
        raise TypeError(f'{_where("in_index")} must be an int, got '
                        f'{in_index!r}')
    return in_index


def check_num_frames(total: int, num_frames) -> int:
    """Return the batch size B of ``total = T * B`` frame-major rows."""
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) \
            or num_frames < 1:
        raise ValueError(f'{_where("num_frames")} must be an int >= 1, got '
                         f'{num_frames!r}')
    if total % num_frames != 0:
        raise ValueError(
            f'{_where("inputs")}: got {total} feature maps, not a multiple '
            f'of num_frames={num_frames}; inputs must be frame-major '
            '(T*B, C, h, w)')
    return total // num_frames


def check_frame_slots(frame_slots: Optional[Sequence[int]],
                      num_frames: int) -> Tuple[int, ...]:
    """Return the frame slots to warp (default: all) as a tuple of ints.

    A slot is a position on the T axis of the frame-major features: 0 is
    the key frame, ``num_frames - 1`` the last supporting frame.
    """
    if frame_slots is None:
        return tuple(range(num_frames))
    slots = tuple(int(slot) for slot in frame_slots)
    if len(slots) == 0:
        raise ValueError(
            f'{_where("frame_slots")} is empty; give at least one frame '
            'slot to warp')
    bad = [slot for slot in slots if not 0 <= slot < num_frames]
    if bad:
        raise ValueError(f'{_where("frame_slots")} {bad} out of range for '
                         f'num_frames={num_frames}')
    return slots
