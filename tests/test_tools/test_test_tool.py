"""Tests for tools/test.py: argument merging and end-to-end testing."""
import json
import os
import os.path as osp
import pickle
import sys

import pytest
from mmengine.config import Config

from tests.testing import load_tool
from tests.testing import tiny_quickstart as qs
from tests.testing import tiny_topdown_experiment as tiny

test_tool = load_tool('tools/test.py')


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    """A tiny dataset, its config and a 2-iteration checkpoint."""
    root = tmp_path_factory.mktemp('tiny_test_tool')
    data_root = tiny.write_tiny_coco(str(root / 'data'))
    config = tiny.write_tiny_config(
        str(root / 'tiny.py'), data_root, max_iters=2, ckpt_interval=2)
    work_dir = str(root / 'train')
    tiny.run_tool([
        sys.executable,
        osp.join(tiny.TOOLS_DIR, 'train.py'), config, '--work-dir', work_dir,
        '--no-validate'
    ],
                  tiny.tool_env(),
                  cwd=str(root))
    return dict(
        root=root,
        data_root=data_root,
        config=config,
        checkpoint=osp.join(work_dir, 'iter_2.pth'))


def _write_detections(path, data_root, boxes_per_image):
    """Write a COCO result-style box file with jittered GT boxes."""
    with open(osp.join(data_root, 'annotations', 'keypoints.json')) as f:
        coco = json.load(f)
    dets = []
    for ann in coco['annotations']:
        x, y, w, h = ann['bbox']
        for k in range(boxes_per_image):
            dets.append(
                dict(
                    image_id=ann['image_id'],
                    category_id=1,
                    bbox=[x + 2 * k, y + k, w - 2 * k, h - k],
                    score=0.9 - 0.1 * k))
    with open(path, 'w') as f:
        json.dump(dets, f)
    return path


def _merged(config, *argv):
    args = test_tool.parse_args([config, 'ckpt.pth', *argv])
    return test_tool.merge_args(Config.fromfile(config), args)


class TestMergeArgs:

    def test_defaults(self, tiny_run):
        cfg = _merged(tiny_run['config'])
        assert cfg.load_from == 'ckpt.pth' and cfg.launcher == 'none'
        assert cfg.work_dir == osp.join('./work_dirs', 'tiny')
        assert cfg.test_evaluator.type == 'CocoMetric'
        assert cfg.test_dataloader.dataset.get('bbox_file') is None

    def test_det_bboxes(self, tiny_run, tmp_path):
        det = _write_detections(
            str(tmp_path / 'dets.json'), tiny_run['data_root'], 1)
        cfg = _merged(tiny_run['config'], '--det-bboxes', det)
        assert cfg.test_dataloader.dataset.bbox_file == det
        derived = tmp_path / 'with_dets.py'
        derived.write_text(f'_base_ = [{tiny_run["config"]!r}]\n'
                           'test_dataloader = dict(dataset=dict('
                           f'bbox_file={det!r}))\n')
        cfg = _merged(str(derived))
        assert cfg.test_dataloader.dataset.bbox_file == det
        cfg = _merged(str(derived), '--gt-bboxes')
        assert cfg.test_dataloader.dataset.bbox_file is None

    def test_wrapped_dataset(self, tmp_path):
        config = tmp_path / 'wrapped.py'
        config.write_text(
            'test_dataloader = dict(dataset=dict(type="RepeatDataset", '
            'times=2, dataset=dict(type="CocoDataset", bbox_file="x.json")))'
            '\ntest_evaluator = dict(type="CocoMetric")\n')
        cfg = _merged(str(config), '--gt-bboxes')
        assert cfg.test_dataloader.dataset.dataset.bbox_file is None

    def test_missing_detection_file(self, tiny_run, tmp_path):
        missing = str(tmp_path / 'missing.json')
        with pytest.raises(FileNotFoundError, match='missing.json'):
            _merged(tiny_run['config'], '--det-bboxes', missing)

    def test_box_flags_exclusive(self, tiny_run, capsys):
        with pytest.raises(SystemExit):
            test_tool.parse_args([
                tiny_run['config'], 'c.pth', '--gt-bboxes', '--det-bboxes',
                'x.json'
            ])
        assert 'not allowed with' in capsys.readouterr().err

    def test_preflight_hook(self, tiny_run, tmp_path):
        cfg = _merged(tiny_run['config'],
                      '--pred-dir', str(tmp_path / 'preds'), '--out',
                      str(tmp_path / 'm.json'), '--work-dir',
                      str(tmp_path / 'w'))
        hook = cfg.custom_hooks[-1]
        assert hook.type == 'PreflightCheckHook'
        assert hook.checkpoint == 'ckpt.pth' and not hook.allow_partial
        assert [tuple(d) for d in hook.out_dirs
                ] == [('--work-dir', str(tmp_path / 'w')),
                      ('--pred-dir', str(tmp_path / 'preds'))]
        assert [tuple(f) for f in hook.out_files
                ] == [('--out', str(tmp_path / 'm.json'))]
        assert not (tmp_path / 'preds').exists()  # created by the hook
        cfg = _merged(tiny_run['config'], '--allow-partial-checkpoint')
        assert cfg.custom_hooks[-1].allow_partial is True

    def test_dump_pred_dir_and_cfg_options(self, tiny_run, tmp_path):
        cfg = _merged(tiny_run['config'], '--dump', 'p.pkl', '--pred-dir',
                      str(tmp_path / 'preds'), '--cfg-options',
                      'test_dataloader.batch_size=1',
                      'test_evaluator.score_mode=bbox')
        assert [e['type']
                for e in cfg.test_evaluator] == ['CocoMetric', 'DumpResults']
        assert cfg.test_evaluator[0].outfile_prefix == str(tmp_path / 'preds')
        assert cfg.test_evaluator[1].out_file_path == 'p.pkl'
        assert cfg.test_dataloader.batch_size == 1
        assert cfg.test_evaluator[0].score_mode == 'bbox'
        with pytest.raises(ValueError, match='p.txt'):
            _merged(tiny_run['config'], '--dump', 'p.txt')


def _test_cmd(config, checkpoint, work_dir, *extra):
    return [
        sys.executable,
        osp.join(tiny.TOOLS_DIR, 'test.py'), config, checkpoint, '--work-dir',
        work_dir, *extra
    ]


def test_test_tool_end_to_end(tiny_run, tmp_path):
    env = tiny.tool_env()
    out = str(tmp_path / 'metrics.json')
    dump = str(tmp_path / 'preds.pkl')
    prefix = str(tmp_path / 'results')
    tiny.run_tool(
        _test_cmd(tiny_run['config'], tiny_run['checkpoint'],
                  str(tmp_path / 'work'), '--out', out, '--dump', dump,
                  '--pred-dir', prefix),
        env,
        cwd=str(tmp_path))
    with open(out) as f:
        metrics = json.load(f)
    assert {'coco/AP', 'coco/AR', 'coco/AP .5'} <= set(metrics)
    assert all(-1.0 <= v <= 1.0 for v in metrics.values())
    with open(dump, 'rb') as f:
        samples = pickle.load(f)
    assert len(samples) == 8  # one ground-truth box per image
    assert samples[0]['pred_instances']['keypoints'].shape == (1, 17, 2)
    with open(prefix + '.keypoints.json') as f:
        written = json.load(f)
    assert sorted(r['image_id'] for r in written) == list(range(1, 9))

    # detected boxes: two per image -> twice the person instances
    det = _write_detections(
        str(tmp_path / 'dets.json'), tiny_run['data_root'], 2)
    dump_det = str(tmp_path / 'preds_det.pkl')
    tiny.run_tool(
        _test_cmd(tiny_run['config'], tiny_run['checkpoint'],
                  str(tmp_path / 'work'), '--dump', dump_det, '--det-bboxes',
                  det),
        env,
        cwd=str(tmp_path))
    with open(dump_det, 'rb') as f:
        samples = pickle.load(f)
    assert len(samples) == 16
    scores = sorted(
        float(s['pred_instances']['bbox_scores'][0]) for s in samples)
    assert scores[0] == pytest.approx(0.8) and scores[-1] == \
        pytest.approx(0.9)


# metric names of PoseTrackAPMetric -> keys of tools/eval_posetrack.py --json
_EVAL_KEYS = {
    'Head AP': 'Head',
    'Shou AP': 'Shoulder',
    'Elb AP': 'Elbow',
    'Wri AP': 'Wrist',
    'Hip AP': 'Hip',
    'Knee AP': 'Knee',
    'Ankl AP': 'Ankle',
    'AP': 'Total'
}


@pytest.mark.skipif(
    qs.missing_pieces() is not None,
    reason=f'quickstart pieces missing: {qs.missing_pieces()}')
def test_official_files_on_generated_videos(tmp_path):
    """PoseWarper (stage-2 config) tested on generated videos writes
    official per-video files that eval_posetrack.py scores identically."""
    root = qs.generate_tiny_videos(str(tmp_path / 'data'))
    data = qs.data_options(root)
    env = tiny.tool_env()
    cwd = str(tmp_path)
    tiny.run_tool([
        sys.executable,
        osp.join(tiny.TOOLS_DIR, 'train.py'), qs.STAGE2_CFG, '--work-dir',
        str(tmp_path / 'train'), '--no-validate', '--cfg-options', *data,
        *qs.short_schedule(1, batch_size=2), 'load_from=None'
    ],
                  env,
                  cwd=cwd,
                  timeout=300)
    ckpt = str(tmp_path / 'train' / 'iter_1.pth')

    out = str(tmp_path / 'metrics.json')
    pred_dir = str(tmp_path / 'preds_gt_boxes')
    dump = str(tmp_path / 'gt_boxes.pkl')
    tiny.run_tool(
        _test_cmd(qs.STAGE2_CFG, ckpt, str(tmp_path / 'test'), '--out', out,
                  '--pred-dir', pred_dir, '--dump', dump, '--gt-bboxes',
                  '--cfg-options', *data, 'test_dataloader.batch_size=8'),
        env,
        cwd=cwd,
        timeout=300)
    with open(out) as f:
        metrics = json.load(f)
    gt_dir = osp.join(root, 'annotations', 'val')
    assert sorted(os.listdir(pred_dir)) == sorted(os.listdir(gt_dir))
    with open(osp.join(pred_dir, os.listdir(pred_dir)[0])) as f:
        official = json.load(f)
    assert {'images', 'annotations'} <= set(official)

    eval_json = str(tmp_path / 'eval.json')
    eval_tool = load_tool('tools/eval_posetrack.py')
    assert eval_tool.main(
        ['--gt-dir', gt_dir, '--pred-dir', pred_dir, '--json', eval_json]) == 0
    with open(eval_json) as f:
        evaluated = json.load(f)
    assert len(metrics) == len(_EVAL_KEYS)
    for name, key in _EVAL_KEYS.items():
        assert metrics[f'posetrack18/{name}'] == pytest.approx(
            evaluated[key], abs=1e-6), name

    # detected boxes: one test sample per box that passes the threshold
    det_file = osp.join(root, 'detections', 'posetrack18_val_boxes.json')
    dump_det = str(tmp_path / 'det_boxes.pkl')
    tiny.run_tool(
        _test_cmd(qs.STAGE2_CFG, ckpt, str(tmp_path / 'test'), '--dump',
                  dump_det, '--det-bboxes', det_file, '--cfg-options', *data,
                  'test_dataloader.batch_size=8'),
        env,
        cwd=cwd,
        timeout=300)
    cfg = Config.fromfile(qs.STAGE2_CFG, import_custom_modules=False)
    thr = (cfg.test_dataloader.dataset.get('filter_cfg')
           or {}).get('bbox_score_thr', 0.0)
    with open(det_file) as f:
        num_dets = sum(d['score'] >= thr for d in json.load(f))
    with open(dump, 'rb') as f:
        num_gt = len(pickle.load(f))
    with open(dump_det, 'rb') as f:
        det_samples = pickle.load(f)
    assert len(det_samples) == num_dets
    assert num_dets != num_gt
