"""Per-video GT files restricted to a subset of their frames.

Used by ``tools/analysis/eval_propagation.py`` (the unlabeled frames) and
``tools/quickstart.py`` (the occluded and the blurred frames).
"""
import json
import os
import os.path as osp
from typing import Callable, Tuple

from posewarper_mm.evaluation.functional import list_gt_files, read_json


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
    os.makedirs(out_dir, exist_ok=True)
    images = persons = 0
    for name in list_gt_files(gt_dir):
        video = read_json(osp.join(gt_dir, name))
        kept = {img['id'] for img in video['images'] if keep_image(img)}
        video['annotations'] = [
            ann for ann in video['annotations'] if ann['image_id'] in kept
        ]
        images += len(kept)
        persons += len(video['annotations'])
        with open(osp.join(out_dir, name), 'w', encoding='utf-8') as f:
            json.dump(video, f)
    return images, persons


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
