"""Tests for tools/launch_utils.py: ``--resume`` handling."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.logging import MMLogger

from posewarper_mm.errors import InputFileError
from tests.testing import load_tool

_launch = load_tool('tools/launch_utils.py')
latest_checkpoint = _launch.latest_checkpoint
resolve_resume = _launch.resolve_resume


def _cfg(work_dir, load_from='stage1.pth'):
    return Config(dict(work_dir=work_dir, load_from=load_from, resume=False))


def _checkpoint(work_dir, name='iter_2.pth'):
    ckpt = osp.join(str(work_dir), name)
    with open(ckpt, 'wb') as f:
        f.write(b'x')
    with open(osp.join(str(work_dir), 'last_checkpoint'), 'w') as f:
        f.write(ckpt)
    return ckpt


@pytest.fixture
def log_lines(monkeypatch):
    """Messages logged through mmengine's current logger."""
    lines = []
    logger = MMLogger.get_current_instance()
    monkeypatch.setattr(logger, 'info',
                        lambda msg, *a, **k: lines.append(str(msg)))
    monkeypatch.setattr(logger, 'log',
                        lambda level, msg, *a, **k: lines.append(str(msg)))
    return lines


def test_no_resume_flag_keeps_config(tmp_path):
    cfg = _cfg(str(tmp_path))
    _checkpoint(tmp_path)
    assert resolve_resume(cfg, None) == 'none'
    assert cfg.load_from == 'stage1.pth' and cfg.resume is False


def test_resume_from_path(tmp_path):
    cfg = _cfg(str(tmp_path))
    assert resolve_resume(cfg, 'work/iter_4.pth') == 'path'
    assert cfg.load_from == 'work/iter_4.pth' and cfg.resume is True


def test_auto_resume_without_checkpoint_starts_from_load_from(
        tmp_path, log_lines):
    cfg = _cfg(str(tmp_path))
    assert resolve_resume(cfg, 'auto') == 'fresh'
    assert cfg.load_from == 'stage1.pth' and cfg.resume is False
    assert any('no checkpoint' in m and 'stage1.pth' in m for m in log_lines)


def test_auto_resume_with_checkpoint_ignores_load_from(tmp_path, log_lines):
    """The issue's case: load_from given (e.g. by --cfg-options) plus
    --resume after an interruption must resume the work dir's checkpoint,
    not the load_from file."""
    ckpt = _checkpoint(tmp_path)
    cfg = _cfg(str(tmp_path), load_from='pretrained.pth')
    assert resolve_resume(cfg, 'auto') == 'work_dir'
    assert cfg.resume is True and cfg.load_from is None
    message = [m for m in log_lines if ckpt in m]
    assert message and 'pretrained.pth' in message[0] \
        and 'not used' in message[0]


def test_auto_resume_without_any_load_from(tmp_path):
    cfg = _cfg(str(tmp_path), load_from=None)
    assert resolve_resume(cfg, 'auto') == 'fresh'
    assert cfg.load_from is None and cfg.resume is False
    _checkpoint(tmp_path)
    cfg = _cfg(str(tmp_path), load_from=None)
    assert resolve_resume(cfg, 'auto') == 'work_dir'
    assert cfg.load_from is None and cfg.resume is True


def test_last_checkpoint_naming_a_missing_file(tmp_path):
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'gone.pth'))
    with pytest.raises(InputFileError, match='gone.pth.*does not exist'):
        latest_checkpoint(str(tmp_path))
    assert latest_checkpoint(str(tmp_path / 'missing_dir')) is None


def test_empty_last_checkpoint_is_an_error(tmp_path):
    (tmp_path / 'last_checkpoint').write_text('')
    with pytest.raises(InputFileError, match='last_checkpoint.*does not'):
        latest_checkpoint(str(tmp_path))


def test_no_resume_over_a_checkpoint_warns(tmp_path, log_lines):
    ckpt = _checkpoint(tmp_path)
    cfg = _cfg(str(tmp_path))
    assert resolve_resume(cfg, None) == 'none'
    warning = [m for m in log_lines if ckpt in m]
    assert len(warning) == 1 and '--resume' in warning[0]


def test_start_checkpoint_is_read_before_the_run(tmp_path):
    bad = tmp_path / 'stage1.pth'
    bad.write_bytes(b'')
    cfg = _cfg(str(tmp_path), load_from=str(bad))
    with pytest.raises(InputFileError, match='^load_from: .*stage1.pth'):
        _launch.check_start_checkpoint(cfg)
    cfg = _cfg(str(tmp_path), load_from=None)
    assert _launch.check_start_checkpoint(cfg) is cfg  # nothing to read
    _checkpoint(tmp_path)  # a 1-byte file named by last_checkpoint
    cfg = _cfg(str(tmp_path), load_from=None)
    resolve_resume(cfg, 'auto')
    with pytest.raises(InputFileError, match='^--resume: .*iter_2.pth'):
        _launch.check_start_checkpoint(cfg)


def test_plain_checkpoint_hook_becomes_atomic(tmp_path):
    cfg = Config(dict(default_hooks=dict(checkpoint=dict(
        type='CheckpointHook', interval=2))))
    _launch.use_atomic_checkpoints(cfg)
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'
    assert cfg.default_hooks.checkpoint.interval == 2
