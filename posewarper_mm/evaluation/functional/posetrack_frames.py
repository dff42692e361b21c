"""Pair ground-truth and prediction frames for the PoseTrack AP.

Steps, as in the reference evaluation:

1. every ``*.json`` in the GT folder, in SORTED file-name order (the
   reference uses the unsorted file-system order, which only matters for
   tied scores), is paired with the prediction file of the same name;
2. frames are paired by POSITION in the two ``images`` lists (ids are not
   compared), so both files must list the same number of images;
3. frames whose GT has no person annotation are dropped with their
   predictions (predictions on unlabeled frames count for nothing); then
   persons without any existing joint are dropped;
4. in frames whose GT has ignore regions, every GT and predicted joint
   strictly inside a region is removed, and persons left without joints
   are dropped.
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import List

import numpy as np

from ...errors import InputFileError
from .point_in_polygon import points_in_polygon
from .posetrack_io import PoseTrackFrame, PoseTrackPerson, load_posetrack_video


@dataclass
class FramePair:
    """A ground-truth frame and its prediction frame.

    Attributes:
        gt (PoseTrackFrame): The ground-truth frame.
        pred (PoseTrackFrame): The prediction frame at the same position.
    """
    gt: PoseTrackFrame
    pred: PoseTrackFrame


def list_gt_files(gt_dir: str) -> List[str]:
    """List the per-video GT files of a folder, sorted by name.

    Args:
        gt_dir (str): Folder with one ``<video>.json`` per video.

    Returns:
        list[str]: File names (not paths), sorted.
    """
    if not osp.isdir(gt_dir):
        raise FileNotFoundError(f'{gt_dir}: GT folder not found')
    names = sorted(
        name for name in os.listdir(gt_dir)
        if name.endswith('.json') and not name.startswith('.'))
    if not names:
        raise InputFileError(f'{gt_dir}: no .json GT files in folder')
    return names


def load_frame_pairs(gt_dir: str, pred_dir: str) -> List[FramePair]:
    """Load and pair all GT and prediction frames of two folders.

    Args:
        gt_dir (str): Folder of official per-video GT files.
        pred_dir (str): Folder with a prediction file of the same name for
            every GT file (other files there are ignored).

    Returns:
        list[FramePair]: All frame pairs, GT files in sorted order, frames
        in file order (before any cleanup).
    """
    pairs: List[FramePair] = []
    for name in list_gt_files(gt_dir):
        gt_path = osp.join(gt_dir, name)
        pred_path = osp.join(pred_dir, name)
        gt = load_posetrack_video(gt_path, is_prediction=False)
        if not osp.isfile(pred_path):
            raise FileNotFoundError(
                f'{pred_path}: prediction file not found (every GT file '
                f'needs one of the same name; GT: {gt_path})')
        pred = load_posetrack_video(pred_path, is_prediction=True)
        if len(pred.frames) != len(gt.frames):
            raise InputFileError(
                f'{pred_path}: has {len(pred.frames)} images but the GT file '
                f'{gt_path} has {len(gt.frames)}; list every GT image, in '
                'the same order')
        if pred.frames and gt.video_folder.split('_')[0] != \
                pred.video_folder.split('_')[0]:
            raise InputFileError(
                f'{pred_path}: images belong to video {pred.video_folder!r}'
                f' but the GT file {gt_path} is video {gt.video_folder!r}')
        pairs.extend(FramePair(g, p) for g, p in zip(gt.frames, pred.frames))
    return pairs


def _with_joints(persons: List[PoseTrackPerson]) -> List[PoseTrackPerson]:
    return [p for p in persons if p.present.any()]


def _remove_ignored(persons: List[PoseTrackPerson],
                    regions: List[np.ndarray]) -> List[PoseTrackPerson]:
    """Drop joints inside any region, then persons without joints."""
    kept = []
    for person in persons:
        inside = np.zeros(len(person.present), dtype=bool)
        for region in regions:
            inside |= points_in_polygon(person.coords, region)
        present = person.present & ~inside
        if present.any():
            kept.append(
                PoseTrackPerson(person.coords, present, person.scores,
                                person.head_box, person.track_id,
                                person.record))
    return kept


def clean_frame_pairs(pairs: List[FramePair]) -> List[FramePair]:
    """Drop unlabeled frames, empty persons and ignored joints.

    Args:
        pairs (list[FramePair]): Frame pairs from :func:`load_frame_pairs`.

    Returns:
        list[FramePair]: New pairs (inputs are not modified) for frames whose
        GT lists at least one person, with persons lacking joints removed
        and joints strictly inside the GT ignore regions removed.
    """
    cleaned = []
    for pair in pairs:
        if not pair.gt.persons:
            continue
        gt_persons = _with_joints(pair.gt.persons)
        pred_persons = _with_joints(pair.pred.persons)
        regions = pair.gt.ignore_regions
        if regions:
            gt_persons = _remove_ignored(gt_persons, regions)
            pred_persons = _remove_ignored(pred_persons, regions)
        gt = PoseTrackFrame(pair.gt.path, pair.gt.index, pair.gt.image_id,
                            pair.gt.file_name, regions, gt_persons)
        pred = PoseTrackFrame(pair.pred.path, pair.pred.index,
                              pair.pred.image_id, pair.pred.file_name, [],
                              pred_persons)
        cleaned.append(FramePair(gt, pred))
    return cleaned
