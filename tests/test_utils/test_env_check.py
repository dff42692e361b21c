import subprocess
import sys

import mmcv
import pytest

import posewarper_mm
from posewarper_mm.utils import env_check


def test_ops_present():
    from mmcv.ops import DeformConv2d  # noqa: F401
    env_check.check_environment()


def test_missing_ops_gives_clear_error(monkeypatch):
    real_import = env_check.importlib.import_module

    def fake_import(name, *args, **kwargs):
        if name == 'mmcv._ext':
            raise ModuleNotFoundError("No module named 'mmcv._ext'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(env_check.importlib, 'import_module', fake_import)
    with pytest.raises(ImportError) as err:
        env_check.check_environment()
    msg = str(err.value)
    assert 'mmcv._ext' in msg
    assert 'compiled ops' in msg
    assert 'tools/env/setup_env.sh' in msg


@pytest.mark.parametrize('version', ['2.2.0', '1.7.2'])
def test_wrong_mmcv_version_gives_clear_error(monkeypatch, version):
    monkeypatch.setattr(mmcv, '__version__', version)
    with pytest.raises(ImportError, match=f'mmcv=={version} is installed'):
        env_check.check_environment()


def test_import_without_ops_fails_in_fresh_interpreter(repo_root):
    """A real import of the package with ``mmcv._ext`` unavailable."""
    code = ('import sys; sys.modules["mmcv._ext"] = None\n'
            'import posewarper_mm\n')
    proc = subprocess.run([sys.executable, '-c', code],
                          cwd=repo_root,
                          capture_output=True,
                          text=True)
    assert proc.returncode != 0
    assert 'needs mmcv built with its compiled ops' in proc.stderr


def test_version():
    assert posewarper_mm.__version__.count('.') == 2
