"""The set-up's mmcv build-and-cache branch, run for real on a cold cache.

``tools/env/setup_env.sh --only mmcv VENV`` runs the mmcv step alone. Here it
runs from a scratch folder with a *relative* venv path and an empty
``PWMM_CACHE_DIR``, and ``PWMM_MMCV_SDIST`` points the real recipe
(``tools/env/build_mmcv.sh``: unpack, C++20 patch, ``pip wheel``, strip, cache,
install) at a tiny stand-in source distribution of ``mmcv==2.1.0`` whose
compiled ``mmcv._ext`` builds in seconds. The stand-in refuses to compile
unless the C++20 patch was applied and is compiled with debug symbols, so
the patch and strip steps are checked, not only the plumbing.

The scratch venv sees the project environment's packages (torch, pip,
setuptools, wheel) through a ``.pth`` file that points at a folder of links
to everything in it except mmcv, so the step finds no mmcv and builds one,
without installing torch again.
"""
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile

import pytest

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
SETUP_ENV = osp.join(REPO_ROOT, 'tools', 'env', 'setup_env.sh')
STEP_FAILED = 'FAILED at step: mmcv 2.1.0 with compiled ops'

_SETUP_PY = '''\
from setuptools import Extension, setup

setup(
    name='mmcv',
    version='2.1.0',
    packages=['mmcv'],
    ext_modules=[
        Extension(
            'mmcv._ext', ['mmcv/_ext.cpp'],
            extra_compile_args=['-std=c++14', '-g'])
    ])
'''

_EXT_CPP = '''\
#include <Python.h>
#if __cplusplus < 202002L
#error "compiled without the C++20 patch of tools/env/build_mmcv.sh"
#endif
static struct PyModuleDef ext = {PyModuleDef_HEAD_INIT, "_ext", nullptr, -1,
                                 nullptr};
PyMODINIT_FUNC PyInit__ext(void) { return PyModule_Create(&ext); }
'''

pytestmark = pytest.mark.skipif(
    shutil.which('readelf') is None or shutil.which('strip') is None,
    reason='needs binutils (strip, readelf)')


def _write_sdist(folder, ext_source=_EXT_CPP):
    """A tiny mmcv-2.1.0.tar.gz with a compiled ``mmcv._ext``."""
    src = osp.join(folder, 'mmcv-2.1.0')
    os.makedirs(osp.join(src, 'mmcv'))
    with open(osp.join(src, 'setup.py'), 'w') as f:
        f.write(_SETUP_PY)
    with open(osp.join(src, 'mmcv', '__init__.py'), 'w') as f:
        f.write("__version__ = '2.1.0'\n")
    with open(osp.join(src, 'mmcv', '_ext.cpp'), 'w') as f:
        f.write(ext_source)
    sdist = osp.join(folder, 'mmcv-2.1.0.tar.gz')
    with tarfile.open(sdist, 'w:gz') as tar:
        tar.add(src, arcname='mmcv-2.1.0')
    shutil.rmtree(src)
    return sdist


def _scratch_venv(workdir):
    """``workdir/rel_venv`` seeing the project env's packages but mmcv."""
    venv = osp.join(workdir, 'rel_venv')
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', venv],
                   check=True)
    view = osp.join(workdir, 'project_site_view')
    os.makedirs(view)
    site = sysconfig.get_paths()['purelib']
    for name in os.listdir(site):
        if name.lower().startswith('mmcv') or name.endswith('.pth'):
            continue
        os.symlink(osp.join(site, name), osp.join(view, name))
    venv_site = glob.glob(osp.join(venv, 'lib', 'python*', 'site-packages'))
    with open(osp.join(venv_site[0], 'project_view.pth'), 'w') as f:
        f.write(view + '\n')
    return venv, venv_site[0]


def _run_mmcv_step(workdir, cache, sdist):
    env = dict(
        os.environ, PWMM_CACHE_DIR=cache, PWMM_MMCV_SDIST=sdist, MAX_JOBS='1')
    env.pop('VIRTUAL_ENV', None)
    return subprocess.run(['bash', SETUP_ENV, '--only', 'mmcv', 'rel_venv'],
                          cwd=workdir,
                          env=env,
                          stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT,
                          text=True,
                          timeout=600)


def _cached_wheels(cache):
    return glob.glob(
        osp.join(cache, 'wheels', 'mmcv-2.1.0-*', 'mmcv-2.1.0-*.whl'))


def _has_debug_info(wheel, tmpdir):
    with zipfile.ZipFile(wheel) as zf:
        libs = [n for n in zf.namelist() if n.endswith('.so')]
        assert libs, zf.namelist()
        lib = zf.extract(libs[0], tmpdir)
    sections = subprocess.run(['readelf', '-S', '-W', lib],
                              stdout=subprocess.PIPE,
                              text=True,
                              check=True).stdout
    return '.debug_info' in sections


def test_cold_cache_relative_venv_builds_caches_and_installs(tmp_path):
    import torch
    workdir = str(tmp_path / 'fresh_clone_cwd')
    os.makedirs(workdir)
    cache = str(tmp_path / 'empty_cache')
    venv, venv_site = _scratch_venv(workdir)

    # 1. a failing build (the stand-in does not compile): the step is
    # named, nothing lands in the cache and nothing is installed
    broken = _write_sdist(
        str(tmp_path / 'broken'), ext_source=_EXT_CPP + 'not C++ at all\n')
    proc = _run_mmcv_step(workdir, cache, broken)
    assert proc.returncode != 0, proc.stdout
    assert STEP_FAILED in proc.stdout, proc.stdout[-3000:]
    assert _cached_wheels(cache) == []
    assert not glob.glob(osp.join(venv_site, 'mmcv*'))

    # 2. re-run after the failure, cold cache, relative venv path: the real
    # download-unpack-patch-build-strip-cache-install sequence
    sdist = _write_sdist(str(tmp_path / 'good'))
    proc = _run_mmcv_step(workdir, cache, sdist)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'no cached wheel' in proc.stdout
    wheels = _cached_wheels(cache)
    assert len(wheels) == 1, wheels
    key = osp.basename(osp.dirname(wheels[0]))
    torch_version = torch.__version__.split('+')[0]
    assert key.startswith(f'mmcv-2.1.0-torch{torch_version}-py'), key
    assert not glob.glob(osp.join(osp.dirname(wheels[0]), '.*partial'))
    assert not _has_debug_info(wheels[0], str(tmp_path / 'unzipped'))
    # installed into the scratch venv, where its compiled op loads
    check = subprocess.run([
        osp.join(venv, 'bin', 'python'), '-c',
        'import mmcv, mmcv._ext; print(mmcv.__version__, mmcv.__file__)'
    ],
                           stdout=subprocess.PIPE,
                           text=True,
                           check=True)
    version, location = check.stdout.split()
    assert version == '2.1.0'
    assert location.startswith(venv_site), location

    # 3. already installed: nothing to do
    proc = _run_mmcv_step(workdir, cache, sdist)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'already installed with ops' in proc.stdout

    # 4. a second environment on the same machine reuses the cached wheel
    # (the source distribution is not needed any more)
    shutil.rmtree(venv)
    shutil.rmtree(osp.join(workdir, 'project_site_view'))
    _scratch_venv(workdir)
    proc = _run_mmcv_step(workdir, cache, str(tmp_path / 'no_such.tar.gz'))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'using cached wheel' in proc.stdout
    assert _cached_wheels(cache) == wheels


_TWO_SOURCES_SETUP_PY = _SETUP_PY.replace("['mmcv/_ext.cpp']",
                                          "['mmcv/_ext.cpp', 'mmcv/late.cpp']")


def test_work_dir_build_keeps_its_objects_after_a_failure(tmp_path):
    """With ``PWMM_MMCV_WORK_DIR`` (the GPU wheelhouse's hours-long build)
    a failed build leaves its compiled objects for the next run, which
    resumes in the same unpacked source (pip's clean-up after a failed
    build would delete them)."""
    src = tmp_path / 'src' / 'mmcv-2.1.0'
    (src / 'mmcv').mkdir(parents=True)
    (src / 'setup.py').write_text(_TWO_SOURCES_SETUP_PY)
    (src / 'mmcv' / '__init__.py').write_text("__version__ = '2.1.0'\n")
    (src / 'mmcv' / '_ext.cpp').write_text(_EXT_CPP)
    (src / 'mmcv' / 'late.cpp').write_text('not C++ at all\n')
    sdist = tmp_path / 'mmcv-2.1.0.tar.gz'
    with tarfile.open(sdist, 'w:gz') as tar:
        tar.add(str(src), arcname='mmcv-2.1.0')
    work, out = tmp_path / 'work', tmp_path / 'out'
    env = dict(os.environ, PWMM_MMCV_WORK_DIR=str(work),
               PWMM_MMCV_SDIST=str(sdist), MAX_JOBS='1')
    cmd = ['bash', osp.join(REPO_ROOT, 'tools', 'env', 'build_mmcv.sh'),
           sys.executable, str(out)]

    def run():
        return subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              timeout=600)

    proc = run()
    assert proc.returncode != 0, proc.stdout[-3000:]
    objects = glob.glob(str(work / 'mmcv-2.1.0' / 'build' / '**' / '_ext.o'),
                        recursive=True)
    assert len(objects) == 1, proc.stdout[-3000:]
    assert not out.exists() or not os.listdir(out)
    # the fix goes into the kept source; the next run resumes there
    (work / 'mmcv-2.1.0' / 'mmcv' / 'late.cpp').write_text('int late;\n')
    proc = run()
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'resuming the build in' in proc.stdout
    assert len(glob.glob(str(out / 'mmcv-2.1.0-*.whl'))) == 1
