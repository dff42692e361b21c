"""tools.quickstart.codec_ceiling: the GT through the codec, scored."""
import importlib
import json
import math
from pathlib import Path

import pytest
from mmengine.config import Config

from tests.testing import tiny_quickstart as qs

MISSING = qs.missing_pieces()
pytestmark = pytest.mark.skipif(
    MISSING is not None, reason=f'quickstart pieces missing: {MISSING}')


@pytest.fixture(scope='module')
def ceiling_tool():
    return importlib.import_module('tools.quickstart.codec_ceiling')


@pytest.fixture(scope='module')
def tiny_videos(tmp_path_factory):
    return qs.generate_tiny_videos(str(tmp_path_factory.mktemp('videos')))


def _config(data_root):
    cfg = Config.fromfile(qs.STAGE2_CFG)
    cfg.merge_from_dict(
        dict(opt.split('=', 1) for opt in qs.data_options(data_root)))
    return cfg


def _codec(heatmap_size):
    return dict(
        type='MSRAHeatmap',
        input_size=(64, 96),
        heatmap_size=heatmap_size,
        sigma=2)


def test_fine_codec_reaches_100_and_coarse_codec_less(ceiling_tool,
                                                      tiny_videos, tmp_path):
    cfg = _config(tiny_videos)
    # one heatmap cell per input pixel: decoding is exact to a fraction of
    # a pixel, far inside the PoseTrack threshold
    fine = ceiling_tool.codec_ceiling(cfg, str(tmp_path / 'fine'),
                                      _codec((64, 96)))
    # one cell per 16 input pixels: joints land up to half a cell away
    coarse = ceiling_tool.codec_ceiling(cfg, str(tmp_path / 'coarse'),
                                        _codec((4, 6)))
    assert set(fine) == set(coarse) == {
        'Head', 'Shoulder', 'Elbow', 'Wrist', 'Hip', 'Knee', 'Ankle', 'Total'
    }
    assert fine['Total'] > 99.0
    assert all(math.isfinite(v) for v in coarse.values())
    assert coarse['Total'] < fine['Total'] - 10
    # the prediction files stay for scoring other GT subsets
    gt_dir = Path(tiny_videos) / 'annotations' / 'val'
    assert sorted(p.name for p in (tmp_path / 'fine').glob('*.json')) == \
        sorted(p.name for p in gt_dir.glob('*.json'))


def test_command_line_writes_the_row(ceiling_tool, tiny_videos, tmp_path):
    out = tmp_path / 'ceiling.json'
    result = ceiling_tool.main([
        qs.STAGE2_CFG, '--pred-dir',
        str(tmp_path / 'preds'), '--out-json',
        str(out), '--cfg-options', *qs.data_options(tiny_videos)
    ])
    assert json.loads(out.read_text()) == {
        ceiling_tool.ROW: pytest.approx(result)
    }
    assert result['Total'] > 90


def test_codec_input_size_must_match_the_crop(ceiling_tool, tiny_videos,
                                              tmp_path):
    with pytest.raises(ValueError, match='input size'):
        ceiling_tool.codec_ceiling(
            _config(tiny_videos), str(tmp_path),
            dict(_codec((16, 24)), input_size=(32, 48)))


def test_empty_targets_become_score_0_joints(ceiling_tool):
    """A joint without a target encodes to an all-zero heatmap, which
    mmpose's UDP codec decodes to NaN; the ceiling scores it as a score-0
    joint instead of writing NaN, and leaves the other joints alone."""
    import numpy as np
    from mmpose.codecs import UDPHeatmap
    codec = UDPHeatmap(input_size=(64, 96), heatmap_size=(16, 24), sigma=2)
    keypoints = np.array([[[10.0, 50.0], [30.0, 40.0], [0.0, 0.0]]])
    target = codec.encode(keypoints, np.array([[1.0, 1.0, 0.0]]))
    with np.errstate(all='ignore'):
        decoded, scores = codec.decode(target['heatmaps'])
    assert np.isnan(decoded[0, 2]).all()  # what the fix is for
    fixed, fixed_scores = ceiling_tool._drop_empty_targets(decoded, scores)
    assert np.isfinite(fixed).all() and fixed_scores[0, 2] == 0
    np.testing.assert_array_equal(fixed[0, :2], decoded[0, :2])
    np.testing.assert_array_equal(fixed_scores[0, :2], scores[0, :2])
