"""PoseTrack AP evaluation of official per-video files (numpy only)."""
from ...errors import InputFileError
from .point_in_polygon import points_in_polygon
from .posetrack_ap import (assign_predictions, compute_joint_aps,
                           evaluate_posetrack, summarize_joint_aps, voc_ap)
from .posetrack_frames import (FramePair, clean_frame_pairs, list_gt_files,
                               load_frame_pairs)
from .posetrack_io import (MIN_SCORE, PoseTrackFrame, PoseTrackPerson,
                           PoseTrackVideo, load_posetrack_video,
                           parse_frame_name, read_json)
from .posetrack_joints import (EVAL_JOINT_NAMES, JOINT_GROUPS,
                               POSETRACK18_KEYPOINT_NAMES,
                               POSETRACK18_TO_EVAL_IDS, SUMMARY_KEYS,
                               keypoint_names_to_eval_ids)
from .posetrack_writer import posetrack18_category, write_posetrack_predictions
from .table import format_posetrack_table, summary_only

__all__ = [
    'EVAL_JOINT_NAMES', 'FramePair', 'JOINT_GROUPS', 'MIN_SCORE',
    'POSETRACK18_KEYPOINT_NAMES', 'POSETRACK18_TO_EVAL_IDS', 'InputFileError',
    'PoseTrackFrame', 'PoseTrackPerson', 'PoseTrackVideo', 'SUMMARY_KEYS',
    'assign_predictions', 'clean_frame_pairs', 'compute_joint_aps',
    'evaluate_posetrack', 'format_posetrack_table',
    'keypoint_names_to_eval_ids', 'list_gt_files', 'load_frame_pairs',
    'load_posetrack_video', 'parse_frame_name', 'points_in_polygon',
    'posetrack18_category', 'read_json', 'summarize_joint_aps', 'summary_only',
    'voc_ap', 'write_posetrack_predictions'
]
