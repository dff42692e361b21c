from .posewarper_estimator import PoseWarperEstimator

__all__ = ['PoseWarperEstimator']
