"""Training curves of mmengine runs: loss and validation AP per iteration.

Reads the ``scalars.json`` that mmengine's ``LocalVisBackend`` writes into
``<work_dir>/<timestamp>/vis_data/`` (one JSON object per logged step) and
plots, per run, the training loss over iterations and, on a second axis,
every validation AP that was logged (keys ending in ``AP``). Runs trained
without validation show the loss only.

Example::

    python -m tools.quickstart.training_curves \
        work_dirs/quickstart/stage1 work_dirs/quickstart/stage2 \
        --out work_dirs/quickstart/training_curves.png
"""
import argparse
import glob
import json
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence

Curve = Dict[str, List[List[float]]]  # name -> [[step, ...], [value, ...]]


def find_scalars(work_dir: str) -> Optional[str]:
    """The newest ``scalars.json`` of a run's work dir, or None."""
    found = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    return max(found, key=osp.getmtime) if found else None


def read_curves(scalars_file: str) -> Curve:
    """Loss and validation AP series of a ``scalars.json``.

    Args:
        scalars_file (str): The file, one JSON object per line.

    Returns:
        dict: ``'loss'`` and each validation key ending in ``AP`` (e.g.
        ``'posetrack18/AP'``) -> ``[steps, values]``; absent series are
        left out.
    """
    curves: Curve = {}
    with open(scalars_file, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            record = json.loads(line)
            step = record.get('step', record.get('iter'))
            if step is None:
                continue
            for key, value in record.items():
                if key == 'loss' or key.endswith('AP'):
                    series = curves.setdefault(key, [[], []])
                    series[0].append(float(step))
                    series[1].append(float(value))
    return curves


def has_validation(curves: Mapping[str, Mapping[str, Curve]]) -> bool:
    """Whether any run logged a validation AP.

    Args:
        curves: Stage title -> run label -> curves of :func:`read_curves`.
    """
    return any(key != 'loss' for runs in curves.values()
               for run in runs.values() for key in run)


def plot_curves(curves: Mapping[str, Mapping[str, Curve]],
                out_file: str) -> str:
    """One panel per stage: loss (left axis) and AP (right axis).

    Args:
        curves: Stage title -> run label (e.g. ``'seed 0'``) -> curves of
            :func:`read_curves`.
        out_file (str): PNG path.

    Returns:
        str: ``out_file``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1,
        max(len(curves), 1),
        figsize=(6 * max(len(curves), 1), 3.6),
        squeeze=False)
    for ax, (title, runs) in zip(axes[0], curves.items()):
        ap_ax = None
        for label, run in runs.items():
            if 'loss' in run:
                ax.plot(*run['loss'], label=f'loss, {label}')
            for key, series in run.items():
                if key == 'loss':
                    continue
                ap_ax = ap_ax or ax.twinx()
                ap_ax.plot(*series, '--o', label=f'{key}, {label}')
        ax.set_title(title)
        ax.set_xlabel('iteration')
        ax.set_ylabel('training loss')
        ax.set_yscale('log')
        handles, labels = ax.get_legend_handles_labels()
        if ap_ax is not None:
            ap_ax.set_ylabel('validation AP (%)')
            more = ap_ax.get_legend_handles_labels()
            handles, labels = handles + more[0], labels + more[1]
        if handles:
            ax.legend(handles, labels, fontsize=8)
        else:
            ax.text(
                0.5,
                0.5,
                'nothing logged',
                ha='center',
                transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
    return out_file


def main(argv: Optional[Sequence[str]] = None) -> str:
    """Command-line entry point: one panel per work dir."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dirs', nargs='+', help='mmengine work dirs')
    parser.add_argument('--out', required=True, help='PNG to write')
    args = parser.parse_args(argv)
    curves = {}
    for work_dir in args.work_dirs:
        scalars = find_scalars(work_dir)
        if scalars is None:
            raise SystemExit(f'{work_dir}: no */vis_data/scalars.json')
        curves[osp.basename(osp.normpath(work_dir))] = {
            'run': read_curves(scalars)
        }
    return plot_curves(curves, args.out)


if __name__ == '__main__':
    main()
