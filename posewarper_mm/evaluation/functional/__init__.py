"""PoseTrack AP of official per-video files (numpy only)."""
from .point_in_polygon import points_in_polygon
from .posetrack_ap import evaluate_posetrack, summarize_joint_aps, voc_ap
from .table import format_posetrack_table, summary_only

__all__ = [
    'evaluate_posetrack', 'format_posetrack_table', 'points_in_polygon',
    'summarize_joint_aps', 'summary_only', 'voc_ap']
