"""Per-video GT files restricted to a subset of their frames or joints.

Used by ``tools.quickstart.eval_propagation`` (the unlabeled frames),
``tools/quickstart.py`` (the occluded, the blurred and the clear frames) and
``tools/analysis/hidden_joints.py`` (the joints hidden by occluders).
"""
import json
import os
import os.path as osp
from typing import Callable, Sequence, Tuple

from posewarper_mm.posetrack import list_gt_files, load_json

# changes a loaded per-video file (its path, its content) in place and
# returns two counts
Edit = Callable[[str, dict], Tuple[int, int]]


def _copy_edited(gt_dir: str, out_dir: str, edit: Edit) -> Tuple[int, int]:
    """Copy every per-video GT file after ``edit(path, video)`` changed it.

    Args:
        gt_dir (str): Folder of per-video GT files.
        out_dir (str): Output folder (created; files are overwritten).
        edit (Callable): Changes a loaded file in place and returns two
            counts.

    Returns:
        tuple[int, int]: The two counts summed over the files.
    """
    os.makedirs(out_dir, exist_ok=True)
    first = second = 0
    for name in list_gt_files(gt_dir):
        path = osp.join(gt_dir, name)
        video = load_json(path)
        a, b = edit(path, video)
        first, second = first + a, second + b
        with open(osp.join(out_dir, name), 'w', encoding='utf-8') as f:
            json.dump(video, f)
    return first, second


def restrict_gt_dir(gt_dir: str, out_dir: str,
                    keep_image: Callable[[dict], bool]) -> Tuple[int, int]:
    """Copy per-video GT files keeping persons only on selected frames.

    Frames whose image record fails ``keep_image`` lose their persons, so
    the PoseTrack evaluation drops them (and ignores predictions there):
    evaluating against ``out_dir`` measures the selected frames only.

    Args:
        gt_dir (str): Folder of official per-video GT files.
        out_dir (str): Output folder (created; files are overwritten).
        keep_image (Callable[[dict], bool]): Selects an image record.

    Returns:
        tuple[int, int]: Selected images and GT persons kept.
    """

    def edit(path: str, video: dict) -> Tuple[int, int]:
        kept = {img['id'] for img in video['images'] if keep_image(img)}
        video['annotations'] = [
            ann for ann in video['annotations'] if ann['image_id'] in kept
        ]
        return len(kept), len(video['annotations'])

    return _copy_edited(gt_dir, out_dir, edit)


def filter_gt_dir(gt_dir: str, out_dir: str, flag: str) -> str:
    """Copy per-video GT files keeping persons only on flagged frames.

    Frames without the image flag ``flag`` (e.g. ``'occluded'``) lose their
    annotations, so the PoseTrack evaluation drops them: evaluating
    predictions against the result measures the flagged frames only.

    Args:
        gt_dir (str): Folder of official per-video GT files.
        out_dir (str): Output folder (created; files are overwritten).
        flag (str): Boolean key of the image records.

    Returns:
        str: ``out_dir``.

    Raises:
        ValueError: No image of any video carries a true ``flag``.
    """
    images, _ = restrict_gt_dir(gt_dir, out_dir,
                                lambda image: bool(image.get(flag, False)))
    if images == 0:
        raise ValueError(f'no image in {gt_dir} has {flag!r} set')
    return out_dir


def unflagged_gt_dir(gt_dir: str, out_dir: str, flags: Sequence[str]) -> str:
    """Copy per-video GT files keeping persons only on frames with no flag.

    The complement of :func:`filter_gt_dir` over several flags: frames
    whose image record sets any of ``flags`` (e.g. ``'occluded'`` or
    ``'blurred'``) lose their annotations, so evaluating against the
    result measures the frames that none of them marks.

    Args:
        gt_dir (str): Folder of official per-video GT files.
        out_dir (str): Output folder (created; files are overwritten).
        flags (Sequence[str]): Boolean keys of the image records.

    Returns:
        str: ``out_dir``.

    Raises:
        ValueError: Every image of every video sets one of ``flags``.
    """
    images, _ = restrict_gt_dir(
        gt_dir, out_dir,
        lambda image: not any(image.get(flag, False) for flag in flags))
    if images == 0:
        raise ValueError(f'every image in {gt_dir} has one of {list(flags)} '
                         'set')
    return out_dir


# the generator's per-person list of joints covered by an occluder (one
# 0/1 flag per keypoint, in the file's keypoint order)
HIDDEN_KEY = 'keypoints_occluded'


def restrict_joints_gt_dir(gt_dir: str, out_dir: str,
                           hidden: bool) -> Tuple[int, int]:
    """Copy per-video GT files keeping only hidden (or only other) joints.

    Every person of the generated data lists, in ``keypoints_occluded``,
    which of its joints an occluder covers. The copy keeps the joints whose
    flag equals ``hidden`` and sets the others to ``(0, 0, 0)`` (not
    annotated); persons left without joints are dropped, so the PoseTrack
    matching scores the selected joints only.

    Args:
        gt_dir (str): Folder of per-video GT files of generated data.
        out_dir (str): Output folder (created; files are overwritten).
        hidden (bool): Keep the hidden joints (True) or the others.

    Returns:
        tuple[int, int]: Persons and joints kept.

    Raises:
        ValueError: A person has no ``keypoints_occluded`` list of one flag
            per keypoint (named with its file), or no joint is kept.
    """

    def edit(path: str, video: dict) -> Tuple[int, int]:
        kept, joints = [], 0
        for index, ann in enumerate(video['annotations']):
            kpts = ann.get('keypoints') or []
            flags = ann.get(HIDDEN_KEY)
            if not isinstance(flags, list) or 3 * len(flags) != len(kpts):
                raise ValueError(
                    f'{path}: annotation #{index} needs "{HIDDEN_KEY}" with '
                    f'one flag per keypoint ({len(kpts) // 3}), got '
                    f'{flags!r}; only generated data marks hidden joints')
            new = list(kpts)
            for k, flag in enumerate(flags):
                if bool(flag) != hidden:
                    new[3 * k:3 * k + 3] = [0, 0, 0]
            count = sum(1 for k in range(len(flags)) if new[3 * k + 2] > 0)
            if count:
                kept.append(dict(ann, keypoints=new, num_keypoints=count))
                joints += count
        video['annotations'] = kept
        return len(kept), joints

    persons, joints = _copy_edited(gt_dir, out_dir, edit)
    if joints == 0:
        which = 'hidden' if hidden else 'visible'
        raise ValueError(f'no {which} joint in {gt_dir}')
    return persons, joints
