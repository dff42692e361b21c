"""Write frames and PoseTrack18 json files of a synthetic split."""
import json
import os
import os.path as osp
from typing import Dict, List

import numpy as np

from posewarper_mm.posetrack import frame_file_name
from . import annotations as anno
from .video import VideoAnnotations, encode_jpeg


def write_json(path: str, obj) -> str:
    """Dump ``obj`` as compact json, creating parent folders."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, separators=(',', ':'))
    return path


class FrameWriter:
    """Callable that stores the frames of one video as ``%06d.jpg``.

    Args:
        out_dir (str): Dataset root.
        split (str): Split name.
        video_num (int): Video number.
        quality (int): JPEG quality.
    """

    def __init__(self,
                 out_dir: str,
                 split: str,
                 video_num: int,
                 quality: int = 90) -> None:
        self.folder = osp.join(out_dir, 'images', split,
                               anno.video_folder(video_num, split))
        os.makedirs(self.folder, exist_ok=True)
        self.quality = quality
        self.paths: List[str] = []

    def __call__(self, frame_idx: int, img: np.ndarray) -> None:
        path = osp.join(self.folder, frame_file_name(frame_idx))
        with open(path, 'wb') as f:
            f.write(encode_jpeg(img, self.quality))
        self.paths.append(path)


def write_split(out_dir: str, split: str, videos: Dict[int, VideoAnnotations],
                detections: List[dict], sparse_every: int,
                write_sparse: bool) -> Dict[str, object]:
    """Write the merged, per-video, sparse and detection json files.

    Args:
        out_dir (str): Dataset root.
        split (str): Split name.
        videos (dict): Video number -> its records.
        detections (list[dict]): Detection records of this split.
        sparse_every (int): Label stride of the sparse variant.
        write_sparse (bool): Whether to write the sparse variant.

    Returns:
        dict: Paths keyed by ``ann_file``, ``video_ann_dir``,
        ``video_ann_files``, ``det_file`` and (optionally)
        ``sparse_ann_file``.
    """
    cats = anno.categories()
    merged = dict(images=[], annotations=[], categories=cats)
    video_files = []
    for video_num in sorted(videos):
        rec = videos[video_num]
        merged['images'].extend(rec.images)
        merged['annotations'].extend(rec.annotations)
        name = anno.video_folder(video_num, split) + '.json'
        path = osp.join(out_dir, 'annotations', split, name)
        video_files.append(
            write_json(
                path,
                dict(
                    images=rec.images,
                    annotations=rec.annotations,
                    categories=cats)))
    ann_dir = osp.join(out_dir, 'annotations')
    paths: Dict[str, object] = dict(
        ann_file=write_json(
            osp.join(ann_dir, f'posetrack18_{split}.json'), merged),
        video_ann_dir=osp.join(ann_dir, split),
        video_ann_files=video_files,
        det_file=write_json(
            osp.join(out_dir, 'detections', f'posetrack18_{split}_boxes.json'),
            detections),
    )
    if write_sparse:
        paths['sparse_ann_file'] = write_json(
            osp.join(ann_dir, f'posetrack18_{split}_sparse.json'),
            anno.sparsify(merged, sparse_every))
    return paths
