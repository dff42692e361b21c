"""Joint definitions of the PoseTrack AP evaluation.

The PoseTrack evaluation scores 15 joints. Files name their keypoints in
``categories[0]['keypoints']`` (the 17 PoseTrack18 names in mmpose order,
or just the 15 evaluated ones); each name maps to one evaluation joint by
name, and other names (the two ears) are dropped.
"""
from typing import Dict, List, Optional, Sequence, Tuple

# The 15 evaluation joints, indexed as in the reference evaluation.
EVAL_JOINT_NAMES: Tuple[str, ...] = (
    'right_ankle', 'right_knee', 'right_hip', 'left_hip', 'left_knee',
    'left_ankle', 'right_wrist', 'right_elbow', 'right_shoulder',
    'left_shoulder', 'left_elbow', 'left_wrist', 'head_bottom', 'nose',
    'head_top')
NUM_EVAL_JOINTS = len(EVAL_JOINT_NAMES)

# Keypoint names that exist in PoseTrack18 files but are not evaluated.
DROPPED_JOINT_NAMES: Tuple[str, ...] = ('left_ear', 'right_ear')

# The 17 PoseTrack18 keypoints in mmpose (COCO-like) order.
POSETRACK18_KEYPOINT_NAMES: Tuple[str, ...] = (
    'nose', 'head_bottom', 'head_top', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
    'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
    'right_knee', 'left_ankle', 'right_ankle')

# Summary columns: name -> evaluation joint ids averaged into it.
JOINT_GROUPS: Tuple[Tuple[str, Tuple[int, ...]], ...] = (
    ('Head', (14, 12, 13)),
    ('Shoulder', (8, 9)),
    ('Elbow', (7, 10)),
    ('Wrist', (6, 11)),
    ('Hip', (2, 3)),
    ('Knee', (1, 4)),
    ('Ankle', (0, 5)),
)
SUMMARY_KEYS: Tuple[str, ...] = tuple(
    name for name, _ in JOINT_GROUPS) + ('Total', )

_NAME_TO_EVAL_ID: Dict[str, int] = {
    name: idx
    for idx, name in enumerate(EVAL_JOINT_NAMES)
}


def keypoint_names_to_eval_ids(
        names: Sequence[str]) -> List[Optional[int]]:
    """Map a file's keypoint names to evaluation joint ids.

    Names that are not evaluation joints (the ears, or any other name) are
    dropped, as in the reference evaluation; all 15 evaluation joints must
    be named.

    Args:
        names (Sequence[str]): Keypoint names in file order, e.g. the 17
            :data:`POSETRACK18_KEYPOINT_NAMES`.

    Returns:
        list[int | None]: For each name its evaluation joint id (0-14), or
        ``None`` for a dropped keypoint.

    Raises:
        ValueError: If an evaluation joint is missing or named twice.
    """
    ids: List[Optional[int]] = [_NAME_TO_EVAL_ID.get(name) for name in names]
    used = [i for i in ids if i is not None]
    if len(set(used)) != len(used):
        raise ValueError(f'keypoint names repeat a joint: {list(names)}')
    missing = [n for i, n in enumerate(EVAL_JOINT_NAMES) if i not in used]
    if missing:
        raise ValueError(f'keypoint names lack {missing}; expected the names '
                         f'{list(POSETRACK18_KEYPOINT_NAMES)}')
    return ids


# Mapping of the 17 PoseTrack18 keypoints (mmpose order) to joint ids.
POSETRACK18_TO_EVAL_IDS: Tuple[Optional[int], ...] = tuple(
    keypoint_names_to_eval_ids(POSETRACK18_KEYPOINT_NAMES))
