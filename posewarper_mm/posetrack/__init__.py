"""PoseTrack18 files: names and ids, joints, reading and checking, writing."""
from .joints import (EVAL_JOINT_NAMES, JOINT_GROUPS, NUM_EVAL_JOINTS,
                     POSETRACK18_KEYPOINT_NAMES, POSETRACK18_TO_EVAL_IDS,
                     SUMMARY_KEYS, posetrack18_category)
from .naming import (frame_file_name, frame_index_from_image_id,
                     frame_index_from_name, frame_index_or_none, frame_path,
                     image_id, name_tail, parse_frame_name, posetrack_image_id,
                     sibling_frame_path, video_folder,
                     video_number_from_image_id, video_number_or_none)
from .reader import (MIN_SCORE, PoseTrackFrame, PoseTrackPerson,
                     check_coco_dict, check_detections, list_gt_files,
                     load_json, load_posetrack_video)
from .writer import PoseTrackVideoResults, write_posetrack_predictions

__all__ = [
    'EVAL_JOINT_NAMES', 'JOINT_GROUPS', 'MIN_SCORE', 'NUM_EVAL_JOINTS',
    'POSETRACK18_KEYPOINT_NAMES', 'POSETRACK18_TO_EVAL_IDS', 'PoseTrackFrame',
    'PoseTrackPerson', 'PoseTrackVideoResults', 'SUMMARY_KEYS',
    'check_coco_dict', 'check_detections', 'frame_file_name',
    'frame_index_from_image_id', 'frame_index_from_name',
    'frame_index_or_none', 'frame_path', 'image_id', 'list_gt_files',
    'load_json', 'load_posetrack_video', 'name_tail', 'parse_frame_name',
    'posetrack18_category', 'posetrack_image_id', 'sibling_frame_path',
    'video_folder', 'video_number_from_image_id', 'video_number_or_none',
    'write_posetrack_predictions']
