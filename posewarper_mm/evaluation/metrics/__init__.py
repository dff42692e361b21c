"""Metrics registered into mmpose's METRICS registry."""
from .posetrack_ap_metric import PoseTrackAPMetric, gt_folder_from_ann_file

__all__ = ['PoseTrackAPMetric', 'gt_folder_from_ann_file']
