from .deform_conv_backends import (DEFORM_CONV_BACKENDS, BackendDeformConv2d,
                                   largest_divisor_at_most)
from .pose_warping_neck import PoseWarpingNeck

__all__ = [
    'DEFORM_CONV_BACKENDS', 'BackendDeformConv2d', 'largest_divisor_at_most',
    'PoseWarpingNeck']
