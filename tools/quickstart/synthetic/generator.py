"""Entry point: generate a complete synthetic PoseTrack18-format dataset."""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .annotations import simulate_detections
from .motion import MAX_OCCLUDERS, OCCLUDER_SPEED, SHAKE_BLUR_STRENGTH
from .video import VideoAnnotations, render_video
from .writer import FrameWriter, write_split


def split_video_counts(num_videos: int,
                       splits: Sequence[str],
                       videos_per_split: Optional[Sequence[int]] = None
                       ) -> List[int]:
    """Number of videos per split.

    Without ``videos_per_split`` the videos are shared out evenly, the
    first split taking the remainder (8 videos over train/val -> 4/4).
    """
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


def generate_posetrack_dataset(
    out_dir: str,
    num_videos: int = 8,
    num_frames: int = 30,
    width: int = 320,
    height: int = 240,
    persons_per_video: Union[int, Tuple[int, int]] = (1, 3),
    splits: Sequence[str] = ('train', 'val'),
    sparse_every: int = 5,
    seed: int = 0,
    videos_per_split: Optional[Sequence[int]] = None,
    sparse_splits: Sequence[str] = ('train', ),
    first_video_num: int = 1,
    crowd_prob: float = 0.4,
    jpeg_quality: int = 90,
    occluder_speed: Tuple[float, float] = OCCLUDER_SPEED,
    max_occluders: int = MAX_OCCLUDERS,
    shake_blur_prob: float = 0.0,
    shake_blur_strength: Tuple[float, float] = SHAKE_BLUR_STRENGTH
) -> Dict[str, object]:
    """Write a synthetic PoseTrack18-format video pose dataset.

    Layout (``NNNNNN`` is the video number, unique over all splits)::

        out_dir/images/<split>/<NNNNNN>_mpii_<split>/<%06d>.jpg
        out_dir/annotations/posetrack18_<split>.json         (dense, merged)
        out_dir/annotations/<split>/<NNNNNN>_mpii_<split>.json  (per video)
        out_dir/annotations/posetrack18_<split>_sparse.json  (sparse_splits)
        out_dir/detections/posetrack18_<split>_boxes.json

    Every frame is labeled in the merged and per-video files. Image ids are
    ``1<video:06d><frame:04d>``; annotation ids append the track id as two
    digits. Image records carry the extra flags ``occluded`` (an occluder
    covers a labeled joint) and ``blurred`` (motion blur), annotations the
    extra list ``keypoints_occluded``. The output depends only on the
    arguments (same seed -> same files).

    Args:
        out_dir (str): Output root folder (created if missing).
        num_videos (int): Total number of videos over all splits.
        num_frames (int): Frames per video (1..9999).
        width (int): Frame width in pixels.
        height (int): Frame height in pixels.
        persons_per_video (int | tuple): Labeled figures per video, fixed
            or an inclusive (min, max) range.
        splits (Sequence[str]): Split names.
        sparse_every (int): The sparse variant keeps labels on frames whose
            index is a multiple of this.
        seed (int): Random seed.
        videos_per_split (Sequence[int], optional): Explicit video counts
            per split (overrides ``num_videos``).
        sparse_splits (Sequence[str]): Splits that get a sparse variant
            (names not in ``splits`` are ignored).
        first_video_num (int): Number of the first video.
        crowd_prob (float): Chance that a video has an ignore region with
            unlabeled small figures.
        jpeg_quality (int): JPEG quality of the frames.
        occluder_speed (tuple): Occluder speed range in frame widths per
            frame (the default lets a pole cover a joint for several
            frames; 0.04 and more for about 1-3).
        max_occluders (int): Each video draws from 0 to this many
            occluders. Fast ones cross the frame in a few frames, so more
            of them keep the share of occluded frames up.
        shake_blur_prob (float): Chance that a frame is blurred on its own
            by a camera shake (its neighbours usually sharp), besides the
            short runs of motion blur. Image records flag both as
            ``blurred``.
        shake_blur_strength (tuple): Length range of the shake blur, in
            frame widths.

    Returns:
        dict: ``root``; per split dicts ``ann_files``, ``sparse_ann_files``,
        ``det_files``, ``video_ann_dirs``, ``image_dirs``,
        ``video_ann_files`` (list per split), ``frame_files`` (list per
        split); and the totals ``num_images`` and ``num_annotations``.
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
    video_seeds = np.random.SeedSequence(seed).spawn(total)
    out: Dict[str, object] = dict(
        root=out_dir,
        ann_files={},
        sparse_ann_files={},
        det_files={},
        video_ann_dirs={},
        image_dirs={},
        video_ann_files={},
        frame_files={},
        num_images=0,
        num_annotations=0)
    video_idx = 0
    for split_idx, (split, count) in enumerate(zip(splits, counts)):
        videos: Dict[int, VideoAnnotations] = {}
        frames: List[str] = []
        for _ in range(count):
            video_num = first_video_num + video_idx
            rng = np.random.default_rng(video_seeds[video_idx])
            writer = FrameWriter(out_dir, split, video_num, jpeg_quality)
            videos[video_num] = render_video(
                rng,
                split,
                video_num,
                num_frames,
                width,
                height, (lo, hi),
                writer,
                crowd_prob=crowd_prob,
                occluder_speed=occluder_speed,
                max_occluders=int(max_occluders),
                shake_blur_prob=shake_blur_prob,
                shake_blur_strength=shake_blur_strength)
            frames.extend(writer.paths)
            video_idx += 1
        det_rng = np.random.default_rng([seed, 7919, split_idx])
        images = [img for v in videos.values() for img in v.images]
        anns = [a for v in videos.values() for a in v.annotations]
        crowd_boxes = {}
        for v in videos.values():
            crowd_boxes.update(v.distractor_boxes)
        dets = simulate_detections(det_rng, images, anns, crowd_boxes, width,
                                   height)
        paths = write_split(out_dir, split, videos, dets, sparse_every, split
                            in sparse_splits)
        out['ann_files'][split] = paths['ann_file']
        out['det_files'][split] = paths['det_file']
        out['video_ann_dirs'][split] = paths['video_ann_dir']
        out['video_ann_files'][split] = paths['video_ann_files']
        out['image_dirs'][split] = osp.join(out_dir, 'images', split)
        out['frame_files'][split] = frames
        if 'sparse_ann_file' in paths:
            out['sparse_ann_files'][split] = paths['sparse_ann_file']
        out['num_images'] += len(images)
        out['num_annotations'] += len(anns)
    return out
