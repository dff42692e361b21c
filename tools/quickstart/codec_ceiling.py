"""PoseTrack AP of the ground truth sent through a config's codec.

Encodes every test-set person's ground truth with the config's keypoint
codec (``codec`` of the config, built by mmpose's ``KEYPOINT_CODECS``)
after the config's own test pipeline (same boxes, same crop and affine
transform), decodes the heatmaps again and scores the result with the
config's test evaluator (the project's PoseTrack AP). No network runs:
the result is the best AP any model can reach with this input size and
codec, because a perfect model outputs exactly the encoded heatmaps.

The per-video prediction files stay in ``--pred-dir``, so other GT
subsets (e.g. only the occluded frames) can be scored from them.

Example::

    python -m tools.quickstart.codec_ceiling \
        configs/quickstart/posewarper_hrnet-tiny_synthetic.py \
        --pred-dir work_dirs/quickstart/preds/codec_ceiling
"""
import argparse
import json
import os
import os.path as osp
import sys
from types import SimpleNamespace
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import DATASETS, KEYPOINT_CODECS

from posewarper_mm.evaluation.functional import (format_posetrack_table,
                                                 summary_only)

ROW = 'codec ceiling (GT encoded and decoded, no network)'
# the name of the evaluator's metrics -> the table's columns
METRIC_TO_COLUMN = {
    'Head AP': 'Head',
    'Shou AP': 'Shoulder',
    'Elb AP': 'Elbow',
    'Wri AP': 'Wrist',
    'Hip AP': 'Hip',
    'Knee AP': 'Knee',
    'Ankl AP': 'Ankle',
    'AP': 'Total'
}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='PoseTrack AP of the GT encoded and decoded by the '
        "config's codec")
    parser.add_argument(
        'config',
        help='pose config (its test set, test '
        'pipeline, codec and test evaluator are used)')
    parser.add_argument(
        '--pred-dir',
        required=True,
        help='folder for the per-video prediction files')
    parser.add_argument('--out-json', help='write the result row here')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings (key=value), e.g. data paths or '
        'codec.heatmap_size="(32,48)"')
    return parser.parse_args(argv)


def _test_pipeline(cfg: Config, codec: dict) -> List[dict]:
    """The test pipeline with the codec's target inserted before packing.

    Raises:
        ValueError: The pipeline crops to another size than the codec's
            input size, or has no packing step.
    """
    pipeline = [dict(step) for step in cfg.test_dataloader.dataset.pipeline]
    for step in pipeline:
        if step['type'] == 'TopdownAffine' and \
                tuple(step['input_size']) != tuple(codec['input_size']):
            raise ValueError(
                f"the test pipeline crops to {tuple(step['input_size'])} "
                f"but the codec's input size is {tuple(codec['input_size'])}")
    packing = [i for i, step in enumerate(pipeline) if 'Pack' in step['type']]
    if not packing:
        raise ValueError('the test pipeline has no packing step')
    pipeline.insert(packing[-1], dict(type='GenerateTarget', encoder=codec))
    return pipeline


def _to_image_space(data_sample, keypoints: np.ndarray, scores: np.ndarray):
    """Attach predictions in input space, moved back into the image the
    way the top-down estimator does (mmpose's own method)."""
    pred = InstanceData(keypoints=keypoints, keypoint_scores=scores)
    # the method reads only ``test_cfg`` from the estimator
    TopdownPoseEstimator.add_pred_to_datasample(
        SimpleNamespace(test_cfg={}), [pred], None, [data_sample])
    return data_sample


def _drop_empty_targets(keypoints: np.ndarray, scores: np.ndarray):
    """Joints whose target heatmap is empty: score 0 at the crop origin.

    A joint without a target (unlabeled, or too far outside the crop)
    encodes to an all-zero heatmap. No network outputs exactly zeros, and
    codecs differ on decoding them: mmpose's ``UDPHeatmap`` returns NaN
    (its blur divides by the heatmap's maximum), ``MSRAHeatmap`` a score
    of 0. Both become a score-0 joint here, as the metric needs finite
    coordinates.

    Args:
        keypoints (np.ndarray): Decoded keypoints (N, K, 2).
        scores (np.ndarray): Their scores (N, K).

    Returns:
        tuple[np.ndarray, np.ndarray]: Keypoints and scores, finite.
    """
    empty = ~(np.isfinite(keypoints).all(-1) & np.isfinite(scores))
    keypoints, scores = keypoints.copy(), scores.copy()
    keypoints[empty] = 0.0
    scores[empty] = 0.0
    return keypoints, scores


def codec_ceiling(cfg: Config,
                  pred_dir: str,
                  codec: Optional[dict] = None) -> Dict[str, float]:
    """Encode and decode the test set's GT, write and score predictions.

    Args:
        cfg (Config): A pose config with ``codec``, ``test_dataloader``
            and ``test_evaluator`` (data paths already set).
        pred_dir (str): Folder for the per-video prediction files.
        codec (dict, optional): Codec config to use instead of
            ``cfg.codec``; its input size must match the pipeline's.

    Returns:
        dict[str, float]: ``Head``, ``Shoulder``, ..., ``Ankle``,
        ``Total`` (percent).
    """
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    codec = dict(codec if codec is not None else cfg.codec)
    coder = KEYPOINT_CODECS.build(codec)
    dataset_cfg = cfg.test_dataloader.dataset.copy()
    dataset_cfg['pipeline'] = _test_pipeline(cfg, codec)
    dataset = DATASETS.build(dataset_cfg)
    evaluator = Evaluator(
        dict(cfg.test_evaluator, outfile_prefix=osp.abspath(pred_dir)))
    evaluator.dataset_meta = dataset.metainfo
    os.makedirs(pred_dir, exist_ok=True)
    for index in range(len(dataset)):
        sample = dataset[index]['data_samples']
        heatmaps = sample.gt_fields.heatmaps
        heatmaps = heatmaps.numpy() if hasattr(heatmaps, 'numpy') \
            else np.asarray(heatmaps)
        keypoints, scores = coder.decode(heatmaps)
        keypoints, scores = _drop_empty_targets(keypoints, scores)
        evaluator.process([_to_image_space(sample, keypoints, scores)])
    metrics = evaluator.evaluate(len(dataset))
    result = {}
    for name, value in metrics.items():
        column = METRIC_TO_COLUMN.get(name.split('/')[-1])
        if column is not None:
            result[column] = float(value)
    return summary_only(result)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, float]:
    """Command-line entry point."""
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    result = codec_ceiling(cfg, args.pred_dir)
    print(format_posetrack_table({ROW: result}))
    if args.out_json:
        folder = osp.dirname(args.out_json)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with open(args.out_json, 'w', encoding='utf-8') as f:
            json.dump({ROW: result}, f, indent=1)
    return result


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, ValueError) as error:
        sys.exit(f'codec_ceiling: error: {error}')
