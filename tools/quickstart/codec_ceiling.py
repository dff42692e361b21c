"""PoseTrack AP of the ground truth sent through a config's codec.

Each test-set person's ground truth goes through the config's test
pipeline (same boxes and crop), is encoded by its codec, decoded and
scored by its test evaluator, no network involved: the best AP any model
can reach with this input size and codec. The prediction files stay in
``--pred-dir``. Example::

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

from posewarper_mm.evaluation.functional import (evaluate_posetrack,
                                                 format_posetrack_table,
                                                 summary_only)

ROW = 'codec ceiling (GT encoded and decoded, no network)'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='its test set, codec and evaluator')
    parser.add_argument('--pred-dir', required=True,
                        help='folder for the per-video prediction files')
    parser.add_argument('--out-json', help='write the result row here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings (key=value)')
    return parser.parse_args(argv)


def _test_pipeline(cfg: Config, codec: dict) -> List[dict]:
    """The test pipeline with the codec's target before packing.

    Raises:
        ValueError: It crops to another size than the codec's, or packs
            nothing.
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


def _drop_empty_targets(keypoints: np.ndarray, scores: np.ndarray):
    """Decoded keypoints (N, K, 2) and scores (N, K) with the joints of
    empty target heatmaps (unlabeled, or far outside the crop) set to score
    0 at the origin: ``UDPHeatmap`` decodes those to NaN, and the metric
    needs finite coordinates."""
    empty = ~(np.isfinite(keypoints).all(-1) & np.isfinite(scores))
    keypoints, scores = keypoints.copy(), scores.copy()
    keypoints[empty] = 0.0
    scores[empty] = 0.0
    return keypoints, scores


def codec_ceiling(cfg: Config, pred_dir: str,
                  codec: Optional[dict] = None) -> Dict[str, float]:
    """Encode and decode the GT of ``cfg``'s test set with its codec (or
    ``codec``), write the predictions to ``pred_dir`` and score them;
    returns the AP per column (``Head`` ... ``Total``), in percent."""
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
        keypoints, scores = coder.decode(np.asarray(sample.gt_fields.heatmaps))
        keypoints, scores = _drop_empty_targets(keypoints, scores)
        pred = InstanceData(keypoints=keypoints, keypoint_scores=scores)
        # from the crop into the image as mmpose's top-down estimator does
        # (the method reads only the estimator's ``test_cfg``)
        TopdownPoseEstimator.add_pred_to_datasample(
            SimpleNamespace(test_cfg={}), [pred], None, [sample])
        evaluator.process([sample])
    evaluator.evaluate(len(dataset))  # writes and scores the files
    gt_folder = evaluator.metrics[0].gt_folder
    return summary_only(evaluate_posetrack(gt_folder, pred_dir))


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    result = codec_ceiling(cfg, args.pred_dir)
    print(format_posetrack_table({ROW: result}))
    if args.out_json:
        os.makedirs(osp.dirname(osp.abspath(args.out_json)), exist_ok=True)
        with open(args.out_json, 'w', encoding='utf-8') as f:
            json.dump({ROW: result}, f, indent=1)
    return result


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, ValueError) as error:
        sys.exit(f'codec_ceiling: error: {error}')
