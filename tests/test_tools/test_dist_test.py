"""2-process CPU testing through tools/dist_test.sh."""
import json
import os.path as osp
import pickle
import sys

import pytest
import torch

from tests.testing import tiny_topdown_experiment as tiny

pytestmark = pytest.mark.skipif(
    torch.cuda.is_available(),
    reason='tests the gloo path of machines without CUDA')


def test_two_process_test_matches_one_process(tmp_path):
    data_root = tiny.write_tiny_coco(str(tmp_path / 'data'), num_images=10)
    config = tiny.write_tiny_config(
        str(tmp_path / 'tiny.py'), data_root, max_iters=2, ckpt_interval=2)
    env = tiny.tool_env(port=tiny.free_port())
    tiny.run_tool([
        sys.executable,
        osp.join(tiny.TOOLS_DIR, 'train.py'), config, '--work-dir',
        str(tmp_path / 'train'), '--no-validate'
    ],
                  env,
                  cwd=str(tmp_path))
    checkpoint = str(tmp_path / 'train' / 'iter_2.pth')

    results = {}
    for nproc in (1, 2):
        out = str(tmp_path / f'metrics_{nproc}.json')
        dump = str(tmp_path / f'preds_{nproc}.pkl')
        proc = tiny.run_tool([
            'bash',
            osp.join(tiny.TOOLS_DIR, 'dist_test.sh'), config, checkpoint,
            str(nproc), '--work-dir',
            str(tmp_path / f'test_{nproc}'), '--out', out, '--dump', dump
        ],
                             env,
                             cwd=str(tmp_path),
                             timeout=300)
        assert 'Distributed training: True' in proc.stdout
        with open(out) as f:
            metrics = json.load(f)
        with open(dump, 'rb') as f:
            preds = {
                s['id']: s['pred_instances']['keypoints']
                for s in pickle.load(f)
            }
        results[nproc] = metrics, preds

    (metrics1, preds1), (metrics2, preds2) = results[1], results[2]
    # every sample is evaluated exactly once, with the same predictions
    assert sorted(preds1) == sorted(preds2) == list(range(1, 11))
    for ann_id, keypoints in preds1.items():
        assert keypoints == pytest.approx(preds2[ann_id], abs=1e-4)
    assert metrics1.keys() == metrics2.keys()
    for key, value in metrics1.items():
        assert metrics2[key] == pytest.approx(value, abs=1e-6), key
