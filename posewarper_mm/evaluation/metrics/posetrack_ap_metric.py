"""PoseTrack18 multi-person AP metric for mmpose top-down predictions."""
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmengine.logging import MessageHub, MMLogger
from mmpose.evaluation.metrics import CocoMetric
from mmpose.registry import METRICS
from xtcocotools.coco import COCO

from ...posetrack import write_posetrack_predictions
from ..functional import evaluate_posetrack, format_posetrack_table

# (result key of evaluate_posetrack, reported metric name)
STAT_NAMES: Tuple[Tuple[str, str], ...] = (
    ('Head', 'Head AP'), ('Shoulder', 'Shou AP'), ('Elbow', 'Elb AP'),
    ('Wrist', 'Wri AP'), ('Hip', 'Hip AP'), ('Knee', 'Knee AP'),
    ('Ankle', 'Ankl AP'), ('Total', 'AP'))

# PoseTrack18 keypoint indices (mmpose order) used by ``head_bottom``
_HEAD_BOTTOM, _LEFT_SHOULDER, _RIGHT_SHOULDER = 1, 5, 6


def gt_folder_from_ann_file(ann_file: str) -> str:
    """The per-video GT folder beside a merged annotation file, as in the
    PoseTrack18 release: ``<dir>/posetrack18_val.json`` -> ``<dir>/val``."""
    split = osp.splitext(osp.basename(ann_file))[0].split('_')[-1]
    return osp.join(osp.dirname(ann_file), split)


@METRICS.register_module()
class PoseTrackAPMetric(CocoMetric):
    """PoseTrack18 AP (mAP over 15 joints) with a numpy-only evaluator.

    Predictions are grouped per image (``img_id``, the PoseTrack image id),
    de-duplicated, rescored and filtered by OKS NMS as in
    :class:`mmpose.evaluation.CocoMetric`, written as official per-video
    files (one per GT file, ready for the evaluation server) and scored by
    :func:`~posewarper_mm.evaluation.functional.evaluate_posetrack`, which
    reproduces ``poseval``. Keys (prefix ``posetrack18``): ``Head AP``,
    ``Shou AP``, ``Elb AP``, ``Wri AP``, ``Hip AP``, ``Knee AP``, ``Ankl
    AP`` and ``AP`` (the mean; ``save_best='posetrack18/AP'``).

    Args:
        ann_file (str, optional): Merged annotation file, only used to
            find ``gt_folder`` (:func:`gt_folder_from_ann_file`).
        gt_folder (str, optional): Folder of per-video GT files; default
            from ``ann_file``, else from the test dataset's annotation file.
        head_bottom (str): ``'predicted'`` (the model's joint) or
            ``'shoulder_midpoint'`` (the shoulders' midpoint and mean score,
            as the official PoseWarper code).
        joint_score (str): The ranked joint score: ``'keypoint'`` (heatmap
            maximum, mmpose) or ``'keypoint_x_box'`` (times the box score,
            official PoseWarper code).
        outfile_prefix (str, optional): Folder of the prediction files
            (created if needed); a temporary one when None.
        score_mode, keypoint_score_thr, nms_mode, nms_thr, format_only,
            collect_device, prefix: As in ``CocoMetric`` (the person score
            only ranks NMS, not the AP).
    """
    default_prefix: Optional[str] = 'posetrack18'

    def __init__(self, ann_file: Optional[str] = None,
                 gt_folder: Optional[str] = None,
                 score_mode: str = 'bbox_keypoint',
                 keypoint_score_thr: float = 0.2, nms_mode: str = 'oks_nms',
                 nms_thr: float = 0.9, head_bottom: str = 'predicted',
                 joint_score: str = 'keypoint', format_only: bool = False,
                 outfile_prefix: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        # the AP reads per-video GT files: no ann_file, an empty COCO index
        super().__init__(
            ann_file=None, score_mode=score_mode, nms_mode=nms_mode,
            keypoint_score_thr=keypoint_score_thr, nms_thr=nms_thr,
            format_only=format_only, outfile_prefix=outfile_prefix,
            collect_device=collect_device, prefix=prefix)
        if head_bottom not in ('predicted', 'shoulder_midpoint'):
            raise ValueError('`head_bottom` must be "predicted" or '
                             f'"shoulder_midpoint", got {head_bottom!r}')
        if joint_score not in ('keypoint', 'keypoint_x_box'):
            raise ValueError('`joint_score` must be "keypoint" or '
                             f'"keypoint_x_box", got {joint_score!r}')
        self.coco = COCO()
        self.ann_file = ann_file
        self.head_bottom = head_bottom
        self.joint_score = joint_score
        if gt_folder is None and ann_file is not None:
            gt_folder = gt_folder_from_ann_file(ann_file)
        if gt_folder is not None:
            self._check_gt_folder(gt_folder)
        self.gt_folder = gt_folder

    @staticmethod
    def _check_gt_folder(gt_folder: str) -> None:
        if not osp.isdir(gt_folder):
            raise FileNotFoundError(
                f'{gt_folder}: PoseTrack per-video GT folder not found (set '
                '`gt_folder`, or keep it beside `ann_file` as '
                '<dir>/posetrack18_<split>.json -> <dir>/<split>/)')

    @property
    def dataset_meta(self) -> Optional[dict]:
        """Optional[dict]: Meta info of the dataset."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        """Store the meta info; find ``gt_folder`` from the dataset."""
        self._dataset_meta = dataset_meta
        if self.gt_folder is None and dataset_meta is not None:
            ann_file = MessageHub.get_current_instance().get_info(
                f"{dataset_meta.get('dataset_name')}_ann_file", None)
            if ann_file is not None:
                self.gt_folder = gt_folder_from_ann_file(ann_file)
                self._check_gt_folder(self.gt_folder)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Write the prediction files; the AP in percent (empty when
        ``format_only``)."""
        if self.gt_folder is None:
            raise ValueError(f'{type(self).__name__}: set `gt_folder` or '
                             '`ann_file`; the per-video GT folder is unknown')
        return super().compute_metrics(results)

    def _joint_outputs(self, instance: dict) -> dict:
        """Coordinates (17, 2), joint scores (17,) and person score."""
        xy = np.array(instance['keypoints'], dtype=np.float64)[:, :2]
        scores = np.array(instance['keypoint_scores'], dtype=np.float64)
        if self.joint_score == 'keypoint_x_box':
            scores = scores * float(instance['bbox_score'])
        if self.head_bottom == 'shoulder_midpoint':
            shoulders = [_LEFT_SHOULDER, _RIGHT_SHOULDER]
            xy[_HEAD_BOTTOM] = xy[shoulders].mean(axis=0)
            scores[_HEAD_BOTTOM] = scores[shoulders].mean()
        return dict(keypoints=xy, keypoint_scores=scores,
                    score=float(instance['score']))

    def results2json(self, keypoints: Dict[int, list],
                     outfile_prefix: str) -> str:
        """Write one prediction file per GT file into ``outfile_prefix``
        from image id -> kept instances; returns the folder."""
        predictions = {img_id: [self._joint_outputs(i) for i in instances]
                       for img_id, instances in keypoints.items()}
        _, unmatched = write_posetrack_predictions(
            predictions, self.gt_folder, outfile_prefix)
        logger: MMLogger = MMLogger.get_current_instance()
        if unmatched:
            logger.warning(f'{len(unmatched)} predicted image ids are in no '
                           f'GT file of {self.gt_folder} and were not '
                           f'written, e.g. {unmatched[:5]}')
        logger.info(f'PoseTrack prediction files written to {outfile_prefix}')
        return outfile_prefix

    def _do_python_keypoint_eval(
            self, outfile_prefix: str) -> List[Tuple[str, float]]:
        """(name, value) of each metric of the files in the folder."""
        result = evaluate_posetrack(self.gt_folder, outfile_prefix)
        logger: MMLogger = MMLogger.get_current_instance()
        logger.info('PoseTrack AP:\n' +
                    format_posetrack_table({self.prefix: result}))
        return [(name, result[key]) for key, name in STAT_NAMES]
