"""Pseudo-labels for the unlabeled frames of a sparsely labeled dataset.

Each unlabeled frame of a merged PoseTrack18 json gets one annotation per
person of the nearest labeled frame of its video, warped
(:func:`propagate_labels`) or copied (:func:`copy_nearest_labels`); both
scale the joint scores by the prior ``1 / (1 + |frame distance|)``.
:func:`mark_propagated` marks which labels are propagated, for training.
"""
import copy
import functools
import os.path as osp
from collections import defaultdict
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from torch import nn

from ..posetrack import frame_index_from_name
from .inference import build_test_pipeline
from .pose_propagation import propagate_poses

HEAD_JOINTS = (0, 1, 2)  # nose, head_bottom, head_top in PoseTrack18 order
Assignment = Dict[int, int]  # target image id -> source image id


def nearest_labeled(frames: Sequence[int], labeled: Sequence[int],
                    max_distance: Optional[int] = None) -> Dict[int, int]:
    """Unlabeled frame index -> nearest labeled one (the earlier on ties;
    none farther than ``max_distance``) among the frames of a video."""
    labeled = np.array(sorted(set(labeled)), dtype=np.int64)
    out: Dict[int, int] = {}
    if len(labeled) == 0:
        return out
    for frame in sorted(set(frames) - set(labeled.tolist())):
        dist = np.abs(labeled - frame)
        best = int(labeled[int(np.argmin(dist))])  # first = earlier on ties
        if max_distance is None or abs(best - frame) <= max_distance:
            out[frame] = best
    return out


def assign_sources(coco: dict,
                   max_distance: Optional[int] = None) -> Assignment:
    """Target (unlabeled) image id -> source (labeled) image id; videos are
    the folders of ``file_name``, a frame is labeled by ``is_labeled`` (or,
    without it, by having annotations)."""
    annotated = {a['image_id'] for a in coco['annotations']}
    videos: Dict[str, Dict[int, int]] = defaultdict(dict)
    labeled: Dict[str, List[int]] = defaultdict(list)
    for img in coco['images']:
        video = osp.dirname(img['file_name'])
        index = frame_index_from_name(img['file_name'])
        videos[video][index] = img['id']
        if img.get('is_labeled', img['id'] in annotated):
            labeled[video].append(index)
    out: Assignment = {}
    for video, frames in videos.items():
        pairs = nearest_labeled(list(frames), labeled[video], max_distance)
        out.update({frames[t]: frames[s] for t, s in pairs.items()})
    return out


SourcePersons = Tuple[List[dict], np.ndarray, np.ndarray, np.ndarray]


def _source_persons(anns: List[dict]) -> SourcePersons:
    """Usable annotations and their keypoints (N,K,2), visibility, boxes."""
    kept, kpts, vis, boxes = [], [], [], []
    for ann in anns:
        if ann.get('iscrowd', 0):
            continue
        arr = np.asarray(ann['keypoints'], dtype=np.float64).reshape(-1, 3)
        visible = (arr[:, 2] > 0).astype(np.float32)
        if not visible.any():
            continue
        if ann.get('bbox'):
            x, y, w, h = (float(v) for v in ann['bbox'][:4])
        else:
            pts = arr[visible > 0, :2]
            x, y = pts.min(axis=0)
            w, h = pts.max(axis=0) - (x, y)
        if w <= 1 or h <= 1:
            continue
        kept.append(ann)
        kpts.append(arr[:, :2])
        vis.append(visible)
        boxes.append([x, y, x + w, y + h])
    num_kpts = kpts[0].shape[0] if kpts else 0
    return (kept, np.asarray(kpts).reshape(len(kept), num_kpts, 2),
            np.asarray(vis).reshape(len(kept), num_kpts),
            np.asarray(boxes, dtype=np.float32).reshape(-1, 4))


def _shift(values, delta: np.ndarray, img: dict) -> List[float]:
    x, y, w, h = (float(v) for v in values[:4])
    x, y = x + float(delta[0]), y + float(delta[1])
    width, height = img.get('width'), img.get('height')
    if width and height:
        x1, y1 = np.clip([x, y], 0, [width, height])
        x2, y2 = np.clip([x + w, y + h], 0, [width, height])
        x, y, w, h = x1, y1, x2 - x1, y2 - y1
    return [round(float(v), 2) for v in (x, y, w, h)]


def pseudo_annotation(src: dict, img: dict, keypoints: np.ndarray,
                      scores: np.ndarray, visible: np.ndarray,
                      ann_id: int) -> dict:
    """The annotation of ``img`` for the source person ``src``: joints
    not ``visible`` as ``[0, 0, 0]``, ``bbox`` (``bbox_head``) moved by the
    median (head) joint displacement."""
    src_kpts = np.asarray(src['keypoints'], dtype=np.float64).reshape(-1, 3)
    vis = np.asarray(visible) > 0
    moved = keypoints - src_kpts[:, :2]
    delta = np.median(moved[vis], axis=0) if vis.any() else np.zeros(2)
    triples = np.zeros((len(src_kpts), 3))
    triples[vis, :2] = keypoints[vis]
    triples[vis, 2] = 1
    ann = dict(
        id=int(ann_id), image_id=img['id'],
        category_id=src.get('category_id', 1), track_id=src.get('track_id', 0),
        keypoints=[round(float(v), 2) for v in triples.reshape(-1)],
        num_keypoints=int(vis.sum()),
        scores=[round(float(s), 5) if v else 0.0
                for s, v in zip(scores, vis)],
        iscrowd=False, propagated_from=src.get('id'))
    if src.get('bbox'):
        ann['bbox'] = _shift(src['bbox'], delta, img)
    if src.get('bbox_head'):
        head = [j for j in HEAD_JOINTS if j < len(vis) and vis[j]]
        head_delta = np.median(moved[head], axis=0) if head else delta
        ann['bbox_head'] = _shift(src['bbox_head'], head_delta, img)
    return ann


class _IdAllocator:
    """Annotation ids: ``image_id * 100 + track_id`` when free, else the
    next unused id."""

    def __init__(self, anns: List[dict]) -> None:
        self.used = {a['id'] for a in anns}
        self.next = max(self.used, default=0) + 1

    def __call__(self, image_id: int, track_id) -> int:
        wanted = image_id * 100 + int(track_id) if isinstance(
            image_id, int) and isinstance(track_id, int) and \
            0 <= track_id < 100 else None
        if wanted is None or wanted in self.used:
            wanted = self.next
        self.used.add(wanted)
        self.next = max(self.next, wanted + 1)
        return wanted


def label_frames(coco: dict, max_distance: Optional[int], make_poses: Callable,
                 progress: Optional[Callable[[], None]] = None) -> dict:
    """Label the unlabeled frames of ``coco`` from their nearest labeled
    one, for every propagation method: ``make_poses(src_img, tgt_img,
    persons)`` gives the keypoints (N, K, 2) and scores (N, K) of the source
    persons on the target; ``progress()`` runs after each target frame."""
    images = {img['id']: img for img in coco['images']}
    by_image: Dict[int, List[dict]] = defaultdict(list)
    for ann in coco['annotations']:
        by_image[ann['image_id']].append(ann)
    out = copy.deepcopy(coco)
    new_id = _IdAllocator(coco['annotations'])
    targets_of: Dict[int, List[int]] = defaultdict(list)
    for tgt, src in assign_sources(coco, max_distance).items():
        targets_of[src].append(tgt)
    for src_id in sorted(targets_of):
        persons = _source_persons(by_image.get(src_id, []))
        for tgt_id in sorted(targets_of[src_id]):
            if persons[0]:
                kpts, scores = make_poses(images[src_id], images[tgt_id],
                                          persons)
                for i, ann in enumerate(persons[0]):
                    out['annotations'].append(pseudo_annotation(
                        ann, images[tgt_id], kpts[i], scores[i],
                        persons[2][i] > 0,
                        new_id(tgt_id, ann.get('track_id', 0))))
            if progress is not None:
                progress()
    return out


def distance_prior(src_img: dict, tgt_img: dict) -> float:
    """Confidence prior ``1 / (1 + |frame distance|)`` of a label moved
    from ``src_img`` to ``tgt_img``."""
    return 1.0 / (1.0 + abs(_offset(src_img, tgt_img)))


def _offset(src_img: dict, tgt_img: dict) -> int:
    return frame_index_from_name(tgt_img['file_name']) - \
        frame_index_from_name(src_img['file_name'])


def copy_nearest_labels(coco: dict,
                        max_distance: Optional[int] = None) -> dict:
    """Baseline pseudo-labels: the nearest labeled frame's poses, scored
    by the prior alone."""

    def copy_poses(src_img, tgt_img, persons):
        return persons[1], distance_prior(src_img, tgt_img) * persons[2]

    return label_frames(coco, max_distance, copy_poses)


def propagate_labels(model: nn.Module, coco: dict, img_root: str,
                     max_distance: Optional[int] = None,
                     progress: Optional[Callable[[], None]] = None,
                     decode: str = 'absolute') -> dict:
    """PoseWarper pseudo-labels for the unlabeled frames of ``coco``,
    scored by the warped heatmap maxima times the prior.

    Args:
        model (nn.Module): PoseWarper model (:func:`mmpose.apis.init_model`).
        coco (dict): Merged PoseTrack18 json with sparse labels.
        img_root (str): Folder that ``file_name`` is relative to.
        max_distance (int, optional): Only label frames this close to a
            labeled frame.
        decode (str): See :func:`~.pose_propagation.propagate_poses`.

    Returns:
        dict: A new json: every image and annotation of ``coco`` and the
        new annotations, with ``propagated_from`` and ``scores``.
    """
    pipeline = build_test_pipeline(model)

    @functools.lru_cache(maxsize=4)  # sources are reused across targets
    def frame(file_name: str) -> np.ndarray:
        path = osp.join(img_root, file_name)
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(
                f'{path}: frame missing or unreadable (image root '
                f'{img_root!r} + file_name {file_name!r})')
        return image

    def warp_poses(src_img, tgt_img, persons):
        kpts, scores = propagate_poses(
            model, frame(src_img['file_name']), frame(tgt_img['file_name']),
            persons[1], persons[2], persons[3], pipeline,
            _offset(src_img, tgt_img), decode)
        return kpts, scores * distance_prior(src_img, tgt_img)

    return label_frames(coco, max_distance, warp_poses, progress)


def mark_propagated(coco: dict) -> dict:
    """Mark the labels of a :func:`label_frames` result, in place: each
    annotation gets ``is_propagated`` (whether it has ``propagated_from``),
    and each propagated one its person ``score``, the mean score of its
    labeled joints (0 without one). Returns ``coco``."""
    for ann in coco['annotations']:
        ann['is_propagated'] = 'propagated_from' in ann
        if ann['is_propagated']:
            labeled = [s for s, v in zip(ann['scores'], ann['keypoints'][2::3])
                       if v > 0]
            ann['score'] = round(float(np.mean(labeled)), 5) \
                if labeled else 0.0
    return coco


def count_targets(coco: dict, max_distance: Optional[int] = None) -> int:
    """Number of unlabeled frames that will receive pseudo-labels."""
    return len(assign_sources(coco, max_distance))
