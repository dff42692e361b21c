"""What ``pip install`` ships: the library alone, never the lab, the tools
or the tests."""
import runpy
import setuptools


def test_only_the_library_is_installed(repo_root, monkeypatch):
    captured = {}
    monkeypatch.setattr(setuptools, 'setup', lambda **kw: captured.update(kw))
    monkeypatch.chdir(repo_root)
    runpy.run_path(str(repo_root / 'setup.py'), run_name='__main__')
    packages = captured['packages']
    assert 'posewarper_mm.apis' in packages
    assert 'posewarper_mm.models.necks' in packages
    outside = [p for p in packages if p.split('.')[0] != 'posewarper_mm']
    assert not outside, outside
    assert (repo_root / 'tools' / 'quickstart' / '__init__.py').is_file()
