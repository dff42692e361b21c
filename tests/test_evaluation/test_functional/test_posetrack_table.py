"""The paper-style Markdown table of PoseTrack AP results."""
import pytest

from posewarper_mm.evaluation.functional import (format_posetrack_table,
                                                 summary_only)


def test_table_rows_and_columns():
    official = dict(
        Head=79.9,
        Shoulder=86.3,
        Elbow=82.4,
        Wrist=77.5,
        Hip=79.8,
        Knee=78.8,
        Ankle=73.2,
        Total=79.66,
        nose=1.0)
    ours = dict(official, Head=float('nan'), Total=12.345)
    table = format_posetrack_table({'PoseWarper': official, 'ours': ours})
    assert table.splitlines() == [
        '| Method | Head | Shoulder | Elbow | Wrist | Hip | Knee | Ankle | '
        'Mean |',
        '|---|---|---|---|---|---|---|---|---|',
        '| PoseWarper | 79.9 | 86.3 | 82.4 | 77.5 | 79.8 | 78.8 | 73.2 | '
        '79.7 |',
        '| ours | nan | 86.3 | 82.4 | 77.5 | 79.8 | 78.8 | 73.2 | 12.3 |',
    ]
    assert format_posetrack_table({'x': official}, digits=2).endswith(
        '| 73.20 | 79.66 |')
    assert list(summary_only(official)) == [
        'Head', 'Shoulder', 'Elbow', 'Wrist', 'Hip', 'Knee', 'Ankle', 'Total'
    ]


def test_table_rejects_incomplete_results():
    with pytest.raises(KeyError, match='Total'):
        format_posetrack_table({'x': dict(Head=1.0)})
