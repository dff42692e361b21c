"""tools/propagate_poses.py and tools/quickstart/eval_propagation.py."""
import importlib
import json
import math
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmpose.apis import init_model

from posewarper_mm.apis import inference_posewarper
from posewarper_mm.datasets import PoseTrackVideoPairDataset
from tests.testing import load_tool
from tests.testing.clips import TINY_CONFIG, save_tiny_checkpoint
from tests.testing.models import plain_msra_codec
from tests.testing.tiny_quickstart import STAGE1_CFG


@pytest.fixture(scope='module')
def propagate_tool():
    return load_tool('tools/propagate_poses.py')


@pytest.fixture(scope='module')
def eval_tool():
    return importlib.import_module('tools.quickstart.eval_propagation')


@pytest.fixture(scope='module')
def single_frame_model(tmp_path_factory):
    """The quickstart stage-1 model (random weights) and its checkpoint."""
    model = init_model(STAGE1_CFG, None, device='cpu')
    path = tmp_path_factory.mktemp('stage1') / 'single_frame.pth'
    return model, save_tiny_checkpoint(model, str(path))


def test_propagated_json_trains_with_the_dataset(propagate_tool, synthetic,
                                                 tiny_checkpoint, tmp_path):
    sparse_path = synthetic['sparse_ann_files']['train']
    out = str(tmp_path / 'pseudo' / 'train_propagated.json')
    propagate_tool.main([
        TINY_CONFIG, tiny_checkpoint, '--ann-file', sparse_path, '--img-root',
        synthetic['root'], '--out', out, '--device', 'cpu'
    ])
    with open(sparse_path) as f:
        sparse = json.load(f)
    with open(out) as f:
        pseudo = json.load(f)
    assert pseudo['images'] == sparse['images']
    new = [a for a in pseudo['annotations'] if 'propagated_from' in a]
    labeled = {i['id'] for i in sparse['images'] if i['is_labeled']}
    unlabeled = {i['id'] for i in sparse['images']} - labeled
    assert {a['image_id'] for a in new} == unlabeled
    assert all(a['image_id'] not in labeled for a in new)
    sparse_ids = {a['id'] for a in sparse['annotations']}
    for ann in new:
        scores = np.array(ann['scores'])
        assert len(ann['keypoints']) == 51 and len(scores) == 17
        assert np.all((scores >= 0) & (scores <= 1.0 + 1e-6))
        assert len(ann['bbox']) == 4 and ann['bbox'][2] > 0
        # marked: propagated, from which label, with the person's score
        assert ann['is_propagated'] is True
        assert ann['propagated_from'] in sparse_ids
        labeled = np.array(ann['keypoints'][2::3]) > 0
        assert ann['score'] == pytest.approx(scores[labeled].mean(), abs=1e-5)
    old = [a for a in pseudo['annotations'] if 'propagated_from' not in a]
    assert [dict(a, is_propagated=False) for a in sparse['annotations']] \
        == old

    dataset = PoseTrackVideoPairDataset(
        ann_file=out, data_root=synthetic['root'], pipeline=[])
    assert len(dataset) == len(pseudo['annotations'])
    ids = {dataset.get_data_info(i)['img_id'] for i in range(len(dataset))}
    assert unlabeled <= ids
    info = dataset.get_data_info(len(dataset) - 1)
    assert info['keypoints'].shape == (1, 17, 2)
    assert len(info['img_path']) == 2  # key + a supporting frame
    assert all(osp.isfile(p) for p in info['img_path'])
    # stage 1 trains on the labeled and the propagated persons
    single = PoseTrackVideoPairDataset(
        ann_file=out, data_root=synthetic['root'], single_frame=True,
        pipeline=[])
    assert len(single) == len(pseudo['annotations'])
    assert len(single.get_data_info(len(single) - 1)['img_path']) == 1
    # the sparse-label mode still sees only the original labels
    sparse_mode = PoseTrackVideoPairDataset(
        ann_file=out,
        data_root=synthetic['root'],
        sparse_label_every=1,
        pipeline=[])
    assert len(sparse_mode) == len(sparse['annotations'])


def test_copy_method_needs_no_model(propagate_tool, synthetic, tmp_path):
    out = str(tmp_path / 'copy.json')
    result = propagate_tool.main([
        'unused_config.py', 'unused.pth', '--ann-file',
        synthetic['sparse_ann_files']['train'], '--img-root',
        synthetic['root'], '--out', out, '--method', 'copy', '--max-distance',
        '1'
    ])
    new = [a for a in result['annotations'] if 'propagated_from' in a]
    assert {a['image_id'] % 10000 for a in new} == {1, 4, 6}


def test_bad_inputs_name_the_file(propagate_tool, synthetic, tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.json'):
        propagate_tool.main([
            TINY_CONFIG, 'x.pth', '--ann-file',
            str(tmp_path / 'missing.json'), '--img-root', synthetic['root'],
            '--out',
            str(tmp_path / 'o.json')
        ])
    broken = tmp_path / 'broken.json'
    broken.write_text('{"images": [], "annotations": [{"id": 1}]}')
    with pytest.raises(ValueError, match='broken.json'):
        propagate_tool.main([
            TINY_CONFIG, 'x.pth', '--ann-file',
            str(broken), '--img-root', synthetic['root'], '--out',
            str(tmp_path / 'o.json')
        ])
    with pytest.raises(FileNotFoundError, match='no_such_root'):
        propagate_tool.main([
            TINY_CONFIG, 'x.pth', '--ann-file',
            synthetic['sparse_ann_files']['train'], '--img-root',
            str(tmp_path / 'no_such_root'), '--out',
            str(tmp_path / 'o.json')
        ])


def test_eval_propagation_prints_every_row(eval_tool, synthetic,
                                           tiny_checkpoint, tmp_path, capsys):
    work = tmp_path / 'work'
    rows = eval_tool.main([
        TINY_CONFIG, tiny_checkpoint, '--data-root', synthetic['root'],
        '--work-dir',
        str(work), '--out-json',
        str(tmp_path / 'rows.json'), '--device', 'cpu'
    ])
    printed = capsys.readouterr().out
    assert '| copy nearest labeled pose |' in printed
    assert '| optical flow (DIS) propagation |' in printed
    assert '| PoseWarper propagation |' in printed
    assert set(rows) == {
        eval_tool.COPY_ROW, eval_tool.FLOW_ROW, eval_tool.WARP_ROW
    }
    for row in rows.values():
        assert all(math.isfinite(v) and 0 <= v <= 100 for v in row.values())
        assert row['Total'] > 0
    with open(tmp_path / 'rows.json') as f:
        saved = json.load(f)
    assert set(saved) == set(rows)
    for name, row in rows.items():
        assert saved[name] == pytest.approx(row)
    # GT of the labeled frames is held back; predictions are per video
    for name in ('000001_mpii_train.json', '000002_mpii_train.json'):
        with open(work / 'gt_unlabeled_frames' / name) as f:
            gt = json.load(f)
        assert gt['annotations']
        assert all(a['image_id'] % 5 != 0 for a in gt['annotations'])
        assert (work / 'pred_copy' / name).is_file()
        assert (work / 'pred_posewarper' / name).is_file()
        assert (work / 'pred_optical' / name).is_file()


def test_eval_propagation_max_videos(eval_tool, synthetic, tiny_checkpoint,
                                     tmp_path, capsys):
    """``--max-videos 1`` propagates and scores the first video only."""
    with open(synthetic['sparse_ann_files']['train']) as f:
        coco = json.load(f)
    first = eval_tool.first_videos(coco, 1)
    folders = {osp.dirname(img['file_name']) for img in first['images']}
    assert folders == {
        min(osp.dirname(img['file_name']) for img in coco['images'])
    }
    kept = {img['id'] for img in first['images']}
    assert 0 < len(first['annotations']) < len(coco['annotations'])
    assert all(a['image_id'] in kept for a in first['annotations'])

    work = tmp_path / 'work'
    eval_tool.main([
        TINY_CONFIG, tiny_checkpoint, '--data-root', synthetic['root'],
        '--work-dir',
        str(work), '--device', 'cpu', '--max-videos', '1'
    ])
    assert '| PoseWarper propagation |' in capsys.readouterr().out
    with open(work / 'gt_unlabeled_frames' / '000001_mpii_train.json') as f:
        assert json.load(f)['annotations']
    with open(work / 'gt_unlabeled_frames' / '000002_mpii_train.json') as f:
        assert json.load(f)['annotations'] == []
    with pytest.raises(SystemExit):
        eval_tool.parse_args([
            TINY_CONFIG, tiny_checkpoint, '--data-root', 'x', '--work-dir',
            'y', '--max-videos', '0'
        ])


def test_identity_warp_with_displacement_decoding_equals_copy(
        eval_tool, synthetic, tiny_checkpoint, tmp_path):
    """An untrained warping neck is the identity: decoding displacements,
    propagation reproduces the copied poses and their AP exactly.

    With plain MSRA decoding: the quickstart's UDP decoding refines the
    maximum with the log-heatmap's derivatives, which on an (almost) empty
    heatmap turn the last-bit rounding of the neck's mean over dilations
    into visible moves.
    """
    codec = plain_msra_codec(Config.fromfile(TINY_CONFIG).codec)
    config = tmp_path / 'msra_decoding.py'
    config.write_text(
        f'_base_ = [{TINY_CONFIG!r}]\n'
        f'model = dict(head=dict(decoder=dict(_delete_=True, **{codec!r})))'
        '\n')
    rows = eval_tool.main([
        str(config), tiny_checkpoint, '--data-root', synthetic['root'],
        '--work-dir',
        str(tmp_path), '--decode', 'displacement', '--device', 'cpu'
    ])
    copy_row = rows[eval_tool.COPY_ROW]
    warp_row = rows[eval_tool.WARP_ROW]
    for key in copy_row:
        assert warp_row[key] == pytest.approx(copy_row[key], abs=1e-6)


def test_pseudo_labeling_row_scores_the_single_frame_model(
        eval_tool, synthetic, tiny_checkpoint, single_frame_model, tmp_path):
    """``--single-frame`` adds the pseudo-labeling row: the single-frame
    model's poses of the persons, frames and joints that PoseWarper
    propagates, in the same boxes, scored by the same prior; the other
    rows stay as they are without it."""
    model, checkpoint = single_frame_model
    common = [TINY_CONFIG, tiny_checkpoint, '--data-root', synthetic['root'],
              '--device', 'cpu']
    without = eval_tool.main(common + ['--work-dir', str(tmp_path / 'a')])
    work = tmp_path / 'b'
    rows = eval_tool.main(common + [
        '--work-dir', str(work), '--single-frame', STAGE1_CFG, checkpoint])
    assert list(rows) == [eval_tool.COPY_ROW, eval_tool.PSEUDO_ROW,
                          eval_tool.FLOW_ROW, eval_tool.WARP_ROW]
    assert {k: v for k, v in rows.items() if k != eval_tool.PSEUDO_ROW} \
        == without
    assert all(math.isfinite(v) and 0 <= v <= 100
               for v in rows[eval_tool.PSEUDO_ROW].values())
    assert (work / 'pred_pseudo-labeling' / '000001_mpii_train.json').is_file()

    def persons(name):
        with open(work / name) as f:
            anns = [a for a in json.load(f)['annotations']
                    if 'propagated_from' in a]
        return {(a['image_id'], a['propagated_from']): a for a in anns}

    pseudo = persons('pseudo-labeling.json')
    warped = persons('posewarper.json')
    assert pseudo.keys() == warped.keys() and pseudo
    for key, ann in pseudo.items():
        assert ann['keypoints'][2::3] == warped[key]['keypoints'][2::3]
        assert ann['bbox'] is not None

    # one person by hand: the model on the target frame in the source box
    with open(synthetic['sparse_ann_files']['train']) as f:
        sparse = json.load(f)
    sources = {a['id']: a for a in sparse['annotations']}
    names = {i['id']: i['file_name'] for i in sparse['images']}
    (image_id, source_id), ann = sorted(pseudo.items())[-1]
    x, y, w, h = sources[source_id]['bbox']
    frame = cv2.imread(osp.join(synthetic['root'], names[image_id]))
    pred = inference_posewarper(model, [frame], [[x, y, x + w, y + h]])[0]
    distance = abs(image_id - sources[source_id]['image_id'])
    labeled = np.array(ann['keypoints'][2::3]) > 0
    kpts = np.array(ann['keypoints']).reshape(-1, 3)[:, :2]
    # the json's 2 decimals, and the tool's batch of persons against one
    np.testing.assert_allclose(kpts[labeled],
                               pred.pred_instances.keypoints[0][labeled],
                               atol=0.02)
    np.testing.assert_allclose(
        np.array(ann['scores'])[labeled],
        pred.pred_instances.keypoint_scores[0][labeled] / (1 + distance),
        atol=6e-6)
