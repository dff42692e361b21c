"""tools/generate_synthetic_posetrack.py writes a dataset."""
import importlib
import json
import os.path as osp

import pytest


def test_cli_writes_dataset(tmp_path):
    cli = importlib.import_module('tools.quickstart.generate')
    out = cli.main([
        str(tmp_path / 'cli'), '--num-videos', '2', '--num-frames', '3',
        '--width', '64', '--height', '48', '--splits', 'val', '--seed', '1'
    ])
    with open(out['ann_files']['val']) as f:
        assert len(json.load(f)['images']) == 6
    assert osp.isfile(out['det_files']['val'])


def test_cli_shake_blur_and_bad_ranges(tmp_path, capsys):
    cli = importlib.import_module('tools.quickstart.generate')
    out = cli.main([
        str(tmp_path / 'shaken'), '--num-videos', '1', '--num-frames', '8',
        '--width', '64', '--height', '48', '--splits', 'val',
        '--shake-blur-prob', '1', '--occluder-speed', '0.04', '0.08'
    ])
    with open(out['ann_files']['val']) as f:
        assert all(img['blurred'] for img in json.load(f)['images'])
    for bad in (['--shake-blur-prob',
                 '1.5'], ['--occluder-speed', '0.08',
                          '0.04'], ['--shake-blur-strength', '-0.1', '0.1']):
        with pytest.raises(SystemExit):
            cli.main([str(tmp_path / 'bad'), *bad])
        assert 'error: --' in capsys.readouterr().err
    assert not osp.exists(tmp_path / 'bad')
