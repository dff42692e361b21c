"""tools.quickstart.report: seeds' tables, their reading, the commands and
the training curves."""
import json

import pytest

from posewarper_mm.evaluation.functional import format_posetrack_table
from tools.quickstart import report


def test_aggregate_seeds_mean_and_range():
    per_seed = [{
        't': {
            'a': dict(Total=10.0, Head=1.0),
            'b': dict(Total=50.0, Head=5.0)
        }
    }, {
        't': {
            'a': dict(Total=20.0, Head=1.0),
            'b': dict(Total=40.0, Head=9.0)
        }
    }]
    mean, low, high = report.aggregate_seeds(per_seed)
    assert mean == {
        't': {
            'a': dict(Total=15.0, Head=1.0),
            'b': dict(Total=45.0, Head=7.0)
        }
    }
    assert low['t']['a']['Total'] == 10.0 and high['t']['a']['Total'] == 20.0
    assert low['t']['b']['Head'] == 5.0 and high['t']['b']['Head'] == 9.0
    # one seed: mean, minimum and maximum are the seed's numbers
    assert report.aggregate_seeds(per_seed[:1]) == (per_seed[0], ) * 3
    with pytest.raises(ValueError, match='seeds differ'):
        report.aggregate_seeds([per_seed[0], {'t': {'a': {}}}])
    with pytest.raises(ValueError):
        report.aggregate_seeds([])


def test_table_cells_read_the_mean_and_the_mean_aps_range_over_seeds():
    columns = report.SUMMARY_COLUMNS
    mean = {'m': {c: 12.34 for c in columns}}
    low = {'m': {c: 10.0 for c in columns}}
    high = {'m': {c: 14.06 for c in columns}}
    low['m']['Head'] = 0.0
    lines = report.format_table(mean, low, high).splitlines()
    assert lines[0] == '| Method | Head | Shoulder | Elbow | Wrist | Hip | ' \
        'Knee | Ankle | Mean |'
    # like the seeds' tables: the joints' means, the range on the Mean
    assert lines[2] == '| m |' + ' 12.3 |' * 7 + ' 12.3 (10.0-14.1) |'
    # one seed: the table of the package's evaluation
    assert report.format_table(mean) == format_posetrack_table(mean)


def _seed_tables(single,
                 warp,
                 occluded=(10.0, 10.0),
                 no_flip=-1.0,
                 warp_no_flip=-0.5,
                 pseudo=None,
                 trained=None):
    """Tables of one seed; the no-flip-test rows are the flip-tested rows
    plus ``no_flip`` (single-frame) and ``warp_no_flip`` (PoseWarper);
    ``pseudo`` is the pseudo-labeling row's AP, ``trained`` the
    single-frame models' on sparse + propagated and on all labels (all and
    occluded frames: ``((propagated, dense), (propagated, dense))``)."""
    tables = {
        title: {
            report.CEILING_ROW: {
                'Total': 99.0
            },
            report.SINGLE_ROW: {
                'Total': s
            },
            report.SINGLE_NO_FLIP_ROW: {
                'Total': s + no_flip
            },
            report.WARP_ROW: {
                'Total': w
            },
            report.WARP_NO_FLIP_ROW: {
                'Total': w + warp_no_flip
            },
        }
        for title, (s, w) in (('all frames', (single, warp)),
                              ('occluded frames', occluded))
    }
    tables[report.PROPAGATION_TABLE] = {
        report.COPY_ROW: {
            'Total': 80.0
        },
        report.FLOW_ROW: {
            'Total': 82.0
        },
        report.PROPAGATED_ROW: {
            'Total': 87.0
        },
    }
    if pseudo is not None:
        tables[report.PROPAGATION_TABLE][report.PSEUDO_ROW] = {'Total': pseudo}
    for title, rows in zip(('all frames', 'occluded frames'), trained or ()):
        tables[title][report.PROPAGATED_TRAIN_ROW] = {'Total': rows[0]}
        tables[title][report.DENSE_ROW] = {'Total': rows[1]}
    return tables


def test_a_gain_must_exceed_the_spread_over_seeds():
    # +5 and +4 with ranges of 2 and 3: a gain
    seeds = [_seed_tables(60.0, 65.0), _seed_tables(62.0, 66.0)]
    diff, spread, gain = report.temporal_gain(seeds, 'all frames')
    assert (diff, spread, gain) == (4.5, 2.0, True)
    # +3 and +1 with a range of 4: within the spread
    seeds = [_seed_tables(60.0, 63.0), _seed_tables(64.0, 65.0)]
    diff, spread, gain = report.temporal_gain(seeds, 'all frames')
    assert (diff, spread, gain) == (2.0, 4.0, False)
    # one seed has a negative difference: no gain whatever the mean
    seeds = [_seed_tables(60.0, 75.0), _seed_tables(60.5, 60.0)]
    assert report.temporal_gain(seeds, 'all frames')[2] is False
    # one seed: no spread, no verdict
    assert report.temporal_gain(seeds[:1], 'all frames') == (15.0, 0.0, None)


def test_reading_states_the_verdicts_and_propagation():
    seeds = [
        _seed_tables(60.0, 65.0, occluded=(40.0, 47.0)),
        _seed_tables(62.0, 66.0, occluded=(41.0, 46.0))
    ]
    mean, _, _ = report.aggregate_seeds(seeds)
    text = report.reading(seeds, mean)
    assert text.count('. ') == 1 and text.endswith('.')
    assert 'reaches 65.5 Mean AP against 61.0' in text
    assert '+4.5 on all frames, a gain: larger than the spread over the ' \
        '2 seeds (2.0)' in text
    assert '+6.0 on occluded frames, a gain' in text
    # the paired differences, seed by seed
    assert '(2.0); per seed +5.0, +4.0;' in text
    assert 'gives 99.0' in text
    assert '87.0 Mean AP against 80.0' in text and '82.0 for moving' in text
    one = report.reading(seeds[:1], seeds[0])
    assert 'no gain is claimed' in one


def test_same_protocol_compares_both_stages_without_flip_test():
    """The recipe's-test sentence uses the two no-flip-test rows, not the
    flip-tested ones: here single-frame loses 3 and 0.5 without flip test
    and PoseWarper 1 and 0.2, so the differences and spreads change."""
    seeds = [
        _seed_tables(
            60.0, 61.0, occluded=(40.0, 44.0), no_flip=-3.0,
            warp_no_flip=-1.0),
        _seed_tables(
            61.0, 61.5, occluded=(41.0, 45.3), no_flip=-0.5, warp_no_flip=-0.2)
    ]
    # flip-tested: +1.0 and +0.5
    assert report.temporal_gain(seeds, 'all frames')[2] is False
    diff, spread, gain = report.temporal_gain(
        seeds, 'all frames', report.SINGLE_NO_FLIP_ROW,
        report.WARP_NO_FLIP_ROW)
    # +3.0 and +0.8; single-frame no-flip range 57.0-60.5
    assert (round(diff, 6), spread, gain) == (1.9, 3.5, False)
    mean, _, _ = report.aggregate_seeds(seeds)
    text = report.same_protocol(seeds, mean)
    assert 'single-frame model reaches 58.8 and PoseWarper 60.6' in text
    assert '+1.9 on all frames, not a gain' in text
    # +6.0 and +4.6
    assert '+5.3 on occluded frames, a gain: larger than the spread ' \
        'over the 2 seeds (3.5); per seed +6.0, +4.6' in text


def test_subset_differences_name_every_held_out_subset():
    """Every held-out subset but all frames gets its difference, seed by
    seed; the propagation table is no held-out subset."""
    seeds = [
        _seed_tables(60.0, 65.0, occluded=(40.0, 47.0)),
        _seed_tables(62.0, 66.0, occluded=(41.0, 46.0))
    ]
    text = report.subset_differences(seeds)
    assert '+6.0 on occluded frames (per seed +7.0, +5.0)' in text
    assert 'all frames' not in text and 'training videos' not in text
    assert text.endswith('the key frame.')
    one = report.subset_differences(seeds[:1])
    assert '+7.0 on occluded frames;' not in one
    assert '+7.0 on occluded frames.' in one and 'per seed' not in one


def test_propagation_gains_over_each_other_way_to_label():
    seeds = [_seed_tables(60.0, 65.0, pseudo=84.0),
             _seed_tables(62.0, 66.0, pseudo=86.5)]
    assert report.propagation_gains([_seed_tables(60.0, 65.0)]) is None
    text = report.propagation_gains(seeds)
    # 87 - 84 and 87 - 86.5: the pseudo-labeling range 2.5 is the spread
    assert '+1.8 over pseudo-labeling (the single-frame model run on those ' \
        'frames), not a gain: within the spread over the 2 seeds (2.5); ' \
        'per seed +3.0, +0.5;' in text
    assert '+5.0 over optical flow, a gain: larger than the spread over ' \
        'the 2 seeds (0.0); per seed +5.0, +5.0;' in text
    assert '+7.0 over copying the nearest labeled pose, a gain' in text
    assert text.endswith('.') and text.count('. ') == 0
    one = report.propagation_gains(seeds[:1])
    assert '+3.0 over pseudo-labeling' in one and 'no gain is claimed' in one


def test_sparse_training_states_the_gain_and_the_share_of_the_gap():
    """Sparse + propagated labels against sparse ones by the gain rule, and
    the share of the dense model's lead that they close."""
    # all frames: sparse 60 / 62, propagated 64 / 65, dense 68 / 68
    seeds = [
        _seed_tables(60.0, 65.0, occluded=(40.0, 47.0),
                     trained=((64.0, 68.0), (45.0, 50.0))),
        _seed_tables(62.0, 66.0, occluded=(41.0, 46.0),
                     trained=((65.0, 68.0), (45.5, 50.0)))]
    mean, _, _ = report.aggregate_seeds(seeds)
    assert report.sparse_training(
        [_seed_tables(60.0, 65.0)], _seed_tables(60.0, 65.0), None) is None
    text = report.sparse_training(seeds, mean, (8, 40))
    assert text.startswith('Trained on the sparse labels (8 of the 40 '
                           'training frames, 20%) and the PoseWarper-')
    assert 'reaches 64.5 Mean AP on the held-out videos against 61.0 on the ' \
        'sparse labels alone' in text and '68.0 on all true labels' in text
    # +4 and +3 with the sparse range 2: a gain
    assert '+3.5 on all frames, a gain: larger than the spread over the 2 ' \
        'seeds (2.0); per seed +4.0, +3.0;' in text
    assert '+4.8 on occluded frames, a gain' in text
    # (4 + 3) of the gaps (8 + 6): 50%; per seed 4/8 and 3/6
    assert 'It closes 50% of the gap to the dense model (+7.0 on all ' \
        'frames, a gain: larger than the spread over the 2 seeds (2.0); ' \
        'per seed +8.0, +6.0; closed per seed 50%, 50%).' in text
    # no gap to close: no share
    flat = [_seed_tables(60.0, 65.0, trained=((61.0, 59.0), (1.0, 1.0)))]
    text = report.sparse_training(flat, flat[0], None)
    assert 'the sparse labels and the' in text
    assert text.endswith('Dense labels give -1.0 on all frames (one seed, '
                         'so no spread is measured and no gain is claimed '
                         '(`--seeds 2` measures it)), so no share of a gap '
                         'is stated.')
    # propagated labels worse than sparse ones: no negative share
    worse = [_seed_tables(60.0, 65.0, trained=((55.0, 61.0), (1.0, 1.0)))]
    text = report.sparse_training(worse, worse[0], None)
    assert '-5.0 on all frames' in text and '%' not in text
    assert text.endswith('It falls short of the sparse labels alone, so it '
                         'closes none of the gap to the dense model (+1.0 '
                         'on all frames, one seed, so no spread is measured '
                         'and no gain is claimed (`--seeds 2` measures '
                         'it)).')


def test_commands_read_one_option_per_line():
    text = report.format_command([
        'OMP_NUM_THREADS=2', 'python', 'tools/train.py', 'a.py', '--work-dir',
        'w', '--no-validate', '--cfg-options', 'x=1',
        'param_scheduler.0.milestones=[5,6]'
    ])
    assert text.splitlines() == [
        'OMP_NUM_THREADS=2 python tools/train.py \\', '    a.py \\',
        '    --work-dir w \\', '    --no-validate \\',
        '    --cfg-options \\', '        x=1 \\',
        "        'param_scheduler.0.milestones=[5,6]'"
    ]
    module = report.format_command(
        ['python', '-m', 'tools.quickstart.codec_ceiling', 'c.py'])
    assert module == 'python -m tools.quickstart.codec_ceiling \\\n    c.py'


def _run(work_dir, records, stamp='20240101_000000'):
    vis = work_dir / stamp / 'vis_data'
    vis.mkdir(parents=True)
    (vis /
     'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in records))


def test_training_curves_read_loss_and_validation_ap(tmp_path):
    assert report.read_curves(str(tmp_path)) is None
    _run(tmp_path / 'run', [
        dict(loss=0.5, lr=0.1, iter=1, step=1),
        dict(loss=0.25, lr=0.1, iter=2, step=2),
        {
            'posetrack18/AP': 40.0,
            'posetrack18/Head AP': 50.0,
            'step': 2
        },
    ])
    curves = report.read_curves(str(tmp_path / 'run'))
    assert curves == {
        'loss': [[1.0, 2.0], [0.5, 0.25]],
        'posetrack18/AP': [[2.0], [40.0]],
        'posetrack18/Head AP': [[2.0], [50.0]],
    }
    out = tmp_path / 'c.png'
    report.plot_curves({'stage 1': {'seed 0': curves}}, str(out))
    assert out.stat().st_size > 1000
