"""Models of posewarper_mm; importing registers them in mmpose.MODELS."""
from .necks import BackendDeformConv2d, PoseWarpingNeck

__all__ = ['BackendDeformConv2d', 'PoseWarpingNeck']
