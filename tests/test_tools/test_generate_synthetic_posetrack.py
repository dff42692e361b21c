"""tools/generate_synthetic_posetrack.py writes a dataset."""
import json
import os.path as osp

from posewarper_mm.testing import load_tool


def test_cli_writes_dataset(tmp_path):
    cli = load_tool('tools/generate_synthetic_posetrack.py')
    out = cli.main([
        str(tmp_path / 'cli'), '--num-videos', '2', '--num-frames', '3',
        '--width', '64', '--height', '48', '--splits', 'val', '--seed', '1'
    ])
    with open(out['ann_files']['val']) as f:
        assert len(json.load(f)['images']) == 6
    assert osp.isfile(out['det_files']['val'])
