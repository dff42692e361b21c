"""tools/analysis/leg_probe.py: does stage 1 tell the legs apart?"""
import numpy as np
import pytest
from leg_probe import LEG_PAIRS, leg_split_hits, main, render_probe_figures
from mmpose.apis import init_model

from posewarper_mm.testing import REPO_ROOT
from posewarper_mm.testing.clips import TINY_CONFIG, save_tiny_checkpoint

STAGE1 = str(REPO_ROOT / 'configs' / 'quickstart' /
             'posewarper-stage1_hrnet-tiny_synthetic.py')


def _peaks(keypoints, stride, height=24, width=16, swap=False):
    """(N, 17, h, w) maps with one peak per joint at its cell; ``swap``
    puts each left leg map's peak on the right leg and the reverse."""
    grid_y, grid_x = np.mgrid[0:height, 0:width]
    maps = np.zeros((len(keypoints), 17, height, width))
    for n, kpts in enumerate(keypoints):
        kpts = kpts.copy()
        if swap:
            for left, right in LEG_PAIRS:
                kpts[[left, right]] = kpts[[right, left]]
        for k, (x, y) in enumerate(kpts / stride):
            maps[n, k] = np.exp(-((grid_x - x)**2 + (grid_y - y)**2) / 2)
    return maps


def test_figures_are_deterministic_and_walk_in_mid_stride():
    crops, kpts = render_probe_figures(20, 64, 96, seed=3)
    again, kpts_again = render_probe_figures(20, 64, 96, seed=3)
    assert crops.shape == (20, 96, 64, 3) and crops.dtype == np.uint8
    assert kpts.shape == (20, 17, 2)
    np.testing.assert_array_equal(crops, again)
    np.testing.assert_array_equal(kpts, kpts_again)
    # inside the crop, and the two ankles apart (legs in mid-stride)
    assert np.all((kpts >= 0) & (kpts < [64, 96]))
    ankles = np.abs(kpts[:, LEG_PAIRS[1][0], 0] - kpts[:, LEG_PAIRS[1][1], 0])
    assert np.median(ankles) > 8
    assert not np.array_equal(crops, render_probe_figures(20, 64, 96, 4)[0])


def test_right_maps_score_all_and_swapped_maps_none():
    _, kpts = render_probe_figures(30, 64, 96, seed=0)
    hits = leg_split_hits(_peaks(kpts, 4.0), kpts, 4.0)
    assert len(hits) > 40 and all(hits)
    swapped = leg_split_hits(_peaks(kpts, 4.0, swap=True), kpts, 4.0)
    assert len(swapped) == len(hits) and not any(swapped)


def test_pairs_in_one_cell_are_skipped():
    _, kpts = render_probe_figures(2, 64, 96, seed=0)
    kpts[0, LEG_PAIRS[0][1]] = kpts[0, LEG_PAIRS[0][0]]
    assert len(leg_split_hits(_peaks(kpts, 4.0), kpts, 4.0)) == 3


def test_cli_scores_a_stage1_checkpoint(tmp_path, capsys):
    model = init_model(STAGE1, None, device='cpu')
    ckpt = save_tiny_checkpoint(model, str(tmp_path / 'stage1.pth'))
    share = main([STAGE1, ckpt, '--num', '10'])
    assert 0.0 <= share <= 100.0
    out = capsys.readouterr().out
    assert f'{share:.1f}% of' in out and 'knee and ankle pairs' in out


def test_cli_refuses_a_stage2_config(tmp_path):
    with pytest.raises(SystemExit, match='TopdownPoseEstimator'):
        main([TINY_CONFIG, str(tmp_path / 'none.pth')])
