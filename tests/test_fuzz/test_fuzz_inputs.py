"""Systematic bad variants of every user file; each must fail clearly.

A tiny generated PoseTrack18 dataset (one validation video) gives the base
files: the merged annotation json, the detection json, the demo's box json,
a prediction folder for ``tools/eval_posetrack.py`` and a checkpoint of the
tiny quickstart model. The variants are derived from the files themselves:

- every numeric field of a record (found by walking the record, first
  element of each number list, x/y/visibility of a keypoint triple) is set
  to NaN, +inf, -inf, a string and null, and to an out-of-range value where
  a range exists;
- every list: empty and missing;
- every file: empty, truncated, of the wrong json type, binary, missing;
- duplicate ids; checkpoints that are no checkpoints or do not fit;
- output locations under an existing regular file (the tests run as root,
  so permissions would not stop a write).

Each variant must end in a clear error (an exception of the project's
error types, or a non-zero exit, with one line naming the file and the
problem, no third-party traceback) or in the documented fallback with its
warning. Fields a loader does not read are listed per loader
(``IGNORED``); their variants must leave the result unchanged. A numeric
field that is neither validated nor listed fails the test, so new fields
cannot slip through. Almost all cases call the Python entry points in
process; a handful run the command line programs.
"""
import atexit
import copy
import io
import json
import logging
import math
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile
import warnings
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import torch
from mmengine.logging import MMLogger

from posewarper_mm.apis import DetectionJsonBoxes
from posewarper_mm.datasets import PoseTrackVideoPairDataset
from posewarper_mm.engine import (PreflightCheckHook,
                                  load_inference_checkpoint, read_checkpoint)
from posewarper_mm.errors import InputFileError, OutputLocationError
from tests.testing import load_tool
from tools.quickstart.synthetic import generate_posetrack_dataset

REPO = Path(__file__).resolve().parents[2]
TINY_CONFIG = str(REPO / 'configs' / 'quickstart' /
                  'posewarper_hrnet-tiny_synthetic.py')
STAGE1_CONFIG = str(REPO / 'configs' / 'quickstart' /
                    'posewarper-stage1_hrnet-tiny_synthetic.py')

NAN, INF = float('nan'), float('inf')
# the variants of every numeric field
BAD_VALUES = [('nan', NAN), ('inf', INF), ('-inf', -INF), ('string', 'high'),
              ('null', None)]
CLEAR_ERRORS = (InputFileError, FileNotFoundError, OutputLocationError)


# ---------------------------------------------------------------------------
# base files, generated once at collection (cases are derived from them)
def _generate_base() -> dict:
    root = tempfile.mkdtemp(prefix='posewarper_fuzz_')
    atexit.register(shutil.rmtree, root, True)
    data = generate_posetrack_dataset(
        root,
        num_frames=3,
        width=96,
        height=72,
        persons_per_video=(2, 2),
        splits=('val', ),
        videos_per_split=(1, ),
        sparse_splits=(),
        crowd_prob=1.0,
        seed=0)
    with open(data['ann_files']['val']) as f:
        ann = json.load(f)
    with open(data['det_files']['val']) as f:
        dets = json.load(f)
    gt_file = data['video_ann_files']['val'][0]
    with open(gt_file) as f:
        gt = json.load(f)
    pred = copy.deepcopy(gt)
    for a in pred['annotations']:
        a['scores'] = [0.9] * 17
    boxes = [dict(frame_index=d['image_id'] % 10000, **d) for d in dets]
    return dict(
        root=root,
        ann=ann,
        dets=dets,
        boxes=boxes,
        gt_file=gt_file,
        pred=pred,
        video_file=osp.basename(gt_file))


BASE = _generate_base()


def _first_labeled(anns: List[dict]) -> int:
    return next(i for i, a in enumerate(anns) if a['num_keypoints'] > 0)


def numeric_paths(record: dict) -> List[Tuple]:
    """Paths of every numeric value of a record (see the module doc).

    A list of up to four numbers (a box) contributes every element, a
    longer one its first; a keypoint list the x, y and visibility of its
    first labeled joint; a list of number lists (polygons) its first
    number.
    """
    paths = []
    for key, value in record.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            paths.append((key, ))
        elif isinstance(value, list) and value:
            if key == 'keypoints':
                k = next(
                    i for i in range(0, len(value), 3) if value[i + 2] > 0)
                paths += [(key, k), (key, k + 1), (key, k + 2)]
            elif all(isinstance(v, (int, float)) for v in value):
                # boxes: every coordinate; longer lists: the first number
                count = len(value) if len(value) <= 4 else 1
                paths += [(key, i) for i in range(count)]
            elif isinstance(value[0], list) and value[0] and isinstance(
                    value[0][0], (int, float)):
                paths.append((key, 0, 0))
    return paths


def list_keys(record: dict) -> List[str]:
    return [k for k, v in record.items() if isinstance(v, list)]


def _set(record: dict, path: Tuple, value: Any) -> None:
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def _field(path: Tuple) -> str:
    """The field name as the loaders print it."""
    return path[0] if len(path) == 1 else \
        f'{path[0]}[{path[1]}]' if len(path) == 2 else path[0]


# ---------------------------------------------------------------------------
# outcome checks
def assert_clear(message: str, path: str, *fragments: str) -> None:
    """One line naming the file and every fragment of the problem."""
    message = str(message).strip()
    assert message, 'empty error message'
    assert '\n' not in message, f'not one line: {message!r}'
    assert 'Traceback' not in message
    assert str(path) in message, f'{path} not named in {message!r}'
    for fragment in fragments:
        assert fragment in message, f'{fragment!r} not in {message!r}'


def expect_error(call, path: str, *fragments: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            call()
        except CLEAR_ERRORS as err:
            assert_clear(str(err), path, *fragments)
            return str(err)
        except SystemExit as err:
            assert err.code not in (0, None)
            assert_clear(str(err.code), path, *fragments)
            return str(err.code)
    raise AssertionError('no error raised')


class LogCapture:
    """Messages of mmengine's current logger and of ``warnings``."""

    def __enter__(self):
        self.messages: List[str] = []
        self.logger = MMLogger.get_current_instance()
        self.handler = logging.Handler()
        self.handler.emit = lambda r: self.messages.append(r.getMessage())
        self.logger.addHandler(self.handler)
        self._warn = warnings.catch_warnings(record=True)
        self.caught = self._warn.__enter__()
        warnings.simplefilter('always')
        return self

    def __exit__(self, *exc):
        self._warn.__exit__(*exc)
        self.logger.removeHandler(self.handler)
        self.messages += [str(w.message) for w in self.caught]


def write_json(folder: Path, name: str, obj: Any) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(obj))
    return str(path)


# ---------------------------------------------------------------------------
# 1. merged annotation json -> PoseTrackVideoPairDataset
ANN_RANGES = {
    ('images', 'width'): [0],
    ('images', 'height'): [-1],
    ('images', 'nframes'): [0],
    ('annotations', 'keypoints', 'v'): [3, -1],
    ('annotations', 'num_keypoints'): [-1, 18],
    ('annotations', 'area'): [-1],
    ('annotations', 'track_id'): [-1],
}
# not read by the dataset (evaluation-only or informational fields)
ANN_IGNORED = {('images', 'ignore_regions_x'), ('images', 'ignore_regions_y'),
               ('annotations', 'bbox_head'), ('annotations', 'scores'),
               ('annotations', 'keypoints_occluded')}
# yes/no fields (written as json booleans, so not found as numbers)
ANN_FLAGS = {'annotations': ['iscrowd']}
# documented fallback: boxes without area are dropped with a warning
ANN_FALLBACK = {
    ('annotations', 'bbox', 2): [-5],
    ('annotations', 'bbox', 3): [0]
}


def _range_key(kind: str, path: Tuple) -> Tuple:
    if path[0] == 'keypoints':
        return (kind, 'keypoints', 'xyv'[path[1] % 3])
    return (kind, ) + path


def _ann_cases():
    cases = []
    records = dict(
        images=0, annotations=_first_labeled(BASE['ann']['annotations']))
    for kind, idx in records.items():
        record = BASE['ann'][kind][idx]
        for path in numeric_paths(record):
            expect = 'same' if (kind, path[0]) in ANN_IGNORED else 'error'
            for name, value in BAD_VALUES:
                cases.append((f'{kind}.{_field(path)}={name}', kind, idx, path,
                              value, expect))
            for value in ANN_RANGES.get(_range_key(kind, path), []):
                cases.append((f'{kind}.{_field(path)}={value}', kind, idx,
                              path, value, 'error'))
            for value in ANN_FALLBACK.get((kind, ) + path, []):
                cases.append((f'{kind}.{_field(path)}={value}', kind, idx,
                              path, value, 'fallback'))
        for key in ANN_FLAGS.get(kind, []):
            for name, value in BAD_VALUES + [('2', 2)]:
                cases.append((f'{kind}.{key}={name}', kind, idx, (key, ),
                              value, 'error'))
        for key in list_keys(record):
            expect = 'same' if (kind, key) in ANN_IGNORED else 'error'
            for name, value in (('empty', []), ('missing', KeyError)):
                cases.append((f'{kind}.{key}={name}', kind, idx, (key, ),
                              value, expect))
    return cases


ANN_CASES = _ann_cases()


def _build_dataset(ann_file: str, bbox_file: Optional[str] = None):
    return PoseTrackVideoPairDataset(
        ann_file=ann_file,
        bbox_file=bbox_file,
        data_prefix=dict(img=BASE['root'] + '/'),
        test_mode=True,
        pipeline=[])


@pytest.fixture(scope='module')
def base_dataset_len(tmp_path_factory):
    folder = tmp_path_factory.mktemp('fuzz_base')
    return len(_build_dataset(write_json(folder, 'ann.json', BASE['ann'])))


@pytest.mark.parametrize(
    'name, kind, idx, path, value, expect',
    ANN_CASES,
    ids=[c[0] for c in ANN_CASES])
def test_annotation_field(tmp_path, base_dataset_len, name, kind, idx, path,
                          value, expect):
    coco = copy.deepcopy(BASE['ann'])
    if value is KeyError:
        del coco[kind][idx][path[0]]
    else:
        _set(coco[kind][idx], path, value)
    ann_file = write_json(tmp_path, 'ann.json', coco)
    if expect == 'error':
        expect_error(lambda: _build_dataset(ann_file), ann_file, path[0])
    elif expect == 'fallback':
        with LogCapture() as log:
            dataset = _build_dataset(ann_file)
        assert dataset.num_dropped_boxes == 1
        assert len(dataset) == base_dataset_len - 1
        assert any(ann_file in m and 'dropped 1' in m for m in log.messages)
    else:
        assert len(_build_dataset(ann_file)) == base_dataset_len


ANN_STRUCTURE = [
    ('images=empty', lambda c: c.__setitem__('images', []), 'images'),
    ('images=missing', lambda c: c.pop('images'), 'images'),
    ('annotations=empty', lambda c: c.__setitem__('annotations', []),
     'no usable person'),
    ('annotations=missing', lambda c: c.pop('annotations'), 'annotations'),
    ('images=not-a-list', lambda c: c.__setitem__('images', {}), 'images'),
    ('image=not-a-dict', lambda c: c['images'].__setitem__(0, 7), 'image'),
    ('annotation=not-a-dict', lambda c: c['annotations'].__setitem__(0, 'x'),
     'annotation'),
    ('duplicate-annotation-id', lambda c: c['annotations'][1].__setitem__(
        'id', c['annotations'][0]['id']), 'duplicate annotation id'),
    ('duplicate-image-id',
     lambda c: c['images'][1].__setitem__('id', c['images'][0]['id']),
     'duplicate image id'),
    ('unknown-image-id',
     lambda c: c['annotations'][0].__setitem__('image_id', 5), 'image_id 5'),
]


@pytest.mark.parametrize(
    'name, mutate, fragment', ANN_STRUCTURE, ids=[c[0] for c in ANN_STRUCTURE])
def test_annotation_structure(tmp_path, name, mutate, fragment):
    coco = copy.deepcopy(BASE['ann'])
    mutate(coco)
    ann_file = write_json(tmp_path, 'ann.json', coco)
    expect_error(lambda: _build_dataset(ann_file), ann_file, fragment)


def _bad_files(valid_text: str, wrong_type: str):
    """(name, file bytes or None for a missing file) of every bad file."""
    return [('empty', b''),
            ('truncated', valid_text[:len(valid_text) // 2].encode()),
            ('wrong-type', wrong_type.encode()),
            ('binary', bytes(range(256)) * 4), ('missing', None)]


def _write_bad(folder: Path, name: str, content: Optional[bytes]) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if content is not None:
        path.write_bytes(content)
    return str(path)


ANN_FILES = _bad_files(json.dumps(BASE['ann']), '[1, 2, 3]')


@pytest.mark.parametrize(
    'name, content', ANN_FILES, ids=[c[0] for c in ANN_FILES])
def test_annotation_file(tmp_path, name, content):
    ann_file = _write_bad(tmp_path, 'ann.json', content)
    expect_error(lambda: _build_dataset(ann_file), ann_file)


# ---------------------------------------------------------------------------
# 2. detection json -> PoseTrackVideoPairDataset(bbox_file=...)
DET_RANGES = {('score', ): [1.5, -0.1]}
DET_FALLBACK = {('bbox', 2): [-5], ('bbox', 3): [0]}


def _record_cases(record: dict,
                  ranges: dict,
                  fallback: dict,
                  ignored=frozenset()):
    cases = []
    for path in numeric_paths(record):
        expect = 'same' if path[0] in ignored else 'error'
        for name, value in BAD_VALUES:
            cases.append((f'{_field(path)}={name}', path, value, expect))
        for value in ranges.get(path, []):
            cases.append((f'{_field(path)}={value}', path, value, 'error'))
        for value in fallback.get(path, []):
            cases.append((f'{_field(path)}={value}', path, value, 'fallback'))
    for key in list_keys(record):
        for name, value in (('empty', []), ('missing', KeyError)):
            cases.append((f'{key}={name}', (key, ), value, 'error'))
    for key in ('score', ):
        cases.append((f'{key}=missing', (key, ), KeyError, 'error'))
    return cases


DET_CASES = _record_cases(BASE['dets'][0], DET_RANGES, DET_FALLBACK)


def _mutated_records(records: List[dict], path, value) -> List[dict]:
    records = copy.deepcopy(records)
    if value is KeyError:
        del records[0][path[0]]
    else:
        _set(records[0], path, value)
    return records


@pytest.mark.parametrize(
    'name, path, value, expect', DET_CASES, ids=[c[0] for c in DET_CASES])
def test_detection_field(tmp_path, name, path, value, expect):
    ann_file = write_json(tmp_path, 'ann.json', BASE['ann'])
    det_file = write_json(tmp_path, 'dets.json',
                          _mutated_records(BASE['dets'], path, value))
    if expect == 'error':
        expect_error(lambda: _build_dataset(ann_file, det_file), det_file,
                     'detection #0', path[0])
    else:
        with LogCapture() as log:
            dataset = _build_dataset(ann_file, det_file)
        assert dataset.num_dropped_boxes == 1
        assert any(det_file in m and 'dropped 1' in m for m in log.messages)


DET_FILES = _bad_files(json.dumps(BASE['dets']), '{"bbox": [1, 2, 3, 4]}') \
    + [('empty-list', b'[]')]


@pytest.mark.parametrize(
    'name, content', DET_FILES, ids=[c[0] for c in DET_FILES])
def test_detection_file(tmp_path, name, content):
    ann_file = write_json(tmp_path, 'ann.json', BASE['ann'])
    det_file = _write_bad(tmp_path, 'dets.json', content)
    expect_error(lambda: _build_dataset(ann_file, det_file), det_file)


# ---------------------------------------------------------------------------
# 3. the video demo's --bbox-json -> DetectionJsonBoxes
BOX_RANGES = {('score', ): [1.5, -0.1], ('frame_index', ): [-1]}
BOX_CASES = _record_cases(BASE['boxes'][0], BOX_RANGES, DET_FALLBACK)


@pytest.mark.parametrize(
    'name, path, value, expect', BOX_CASES, ids=[c[0] for c in BOX_CASES])
def test_box_json_field(tmp_path, name, path, value, expect):
    records = _mutated_records(BASE['boxes'], path, value)
    if expect == 'error' and path == ('score', ) and value is KeyError:
        expect = 'default-score'  # documented: score defaults to 1
    box_file = write_json(tmp_path, 'boxes.json', records)
    if expect == 'error':
        expect_error(lambda: DetectionJsonBoxes(box_file), box_file,
                     'detection #0', path[0])
    elif expect == 'default-score':
        boxes = DetectionJsonBoxes(box_file)
        frame = records[0]['frame_index']
        assert 1.0 in boxes(frame, None)[:, 4].tolist()
    else:
        with LogCapture() as log:
            boxes = DetectionJsonBoxes(box_file)
        total = sum(len(b) for b in boxes.boxes.values())
        assert total == len(records) - 1
        assert any(box_file in m and 'dropped 1' in m for m in log.messages)


BOX_FILES = _bad_files(json.dumps(BASE['boxes']), '{"bbox": [1, 2, 3, 4]}') \
    + [('empty-list', b'[]')]


@pytest.mark.parametrize(
    'name, content', BOX_FILES, ids=[c[0] for c in BOX_FILES])
def test_box_json_file(tmp_path, name, content):
    box_file = _write_bad(tmp_path, 'boxes.json', content)
    expect_error(lambda: DetectionJsonBoxes(box_file), box_file)


# ---------------------------------------------------------------------------
# 4. prediction folder -> tools/eval_posetrack.py
@pytest.fixture(scope='module')
def eval_tool():
    return load_tool('tools/eval_posetrack.py')


PRED_RANGES = {('track_id', ): [10000]}
# read by the evaluation only from ground-truth files, or not at all
PRED_IGNORED = {
    'images': {
        'width', 'height', 'nframes', 'frame_id', 'ignore_regions_x',
        'ignore_regions_y'
    },
    'annotations': {
        'bbox', 'id', 'category_id', 'num_keypoints', 'keypoints_occluded',
        'iscrowd', 'score'
    },
}
# valid: no joint scores -> every joint ranked equally (documented)
PRED_VALID_LISTS = {('annotations', 'scores'), ('annotations', 'bbox_head')}


def _pred_cases():
    cases = []
    pred = BASE['pred']
    records = dict(images=0, annotations=0)
    for kind, idx in records.items():
        record = pred[kind][idx]
        for path in numeric_paths(record):
            expect = 'same' if path[0] in PRED_IGNORED[kind] else 'error'
            for name, value in BAD_VALUES:
                cases.append((f'{kind}.{_field(path)}={name}', kind, idx, path,
                              value, expect))
            for value in PRED_RANGES.get(path, []):
                cases.append((f'{kind}.{_field(path)}={value}', kind, idx,
                              path, value, 'error'))
        for key in list_keys(record):
            if key in PRED_IGNORED[kind]:
                expect = 'same'
            elif (kind, key) in PRED_VALID_LISTS:
                expect = 'valid'
            else:
                expect = 'error'
            cases.append((f'{kind}.{key}=empty', kind, idx, (key, ), [],
                          'error' if key == 'bbox_head' else expect))
            cases.append((f'{kind}.{key}=missing', kind, idx, (key, ),
                          KeyError, expect))
    for key in ('images', 'annotations', 'categories'):
        expect = 'no-predictions' if key == 'annotations' else 'error'
        cases.append((f'{key}=empty', key, None, None, [], expect))
        cases.append((f'{key}=missing', key, None, None, KeyError, 'error'))
    return cases


PRED_CASES = _pred_cases()


def _eval(eval_tool, gt_dir: str, pred_dir: str, json_out=None):
    err = io.StringIO()
    out = io.StringIO()
    argv = ['--gt-dir', gt_dir, '--pred-dir', pred_dir]
    if json_out:
        argv += ['--json', json_out]
    from contextlib import redirect_stdout
    with redirect_stderr(err), redirect_stdout(out):
        code = eval_tool.main(argv)
    return code, err.getvalue(), out.getvalue()


@pytest.fixture(scope='module')
def gt_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp('fuzz_gt')
    shutil.copy(BASE['gt_file'], str(folder))
    return str(folder)


def _assert_eval_error(code, err, path):
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith('error: ')
    assert_clear(lines[0], path)


@pytest.mark.parametrize(
    'name, kind, idx, path, value, expect',
    PRED_CASES,
    ids=[c[0] for c in PRED_CASES])
def test_prediction_field(tmp_path, eval_tool, gt_dir, name, kind, idx, path,
                          value, expect):
    pred = copy.deepcopy(BASE['pred'])
    if path is None:  # a top-level list
        if value is KeyError:
            del pred[kind]
        else:
            pred[kind] = value
    elif value is KeyError:
        del pred[kind][idx][path[0]]
    else:
        _set(pred[kind][idx], path, value)
    pred_file = write_json(tmp_path / 'pred', BASE['video_file'], pred)
    code, err, out = _eval(eval_tool, gt_dir, str(tmp_path / 'pred'),
                           str(tmp_path / 'ap.json'))
    if expect == 'error':
        _assert_eval_error(code, err, pred_file)
        return
    assert code == 0, err
    with open(tmp_path / 'ap.json') as f:
        total = json.load(f)['Total']
    assert math.isfinite(total)
    if expect == 'no-predictions':
        assert total == 0.0
    elif expect == 'same':
        assert total == 100.0


PRED_FILES = _bad_files(json.dumps(BASE['pred']), '[1, 2]')


@pytest.mark.parametrize(
    'name, content', PRED_FILES, ids=[c[0] for c in PRED_FILES])
def test_prediction_file(tmp_path, eval_tool, gt_dir, name, content):
    pred_file = _write_bad(tmp_path / 'pred', BASE['video_file'], content)
    code, err, _ = _eval(eval_tool, gt_dir, str(tmp_path / 'pred'))
    _assert_eval_error(code, err, pred_file)


def test_base_predictions_score_100(tmp_path, eval_tool, gt_dir):
    """The base of the prediction variants is itself valid (AP 100)."""
    write_json(tmp_path / 'pred', BASE['video_file'], BASE['pred'])
    code, err, _ = _eval(eval_tool, gt_dir, str(tmp_path / 'pred'),
                         str(tmp_path / 'ap.json'))
    assert code == 0, err
    assert json.load(open(tmp_path / 'ap.json'))['Total'] == 100.0


# ---------------------------------------------------------------------------
# 5. checkpoints -> inference loading, tools/test.py preflight, converter
@pytest.fixture(scope='module')
def tiny_model():
    from mmpose.apis import init_model
    torch.manual_seed(0)
    return init_model(TINY_CONFIG, None, device='cpu')


@pytest.fixture(scope='module')
def good_checkpoint(tiny_model, tmp_path_factory):
    path = tmp_path_factory.mktemp('fuzz_ckpt') / 'good.pth'
    torch.save(dict(state_dict=tiny_model.state_dict(), meta=dict()), path)
    return str(path)


def _checkpoint_files(good: str, model) -> Dict[str, Optional[bytes]]:
    raw = Path(good).read_bytes()
    files = {
        'empty': b'',
        'truncated': raw[:len(raw) // 2],
        'text': b'this is not a checkpoint\n' * 10,
        'json': b'{"state_dict": {}}',
        'missing': None,
    }
    buffers = {}
    for name, obj in (('list', [1, 2, 3]), ('tensor', torch.zeros(3)),
                      ('no-state-dict', {
                          'meta': {
                              'epoch': 1
                          }
                      })):
        buf = io.BytesIO()
        torch.save(obj, buf)
        buffers[name] = buf.getvalue()
    files.update(buffers)
    return files


CHECKPOINT_FILE_CASES = [
    'empty', 'truncated', 'text', 'json', 'missing', 'list', 'tensor',
    'no-state-dict'
]


@pytest.mark.parametrize('name', CHECKPOINT_FILE_CASES)
def test_checkpoint_file(tmp_path, tiny_model, good_checkpoint, name):
    content = _checkpoint_files(good_checkpoint, tiny_model)[name]
    path = _write_bad(tmp_path, 'bad.pth', content)
    # inference loading (demo, propagation)
    expect_error(lambda: load_inference_checkpoint(tiny_model, path), path)
    # tools/test.py, before the runner loads it
    if name not in ('no-state-dict', ):
        hook = PreflightCheckHook(checkpoint=path)
        expect_error(lambda: hook.before_run(None), path)
    # tools/convert_checkpoint.py
    converter = load_tool('tools/convert_checkpoint.py')
    if name != 'missing':
        expect_error(
            lambda: converter.main([path, str(tmp_path / 'out.pth')]), path)


class _Runner:

    def __init__(self, model):
        self.model = model


def _state(model) -> dict:
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.fixture(scope='module')
def stage1_state():
    from mmpose.apis import init_model
    return init_model(STAGE1_CONFIG, None, device='cpu').state_dict()


FIT_CASES = [
    ('another-stage', 'error'),
    ('renamed-keys', 'error'),
    ('one-weight-missing', 'error'),
    ('wrong-shape', 'error'),
    ('only-bn-counters-missing', 'ok'),
    ('extra-keys', 'ok'),
]


@pytest.mark.parametrize(
    'name, expect', FIT_CASES, ids=[c[0] for c in FIT_CASES])
def test_checkpoint_fit(tmp_path, tiny_model, stage1_state, name, expect):
    state = _state(tiny_model)
    if name == 'another-stage':
        state = dict(stage1_state)
    elif name == 'renamed-keys':
        state = {f'other.{k}': v for k, v in state.items()}
    elif name == 'one-weight-missing':
        state.pop(next(k for k in state if k.startswith('neck.')))
    elif name == 'wrong-shape':
        key = next(
            k for k in state if k.endswith('weight') and state[k].dim() == 4)
        state[key] = torch.zeros(1, 1, 1, 1)
    elif name == 'only-bn-counters-missing':
        state = {
            k: v
            for k, v in state.items() if not k.endswith('num_batches_tracked')
        }
    elif name == 'extra-keys':
        state['unused.weight'] = torch.zeros(2)
    path = str(tmp_path / 'ckpt.pth')
    torch.save(dict(state_dict=state), path)
    hook = PreflightCheckHook(checkpoint=path)
    if expect == 'error':
        msg = expect_error(lambda: load_inference_checkpoint(tiny_model, path),
                           path, 'unloaded', '--allow-partial-checkpoint')
        expect_error(
            lambda: hook.after_load_checkpoint(
                _Runner(tiny_model), read_checkpoint(path)), path, 'unloaded')
        assert msg
        # the explicit flag runs anyway
        load_inference_checkpoint(tiny_model, path, allow_partial=True)
        PreflightCheckHook(checkpoint=path, allow_partial=True) \
            .after_load_checkpoint(_Runner(tiny_model), read_checkpoint(path))
    else:
        load_inference_checkpoint(tiny_model, path)
        hook.after_load_checkpoint(_Runner(tiny_model), read_checkpoint(path))
        for key, value in state.items():
            if key in tiny_model.state_dict():
                assert torch.equal(tiny_model.state_dict()[key], value), key


# ---------------------------------------------------------------------------
# 6. output locations that cannot be written (a folder under a file)
@pytest.fixture
def blocker(tmp_path) -> Path:
    path = tmp_path / 'a_regular_file'
    path.write_text('x')
    return path


OUTPUT_CASES = [
    'test-work-dir', 'test-pred-dir', 'test-out', 'test-dump',
    'test-out-is-dir', 'demo-output-root', 'demo-output-root-is-file',
    'propagate-out', 'propagate-out-is-dir', 'eval-json', 'browse-output-dir'
]


@pytest.fixture(scope='module')
def demo_tool():
    return load_tool('demo/posewarper_video_demo.py')


@pytest.fixture(scope='module')
def propagate_tool():
    return load_tool('tools/propagate_poses.py')


@pytest.fixture(scope='module')
def browse_tool():
    return load_tool('tools/browse_dataset.py')


def _cli_error(cli, argv, path, capsys):
    capsys.readouterr()
    code = cli(argv)
    err = capsys.readouterr().err
    assert code == 1
    assert 'Traceback' not in err
    assert_clear(err.strip().splitlines()[-1], path)


@pytest.mark.parametrize('name', OUTPUT_CASES)
def test_unwritable_output(name, tmp_path, blocker, good_checkpoint, demo_tool,
                           propagate_tool, browse_tool, eval_tool, gt_dir,
                           capsys):
    under = str(blocker / 'sub')
    frames = osp.dirname(
        osp.join(BASE['root'], BASE['ann']['images'][0]['file_name']))
    if name.startswith('test-'):
        option = {
            'test-work-dir': '--work-dir',
            'test-pred-dir': '--pred-dir',
            'test-out': '--out',
            'test-dump': '--dump',
            'test-out-is-dir': '--out'
        }[name]
        if name == 'test-out-is-dir':
            target = str(tmp_path)
            hook = PreflightCheckHook(out_files=[(option, target)])
        elif option in ('--out', '--dump'):
            target = under + '/x.json'
            hook = PreflightCheckHook(out_files=[(option, target)])
        else:
            target = under
            hook = PreflightCheckHook(out_dirs=[(option, target)])
        expect_error(lambda: hook.before_run(None), target, option)
    elif name.startswith('demo-'):
        root = str(blocker) if name.endswith('is-file') else under
        _cli_error(demo_tool.cli, [
            TINY_CONFIG, good_checkpoint, '--input', frames, '--output-root',
            root, '--device', 'cpu'
        ], root, capsys)
    elif name.startswith('propagate-'):
        out = str(tmp_path) if name.endswith('is-dir') else under + '/p.json'
        _cli_error(propagate_tool.cli, [
            TINY_CONFIG, good_checkpoint, '--ann-file',
            write_json(tmp_path, 'ann.json', BASE['ann']), '--img-root',
            BASE['root'], '--out', out, '--device', 'cpu'
        ], out, capsys)
    elif name == 'eval-json':
        write_json(tmp_path / 'pred', BASE['video_file'], BASE['pred'])
        out = under + '/ap.json'
        code, err, _ = _eval(eval_tool, gt_dir, str(tmp_path / 'pred'), out)
        _assert_eval_error(code, err, out)
    else:
        _cli_error(browse_tool.cli, [
            TINY_CONFIG, '--output-dir', under, '--cfg-options',
            f'val_dataloader.dataset.data_root={BASE["root"]}/'
        ], under, capsys)


def test_video_writer_failure_is_an_error(tmp_path, demo_tool, good_checkpoint,
                                          monkeypatch, capsys):
    """cv2.VideoWriter that cannot open is an error before inference."""
    import cv2

    from posewarper_mm.apis import PoseWarperInferencer

    class _Closed:

        def __init__(self, *args, **kwargs):
            pass

        def isOpened(self):
            return False

        def release(self):
            pass

    monkeypatch.setattr(cv2, 'VideoWriter', _Closed)
    called = []
    monkeypatch.setattr(PoseWarperInferencer, 'forward',
                        lambda *a, **k: called.append(1))
    frames = osp.dirname(
        osp.join(BASE['root'], BASE['ann']['images'][0]['file_name']))
    _cli_error(demo_tool.cli, [
        TINY_CONFIG, good_checkpoint, '--input', frames, '--output-root',
        str(tmp_path / 'out'), '--device', 'cpu'
    ], str(tmp_path / 'out'), capsys)
    assert not called, 'a frame was estimated before the writer check'


# ---------------------------------------------------------------------------
# 7. the command line programs themselves (a handful, in subprocesses)
def _run_cli(args: List[str], cwd: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(REPO), env.get('PYTHONPATH')) if p)
    env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    return subprocess.run([sys.executable, *args],
                          cwd=cwd,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)


def _assert_cli_error(proc, path: str) -> None:
    assert proc.returncode != 0
    assert 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert_clear(last, path)


def test_cli_eval_posetrack_nan_score(tmp_path, gt_dir):
    pred = copy.deepcopy(BASE['pred'])
    pred['annotations'][0]['scores'][0] = NAN
    pred_file = write_json(tmp_path / 'pred', BASE['video_file'], pred)
    proc = _run_cli([
        str(REPO / 'tools' / 'eval_posetrack.py'), '--gt-dir', gt_dir,
        '--pred-dir',
        str(tmp_path / 'pred')
    ], str(tmp_path))
    _assert_cli_error(proc, pred_file)
    assert 'scores[0]' in proc.stderr


def test_cli_demo_nan_box(tmp_path, good_checkpoint):
    boxes = copy.deepcopy(BASE['boxes'])
    boxes[0]['bbox'][0] = NAN
    box_file = write_json(tmp_path, 'boxes.json', boxes)
    frames = osp.dirname(
        osp.join(BASE['root'], BASE['ann']['images'][0]['file_name']))
    proc = _run_cli([
        str(REPO / 'demo' / 'posewarper_video_demo.py'), TINY_CONFIG,
        good_checkpoint, '--input', frames, '--output-root',
        str(tmp_path / 'out'), '--bbox-json', box_file, '--device', 'cpu'
    ], str(tmp_path))
    _assert_cli_error(proc, box_file)


def test_cli_convert_text_checkpoint(tmp_path):
    text = tmp_path / 'notes.pth'
    text.write_text('not a checkpoint\n')
    proc = _run_cli([
        str(REPO / 'tools' / 'convert_checkpoint.py'),
        str(text),
        str(tmp_path / 'out.pth')
    ], str(tmp_path))
    _assert_cli_error(proc, str(text))


def test_cli_test_tool_empty_checkpoint(tmp_path):
    from tests.testing.tiny_quickstart import data_options
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    proc = _run_cli([
        str(REPO / 'tools' / 'test.py'), TINY_CONFIG,
        str(empty), '--work-dir',
        str(tmp_path / 'work'), '--cfg-options', *data_options(BASE['root'])
    ], str(tmp_path))
    _assert_cli_error(proc, str(empty))
