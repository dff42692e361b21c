"""Format PoseTrack AP results as the Markdown table used in papers."""
import math
from typing import Dict, Mapping

TABLE_COLUMNS = (('Head', 'Head'), ('Shoulder', 'Shoulder'),
                 ('Elbow', 'Elbow'), ('Wrist', 'Wrist'), ('Hip', 'Hip'),
                 ('Knee', 'Knee'), ('Ankle', 'Ankle'), ('Mean', 'Total'))


def _cell(value: float, digits: int) -> str:
    value = float(value)
    return 'nan' if math.isnan(value) else f'{value:.{digits}f}'


def format_posetrack_table(rows: Mapping[str, Mapping[str, float]],
                           digits: int = 1) -> str:
    """PoseTrack AP results (method -> result of
    :func:`evaluate_posetrack`) as a Markdown table without a trailing
    newline: ``| Method | Head | Shoulder | ... | Ankle | Mean |``."""
    header = '| Method | ' + ' | '.join(c for c, _ in TABLE_COLUMNS) + ' |'
    lines = [header, '|' + '---|' * (len(TABLE_COLUMNS) + 1)]
    for method, result in rows.items():
        missing = [key for _, key in TABLE_COLUMNS if key not in result]
        if missing:
            raise KeyError(f'result of {method!r} lacks {missing}')
        cells = [_cell(result[key], digits) for _, key in TABLE_COLUMNS]
        lines.append(f'| {method} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def summary_only(result: Mapping[str, float]) -> Dict[str, float]:
    """``Head, Shoulder, Elbow, Wrist, Hip, Knee, Ankle, Total`` of a
    result of :func:`evaluate_posetrack`."""
    return {key: float(result[key]) for _, key in TABLE_COLUMNS}
