"""tools.quickstart.gt_subsets: GT files limited to selected frames."""
import json

import pytest

from tools.quickstart.gt_subsets import flagged_gt_dir, restrict_gt_dir


def _video(tmp_path):
    gt_dir = tmp_path / 'gt'
    gt_dir.mkdir()
    video = dict(
        images=[
            dict(
                id=1,
                file_name='images/val/000001_mpii_val/000000.jpg',
                occluded=True),
            dict(id=2, file_name='images/val/000001_mpii_val/000001.jpg'),
        ],
        annotations=[
            dict(id=11, image_id=1, keypoints=[0] * 51),
            dict(id=12, image_id=1, keypoints=[0] * 51),
            dict(id=21, image_id=2, keypoints=[0] * 51),
        ],
        categories=[dict(id=1, name='person')])
    (gt_dir / '000001_mpii_val.json').write_text(json.dumps(video))
    return gt_dir, video


def test_keeps_persons_of_selected_frames_only(tmp_path):
    gt_dir, video = _video(tmp_path)
    out = tmp_path / 'out'
    counts = restrict_gt_dir(
        str(gt_dir), str(out), lambda img: img.get('occluded', False))
    assert counts == (1, 2)
    result = json.loads((out / '000001_mpii_val.json').read_text())
    assert result['images'] == video['images']
    assert [a['id'] for a in result['annotations']] == [11, 12]

    counts = restrict_gt_dir(str(gt_dir), str(out), lambda img: img['id'] != 1)
    assert counts == (1, 1)
    result = json.loads((out / '000001_mpii_val.json').read_text())
    assert [a['id'] for a in result['annotations']] == [21]


def test_filter_by_image_flag(tmp_path):
    gt_dir, _ = _video(tmp_path)
    out = tmp_path / 'occluded'
    assert flagged_gt_dir(str(gt_dir), str(out), ['occluded']) == str(out)
    result = json.loads((out / '000001_mpii_val.json').read_text())
    assert [a['id'] for a in result['annotations']] == [11, 12]
    with pytest.raises(ValueError, match="one of \\['blurred'\\]"):
        flagged_gt_dir(str(gt_dir), str(tmp_path / 'blurred'), ['blurred'])


def test_unflagged_keeps_the_frames_no_flag_marks(tmp_path):
    gt_dir, _ = _video(tmp_path)
    out = tmp_path / 'clear'
    assert flagged_gt_dir(str(gt_dir), str(out), ('occluded', 'blurred'),
                          flagged=False) == str(out)
    result = json.loads((out / '000001_mpii_val.json').read_text())
    assert [a['id'] for a in result['annotations']] == [21]
    # a flag that marks no frame leaves every person
    flagged_gt_dir(str(gt_dir), str(out), ('blurred', ), flagged=False)
    result = json.loads((out / '000001_mpii_val.json').read_text())
    assert [a['id'] for a in result['annotations']] == [11, 12, 21]


def test_unflagged_refuses_when_every_frame_is_flagged(tmp_path):
    gt_dir, _ = _video(tmp_path)
    with pytest.raises(ValueError, match='none of'):
        flagged_gt_dir(
            str(gt_dir), str(tmp_path / 'clear'), ('occluded', 'id'),
            flagged=False)
