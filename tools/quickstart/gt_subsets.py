"""Per-video GT files keeping the persons of some frames only: the
PoseTrack evaluation skips the others (and the predictions there)."""
import json
import os
import os.path as osp
from typing import Callable, Sequence, Tuple

from posewarper_mm.posetrack import list_gt_files, load_json


def restrict_gt_dir(gt_dir: str, out_dir: str,
                    keep_image: Callable[[dict], bool]) -> Tuple[int, int]:
    """Copy the GT files of ``gt_dir`` to ``out_dir`` (overwriting),
    keeping persons only on the frames whose image record passes
    ``keep_image``; returns the frames kept and their persons."""
    os.makedirs(out_dir, exist_ok=True)
    images = persons = 0
    for name in list_gt_files(gt_dir):
        video = load_json(osp.join(gt_dir, name))
        kept = {img['id'] for img in video['images'] if keep_image(img)}
        video['annotations'] = [ann for ann in video['annotations']
                                if ann['image_id'] in kept]
        images += len(kept)
        persons += len(video['annotations'])
        with open(osp.join(out_dir, name), 'w', encoding='utf-8') as f:
            json.dump(video, f)
    return images, persons


def flagged_gt_dir(gt_dir: str, out_dir: str, flags: Sequence[str],
                   flagged: bool = True) -> str:
    """:func:`restrict_gt_dir` to the frames whose image record sets one
    of ``flags`` (or none, ``flagged=False``); returns ``out_dir``.

    Raises:
        ValueError: No frame is kept.
    """
    images, _ = restrict_gt_dir(
        gt_dir, out_dir,
        lambda image: any(image.get(f, False) for f in flags) == flagged)
    if images == 0:
        raise ValueError(f'no image in {gt_dir} has '
                         f'{"one" if flagged else "none"} of {list(flags)} '
                         'set')
    return out_dir
