"""Models of posewarper_mm; importing registers them in mmpose.MODELS."""
from .data_preprocessors import MultiFramePoseDataPreprocessor
from .heads import TemporalAggregationHead
from .necks import BackendDeformConv2d, PoseWarpingNeck
from .pose_estimators import PoseWarperEstimator

__all__ = [
    'MultiFramePoseDataPreprocessor', 'TemporalAggregationHead',
    'BackendDeformConv2d', 'PoseWarpingNeck', 'PoseWarperEstimator']
