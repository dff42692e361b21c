"""Label sparsely, propagate, train: the paper's workflow in the quickstart.

With ``python -m tools.quickstart --propagate-then-train`` each seed's
stage-2 model propagates the sparse training labels to every unlabeled
frame of the training videos (``tools/propagate_poses.py``, a merged
PoseTrack18 json with the propagated persons marked), and the single-frame
model trains on that file, beside the same model on all true labels of
those frames (the generator's dense json: the upper bound). Both train with
stage 1's config, schedule and seed; stage 1, trained on the sparse labels
alone, is the control. The pipeline then tests both like stage 1.
"""
import os.path as osp
from typing import Callable, Dict, List, Tuple

from posewarper_mm.posetrack import load_json
from .report import DENSE_ROW, PROPAGATED_TRAIN_ROW

SPARSE_ANN = 'posetrack18_train_sparse.json'
DENSE_ANN = 'posetrack18_train.json'  # every frame's true labels
PROPAGATED_ANN = 'posetrack18_train_propagated.json'
PROPAGATE_TOOL = 'tools/propagate_poses.py'
# row -> the training run's name, its work dir and its held-out predictions'
# folder (under the seed's run dir and its preds/)
RUNS = {
    PROPAGATED_TRAIN_ROW: ('single-frame, sparse + propagated labels',
                           'stage1_propagated', 'single_frame_propagated'),
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
        train: Train, suffix: str = ''
) -> Tuple[Dict[str, Tuple[str, str]], Dict[str, str]]:
    """Propagate the sparse labels with the stage-2 (config, checkpoint)
    into ``<run_dir>/posetrack18_train_propagated.json`` (kept when
    present), then ``train`` the single-frame model on it and on the dense
    json, as steps of ``job``.

    Returns:
        tuple: Row -> checkpoint of the two models, and run name -> work
        dir (their training curves).
    """
    annotations = osp.join(data_root, 'annotations')
    merged = osp.join(run_dir, PROPAGATED_ANN)
    if osp.isfile(merged):
        print(f'propagated labels: using {merged} (--fresh redoes them)')
    else:
        job.run_in_process('propagate labels' + suffix, PROPAGATE_TOOL, [
            *stage2, '--ann-file', osp.join(annotations, SPARSE_ANN),
            '--img-root', data_root, '--out', merged])
    ann_files = {PROPAGATED_TRAIN_ROW: merged,
                 DENSE_ROW: osp.join(annotations, DENSE_ANN)}
    checkpoints, work_dirs = {}, {}
    for row, (name, folder, _) in RUNS.items():
        work_dirs[name] = osp.join(run_dir, folder)
        checkpoints[row] = train(
            name, work_dirs[name],
            [f'train_dataloader.dataset.ann_file={ann_files[row]}'])
    return checkpoints, work_dirs
