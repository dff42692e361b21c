"""The report's warping figure: a held-out joint on an occluded frame that
PoseWarper finds and the single-frame model misses (PoseTrack's PCKh
matching: within half the head size), drawn by
``tools/analysis/visualize_warping.py``."""
import os
import os.path as osp
from typing import Dict, NamedTuple, Optional, Tuple

import numpy as np

from posewarper_mm.evaluation.functional.posetrack_ap import (
    DIST_THRESH, clean_frame_pairs, load_frame_pairs, match_persons)
from posewarper_mm.posetrack import (EVAL_JOINT_NAMES, frame_index_from_name,
                                     load_json)
from posewarper_mm.posetrack.joints import keypoint_names_to_eval_ids

FIGURE = 'warping.png'
TOOL = 'tools/analysis/visualize_warping.py'


class Example(NamedTuple):
    """A joint of a GT person (``track_id``) on image ``file_name`` of
    the GT file ``gt_file``; ``covered``: an occluder covers it;
    ``errors``: single-frame and PoseWarper distance in head sizes (inf:
    no prediction matched)."""
    gt_file: str
    file_name: str
    track_id: int
    joint: str
    covered: bool
    errors: tuple


def _distances(gt, pred) -> np.ndarray:
    """Distance in head sizes of each GT person's joints to the matched
    prediction's, float (G, 15) (inf: none matched or no such joint)."""
    pred_of_gt, dist = match_persons(gt, pred)
    out = np.full((len(pred_of_gt), len(EVAL_JOINT_NAMES)), np.inf)
    for g, p in enumerate(pred_of_gt):
        if p >= 0:
            out[g] = dist[p, g]
    return out


def _covered(gt_file: str, record: int, files: Dict[str, dict]) -> np.ndarray:
    """Whether an occluder covers each evaluation joint of an annotation
    (the generator's ``keypoints_occluded``), bool (15,); ``files``
    caches the loaded GT files."""
    if gt_file not in files:
        files[gt_file] = load_json(gt_file)
    video = files[gt_file]
    flags = video['annotations'][record].get('keypoints_occluded') or []
    names = video['categories'][0]['keypoints']
    covered = np.zeros(len(EVAL_JOINT_NAMES), dtype=bool)
    for joint, flag in zip(keypoint_names_to_eval_ids(names), flags):
        if joint is not None:
            covered[joint] = bool(flag)
    return covered


def pick_example(gt_dir: str, single_dir: str,
                 warp_dir: str) -> Optional[Example]:
    """The joint of ``gt_dir`` (GT files of the occluded frames) that
    the predictions of ``warp_dir`` find and those of ``single_dir``
    miss: covered joints first, then those of a person that the
    single-frame model matches (it misses the joint, not the person), then
    the largest single-frame minus PoseWarper error, then file order;
    None if there is none."""
    pairs = zip(clean_frame_pairs(load_frame_pairs(gt_dir, single_dir)),
                clean_frame_pairs(load_frame_pairs(gt_dir, warp_dir)))
    best, best_key, files = None, None, {}
    for (gt, single), (_, warp) in pairs:
        errors = np.stack([_distances(gt, single), _distances(gt, warp)])
        for g, person in enumerate(gt.persons):
            wanted = (errors[1, g] <= DIST_THRESH) & \
                (errors[0, g] > DIST_THRESH) & person.present
            if not wanted.any():
                continue
            covered = _covered(gt.path, person.record, files)
            for j in np.flatnonzero(wanted):
                key = (not covered[j], np.isinf(errors[0, g, j]),
                       -(errors[0, g, j] - errors[1, g, j]))
                if best_key is None or key < best_key:
                    best_key = key
                    best = Example(gt.path, gt.file_name,
                                   int(person.track_id), EVAL_JOINT_NAMES[j],
                                   bool(covered[j]),
                                   tuple(float(e) for e in errors[:, g, j]))
    return best


def figure_step(job, config: str, checkpoint: str, data_root: str,
                gt_dir: str, occluded_dir: str, single_dir: str,
                warp_dir: str, out: str) -> Tuple[str, Optional[str]]:
    """Pick the example of the occluded frames' GT files ``occluded_dir``
    and draw it into ``out`` with the figure tool (a step of ``job``);
    its frames are the GT image's folder under ``data_root`` (numbered
    from 0: the frame number is the key frame's index), its person that of
    the full GT file in ``gt_dir``. Returns the report's sentence
    and ``out`` (None when there is no example)."""
    example = job.timed('pick the warping example', pick_example,
                        occluded_dir, single_dir, warp_dir)
    if example is None:
        if osp.isfile(out):
            os.remove(out)  # a previous run's
        return describe(None), None
    job.run_in_process('warping figure', TOOL, [
        config, checkpoint,
        osp.join(data_root, osp.dirname(example.file_name)), '--key-frame',
        str(frame_index_from_name(example.file_name)), '--gt-json',
        osp.join(gt_dir, osp.basename(example.gt_file)), '--track-id',
        str(example.track_id), '--joint', example.joint, '--out', out])
    return describe(example), out


def describe(example: Optional[Example]) -> str:
    """The report's sentence on ``example`` (or on its absence)."""
    if example is None:
        return ('No joint of the held-out occluded frames is found by '
                'PoseWarper and missed by the single-frame model, so no '
                'figure is drawn.')
    single, warp = example.errors
    single = 'no matched prediction' if np.isinf(single) else \
        f'{single:.2f} head sizes away'
    how = 'covered by an occluder' if example.covered else 'not covered'
    return (f'Video {osp.splitext(osp.basename(example.gt_file))[0]}, frame '
            f'{frame_index_from_name(example.file_name)}, the person with '
            f'track id {example.track_id}, joint {example.joint} ({how}): '
            f'the single-frame model misses it ({single}) and PoseWarper '
            f'finds it ({warp:.2f} head sizes away; a joint is found within '
            f'{DIST_THRESH}); the figure shows PoseWarper without flip test.')
