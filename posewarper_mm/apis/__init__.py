"""Video inference and pose propagation with PoseWarper models (not
imported by ``posewarper_mm`` itself: it registers nothing)."""
from ..datasets.temporal_window import TemporalWindow
from ..posetrack import PoseTrackVideoResults, posetrack_image_id
from .inference import (build_instance_data, build_test_pipeline,
                        inference_posewarper, instances_to_persons)
from .inferencer import PoseWarperInferencer
from .label_propagation import (assign_sources, copy_nearest_labels,
                                count_targets, label_frames, mark_propagated,
                                nearest_labeled, propagate_labels,
                                pseudo_annotation)
from .person_boxes import (DetectionJsonBoxes, DetectorBoxes,
                           DetInferencerBoxes, WholeFrameBoxes,
                           select_person_boxes)
from .pose_propagation import (encode_heatmaps, frame_heatmaps, image_to_input,
                               input_to_image, pipeline_uses_udp,
                               propagate_poses)
from .tracking import PoseTracker
from .video_frames import (ALLOW_SHORT_VIDEO_FLAG, FrameWindow,
                           FrameWindowStream, ImageFolderSource,
                           VideoFileSource, open_frame_source)

__all__ = [
    'ALLOW_SHORT_VIDEO_FLAG', 'DetInferencerBoxes', 'DetectionJsonBoxes',
    'DetectorBoxes', 'FrameWindow', 'FrameWindowStream', 'ImageFolderSource',
    'PoseTrackVideoResults', 'PoseTracker', 'PoseWarperInferencer',
    'TemporalWindow', 'VideoFileSource', 'WholeFrameBoxes', 'assign_sources',
    'build_instance_data', 'build_test_pipeline', 'copy_nearest_labels',
    'count_targets', 'encode_heatmaps', 'frame_heatmaps', 'image_to_input',
    'inference_posewarper', 'input_to_image', 'instances_to_persons',
    'label_frames', 'mark_propagated', 'nearest_labeled', 'open_frame_source',
    'pipeline_uses_udp', 'posetrack_image_id', 'propagate_labels',
    'propagate_poses', 'pseudo_annotation', 'select_person_boxes'
]
