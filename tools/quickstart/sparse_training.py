"""Label sparsely, propagate, train: the paper's workflow in the quickstart.

With ``python -m tools.quickstart --propagate-then-train`` each seed's
stage-2 model propagates the sparse training labels to every unlabeled
frame of the training videos (``tools/propagate_poses.py``, a merged
PoseTrack18 json with the propagated persons marked), and the single-frame
model trains on that file, beside the same model on the same joints at
their true positions (a perfect propagation) and on all true labels of
those frames (the generator's dense json: the upper bound). All train with
stage 1's config, schedule and seed; stage 1, trained on the sparse labels
alone, is the control. The pipeline then tests them like stage 1.
"""
import json
import os.path as osp
from typing import Callable, Dict, List, Optional, Tuple

from posewarper_mm.posetrack import load_json
from posewarper_mm.utils import write_file_atomically
from . import label_quality
from .report import DENSE_ROW, PROPAGATED_TRAIN_ROW, TRUE_PROPAGATED_ROW
from .reuse import reuse_output

SPARSE_ANN = 'posetrack18_train_sparse.json'
DENSE_ANN = 'posetrack18_train.json'  # every frame's true labels
PROPAGATED_ANN = 'posetrack18_train_propagated.json'
# the same joints at their true positions (a perfect propagation)
TRUE_PROPAGATED_ANN = 'posetrack18_train_propagated_true.json'
PROPAGATE_TOOL = 'tools/propagate_poses.py'
LABEL_QUALITY = 'label_quality.md'  # beside the propagated json
# row -> the training run's name, its work dir and its held-out predictions'
# folder (under the seed's run dir and its preds/)
RUNS = {
    PROPAGATED_TRAIN_ROW: ('single-frame, sparse + propagated labels',
                           'stage1_propagated', 'single_frame_propagated'),
    TRUE_PROPAGATED_ROW: ('single-frame, sparse + true propagated joints',
                          'stage1_true_propagated',
                          'single_frame_true_propagated'),
    DENSE_ROW: ('single-frame, all true labels', 'stage1_dense',
                'single_frame_dense')}

# train(name, work dir, extra --cfg-options) -> checkpoint: stage 1's
# config, schedule and seed
Train = Callable[[str, str, List[str]], str]


def labeled_frames(data_root: str) -> Tuple[int, int]:
    """The labeled and all frames of the sparse training json."""
    coco = load_json(osp.join(data_root, 'annotations', SPARSE_ANN))
    annotated = {ann['image_id'] for ann in coco['annotations']}
    labeled = sum(1 for img in coco['images']
                  if img.get('is_labeled', img['id'] in annotated))
    return labeled, len(coco['images'])


def propagate_then_train(
        job, run_dir: str, data_root: str, stage2: Tuple[str, str],
        train: Train, suffix: str = '', max_distance: Optional[int] = None,
        min_score: Optional[float] = None
) -> Tuple[Dict[str, Tuple[str, str]], Dict[str, str]]:
    """Propagate the sparse labels with the stage-2 (config, checkpoint)
    into ``<run_dir>/posetrack18_train_propagated.json`` (kept when
    present; only frames up to ``max_distance`` from a labeled one), score
    them against the dense json (:mod:`.label_quality`, into
    ``label_quality.md``), then ``train`` the single-frame model on them
    (on their joints scored at least ``min_score``), on the same joints at
    their true positions and on the dense json, as steps of ``job``.

    Returns:
        tuple: Row -> checkpoint of the three models, and run name -> work
        dir (their training curves).
    """
    annotations = osp.join(data_root, 'annotations')
    merged = osp.join(run_dir, PROPAGATED_ANN)
    argv = [
        *stage2, '--ann-file', osp.join(annotations, SPARSE_ANN),
        '--img-root', data_root, '--out', merged, *(
            [] if max_distance is None else
            ['--max-distance', str(max_distance)])]
    if not reuse_output(merged, [PROPAGATE_TOOL, *argv],
                        'propagated labels'):
        job.run_in_process('propagate labels' + suffix, PROPAGATE_TOOL, argv)
    dense = osp.join(annotations, DENSE_ANN)
    quality = osp.join(run_dir, LABEL_QUALITY)
    if not osp.isfile(quality):
        job.run_in_process('label quality' + suffix, label_quality.__name__,
                           [merged, dense, '--out', quality])
    true_merged = osp.join(run_dir, TRUE_PROPAGATED_ANN)
    if not osp.isfile(true_merged):
        write_file_atomically(
            true_merged,
            json.dumps(
                label_quality.with_true_labels(
                    load_json(merged), load_json(dense))))
    ann_files = {PROPAGATED_TRAIN_ROW: merged,
                 TRUE_PROPAGATED_ROW: true_merged, DENSE_ROW: dense}
    threshold = [] if min_score is None else [
        f'train_dataloader.dataset.propagated_min_score={min_score}']
    checkpoints, work_dirs = {}, {}
    for row, (name, folder, _) in RUNS.items():
        work_dirs[name] = osp.join(run_dir, folder)
        checkpoints[row] = train(
            name, work_dirs[name],
            [f'train_dataloader.dataset.ann_file={ann_files[row]}',
             *(threshold if row != DENSE_ROW else [])])
    return checkpoints, work_dirs
