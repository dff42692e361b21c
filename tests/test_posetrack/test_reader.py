"""Reading and checking user json: errors name the file, record, field."""
import copy
import json
import math

import pytest

from posewarper_mm.datasets import PoseTrackVideoPairDataset
from posewarper_mm.errors import InputFileError
from posewarper_mm.posetrack import check_detections, load_json
from posewarper_mm.posetrack.reader import (check_box, check_number,
                                            check_numbers,
                                            check_optional_number)

WHERE = 'a.json: detection #3'


@pytest.mark.parametrize('value, problem', [(math.nan, 'finite'),
                                            (math.inf, 'finite'),
                                            (-math.inf, 'finite'),
                                            ('0.5', 'must be a number'),
                                            (None, 'must be a number'),
                                            (True, 'must be a number'),
                                            ([1], 'must be a number')])
def test_bad_numbers_name_file_record_and_field(value, problem):
    with pytest.raises(InputFileError) as info:
        check_number(value, WHERE, 'score')
    message = str(info.value)
    assert message.startswith(f'{WHERE}: "score"') and problem in message
    assert '\n' not in message


def test_ranges_and_integers():
    assert check_number(0.5, WHERE, 'score', minimum=0, maximum=1) == 0.5
    with pytest.raises(InputFileError, match=r'"score" must be <= 1'):
        check_number(1.5, WHERE, 'score', minimum=0, maximum=1)
    with pytest.raises(InputFileError, match=r'"nframes" must be >= 1'):
        check_number(0, WHERE, 'nframes', minimum=1)
    value = check_number(3.0, WHERE, 'id', integer=True)
    assert value == 3 and isinstance(value, int)
    with pytest.raises(InputFileError, match='must be an integer'):
        check_number(3.5, WHERE, 'id', integer=True)


def test_lists_boxes_and_optional_fields():
    assert check_numbers([1, 2.5], WHERE, 'xs', length=2) == [1, 2.5]
    with pytest.raises(InputFileError, match=r'"bbox\[2\]" must be a finite'):
        check_box([0, 0, math.nan, 4], WHERE)
    with pytest.raises(InputFileError, match='at least 4 numbers, got 3'):
        check_box([0, 0, 4], WHERE)
    with pytest.raises(InputFileError, match='must be a list of numbers'):
        check_numbers('1 2 3', WHERE, 'bbox')
    assert check_box([1, 2, 3, 4, 0.9], WHERE) == [1.0, 2.0, 3.0, 4.0]
    assert check_optional_number({}, 'area', WHERE) is None
    with pytest.raises(InputFileError, match='"area"'):
        check_optional_number({'area': None}, 'area', WHERE)


def test_load_json(tmp_path):
    path = tmp_path / 'a.json'
    path.write_text('{"a": [1, NaN]}')
    assert load_json(str(path))['a'][0] == 1
    path.write_text('{"a": [1,')
    with pytest.raises(InputFileError, match=r'a\.json: malformed JSON'):
        load_json(str(path))
    with pytest.raises(FileNotFoundError, match=r'b\.json: cannot read'):
        load_json(str(tmp_path / 'b.json'))
    with pytest.raises(FileNotFoundError, match='cannot read'):
        load_json(str(tmp_path))


def test_detection_records():
    dets = [dict(bbox=[0, 0, 5, 5], score=0.5, image_name='x/000001.jpg')]
    assert check_detections(dets, 'd.json') is dets
    with pytest.raises(InputFileError, match=r"d\.json: detection #0 is "
                       r"missing the required key 'score'"):
        check_detections([dict(bbox=[0, 0, 5, 5])], 'd.json')
    # the demo's box json: the score defaults to 1
    check_detections([dict(bbox=[0, 0, 5, 5])], 'd.json', False)
    for bad, field in ((dict(frame_index=-1), 'frame_index'),
                       (dict(nframes=0), 'nframes'),
                       (dict(file_name=3), 'file_name'),
                       (dict(score=1.5), 'score')):
        det = dict(dict(bbox=[0, 0, 5, 5], score=0.5), **bad)
        with pytest.raises(InputFileError, match=f'#0: "{field}"'):
            check_detections([det], 'd.json')
    with pytest.raises(InputFileError, match='is empty'):
        check_detections([], 'd.json')


@pytest.fixture
def val_coco(tiny_posetrack) -> dict:
    with open(tiny_posetrack['ann_files']['val']) as f:
        return json.load(f)


def write(tmp_path, obj, name='broken_ann.json') -> str:
    path = tmp_path / name
    path.write_text(json.dumps(obj))
    return str(path)


def build(tiny_root, ann_file, **kwargs):
    return PoseTrackVideoPairDataset(
        ann_file=ann_file,
        data_prefix=dict(img=str(tiny_root) + '/'),
        pipeline=[],
        **kwargs)


def first_ann_with_id(coco):
    return next(a for a in coco['annotations'] if a['num_keypoints'] > 0)


def test_truncated_json(tmp_path, tiny_posetrack, tiny_root):
    text = open(tiny_posetrack['ann_files']['val']).read()
    path = tmp_path / 'truncated_ann.json'
    path.write_text(text[:len(text) // 2])
    with pytest.raises(
            InputFileError, match=r'truncated_ann\.json: malformed JSON'):
        build(tiny_root, str(path))


def test_missing_file(tmp_path, tiny_root):
    with pytest.raises(FileNotFoundError, match='no_such_ann.json'):
        build(tiny_root, str(tmp_path / 'no_such_ann.json'))


def test_not_a_coco_dict(tmp_path, tiny_root):
    path = write(tmp_path, [1, 2, 3])
    with pytest.raises(InputFileError, match='broken_ann.json'):
        build(tiny_root, path)
    path = write(tmp_path, dict(images=[]), 'no_anns.json')
    with pytest.raises(
            InputFileError,
            match=r"no_anns\.json: missing the top-level key "
            "'annotations'"):
        build(tiny_root, path)


@pytest.mark.parametrize('kind, key', [('images', 'file_name'),
                                       ('images', 'nframes'),
                                       ('annotations', 'keypoints'),
                                       ('annotations', 'bbox')])
def test_missing_required_key(tmp_path, tiny_root, val_coco, kind, key):
    coco = copy.deepcopy(val_coco)
    rec = coco[kind][3]
    del rec[key]
    path = write(tmp_path, coco)
    pattern = (rf'broken_ann\.json: .*id={rec["id"]} is missing the '
               rf"required key '{key}'")
    with pytest.raises(InputFileError, match=pattern):
        build(tiny_root, path)


def test_nframes_not_needed_in_single_frame_mode(tmp_path, tiny_root,
                                                 val_coco):
    coco = copy.deepcopy(val_coco)
    for img in coco['images']:
        del img['nframes']
    ds = build(tiny_root, write(tmp_path, coco), single_frame=True)
    assert len(ds) > 0


def test_wrong_keypoint_length(tmp_path, tiny_root, val_coco):
    coco = copy.deepcopy(val_coco)
    ann = first_ann_with_id(coco)
    ann['keypoints'] = ann['keypoints'][:48]
    path = write(tmp_path, coco)
    with pytest.raises(
            InputFileError,
            match=rf'broken_ann\.json: annotation id={ann["id"]} has '
            r'keypoints of length 48, expected 51'):
        build(tiny_root, path)


def test_unknown_image_id(tmp_path, tiny_root, val_coco):
    coco = copy.deepcopy(val_coco)
    ann = first_ann_with_id(coco)
    ann['image_id'] = 123
    with pytest.raises(
            InputFileError, match=rf'id={ann["id"]} refers to image_id 123'):
        build(tiny_root, write(tmp_path, coco))


def test_bad_detection_files(tmp_path, tiny_posetrack, tiny_root):
    ann = tiny_posetrack['ann_files']['val']
    bad = write(tmp_path, [dict(image_id=1, bbox=[0, 0, 5, 5], score=0.9)],
                'bad_dets.json')
    with pytest.raises(
            InputFileError, match=r'bad_dets\.json: detection #0 .*does not '
            'match any image'):
        build(tiny_root, ann, test_mode=True, bbox_file=bad)
    no_score = write(tmp_path, [dict(image_id=1, bbox=[0, 0, 5, 5])],
                     'no_score_dets.json')
    with pytest.raises(
            InputFileError,
            match=r"no_score_dets\.json: detection #0 .*'score'"):
        build(tiny_root, ann, test_mode=True, bbox_file=no_score)
