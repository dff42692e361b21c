"""Generate a synthetic PoseTrack18-format dataset: frames, annotations,
sparse labels and simulated detections."""
import copy
import itertools
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from posewarper_mm.posetrack import (frame_file_name, frame_index_from_name,
                                     posetrack18_category, video_folder)
from . import skeleton as sk
from .motion import MAX_OCCLUDERS, OCCLUDER_SPEED, SHAKE_BLUR_STRENGTH
from .video import VideoAnnotations, encode_jpeg, render_video


def split_video_counts(num_videos: int, splits: Sequence[str],
                       videos_per_split: Optional[Sequence[int]] = None
                       ) -> List[int]:
    """Videos per split: ``videos_per_split``, or ``num_videos`` shared
    out evenly with the remainder in the first split."""
    if videos_per_split is not None:
        counts = [int(c) for c in videos_per_split]
        if len(counts) != len(splits) or min(counts) < 1:
            raise ValueError(
                f'videos_per_split must give a positive count for each of '
                f'{list(splits)}, got {list(videos_per_split)}')
        return counts
    if num_videos < len(splits):
        raise ValueError(f'num_videos={num_videos} is smaller than the '
                         f'number of splits {list(splits)}')
    base, rest = divmod(num_videos, len(splits))
    return [base + (rest if i == 0 else 0) for i in range(len(splits))]


def sparsify(coco: dict, every: int) -> dict:
    """Labels only on every ``every``-th frame; the others stay in
    ``images`` (``is_labeled`` False) as supporting frames."""
    if every < 1:
        raise ValueError(f'sparse_every must be >= 1, got {every}')
    out = copy.deepcopy(coco)
    keep = set()
    for img in out['images']:
        frame_idx = frame_index_from_name(img['file_name'])
        img['is_labeled'] = frame_idx % every == 0
        if img['is_labeled']:
            keep.add(img['id'])
    out['annotations'] = [a for a in out['annotations']
                          if a['image_id'] in keep]
    return out


def _jitter_box(rng: np.random.Generator, box: Sequence[float], width: int,
                height: int, amount: float) -> Optional[List[float]]:
    x, y, w, h = box
    cx = x + w / 2 + rng.normal(0, amount * w)
    cy = y + h / 2 + rng.normal(0, amount * h)
    w = w * np.exp(rng.normal(0, amount * 1.5))
    h = h * np.exp(rng.normal(0, amount * 1.5))
    x1, y1 = max(0.0, cx - w / 2), max(0.0, cy - h / 2)
    x2, y2 = min(width - 1.0, cx + w / 2), min(height - 1.0, cy + h / 2)
    if x2 - x1 < 2 or y2 - y1 < 2:
        return None
    return [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)]


def simulate_detections(rng: np.random.Generator, images: List[dict],
                        annotations: List[dict],
                        distractor_boxes: Dict[int, List[List[float]]],
                        width: int, height: int) -> List[dict]:
    """Noisy detection records (``image_id``, ``bbox`` xywh, ``score``,
    ``category_id``): jittered boxes of the persons, mostly high-scored
    (less on occluded or blurred frames; a few misses and duplicates),
    medium-scored crowd figures and low-scored false positives."""
    by_image: Dict[int, List[dict]] = {}
    for ann in annotations:
        by_image.setdefault(ann['image_id'], []).append(ann)
    dets = []

    def add(img_id: int, box: Optional[List[float]], score: float) -> None:
        if box is not None:
            score = round(float(np.clip(score, 0.01, 1.0)), 4)
            dets.append(
                dict(image_id=img_id, bbox=box, score=score, category_id=1))

    for img in images:
        img_id = img['id']
        penalty = 0.15 * img['occluded'] + 0.2 * img['blurred']
        for ann in by_image.get(img_id, []):
            frac = ann['num_keypoints'] / sk.NUM_KEYPOINTS
            if rng.random() < 0.04 + 0.1 * (1 - frac):
                continue
            score = 0.98 - penalty - 0.3 * (1 - frac) - abs(
                rng.normal(0, 0.12))
            add(img_id, _jitter_box(rng, ann['bbox'], width, height, 0.05),
                score)
            if rng.random() < 0.06:
                add(img_id, _jitter_box(rng, ann['bbox'], width, height, 0.15),
                    score * rng.uniform(0.3, 0.7))
        for box in distractor_boxes.get(img_id, []):
            add(img_id, _jitter_box(rng, box, width, height, 0.08),
                rng.uniform(0.2, 0.7))
        for _ in range(int(rng.poisson(1.0))):
            w = rng.uniform(0.08, 0.35) * width
            h = rng.uniform(0.15, 0.6) * height
            box = [rng.uniform(0, width - w), rng.uniform(0, height - h), w, h]
            add(img_id, _jitter_box(rng, box, width, height, 0.0),
                rng.beta(1.3, 5.0))
    return dets


def write_json(path: str, obj) -> str:
    """Dump ``obj`` as compact json, creating parent folders."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, separators=(',', ':'))
    return path


class FrameWriter:
    """Stores the frames of one video as ``<folder>/%06d.jpg``."""

    def __init__(self, out_dir: str, split: str, video_num: int,
                 quality: int) -> None:
        self.folder = osp.join(out_dir, 'images', split,
                               video_folder(video_num, split))
        os.makedirs(self.folder, exist_ok=True)
        self.quality = quality
        self.paths: List[str] = []

    def __call__(self, frame_idx: int, img: np.ndarray) -> None:
        path = osp.join(self.folder, frame_file_name(frame_idx))
        with open(path, 'wb') as f:
            f.write(encode_jpeg(img, self.quality))
        self.paths.append(path)


def write_split(out: dict, split: str, videos: Dict[int, VideoAnnotations],
                detections: List[dict], sparse_every: int,
                write_sparse: bool) -> None:
    """Write a split's per-video, merged, detection and sparse json files
    under ``out['root']``, recording their paths in ``out``."""
    cats = [posetrack18_category()]
    merged = dict(images=[], annotations=[], categories=cats)
    ann_dir = osp.join(out['root'], 'annotations')
    out['video_ann_dirs'][split] = osp.join(ann_dir, split)
    out['video_ann_files'][split] = []
    for video_num in sorted(videos):
        rec = videos[video_num]
        merged['images'].extend(rec.images)
        merged['annotations'].extend(rec.annotations)
        name = video_folder(video_num, split) + '.json'
        out['video_ann_files'][split].append(write_json(
            osp.join(ann_dir, split, name),
            dict(images=rec.images, annotations=rec.annotations,
                 categories=cats)))
    out['ann_files'][split] = write_json(
        osp.join(ann_dir, f'posetrack18_{split}.json'), merged)
    out['det_files'][split] = write_json(
        osp.join(out['root'], 'detections', f'posetrack18_{split}_boxes.json'),
        detections)
    if write_sparse:
        out['sparse_ann_files'][split] = write_json(
            osp.join(ann_dir, f'posetrack18_{split}_sparse.json'),
            sparsify(merged, sparse_every))


def generate_posetrack_dataset(
        out_dir: str, num_videos: int = 8, num_frames: int = 30,
        width: int = 320, height: int = 240,
        persons_per_video: Union[int, Tuple[int, int]] = (1, 3),
        splits: Sequence[str] = ('train', 'val'), sparse_every: int = 5,
        seed: int = 0, videos_per_split: Optional[Sequence[int]] = None,
        sparse_splits: Sequence[str] = ('train', ), first_video_num: int = 1,
        crowd_prob: float = 0.4, jpeg_quality: int = 90,
        occluder_speed: Tuple[float, float] = OCCLUDER_SPEED,
        max_occluders: int = MAX_OCCLUDERS, shake_blur_prob: float = 0.0,
        shake_blur_strength: Tuple[float, float] = SHAKE_BLUR_STRENGTH
) -> Dict[str, object]:
    """Write a synthetic PoseTrack18-format video pose dataset.

    Layout (``NNNNNN``: the video number, unique over the splits)::

        images/<split>/<NNNNNN>_mpii_<split>/<%06d>.jpg
        annotations/posetrack18_<split>.json           (every frame labeled)
        annotations/<split>/<NNNNNN>_mpii_<split>.json (the same, per video)
        annotations/posetrack18_<split>_sparse.json    (sparse_splits)
        detections/posetrack18_<split>_boxes.json

    Image records also flag ``occluded`` (an occluder covers a labeled
    joint) and ``blurred``, person records list ``keypoints_occluded``. The
    same arguments write the same files. ``videos_per_split`` overrides
    ``num_videos``; ``persons_per_video`` is a count or a (min, max) range;
    the sparse variant labels every ``sparse_every``-th frame; a video has
    an ignore region with small unlabeled figures with ``crowd_prob``, 0 to
    ``max_occluders`` occluders at ``occluder_speed`` frame widths per
    frame; besides short runs of motion blur, each frame is blurred by a
    camera shake with ``shake_blur_prob``, by ``shake_blur_strength`` frame
    widths.

    Returns:
        dict: ``root``; per split ``ann_files``, ``sparse_ann_files``,
        ``det_files``, ``video_ann_dirs``, ``image_dirs``,
        ``video_ann_files`` and ``frame_files`` (lists); the totals
        ``num_images`` and ``num_annotations``.
    """
    if not 1 <= num_frames < 10000:
        raise ValueError(f'num_frames must be in [1, 9999], got {num_frames}')
    if isinstance(persons_per_video, int):
        persons_per_video = (persons_per_video, persons_per_video)
    lo, hi = persons_per_video
    if not 0 <= lo <= hi:
        raise ValueError(f'invalid persons_per_video {persons_per_video}')
    if int(max_occluders) != max_occluders or max_occluders < 0:
        raise ValueError(f'max_occluders must be a non-negative integer, got '
                         f'{max_occluders!r}')
    counts = split_video_counts(num_videos, splits, videos_per_split)
    total = sum(counts)
    if first_video_num < 0 or first_video_num + total > 10000:
        raise ValueError('video numbers must stay below 10000')
    os.makedirs(out_dir, exist_ok=True)
    # (video number, seed) of each video, over the splits
    video_seeds = enumerate(np.random.SeedSequence(seed).spawn(total),
                            first_video_num)
    out: Dict[str, object] = dict(root=out_dir)
    out.update((key, {}) for key in (
        'ann_files', 'sparse_ann_files', 'det_files', 'video_ann_dirs',
        'image_dirs', 'video_ann_files', 'frame_files'))
    out.update(num_images=0, num_annotations=0)
    for split_idx, (split, count) in enumerate(zip(splits, counts)):
        videos: Dict[int, VideoAnnotations] = {}
        out['image_dirs'][split] = osp.join(out_dir, 'images', split)
        out['frame_files'][split] = []
        for video_num, video_seed in itertools.islice(video_seeds, count):
            rng = np.random.default_rng(video_seed)
            writer = FrameWriter(out_dir, split, video_num, jpeg_quality)
            videos[video_num] = render_video(
                rng, split, video_num, num_frames, width, height, (lo, hi),
                writer, crowd_prob, occluder_speed, int(max_occluders),
                shake_blur_prob, shake_blur_strength)
            out['frame_files'][split].extend(writer.paths)
        images = [img for v in videos.values() for img in v.images]
        anns = [a for v in videos.values() for a in v.annotations]
        crowd_boxes = {}
        for v in videos.values():
            crowd_boxes.update(v.distractor_boxes)
        det_rng = np.random.default_rng([seed, 7919, split_idx])
        dets = simulate_detections(det_rng, images, anns, crowd_boxes, width,
                                   height)
        write_split(out, split, videos, dets, sparse_every,
                    split in sparse_splits)
        out['num_images'] += len(images)
        out['num_annotations'] += len(anns)
    return out
