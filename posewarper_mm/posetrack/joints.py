"""PoseTrack18 keypoints, the 15 evaluation joints and the category."""
from typing import Dict, List, Optional, Sequence, Tuple

# The 17 PoseTrack18 keypoints in mmpose (COCO-like) order.
POSETRACK18_KEYPOINT_NAMES: Tuple[str, ...] = (
    'nose', 'head_bottom', 'head_top', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
    'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
    'right_knee', 'left_ankle', 'right_ankle')

# 1-based limb pairs of the PoseTrack18 person category.
POSETRACK18_SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13],
                        [6, 12], [7, 13], [6, 7], [6, 8], [7, 9], [8, 10],
                        [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5],
                        [4, 6], [5, 7]]

# The 15 evaluation joints in the reference evaluation's order (no ears).
EVAL_JOINT_NAMES: Tuple[str, ...] = (
    'right_ankle', 'right_knee', 'right_hip', 'left_hip', 'left_knee',
    'left_ankle', 'right_wrist', 'right_elbow', 'right_shoulder',
    'left_shoulder', 'left_elbow', 'left_wrist', 'head_bottom', 'nose',
    'head_top')
NUM_EVAL_JOINTS = len(EVAL_JOINT_NAMES)

# Summary columns: name -> evaluation joint ids averaged into it.
JOINT_GROUPS: Tuple[Tuple[str, Tuple[int, ...]], ...] = (
    ('Head', (14, 12, 13)), ('Shoulder', (8, 9)), ('Elbow', (7, 10)),
    ('Wrist', (6, 11)), ('Hip', (2, 3)), ('Knee', (1, 4)), ('Ankle', (0, 5)))
SUMMARY_KEYS: Tuple[str, ...] = tuple(
    name for name, _ in JOINT_GROUPS) + ('Total', )

_NAME_TO_EVAL_ID: Dict[str, int] = {
    name: idx for idx, name in enumerate(EVAL_JOINT_NAMES)}


def keypoint_names_to_eval_ids(names: Sequence[str]) -> List[Optional[int]]:
    """Evaluation joint id (0-14) of each keypoint name, None for a name
    that is not evaluated (the ears, any other name).

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


POSETRACK18_TO_EVAL_IDS: Tuple[Optional[int], ...] = tuple(
    keypoint_names_to_eval_ids(POSETRACK18_KEYPOINT_NAMES))


def posetrack18_category() -> dict:
    """The ``person`` category of PoseTrack18 files (17 keypoints)."""
    return dict(supercategory='person', id=1, name='person',
                keypoints=list(POSETRACK18_KEYPOINT_NAMES),
                skeleton=[list(pair) for pair in POSETRACK18_SKELETON])
