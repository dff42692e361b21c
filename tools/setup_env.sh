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
# Usage: tools/setup_env.sh [VENV_DIR]   (default: .venv in the repo root)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-${PWMM_VENV:-$ROOT/.venv}}"
PYTHON="${PWMM_PYTHON:-python3.11}"
CACHE="${PWMM_CACHE_DIR:-$HOME/.cache/posewarper_mm}"
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
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
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

step "mmcv $MMCV_VERSION with compiled ops"
have_ops() { "$PY" -c 'import mmcv._ext' >/dev/null 2>&1; }
if installed mmcv "$MMCV_VERSION" && have_ops; then
    echo 'already installed with ops'
else
    KEY="$("$PY" - <<'EOF'
import sys
import torch
cuda = torch.version.cuda if torch.cuda.is_available() else None
import shutil
cuda = cuda if cuda and shutil.which('nvcc') else 'cpu'
print(f'torch{torch.__version__.split("+")[0]}-py{sys.version_info[0]}'
      f'{sys.version_info[1]}-{"cu" + cuda if cuda != "cpu" else "cpu"}')
EOF
)"
    WHEEL_DIR="$CACHE/wheels/mmcv-$MMCV_VERSION-$KEY"
    mkdir -p "$WHEEL_DIR"
    if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
        echo "no cached wheel in $WHEEL_DIR: building (about 18 min on 2 cores)"
        BUILD="$(mktemp -d)"
        "${PIP[@]}" download -q --no-deps --no-binary :all: \
            --no-build-isolation "mmcv==$MMCV_VERSION" -d "$BUILD"
        tar -xzf "$BUILD"/mmcv-"$MMCV_VERSION".tar.gz -C "$BUILD"
        SRC="$BUILD/mmcv-$MMCV_VERSION"
        # torch >= 2.10 headers need C++20; mmcv 2.1.0 hard-codes 14/17.
        sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' \
            "$SRC/setup.py"
        (cd "$SRC" && MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
            "${PIP[@]}" wheel --no-build-isolation --no-deps -w "$BUILD/dist" .)
        cp "$BUILD"/dist/mmcv-*.whl "$WHEEL_DIR/"
        rm -rf "$BUILD"
    else
        echo "using cached wheel from $WHEEL_DIR"
    fi
    "${PIP[@]}" install -q --force-reinstall --no-deps "$WHEEL_DIR"/mmcv-*.whl
    # mmcv's own light dependencies.
    "${PIP[@]}" install -q addict packaging Pillow pyyaml yapf==0.40.1 \
        opencv-python
    have_ops
fi

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

step 'pin numpy and test requirements'
"${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt" \
    -r "$ROOT/requirements/tests.txt"

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
