"""Tests for posewarper_mm.engine.resume."""
import os.path as osp

from mmengine.config import Config

from posewarper_mm.engine.resume import apply_resume_arg, finalize_auto_resume


def _cfg(work_dir, load_from='stage1.pth'):
    return Config(dict(work_dir=work_dir, load_from=load_from, resume=False))


def test_no_resume_flag_keeps_config(tmp_path):
    cfg = _cfg(str(tmp_path))
    assert apply_resume_arg(cfg, None) is None
    assert not finalize_auto_resume(cfg, None)
    assert cfg.load_from == 'stage1.pth' and cfg.resume is False


def test_resume_from_path(tmp_path):
    cfg = _cfg(str(tmp_path))
    assert apply_resume_arg(cfg, 'work/iter_4.pth') is None
    assert not finalize_auto_resume(cfg, None)
    assert cfg.load_from == 'work/iter_4.pth' and cfg.resume is True


def test_auto_resume_without_checkpoint_falls_back_to_load_from(tmp_path):
    cfg = _cfg(str(tmp_path))
    replaced = apply_resume_arg(cfg, 'auto')
    assert replaced == 'stage1.pth'
    assert cfg.load_from is None and cfg.resume is True
    assert finalize_auto_resume(cfg, replaced)
    assert cfg.load_from == 'stage1.pth' and cfg.resume is False


def test_auto_resume_with_checkpoint_resumes(tmp_path):
    ckpt = tmp_path / 'iter_2.pth'
    ckpt.write_bytes(b'')
    (tmp_path / 'last_checkpoint').write_text(str(ckpt))
    cfg = _cfg(str(tmp_path))
    replaced = apply_resume_arg(cfg, 'auto')
    assert not finalize_auto_resume(cfg, replaced)
    assert cfg.load_from is None and cfg.resume is True


def test_auto_resume_without_config_load_from(tmp_path):
    cfg = _cfg(str(tmp_path), load_from=None)
    replaced = apply_resume_arg(cfg, 'auto')
    assert not finalize_auto_resume(cfg, replaced)
    assert cfg.load_from is None and cfg.resume is True


def test_cfg_options_load_from_wins(tmp_path):
    cfg = _cfg(osp.join(str(tmp_path), 'new'))
    replaced = apply_resume_arg(cfg, 'auto')
    cfg.merge_from_dict(dict(load_from='other.pth'))
    assert not finalize_auto_resume(cfg, replaced)
    assert cfg.load_from == 'other.pth' and cfg.resume is True
