"""The quickstart's report: tables over seeds, their reading, plots.

A seed's results are ``Tables``: table title (``'all frames'``, ...) ->
method (row) -> column (``Head`` ... ``Total``) -> AP in percent. The
training curves come from the ``scalars.json`` of mmengine's
``LocalVisBackend`` in each stage's work dir.
"""
import glob
import json
import math
import os.path as osp
import shlex
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from .eval_propagation import COPY_ROW, FLOW_ROW, PSEUDO_ROW
from .eval_propagation import WARP_ROW as PROPAGATED_ROW

Tables = Dict[str, Dict[str, Dict[str, float]]]
Curve = Dict[str, List[List[float]]]  # name -> [[step, ...], [value, ...]]
SUMMARY_COLUMNS = ('Head', 'Shoulder', 'Elbow', 'Wrist', 'Hip', 'Knee',
                   'Ankle', 'Total')
HEADER = SUMMARY_COLUMNS[:-1] + ('Mean', )
CEILING_ROW = 'Codec ceiling (GT through the codec, no network)'
SINGLE_ROW = 'Single-frame HRNet (stage 1)'
WARP_ROW = 'PoseWarper, 5 frames'
# the stage-2 recipe's test: no flip test on either stage
SINGLE_NO_FLIP_ROW = 'Single-frame HRNet (stage 1), no flip test'
WARP_NO_FLIP_ROW = 'PoseWarper, 5 frames, no flip test'
SHORT_ROW = 'PoseWarper, 3 frames (offsets -1..1)'
# --propagate-then-train: stage 1's model on more labels (stage 1: sparse)
PROPAGATED_TRAIN_ROW = 'Single-frame HRNet, sparse + propagated labels'
DENSE_ROW = 'Single-frame HRNet, all true labels (dense)'
# the propagated joints with their true positions: what a perfect
# propagation would give on the same frames
TRUE_PROPAGATED_ROW = ('Single-frame HRNet, sparse + true labels of the '
                       'propagated joints')
PROPAGATION_TABLE = 'sparse-labeled training videos (unlabeled frames)'
CEILING_NOTE = (
    'The codec ceiling row encodes the held-out ground truth with the '
    "quickstart's codec (same boxes, crop and heatmap size) and decodes it "
    'again: the best AP any model can reach with this input size and codec.')


def fmt_time(seconds: float) -> str:
    """``'42 s'`` or ``'1.5 min'``."""
    return f'{seconds / 60:.1f} min' if seconds >= 60 else f'{seconds:.0f} s'


def seed_differences(per_seed: Sequence[Tables], title: str,
                     baseline: str = SINGLE_ROW,
                     row: str = WARP_ROW) -> List[float]:
    """``row`` minus ``baseline`` Mean AP on one table, seed by seed."""
    return [s[title][row]['Total'] - s[title][baseline]['Total']
            for s in per_seed]


def temporal_gain(per_seed: Sequence[Tables], title: str,
                  baseline: str = SINGLE_ROW,
                  row: str = WARP_ROW) -> Tuple[float, float, Optional[bool]]:
    """The mean of :func:`seed_differences`, the spread (the larger of the
    two rows' max - min over the seeds) and whether it is a gain: larger
    than the spread, every seed's difference positive (None: one seed)."""
    diffs = seed_differences(per_seed, title, baseline, row)
    spread = max(max(values) - min(values) for values in (
        [seed[title][name]['Total'] for seed in per_seed]
        for name in (baseline, row)))
    mean = sum(diffs) / len(diffs)
    if len(per_seed) < 2:
        return mean, spread, None
    return mean, spread, bool(mean > spread and min(diffs) > 0)


def _verdict(per_seed: Sequence[Tables], title: str, baseline: str,
             row: str) -> Tuple[float, str]:
    """The mean difference of :func:`temporal_gain` and its verdict, with
    the differences seed by seed."""
    diff, spread, gain = temporal_gain(per_seed, title, baseline, row)
    seeds = f'the {len(per_seed)} seeds ({spread:.1f})'
    if gain is None:
        verdict = ('one seed, so no spread is measured and no gain is '
                   'claimed (`--seeds 2` measures it)')
    elif gain:
        verdict = f'a gain: larger than the spread over {seeds}'
    else:
        verdict = f'not a gain: within the spread over {seeds}'
    if len(per_seed) > 1:
        each = seed_differences(per_seed, title, baseline, row)
        verdict += f'; per seed {", ".join(f"{d:+.1f}" for d in each)}'
    return diff, verdict


def _gain_clauses(per_seed: Sequence[Tables], baseline: str,
                  row: str) -> List[str]:
    """``'+1.2 on all frames, <verdict>'`` for all and occluded frames."""
    parts = []
    for title in ('all frames', 'occluded frames'):
        diff, verdict = _verdict(per_seed, title, baseline, row)
        parts.append(f'{diff:+.1f} on {title}, {verdict}')
    return parts


def reading(per_seed: Sequence[Tables], tables: Tables) -> str:
    """The held-out comparison with its verdict, then propagation's, on
    each seed's tables and their means."""
    held = tables['all frames']
    parts = _gain_clauses(per_seed, SINGLE_ROW, WARP_ROW)
    text = (f'On the held-out videos PoseWarper reaches '
            f'{held[WARP_ROW]["Total"]:.1f} Mean AP against '
            f'{held[SINGLE_ROW]["Total"]:.1f} for the single-frame model '
            f'that it starts from ({"; ".join(parts)}), where encoding and '
            f'decoding the ground truth alone gives '
            f'{held[CEILING_ROW]["Total"]:.1f}.')
    prop = tables.get(PROPAGATION_TABLE)
    if prop:
        text += (f' Labeling the unlabeled frames of the sparse-labeled '
                 f'training videos, PoseWarper propagation reaches '
                 f'{prop[PROPAGATED_ROW]["Total"]:.1f} Mean AP against '
                 f'{prop[COPY_ROW]["Total"]:.1f} for copying the nearest '
                 f'labeled pose and {prop[FLOW_ROW]["Total"]:.1f} for '
                 f'moving it along optical flow.')
    return text


def same_protocol(per_seed: Sequence[Tables], tables: Tables) -> str:
    """The two stages compared without flip test (the stage-2 recipe's
    test), in a sentence."""
    held = tables['all frames']
    parts = _gain_clauses(per_seed, SINGLE_NO_FLIP_ROW, WARP_NO_FLIP_ROW)
    return (f'Without flip test on either (the stage-2 recipe\'s test), the '
            f'single-frame model reaches '
            f'{held[SINGLE_NO_FLIP_ROW]["Total"]:.1f} and PoseWarper '
            f'{held[WARP_NO_FLIP_ROW]["Total"]:.1f}: '
            f'{"; ".join(parts)}.')


def subset_differences(per_seed: Sequence[Tables]) -> str:
    """PoseWarper minus single-frame on each held-out subset but all
    frames, in a sentence."""
    parts = []
    for title in per_seed[0]:
        if title in ('all frames', PROPAGATION_TABLE):
            continue
        diffs = seed_differences(per_seed, title)
        text = f'{temporal_gain(per_seed, title)[0]:+.1f} on {title}'
        if len(diffs) > 1:
            text += f' (per seed {", ".join(f"{d:+.1f}" for d in diffs)})'
        parts.append(text)
    return ('PoseWarper minus the single-frame model by held-out subset: '
            f'{"; ".join(parts)}. The clear frames are those neither '
            'occluded nor blurred: no occluder covers and no shake blurs '
            'the key frame.')


def propagation_gains(per_seed: Sequence[Tables]) -> Optional[str]:
    """PoseWarper propagation minus each other way of labeling the
    unlabeled training frames, with the verdicts, in a sentence (None
    without the pseudo-labeling row)."""
    prop = per_seed[0].get(PROPAGATION_TABLE, {})
    if PSEUDO_ROW not in prop:
        return None
    parts = []
    for row, name in ((PSEUDO_ROW, 'pseudo-labeling (the single-frame '
                       'model run on those frames)'),
                      (FLOW_ROW, 'optical flow'),
                      (COPY_ROW, 'copying the nearest labeled pose')):
        diff, verdict = _verdict(per_seed, PROPAGATION_TABLE, row,
                                 PROPAGATED_ROW)
        parts.append(f'{diff:+.1f} over {name}, {verdict}')
    return ('PoseWarper propagation on the unlabeled frames of the '
            f'sparse-labeled training videos: {"; ".join(parts)}.')


def sparse_training(per_seed: Sequence[Tables], tables: Tables,
                    sparse_labels: Optional[Tuple[int, int]]) -> Optional[str]:
    """The single-frame model trained on sparse + propagated labels against
    sparse labels alone (stage 1) and all true labels, with the verdicts
    and the share of the gap to the dense model that it closes, in two
    sentences (None without those rows). ``sparse_labels``: labeled and
    all training frames."""
    held = tables['all frames']
    if PROPAGATED_TRAIN_ROW not in held or DENSE_ROW not in held:
        return None
    rate = ''
    if sparse_labels:
        labeled, total = sparse_labels
        rate = (f' ({labeled} of the {total} training frames, '
                f'{100 * labeled / total:.0f}%)')
    clauses = _gain_clauses(per_seed, SINGLE_ROW, PROPAGATED_TRAIN_ROW)
    text = (f'Trained on the sparse labels{rate} and the PoseWarper-'
            'propagated labels of the other frames, the single-frame model '
            f'reaches {held[PROPAGATED_TRAIN_ROW]["Total"]:.1f} Mean AP on '
            f'the held-out videos against {held[SINGLE_ROW]["Total"]:.1f} on '
            'the sparse labels alone (stage 1, same schedule and seed) and '
            f'{held[DENSE_ROW]["Total"]:.1f} on all true labels of those '
            f'frames (the dense upper bound): {"; ".join(clauses)}. How '
            'often each propagated joint is right, against copying the '
            'source pose: `label_quality.md` beside each seed\'s run.')
    if TRUE_PROPAGATED_ROW in held:
        diff, verdict = _verdict(per_seed, 'all frames', SINGLE_ROW,
                                 TRUE_PROPAGATED_ROW)
        text += (' With the true positions of the same propagated joints '
                 '(a perfect propagation) it reaches '
                 f'{held[TRUE_PROPAGATED_ROW]["Total"]:.1f} ({diff:+.1f} on '
                 f'all frames, {verdict}).')
    gained = seed_differences(per_seed, 'all frames', SINGLE_ROW,
                              PROPAGATED_TRAIN_ROW)
    gaps = seed_differences(per_seed, 'all frames', SINGLE_ROW, DENSE_ROW)
    gap, verdict = _verdict(per_seed, 'all frames', SINGLE_ROW, DENSE_ROW)
    if gap <= 0 or min(gaps) <= 0:
        return text + (f' Dense labels give {gap:+.1f} on all frames '
                       f'({verdict}), so no share of a gap is stated.')
    if sum(gained) <= 0:
        return text + (' It falls short of the sparse labels alone, so it '
                       'closes none of the gap to the dense model '
                       f'({gap:+.1f} on all frames, {verdict}).')
    shares = [100 * g / d for g, d in zip(gained, gaps)]
    text += (f' It closes {100 * sum(gained) / sum(gaps):.0f}% of the gap '
             f'to the dense model ({gap:+.1f} on all frames, {verdict}')
    if len(per_seed) > 1:
        text += f'; closed per seed {", ".join(f"{v:.0f}%" for v in shares)}'
    return text + ').'


def aggregate_seeds(
        per_seed: Sequence[Tables]) -> Tuple[Tables, Tables, Tables]:
    """Mean, minimum and maximum of every number over the seeds.

    Raises:
        ValueError: No seed, or the seeds' tables differ in shape.
    """
    if not per_seed:
        raise ValueError('no seed to aggregate')
    mean, low, high = {}, {}, {}
    for title, rows in per_seed[0].items():
        for out in (mean, low, high):
            out[title] = {method: {} for method in rows}
        for method, result in rows.items():
            for column in result:
                try:
                    values = [seed[title][method][column] for seed in per_seed]
                except KeyError as error:
                    raise ValueError(f'seeds differ: {title} / {method} / '
                                     f'{column} missing ({error})') from None
                mean[title][method][column] = float(sum(values) / len(values))
                low[title][method][column] = float(min(values))
                high[title][method][column] = float(max(values))
    return mean, low, high


def format_table(mean: Mapping[str, Mapping[str, float]],
                 low: Optional[Mapping[str, Mapping[str, float]]] = None,
                 high: Optional[Mapping[str, Mapping[str, float]]] = None
                 ) -> str:
    """One table (method -> column -> AP) as Markdown, the columns of the
    seeds' tables (``Head`` ... ``Ankle``, ``Mean``); given the minima and
    maxima over the seeds, each cell is the mean over the seeds and the
    ``Mean`` cell reads ``mean (min-max)``."""
    lines = ['| Method | ' + ' | '.join(HEADER) + ' |', '|---' * 9 + '|']
    for method, result in mean.items():
        cells = [f'{result[c]:.1f}' for c in SUMMARY_COLUMNS]
        if low is not None:
            cells[-1] += (f' ({low[method]["Total"]:.1f}-'
                          f'{high[method]["Total"]:.1f})')
        lines.append(f'| {method} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def format_command(argv: Sequence[str]) -> str:
    """A command for the shell, one argument or option per line.

    Leading ``NAME=value`` words and the program (``python script`` or
    ``python -m module``) open the first line; an option with several
    values gets one line per value.
    """
    words = [shlex.quote(word) for word in argv]
    start = next(i for i, word in enumerate(words) if '=' not in word)
    start += 3 if words[start + 1:start + 2] == ['-m'] else 2
    chunks: List[List[str]] = []  # each positional; each option + values
    for word in words[start:]:
        if word.startswith('--') or not chunks or \
                not chunks[-1][0].startswith('--'):
            chunks.append([word])
        else:
            chunks[-1].append(word)
    lines = [' '.join(words[:start])]
    for chunk in chunks:
        if len(chunk) > 2:
            lines += ['    ' + chunk[0], *('        ' + v for v in chunk[1:])]
        else:
            lines.append('    ' + ' '.join(chunk))
    return ' \\\n'.join(lines)


def read_curves(work_dir: str) -> Optional[Curve]:
    """``'loss'`` and each validation key ending in ``AP`` -> ``[steps,
    values]`` from a run's newest ``*/vis_data/scalars.json`` (None: no
    such file)."""
    found = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    if not found:
        return None
    curves: Curve = {}
    with open(max(found, key=osp.getmtime), encoding='utf-8') as f:
        for line in f:
            record = json.loads(line) if line.strip() else {}
            step = record.get('step', record.get('iter'))
            for key, value in record.items():
                if step is not None and (key == 'loss' or key.endswith('AP')):
                    series = curves.setdefault(key, [[], []])
                    series[0].append(float(step))
                    series[1].append(float(value))
    return curves


def plot_curves(curves: Mapping[str, Mapping[str, Curve]],
                out_file: str) -> None:
    """Plot one panel per stage (stage -> run label -> :func:`read_curves`):
    the loss on the left axis, AP on the right, into ``out_file``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    panels = max(len(curves), 1)
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 3.6),
                             squeeze=False)
    for ax, (title, runs) in zip(axes[0], curves.items()):
        ap_ax = None
        for label, run in runs.items():
            if 'loss' in run:
                ax.plot(*run['loss'], label=f'loss, {label}')
            for key in (k for k in run if k != 'loss'):
                ap_ax = ap_ax or ax.twinx()
                ap_ax.plot(*run[key], '--o', label=f'{key}, {label}')
        ax.set(title=title, xlabel='iteration', ylabel='training loss',
               yscale='log')
        handles, labels = ax.get_legend_handles_labels()
        if ap_ax is not None:
            ap_ax.set_ylabel('validation AP (%)')
            more = ap_ax.get_legend_handles_labels()
            handles, labels = handles + more[0], labels + more[1]
        if handles:
            ax.legend(handles, labels, fontsize=8)
        else:
            ax.text(0.5, 0.5, 'nothing logged', ha='center',
                    transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)


def plot_joint_ap(tables: Tables, out_file: str) -> None:
    """Bar plot of each method's columns, one panel per table, to a file."""
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
            ax.bar(x + (i - (len(rows) - 1) / 2) * width,
                   [result[c] for c in SUMMARY_COLUMNS], width, label=method)
        ax.set_xticks(x, HEADER)
        ax.set(ylabel='AP (%)', ylim=(0, 100), title=title)
        ax.legend(loc='upper left', bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100, bbox_inches='tight')
    plt.close(fig)


def write_report(out_file: str, per_seed: Sequence[Tables],
                 seeds: Sequence[int], job, total_time: float,
                 curves: Mapping[str, Mapping[str, dict]], quick: bool = False,
                 device: str = '',
                 warping: Optional[Tuple[str, Optional[str]]] = None,
                 sparse_labels: Optional[Tuple[int, int]] = None) -> str:
    """Write the report on the runs of ``seeds`` (``per_seed``: their
    tables; ``curves``: stage -> run -> :func:`read_curves`) and its plots
    beside it. ``job`` lists the steps run: ``commands`` (argument lists),
    ``times`` (seconds) and ``logs`` (files) per step; ``warping`` is the
    sentence on the warping figure and its file (None: not drawn);
    ``sparse_labels`` the labeled and all training frames.

    Returns:
        str: The tables and the reading, for the console.

    Raises:
        ValueError: A table holds a non-finite value.
    """
    tables, low, high = aggregate_seeds(per_seed)
    for title, rows in tables.items():
        for method, result in rows.items():
            bad = [c for c in SUMMARY_COLUMNS if not math.isfinite(result[c])]
            if bad:
                raise ValueError(f'{title} / {method}: non-finite {bad}')
    folder = osp.dirname(out_file)
    spread = len(seeds) > 1
    formatted = {
        title: format_table(rows, low[title] if spread else None, high[title])
        for title, rows in tables.items()}
    reading_text = '\n\n'.join(text for text in [
        reading(per_seed, tables), CEILING_NOTE,
        same_protocol(per_seed, tables), subset_differences(per_seed),
        propagation_gains(per_seed),
        sparse_training(per_seed, tables, sparse_labels)] if text)
    lines = ['# PoseWarper quickstart on generated sparse-label videos', '']
    if quick:
        lines += ['> Shortened run (`--quick`): a few iterations on tiny '
                  'data; the numbers check the pipeline, not the method.', '']
    lines += [
        f'Mean over {len(seeds)} seeds ({", ".join(map(str, seeds))}); in '
        'brackets the range (min-max) over the seeds.'
        if spread else f'One run, seed {seeds[0]}.', '']
    if device:
        lines += [f'Computed on: {device}.', '']
    lines += ['## Reading', '', reading_text, '']
    for title, table in formatted.items():
        lines += [f'## PoseTrack AP, {title}', '', table, '']
    plot_joint_ap(tables, osp.join(folder, 'joint_ap.png'))
    lines += ['![per-column AP](joint_ap.png)', '']
    if warping is not None:
        lines += ['## What the warping does', '', warping[0], '']
        if warping[1]:
            name = osp.relpath(warping[1], folder)
            lines += [f'![the warping, `{name}`]({name})', '']
    if curves:
        plot_curves(curves, osp.join(folder, 'training_curves.png'))
        lines += ['## Training curves', '']
        if all(key == 'loss' for runs in curves.values()
               for run in runs.values() for key in run):
            lines += ['Both stages train with `--no-validate`: the curves '
                      'show the training loss only.', '']
        lines += ['![training curves](training_curves.png)', '']
    lines += ['## Time per step', '', '| step | time |', '|---|---|']
    lines += [f'| {name} | {fmt_time(t)} |' for name, t in job.times.items()]
    lines += [f'| **total** | **{fmt_time(total_time)}** |', '', '## Logs', '']
    lines += [f'- {name}: `{osp.relpath(path, folder)}`'
              for name, path in job.logs.items()]
    lines += ['', '## Commands', '', '```shell']
    lines += ['\n\n'.join(format_command(c) for c in job.commands), '```', '']
    with open(out_file, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines))
    return ''.join(
        f'\nPoseTrack AP on generated videos, {title}:\n{table}\n'
        for title, table in formatted.items()) + '\n' + reading_text
