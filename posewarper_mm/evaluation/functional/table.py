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
    """Format one or more PoseTrack AP results as a Markdown table.

    Example output (one row per method)::

      | Method | Head | Shoulder | Elbow | Wrist | Hip | Knee | Ankle | Mean |
      |---|---|---|---|---|---|---|---|---|
      | A | 79.9 | 86.3 | 82.4 | 77.5 | 79.8 | 78.8 | 73.2 | 79.7 |

    Args:
        rows (Mapping[str, Mapping[str, float]]): Method name -> result with
            keys ``Head, Shoulder, Elbow, Wrist, Hip, Knee, Ankle, Total``
            (as returned by :func:`evaluate_posetrack`), in row order.
        digits (int): Decimals per value. Defaults to 1.

    Returns:
        str: The table, one line per method, without a trailing newline.
    """
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
    """Keep the 8 summary values of a result, in table order.

    Args:
        result (Mapping[str, float]): A result of :func:`evaluate_posetrack`.

    Returns:
        dict[str, float]: ``Head, Shoulder, Elbow, Wrist, Hip, Knee, Ankle,
        Total``.
    """
    return {key: float(result[key]) for _, key in TABLE_COLUMNS}
