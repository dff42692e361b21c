"""PoseWarperInferencer: windows, boxes, track ids and honest outputs."""
import json
import os

import cv2
import numpy as np
import pytest
import torch
from mmpose.apis import init_model

from posewarper_mm.apis import PoseWarperInferencer, inference_posewarper
from posewarper_mm.errors import InputFileError, OutputLocationError
from tests.testing.clips import (TINY_CONFIG, clip_frames, crossing_clip,
                                 save_tiny_checkpoint, write_truncated_avi)
from tests.testing.models import train_steps

BOXES = np.array([[20, 10, 70, 110, 0.9], [80, 5, 140, 115, 0.6]],
                 np.float32)


@pytest.fixture(scope='module')
def warping_model(tmp_path_factory):
    """The tiny quickstart model whose warping is no longer the identity,
    and its checkpoint."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = train_steps(init_model(TINY_CONFIG, None, device='cpu'), 3, 2)
    path = tmp_path_factory.mktemp('warping') / 'tiny.pth'
    return model, save_tiny_checkpoint(model, str(path))


@pytest.fixture(scope='module')
def inferencer(warping_model):
    return PoseWarperInferencer(TINY_CONFIG, warping_model[1], device='cpu')


def _files(folder) -> list:
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


@pytest.mark.parametrize('online', [False, True])
def test_keypoints_equal_inference_posewarper(warping_model, synthetic,
                                              online):
    """Every key frame of a frame folder, with given boxes: the keypoints
    of the api on the window's frames (offsets clamped to the clip)."""
    model, checkpoint = warping_model
    inferencer = PoseWarperInferencer(TINY_CONFIG, checkpoint, device='cpu',
                                      online=online)
    files = clip_frames(synthetic)
    frames = [cv2.imread(f) for f in files]
    offsets = [0, -2, -1] if online else [0, -2, -1, 1, 2]
    weights = np.array([0.3, 0.1, 0.25, 0.25, 0.1][:len(offsets)])
    weights /= weights.sum()
    assert inferencer.window.offsets == tuple(offsets)
    results = list(inferencer(os.path.dirname(files[0]),
                              bboxes=[BOXES] * len(files)))
    assert len(results) == len(files) == 10
    for key, result in enumerate(results):
        window = [frames[int(np.clip(key + o, 0, 9))] for o in offsets]
        expected = inference_posewarper(model, window, BOXES[:, :4], weights,
                                        offsets, BOXES[:, 4])
        got = result['predictions'][0]
        assert len(got) == 2
        for person, ref in zip(got, expected):
            assert np.allclose(person['keypoints'],
                               ref.pred_instances.keypoints[0], atol=1e-4)
            assert np.allclose(person['keypoint_scores'],
                               ref.pred_instances.keypoint_scores[0],
                               atol=1e-5)
            assert person['bbox_score'] == pytest.approx(
                float(ref.pred_instances.bbox_scores[0]))


def test_track_ids_follow_two_people_walking_past_each_other(
        inferencer, tmp_path):
    """Boxes listed left to right (as a detector lists them) swap places
    when the figures cross; the ids stay with the figures."""
    clip = crossing_clip()
    first, last = clip['boxes'][0], clip['boxes'][-1]
    assert first[0, 0] < first[1, 0] and last[0, 0] > last[1, 0]
    boxes = [b[np.argsort(b[:, 0])] for b in clip['boxes']]
    results = list(inferencer(clip['frames'], bboxes=boxes,
                              video_name='000042_crossing',
                              pred_out_dir=str(tmp_path / 'pred'),
                              posetrack_out=str(tmp_path / 'posetrack')))
    identity = {}
    for t, result in enumerate(results):
        persons = result['predictions'][0]
        assert len(persons) == 2
        for person in persons:
            who = int(np.argmin(np.abs(
                clip['boxes'][t] - np.asarray(person['bbox'][0])).sum(1)))
            identity.setdefault(who, person['track_id'])
            assert person['track_id'] == identity[who], f'frame {t}'
    assert sorted(identity.values()) == [0, 1]
    # the ids in both files
    with open(tmp_path / 'pred' / '000042_crossing.json') as f:
        pred = json.load(f)
    assert [i['track_id'] for i in pred[-1]['instances']] == \
        [p['track_id'] for p in results[-1]['predictions'][0]]
    with open(tmp_path / 'posetrack' / '000042_crossing.json') as f:
        posetrack = json.load(f)
    last = [a for a in posetrack['annotations']
            if a['image_id'] == 10000420011]
    assert [a['track_id'] for a in last] == \
        [p['track_id'] for p in results[-1]['predictions'][0]]
    assert {a['track_id'] for a in posetrack['annotations']} == {0, 1}


def test_box_json_takes_the_boxes_of_its_video(inferencer, clip_mp4,
                                               tmp_path):
    """A detections file of two videos: video 3 gets its own boxes only."""
    records = []
    for frame in range(10):
        records.append(dict(image_id=10000030000 + frame, score=0.9,
                            bbox=[20, 10, 50, 100], category_id=1))
        records.append(dict(image_id=10000070000 + frame, score=0.9,
                            bbox=[90, 5, 50, 110], category_id=1))
    records.append(dict(image_name='images/val/000007_mpii_val/000002.jpg',
                        score=0.9, bbox=[0, 0, 40, 40]))
    path = tmp_path / 'dets.json'
    path.write_text(json.dumps(records))
    results = list(inferencer(clip_mp4, bbox_json=str(path)))
    boxes = [[p['bbox'][0] for p in r['predictions'][0]] for r in results]
    assert boxes == [[[20, 10, 70, 110]]] * 10


def test_frames_without_persons_and_outputs(inferencer, clip_dir, tmp_path):
    """Frames without a box give no person; the video, mmpose's json and
    the PoseTrack18 file are written, and no temporary file is left."""
    bboxes = [BOXES if i % 3 else np.zeros((0, 4)) for i in range(10)]
    results = list(inferencer(clip_dir, bboxes=bboxes, draw_bbox=True,
                              vis_out_dir=str(tmp_path / 'vis'),
                              pred_out_dir=str(tmp_path / 'pred'),
                              posetrack_out=str(tmp_path / 'pt.json')))
    counts = [len(r['predictions'][0]) for r in results]
    assert counts == [0, 2, 2, 0, 2, 2, 0, 2, 2, 0]
    assert _files(tmp_path / 'vis') == ['000003_mpii_val.mp4']
    assert _files(tmp_path / 'pred') == ['000003_mpii_val.json']
    cap = cv2.VideoCapture(str(tmp_path / 'vis' / '000003_mpii_val.mp4'))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 10
    cap.release()
    with open(tmp_path / 'pt.json') as f:
        posetrack = json.load(f)
    assert len(posetrack['images']) == 10
    assert len(posetrack['annotations']) == sum(counts)
    with pytest.raises(OutputLocationError, match='different folders'):
        next(inferencer(clip_dir, pred_out_dir=str(tmp_path / 'same'),
                        posetrack_out=str(tmp_path / 'same')))


def test_video_shorter_than_announced(inferencer, synthetic, tmp_path):
    """A truncated avi is an error naming the file and both counts, and
    leaves no output; allowed, a warning with the count read."""
    frames = [cv2.imread(f) for f in clip_frames(synthetic)] * 4
    video = write_truncated_avi(frames, str(tmp_path / 'cut.avi'))
    out = dict(vis_out_dir=str(tmp_path / 'vis'),
               pred_out_dir=str(tmp_path / 'pred'),
               posetrack_out=str(tmp_path / 'pt'))
    with pytest.raises(InputFileError,
                       match=r'cut.avi: decoding stopped after \d+ of the 40'):
        list(inferencer(video, **out))
    assert [_files(tmp_path / d) for d in ('vis', 'pred', 'pt')] == \
        [[], [], []]
    with pytest.warns(UserWarning, match=r'kept the \d+ frames read'):
        results = list(inferencer(video, allow_short_video=True, **out))
    assert 0 < len(results) < 40
    with open(tmp_path / 'pt' / 'cut.json') as f:
        assert len(json.load(f)['images']) == len(results)


def test_stopped_run_leaves_no_finished_file(inferencer, clip_mp4, tmp_path):
    """A caller that stops after three frames gets no output file."""
    stream = inferencer(clip_mp4, vis_out_dir=str(tmp_path),
                        posetrack_out=str(tmp_path))
    for _ in range(3):
        next(stream)
    assert any(name.startswith('.') for name in _files(tmp_path))
    stream.close()
    assert _files(tmp_path) == []


def test_webcam_input(inferencer, synthetic, monkeypatch):
    """'webcam:1' reads cv2.VideoCapture(1) until it stops; the frames
    are shown, as in mmpose."""
    frames = [cv2.imread(f) for f in clip_frames(synthetic)[:4]]
    opened = []

    class FakeCamera:

        def __init__(self, index):
            opened.append(index)
            self.frames = list(frames)

        def isOpened(self):
            return True

        def get(self, prop):
            return {cv2.CAP_PROP_FRAME_WIDTH: 160,
                    cv2.CAP_PROP_FRAME_HEIGHT: 120}.get(prop, 0.0)

        def read(self):
            return (True, self.frames.pop(0)) if self.frames else (False,
                                                                   None)

        def release(self):
            pass

    shown = []
    monkeypatch.setattr(cv2, 'VideoCapture', FakeCamera)
    monkeypatch.setattr(cv2, 'waitKey', lambda delay: -1)
    monkeypatch.setattr(inferencer.visualizer, 'show',
                        lambda *args, **kwargs: shown.append(args))
    results = list(inferencer('webcam:1'))
    assert opened == [1]
    assert len(results) == len(shown) == 4
    assert all(len(r['predictions'][0]) == 1 for r in results)


def test_bad_inputs(inferencer, tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.mp4'):
        next(inferencer(str(tmp_path / 'missing.mp4')))
    with pytest.raises(ValueError, match='bboxes of frame 0'):
        next(inferencer([np.zeros((40, 30, 3), np.uint8)],
                        bboxes=[[[1, 2, 3]]]))
    with pytest.raises(ValueError, match='bboxes or bbox_json'):
        next(inferencer(str(tmp_path), bboxes=[], bbox_json='x.json'))
    with pytest.raises(FileNotFoundError, match='nope.py'):
        PoseWarperInferencer(str(tmp_path / 'nope.py'))
    with pytest.raises(ValueError, match='tracking must be one of'):
        next(inferencer([np.zeros((40, 30, 3), np.uint8)], tracking='sift'))
