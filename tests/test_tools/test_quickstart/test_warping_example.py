"""tools.quickstart.warping_example: the joint of the report's warping
figure, and the report's section on it."""
from types import SimpleNamespace

from tests.testing.posetrack_files import (NAMES, gt_person, image, image_id,
                                           pred_person, video_name, write_file)
from tools.quickstart import report
from tools.quickstart.warping_example import describe, pick_example

# within 15 px a joint is found (tests.testing.posetrack_files)
GT = [{'nose': (10, 10), 'left_wrist': (50, 50), 'right_knee': (80, 80),
       'left_ankle': (90, 100)}, {'nose': (5, 5), 'left_elbow': (60, 60)}]
SINGLE = [{'nose': (10, 10), 'left_wrist': (90, 50), 'right_knee': (100, 80),
           'left_ankle': (90, 100)}, {'nose': (5, 5), 'left_elbow': (100, 60)}]
WARP = [{'nose': (10, 10), 'left_wrist': (50, 50), 'right_knee': (85, 80),
         'left_ankle': (90, 100)}, {'nose': (5, 5), 'left_elbow': (60, 60)}]


def _files(tmp_path, covered=(('right_knee', ), ()), single=SINGLE):
    """A video of two frames (tracks 0 and 3): GT, whose persons have the
    ``covered`` joints (per frame) under an occluder, and two prediction
    folders."""
    images = [image(1, 0), image(1, 1)]
    dirs = {}
    for name, poses in (('gt', GT), ('single', single), ('warp', WARP)):
        anns = []
        for frame, (track, joints) in enumerate(zip((0, 3), poses)):
            if name == 'gt':
                ann = gt_person(image_id(1, frame), track, joints)
                ann['keypoints_occluded'] = [
                    int(n in covered[frame]) for n in NAMES]
            else:
                ann = pred_person(image_id(1, frame), track, {
                    k: (*xy, 0.9) for k, xy in joints.items()})
            anns.append(ann)
        dirs[name] = str(tmp_path / name)
        write_file(dirs[name], video_name(1), images, anns)
    return dirs


def _pick(dirs):
    found = pick_example(dirs['gt'], dirs['single'], dirs['warp'])
    return found and (found.track_id, found.joint, found.covered)


def test_covered_joints_first_then_the_largest_error_difference(tmp_path):
    dirs = _files(tmp_path)
    found = pick_example(dirs['gt'], dirs['single'], dirs['warp'])
    # missed by the single-frame model by 20 and 40 px (head size 30)
    assert _pick(dirs) == (0, 'right_knee', True)
    assert found.file_name.endswith('000001_mpii_test/000000.jpg')
    assert [round(e, 3) for e in found.errors] == [0.667, 0.167]
    # nothing covered: the largest difference (left wrist and elbow, 40
    # px), the first in file order
    dirs = _files(tmp_path / 'b', covered=((), ()))
    assert _pick(dirs) == (0, 'left_wrist', False)
    # PoseWarper's role swapped: no joint that it finds and the other misses
    assert pick_example(dirs['gt'], dirs['warp'], dirs['single']) is None


def test_a_missed_joint_before_a_missed_person(tmp_path):
    """The single-frame model's second person matches no GT person (an
    infinite error): a joint of a person it matches comes first."""
    away = [SINGLE[0], {'nose': (200, 200), 'left_elbow': (300, 300)}]
    both = (('right_knee', ), ('left_elbow', ))
    assert _pick(_files(tmp_path / 'a', both, away)) == (0, 'right_knee',
                                                         True)
    # covered joints still come first
    dirs = _files(tmp_path / 'b', ((), ('left_elbow', )), away)
    assert _pick(dirs) == (3, 'left_elbow', True)
    found = pick_example(dirs['gt'], dirs['single'], dirs['warp'])
    assert found.errors == (float('inf'), 0.0)
    assert '(no matched prediction)' in describe(found)


def test_sentence_names_video_frame_person_and_joint(tmp_path):
    dirs = _files(tmp_path)
    text = describe(pick_example(dirs['gt'], dirs['single'], dirs['warp']))
    assert text.startswith('Video 000001_mpii_test, frame 0, the person with '
                           'track id 0, joint right_knee (covered by an '
                           'occluder): the single-frame model misses it '
                           '(0.67 head sizes away) and PoseWarper finds it '
                           '(0.17 head sizes away')
    assert text.count('. ') == 0 and text.endswith('.')
    assert describe(None).startswith('No joint of the held-out occluded')


def test_report_shows_the_figure_under_its_own_heading(tmp_path):
    row = {c: 50.0 for c in report.SUMMARY_COLUMNS}
    rows = (report.CEILING_ROW, report.SINGLE_ROW, report.SINGLE_NO_FLIP_ROW,
            report.WARP_ROW, report.WARP_NO_FLIP_ROW)
    tables = {t: {r: dict(row) for r in rows}
              for t in ('all frames', 'occluded frames')}
    job = SimpleNamespace(times={}, logs={}, commands=[])
    out = tmp_path / 'report.md'
    figure = str(tmp_path / 'warping.png')
    for warping, image_line in (
            (('Video 3, frame 4.', figure), '![the warping, `warping.png`]'
             '(warping.png)'), (('No joint.', None), None), (None, None)):
        report.write_report(str(out), [tables], [0], job, 1.0, {},
                            warping=warping)
        text = out.read_text()
        heading = '\n## What the warping does\n\n'
        if warping is None:
            assert heading not in text
            continue
        section = text.split(heading)[1].split('\n## ')[0]
        assert section.startswith(warping[0] + '\n')
        assert ('](warping.png)' in section) == (image_line is not None)
        if image_line:
            assert image_line in section
        # after the AP tables and their plot, which stay as they were
        assert text.index('](joint_ap.png)') < text.index(heading)
