"""tools.quickstart.training_curves: loss and validation AP curves."""
import json

from tools.quickstart.training_curves import (find_scalars, has_validation,
                                              main, plot_curves, read_curves)


def _run(work_dir, records, stamp='20240101_000000'):
    vis = work_dir / stamp / 'vis_data'
    vis.mkdir(parents=True)
    (vis /
     'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in records))
    return vis / 'scalars.json'


def test_reads_loss_and_validation_ap(tmp_path):
    scalars = _run(tmp_path / 'run', [
        dict(loss=0.5, lr=0.1, iter=1, step=1),
        dict(loss=0.25, lr=0.1, iter=2, step=2),
        {
            'posetrack18/AP': 40.0,
            'posetrack18/Head AP': 50.0,
            'step': 2
        },
    ])
    assert find_scalars(str(tmp_path / 'run')) == str(scalars)
    curves = read_curves(str(scalars))
    assert curves == {
        'loss': [[1.0, 2.0], [0.5, 0.25]],
        'posetrack18/AP': [[2.0], [40.0]],
        'posetrack18/Head AP': [[2.0], [50.0]],
    }
    assert has_validation({'stage 1': {'seed 0': curves}})
    assert not has_validation(
        {'stage 1': {
            'seed 0': {
                'loss': curves['loss']
            }
        }})
    out = plot_curves({'stage 1': {'seed 0': curves}}, str(tmp_path / 'c.png'))
    assert (tmp_path / 'c.png').stat().st_size > 1000 and out.endswith('png')


def test_no_run_and_command_line(tmp_path):
    assert find_scalars(str(tmp_path)) is None
    _run(tmp_path / 'stage1', [dict(loss=1.0, step=1), dict(loss=0.5, step=2)])
    _run(tmp_path / 'stage2', [dict(loss=0.3, step=1)])
    out = main([
        str(tmp_path / 'stage1'),
        str(tmp_path / 'stage2'), '--out',
        str(tmp_path / 'curves.png')
    ])
    assert (tmp_path / 'curves.png').stat().st_size > 1000
    assert out == str(tmp_path / 'curves.png')
