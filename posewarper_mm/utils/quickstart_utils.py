"""Config options, subset evaluation, plot and report of the quickstart."""
import math
import os.path as osp
from typing import List, Mapping, Optional

from ..evaluation.functional import format_posetrack_table, restrict_gt_dir

SUMMARY_COLUMNS = ('Head', 'Shoulder', 'Elbow', 'Wrist', 'Hip', 'Knee',
                   'Ankle', 'Total')


def data_options(data_root: str) -> List[str]:
    """``--cfg-options`` that point a quickstart config at ``data_root``.

    Args:
        data_root (str): Root of a generated PoseTrack18-format dataset.

    Returns:
        list[str]: ``key=value`` overrides of every data path.
    """
    root = data_root.rstrip('/') + '/'
    return [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        f'val_evaluator.ann_file={root}annotations/posetrack18_val.json',
        f'val_evaluator.gt_folder={root}annotations/val',
        f'test_evaluator.ann_file={root}annotations/posetrack18_val.json',
        f'test_evaluator.gt_folder={root}annotations/val',
    ]


def filter_gt_dir(gt_dir: str, out_dir: str, flag: str) -> str:
    """Copy per-video GT files keeping persons only on flagged frames.

    Frames without the image flag ``flag`` (e.g. ``'occluded'``) lose their
    annotations, so the PoseTrack evaluation drops them: evaluating
    predictions against the result measures the flagged frames only.

    Args:
        gt_dir (str): Folder of official per-video GT files.
        out_dir (str): Output folder (created; files are overwritten).
        flag (str): Boolean key of the image records.

    Returns:
        str: ``out_dir``.

    Raises:
        ValueError: No image of any video carries a true ``flag``.
    """
    images, _ = restrict_gt_dir(gt_dir, out_dir,
                                lambda image: bool(image.get(flag, False)))
    if images == 0:
        raise ValueError(f'no image in {gt_dir} has {flag!r} set')
    return out_dir


def plot_joint_ap(tables: Mapping[str, Mapping[str, Mapping[str, float]]],
                  out_file: str) -> str:
    """Bar plot of the AP columns per method, one panel per table.

    Args:
        tables: Table name -> method -> result (``Head`` ... ``Total``).
        out_file (str): PNG path.

    Returns:
        str: ``out_file``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(
        len(tables), 1, figsize=(12, 3.2 * len(tables)), squeeze=False)
    x = np.arange(len(SUMMARY_COLUMNS))
    for ax, (title, rows) in zip(axes[:, 0], tables.items()):
        width = 0.8 / max(len(rows), 1)
        for i, (method, result) in enumerate(rows.items()):
            values = [result[c] for c in SUMMARY_COLUMNS]
            ax.bar(
                x + (i - (len(rows) - 1) / 2) * width,
                values,
                width,
                label=method)
        ax.set_xticks(x,
                      [c if c != 'Total' else 'Mean' for c in SUMMARY_COLUMNS])
        ax.set_ylabel('AP (%)')
        ax.set_ylim(0, 100)
        ax.set_title(title)
        ax.legend(loc='upper left', bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100, bbox_inches='tight')
    plt.close(fig)
    return out_file


def _fmt_time(seconds: float) -> str:
    return f'{seconds / 60:.1f} min' if seconds >= 60 else f'{seconds:.0f} s'


def write_report(out_file: str,
                 tables: Mapping[str, Mapping[str, Mapping[str, float]]],
                 commands: List[str],
                 times: Mapping[str, float],
                 total_time: float,
                 plot_path: Optional[str] = None,
                 quick: bool = False) -> str:
    """Write the quickstart report as Markdown.

    Args:
        out_file (str): Report path.
        tables: Table name -> method -> result.
        commands (list[str]): The commands that were run, in order.
        times (Mapping[str, float]): Seconds per step.
        total_time (float): Seconds for the whole job.
        plot_path (str, optional): PNG to embed (relative link).
        quick (bool): The job ran in its shortened mode.

    Returns:
        str: ``out_file``.

    Raises:
        ValueError: A table holds a non-finite value.
    """
    for title, rows in tables.items():
        for method, result in rows.items():
            bad = [c for c in SUMMARY_COLUMNS if not math.isfinite(result[c])]
            if bad:
                raise ValueError(f'{title} / {method}: non-finite {bad}')
    lines = ['# PoseWarper quickstart on generated sparse-label videos', '']
    if quick:
        lines += [
            '> Shortened run (`--quick`): a few iterations on tiny data; '
            'the numbers check the pipeline, not the method.', ''
        ]
    for title, rows in tables.items():
        lines += [
            f'## PoseTrack AP, {title}', '',
            format_posetrack_table(rows), ''
        ]
    if plot_path:
        lines += [f'![per-column AP]({osp.basename(plot_path)})', '']
    lines += ['## Time per step', '', '| step | time |', '|---|---|']
    lines += [f'| {name} | {_fmt_time(t)} |' for name, t in times.items()]
    lines += [f'| **total** | **{_fmt_time(total_time)}** |', '']
    lines += ['## Commands', '', '```shell', *commands, '```', '']
    with open(out_file, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines))
    return out_file
