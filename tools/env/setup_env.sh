#!/usr/bin/env bash
# Create (or update) the project's virtual environment with the tested
# OpenMMLab stack: torch 2.14.1, mmengine 0.10.7, mmcv 2.1.0 built from
# source with its compiled ops, mmdet 3.3.0, mmpose 1.3.2 and this package
# in editable mode.
#
# Idempotent: every step checks whether it is already done. The built mmcv
# wheel is cached outside the repository (PWMM_CACHE_DIR, default
# ~/.cache/posewarper_mm), keyed by mmcv / torch / Python / CUDA versions,
# so a second set-up on the same machine only reinstalls wheels.
#
# Usage: tools/env/setup_env.sh [--only mmcv] [VENV_DIR]
#   VENV_DIR   the environment, relative or absolute (default: .venv in the
#              repo root); created when missing
#   --only mmcv  run the mmcv step alone, in an environment that already has
#              torch (used by the set-up test)
# Environment: PWMM_CACHE_DIR (wheel cache), PWMM_PYTHON (interpreter for a
# new venv), PWMM_MMCV_SDIST (build mmcv from this local source
# distribution, see tools/env/build_mmcv.sh), MAX_JOBS.
set -Eeuo pipefail

ONLY=''
if [ "${1:-}" = '--only' ]; then
    ONLY="${2:?--only needs a step name (mmcv)}"
    [ "$ONLY" = mmcv ] || { echo "unknown step: $ONLY" >&2; exit 2; }
    shift 2
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${1:-${PWMM_VENV:-$ROOT/.venv}}"
# Absolute from here on: later steps cd into build folders.
VENV="$(realpath -m -- "$VENV")"
PYTHON="${PWMM_PYTHON:-python3.11}"
CACHE="$(realpath -m -- "${PWMM_CACHE_DIR:-$HOME/.cache/posewarper_mm}")"
MMCV_VERSION=2.1.0
STEP='start'

log() { printf '\n[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
fail() {
    printf '\n[setup] FAILED at step: %s\n' "$STEP" >&2
    printf '[setup] re-run %s after fixing the problem above\n' "$0" >&2
}
trap fail ERR
step() { STEP="$1"; log "$1"; }

command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

step 'virtual environment'
PY="$VENV/bin/python"
if [ ! -x "$PY" ]; then
    "$PYTHON" -m venv "$VENV"
elif ! "$PY" -m pip --version >/dev/null 2>&1; then
    # an earlier set-up stopped while the venv was being created
    echo "$VENV has no working pip: recreating it"
    "$PYTHON" -m venv --clear "$VENV"
fi
PIP=("$PY" -m pip --disable-pip-version-check)
"$PY" --version

installed() {  # installed NAME VERSION -> 0 if exactly that version
    "$PY" - "$1" "$2" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version
try:
    sys.exit(0 if version(sys.argv[1]) == sys.argv[2] else 1)
except PackageNotFoundError:
    sys.exit(1)
EOF
}

have_ops() { "$PY" -c 'import mmcv._ext' >/dev/null 2>&1; }

mmcv_step() {
    step "mmcv $MMCV_VERSION with compiled ops"
    if installed mmcv "$MMCV_VERSION" && have_ops; then
        echo 'already installed with ops'
        return
    fi
    local key wheel_dir
    key="$("$PY" - <<'EOF'
import shutil
import sys

import torch

cuda = torch.version.cuda if torch.cuda.is_available() else None
cuda = cuda if cuda and shutil.which('nvcc') else None
print(f'torch{torch.__version__.split("+")[0]}-py{sys.version_info[0]}'
      f'{sys.version_info[1]}-{"cu" + cuda if cuda else "cpu"}')
EOF
)"
    wheel_dir="$CACHE/wheels/mmcv-$MMCV_VERSION-$key"
    if ls "$wheel_dir"/mmcv-*.whl >/dev/null 2>&1; then
        echo "using cached wheel from $wheel_dir"
    else
        echo "no cached wheel in $wheel_dir: building (about 15-20 min on" \
            "2 cores)"
        MMCV_VERSION="$MMCV_VERSION" bash "$ROOT/tools/env/build_mmcv.sh" \
            "$PY" "$wheel_dir"
    fi
    "${PIP[@]}" install -q --force-reinstall --no-deps "$wheel_dir"/mmcv-*.whl
    # mmcv's own light dependencies.
    "${PIP[@]}" install -q addict packaging Pillow pyyaml yapf==0.40.1 \
        opencv-python
    if ! have_ops; then
        echo "mmcv installed from $wheel_dir, but 'import mmcv._ext' fails:"
        "$PY" -c 'import mmcv._ext'
    fi
}

if [ "$ONLY" = mmcv ]; then
    mmcv_step
    trap - ERR
    log "mmcv step done: $VENV"
    exit 0
fi

step 'build tools (setuptools with pkg_resources, wheel, ninja, cython)'
"${PIP[@]}" install -q -r "$ROOT/requirements/build.txt"

step 'torch and torchvision'
if installed torch 2.14.1 && installed torchvision 0.29.1; then
    echo 'already installed'
else
    "${PIP[@]}" install -q torch==2.14.1 torchvision==0.29.1
fi
"${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt"

step 'mmengine'
installed mmengine 0.10.7 || "${PIP[@]}" install -q mmengine==0.10.7

mmcv_step

step 'mmdet'
installed mmdet 3.3.0 || "${PIP[@]}" install -q mmdet==3.3.0

step 'mmpose (chumpy needs pip at build time)'
"$PY" -c 'import chumpy' 2>/dev/null || "${PIP[@]}" install -q --no-build-isolation chumpy
installed mmpose 1.3.2 || "${PIP[@]}" install -q mmpose==1.3.2

step 'xtcocotools rebuilt against numpy 2'
if "$PY" -c 'from xtcocotools.coco import COCO; import xtcocotools._mask' \
        >/dev/null 2>&1; then
    echo 'already working'
else
    "${PIP[@]}" install -q --no-build-isolation --no-binary xtcocotools \
        --force-reinstall --no-deps xtcocotools==1.14.3
fi

step 'pin numpy, test and deployment requirements'
"${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt" \
    -r "$ROOT/requirements/tests.txt" -r "$ROOT/requirements/deploy.txt"

step 'posewarper_mm in editable mode'
"${PIP[@]}" install -q --no-build-isolation --no-deps -e "$ROOT"

step 'check'
"$PY" - <<'EOF'
import mmcv
import mmdet
import mmengine
import mmpose
import numpy
import torch
from mmcv.ops import DeformConv2d  # noqa: F401
print(f'torch {torch.__version__}, numpy {numpy.__version__}, '
      f'mmengine {mmengine.__version__}, mmcv {mmcv.__version__}, '
      f'mmdet {mmdet.__version__}, mmpose {mmpose.__version__}')
import posewarper_mm  # noqa: F401
print('posewarper_mm imports and registers its modules')
EOF
trap - ERR
log "environment ready: $VENV"
