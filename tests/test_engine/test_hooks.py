"""Tests for posewarper_mm.engine.save_metrics_hook."""
import json

import pytest

from posewarper_mm.engine import SaveTestMetricsHook


def test_writes_metrics(tmp_path):
    out = tmp_path / 'sub' / 'metrics.json'
    hook = SaveTestMetricsHook(str(out))
    hook.after_test_epoch(None, {'posetrack18/AP': 81.5, 'x': 1.0})
    assert json.loads(out.read_text()) == {'posetrack18/AP': 81.5, 'x': 1.0}


def test_no_metrics_writes_nothing(tmp_path):
    out = tmp_path / 'metrics.json'
    SaveTestMetricsHook(str(out)).after_test_epoch(None, None)
    assert not out.exists()


def test_bad_suffix():
    with pytest.raises(ValueError, match='metrics.txt'):
        SaveTestMetricsHook('metrics.txt')
