"""Reading and checking user json: errors name the file, record, field."""
import copy
import json
import math

import numpy as np
import pytest

from posewarper_mm.datasets import PoseTrackVideoPairDataset
from posewarper_mm.errors import InputFileError
from posewarper_mm.evaluation.functional import evaluate_posetrack
from posewarper_mm.posetrack import (MIN_SCORE, POSETRACK18_TO_EVAL_IDS,
                                     check_detections, load_json,
                                     load_posetrack_video, parse_frame_name)
from posewarper_mm.posetrack.reader import (check_box, check_number,
                                            check_numbers,
                                            check_optional_number)
from tests.testing.posetrack_files import (NAMES, gt_person, image, image_id,
                                           pred_person, video_name, write_file)

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


# ---------------------------------------------------------------------------
# official per-video files (evaluation)
IMG = image_id(1, 0)


@pytest.fixture
def dirs(tmp_path):
    """A valid GT/prediction pair of one frame; returns (gt, pred, name)."""
    gt_dir, pred_dir = str(tmp_path / 'gt'), str(tmp_path / 'pred')
    write_file(gt_dir, video_name(1), [image(1, 0)],
               [gt_person(IMG, 0, dict(nose=(10, 10)))])
    write_file(pred_dir, video_name(1), [image(1, 0)],
               [pred_person(IMG, 0, dict(nose=(10, 10, 0.5)))])
    return gt_dir, pred_dir, video_name(1)


def _raises(gt_dir, pred_dir, *fragments, error=InputFileError):
    with pytest.raises(error) as info:
        evaluate_posetrack(gt_dir, pred_dir)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))
    return str(info.value)


def test_valid_pair_evaluates(dirs):
    assert evaluate_posetrack(dirs[0], dirs[1])['nose'] == 100.0


def test_joint_mapping_and_parsing(tmp_path):
    # PoseTrack keypoint k -> evaluation joint; ears dropped
    assert list(POSETRACK18_TO_EVAL_IDS) == [
        13, 12, 14, None, None, 9, 8, 10, 7, 11, 6, 3, 2, 4, 1, 5, 0
    ]
    kpts = np.zeros((17, 3))
    kpts[:, 0] = np.arange(1, 18)
    kpts[:, 1] = 100
    kpts[:, 2] = np.linspace(0.1, 0.9, 17)
    kpts[15] = 0  # left_ankle: (0, 0, 0) -> absent
    ann = dict(
        image_id=IMG,
        track_id=3,
        keypoints=kpts.reshape(-1).tolist(),
        scores=[],
        bbox_head=[1.5, 2.0, 10.0, 20.0])
    path = write_file(str(tmp_path), 'v.json', [image(1, 0)], [ann])
    video = load_posetrack_video(path, is_prediction=True)
    assert video.video_folder == '000001_mpii_test'
    person = video.frames[0].persons[0]
    # x of eval joint j is 1 + the PoseTrack index it comes from
    assert person.coords[13, 0] == 1  # nose
    assert person.coords[0, 0] == 17  # right_ankle
    assert person.coords[14, 0] == 3  # head_top
    assert not person.present[5]  # left_ankle
    assert person.present.sum() == 14
    assert (person.scores[person.present] == MIN_SCORE).all()  # no scores
    assert person.head_box == (1.5, 2.0, 11.5, 22.0)
    assert person.track_id == 3 and person.record == 0
    assert parse_frame_name('a/b/012834_mpiinew_test/000140.jpg') == (
        '012834_mpiinew_test', 140)


def test_missing_prediction_file(dirs, tmp_path):
    gt_dir, pred_dir, name = dirs
    (tmp_path / 'pred' / name).unlink()
    msg = _raises(gt_dir, pred_dir, name, error=FileNotFoundError)
    assert 'not found' in msg


def test_image_count_mismatch(dirs):
    gt_dir, pred_dir, name = dirs
    write_file(pred_dir, name, [image(1, 0), image(1, 1)], [])
    _raises(gt_dir, pred_dir, name, '2 images', 'has 1')


def test_duplicate_track_ids_in_a_prediction_frame(dirs):
    gt_dir, pred_dir, name = dirs
    write_file(pred_dir, name, [image(1, 0)], [
        pred_person(IMG, 4, dict(nose=(10, 10, 0.5))),
        pred_person(IMG, 4, dict(nose=(50, 10, 0.5))),
    ])
    _raises(gt_dir, pred_dir, name, 'track_id 4', str(IMG))


def test_track_id_too_large(dirs):
    gt_dir, pred_dir, name = dirs
    write_file(pred_dir, name, [image(1, 0)],
               [pred_person(IMG, 10000, dict(nose=(10, 10, 0.5)))])
    _raises(gt_dir, pred_dir, name, 'annotation #0', 'below 10000')


def test_missing_bbox_head_only_matters_with_predictions(dirs):
    gt_dir, pred_dir, name = dirs
    write_file(gt_dir, name, [image(1, 0)],
               [gt_person(IMG, 0, dict(nose=(10, 10)), head_box=None)])
    _raises(gt_dir, pred_dir, name, 'bbox_head', 'annotation #0')
    # without predictions on that frame the head box is not needed
    write_file(pred_dir, name, [image(1, 0)], [])
    assert evaluate_posetrack(gt_dir, pred_dir)['nose'] == 0.0


def test_malformed_json(dirs, tmp_path):
    gt_dir, pred_dir, name = dirs
    (tmp_path / 'pred' / name).write_text('{"images": [')
    _raises(gt_dir, pred_dir, name, 'malformed JSON')
    (tmp_path / 'gt' / name).write_text('[1, 2]')
    _raises(gt_dir, pred_dir, name, 'JSON object')


@pytest.mark.parametrize('file_name,problem', [
    ('images/val/video1/000000.jpg', 'video folder'),
    ('images/val/000001_youtube_test/000000.jpg', 'video folder'),
    ('images/val/000001_mpii_test/frame_a.jpg', 'frame name'),
    ('images/val/000001_mpii_test/010000.jpg', 'frame name')
])
def test_bad_image_names(dirs, file_name, problem):
    gt_dir, pred_dir, name = dirs
    img = dict(image(1, 0), file_name=file_name)
    write_file(pred_dir, name, [img],
               [pred_person(IMG, 0, dict(nose=(10, 10, 0.5)))])
    _raises(gt_dir, pred_dir, name, 'image #0', problem)


def test_two_videos_in_one_file(dirs):
    gt_dir, pred_dir, name = dirs
    write_file(gt_dir, name, [image(1, 0), image(2, 0)], [])
    _raises(gt_dir, pred_dir, name, 'image #1', 'one file per video')


def test_prediction_of_another_video(dirs):
    gt_dir, pred_dir, name = dirs
    write_file(pred_dir, name, [image(7, 0)], [])
    _raises(gt_dir, pred_dir, name, '000007_mpii_test')


def test_bad_categories(dirs):
    gt_dir, pred_dir, name = dirs
    path = f'{pred_dir}/{name}'
    with open(path) as f:
        data = json.load(f)
    data['categories'][0]['keypoints'] = NAMES[:-1] + ['tail']
    with open(path, 'w') as f:
        json.dump(data, f)
    _raises(gt_dir, pred_dir, name, 'keypoint names', 'right_ankle')
    data['categories'] = []
    with open(path, 'w') as f:
        json.dump(data, f)
    _raises(gt_dir, pred_dir, name, 'exactly one category')


def test_bad_annotations(dirs):
    gt_dir, pred_dir, name = dirs
    stray = pred_person(image_id(1, 5), 0, dict(nose=(10, 10, 0.5)))
    write_file(pred_dir, name, [image(1, 0)], [stray])
    _raises(gt_dir, pred_dir, name, 'annotation #0', str(image_id(1, 5)))
    short = pred_person(IMG, 0, dict(nose=(10, 10, 0.5)))
    short['keypoints'] = short['keypoints'][:-3]
    write_file(pred_dir, name, [image(1, 0)], [short])
    _raises(gt_dir, pred_dir, name, 'annotation #0', '51 numbers')
    bad_scores = pred_person(IMG, 0, dict(nose=(10, 10, 0.5)))
    bad_scores['scores'] = [0.5] * 3
    write_file(pred_dir, name, [image(1, 0)], [bad_scores])
    _raises(gt_dir, pred_dir, name, '"scores"')
    no_track = pred_person(IMG, 0, dict(nose=(10, 10, 0.5)))
    del no_track['track_id']
    write_file(pred_dir, name, [image(1, 0)], [no_track])
    _raises(gt_dir, pred_dir, name, 'track_id')


def test_empty_or_missing_gt_folder(tmp_path):
    (tmp_path / 'empty').mkdir()
    _raises(str(tmp_path / 'empty'), str(tmp_path), 'no .json GT files')
    _raises(
        str(tmp_path / 'nowhere'),
        str(tmp_path),
        'nowhere',
        error=FileNotFoundError)


def test_extra_prediction_files_are_ignored(dirs):
    gt_dir, pred_dir, _ = dirs
    write_file(pred_dir, video_name(9), [image(9, 0)],
               [pred_person(image_id(9, 0), 0, dict(nose=(1, 1, 0.9)))])
    assert evaluate_posetrack(gt_dir, pred_dir)['nose'] == 100.0
