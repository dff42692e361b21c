"""PoseTrack evaluation: numpy AP (functional) and the mmpose metric."""
from .functional import evaluate_posetrack, format_posetrack_table
from .metrics import PoseTrackAPMetric

__all__ = ['PoseTrackAPMetric', 'evaluate_posetrack', 'format_posetrack_table']
