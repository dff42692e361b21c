"""Video inference and pose propagation with PoseWarper models.

Not imported by ``posewarper_mm`` itself (it registers nothing); import
``posewarper_mm.apis`` explicitly.
"""
from ..datasets.posetrack_naming import (frame_index_from_image_id,
                                         posetrack_image_id)
from ..errors import InputFileError
from .frame_source import ImageFolderSource, VideoFileSource, open_frame_source
from .inference import (build_instance_data, build_test_pipeline,
                        inference_posewarper)
from .label_propagation import (assign_sources, copy_nearest_labels,
                                count_targets, label_frames, nearest_labeled,
                                propagate_labels, pseudo_annotation)
from .person_boxes import DetectionJsonBoxes, DetectorBoxes, WholeFrameBoxes
from .pose_propagation import (encode_heatmaps, frame_heatmaps, image_to_input,
                               input_to_image, propagate_poses)
from .temporal_window import (FrameWindow, TemporalWindowIterator,
                              online_frame_offsets)
from .video_results import PoseTrackVideoResults, instances_to_persons

__all__ = [
    'InputFileError', 'ImageFolderSource', 'VideoFileSource',
    'open_frame_source', 'build_instance_data', 'build_test_pipeline',
    'inference_posewarper', 'assign_sources', 'copy_nearest_labels',
    'label_frames', 'count_targets', 'nearest_labeled', 'propagate_labels',
    'pseudo_annotation', 'InputFileError', 'DetectionJsonBoxes',
    'DetectorBoxes', 'WholeFrameBoxes', 'frame_index_from_image_id',
    'posetrack_image_id', 'encode_heatmaps', 'frame_heatmaps',
    'image_to_input', 'input_to_image', 'propagate_poses', 'FrameWindow',
    'TemporalWindowIterator', 'online_frame_offsets', 'PoseTrackVideoResults',
    'instances_to_persons'
]
