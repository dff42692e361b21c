#!/usr/bin/env bash
# Checks a GPU wheelhouse on a CPU machine, in a stand-in for the GPU
# image: Python 3.12, torch 2.11.0 (PyPI's CUDA 13.0 build, run on CPU),
# torchvision 0.26.0, numpy 2.4 (the newest here; the image has 2.5),
# opencv-python-headless, setuptools 81 (torch 2.11 requires < 82; 81
# still ships pkg_resources, deprecated) and the
# other packages that image holds, but no OpenMMLab package.
#
#   bash tools/env/check_wheelhouse_cpu.sh WHEELHOUSE OUT_DIR [PYTEST_ARGS]
#
# 1. builds that stand-in environment once (cached beside the build venv);
# 2. runs `tools/env/check_gpu.sh --dry-run` with it: offline install of
#    the wheelhouse into a venv over it, `import mmcv._ext`, versions,
#    the quick benchmark, a short training and test of both stages;
# 3. runs the CPU tests with that venv (default: tests/test_models
#    tests/test_datasets; PYTEST_ARGS replaces them).
#
# Environment (defaults):
#   PWMM_CACHE_DIR   ~/.cache/posewarper_mm
#   PWMM_PYTHON312   python3.12, else pyenv's newest 3.12
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/gpu_lib.sh"
check_usage 2 '' "$@"
WHEELHOUSE="$(realpath -m -- "$1")"
OUT_DIR="$(realpath -m -- "$2")"
shift 2
PYTEST_ARGS=("$@")
[ ${#PYTEST_ARGS[@]} -gt 0 ] || PYTEST_ARGS=(tests/test_models tests/test_datasets)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$(cache_dir)"
TARGET="$CACHE/gpu-build/tgt-venv-py312-torch$PWMM_TORCH_VERSION"
SCRATCH="$CACHE/gpu-build/cpu-check"

# 1. the stand-in for the GPU image
[ -x "$TARGET/bin/python" ] \
    || log "creating the stand-in environment $TARGET"
venv312 "$TARGET"
"$TARGET/bin/python" -m pip install -q --disable-pip-version-check \
    "torch==$PWMM_TORCH_VERSION" torchvision==0.26.0 numpy==2.4.6 \
    opencv-python-headless matplotlib scipy pillow pyyaml rich tqdm \
    requests six regex packaging pytest pytest-timeout 'setuptools>=81,<82'
"$TARGET/bin/python" - <<'EOF'
import importlib.util
import torch
print('stand-in:', torch.__version__, 'CUDA build', torch.version.cuda)
for name in ('mmcv', 'mmengine', 'mmdet', 'mmpose'):
    assert importlib.util.find_spec(name) is None, f'{name} is installed'
EOF

# 2. the GPU check's dry run with the real wheelhouse
mkdir -p "$OUT_DIR"
rc=0
log "check_gpu.sh --dry-run (log $OUT_DIR/dry_run.log)"
PWMM_PYTHON="$TARGET/bin/python" PWMM_GPU_SCRATCH="$SCRATCH" \
    bash "$ROOT/tools/env/check_gpu.sh" --dry-run "$WHEELHOUSE" \
    "$OUT_DIR/dry_run" > "$OUT_DIR/dry_run.log" 2>&1 || rc=$?
sed -n '/==== summary/,$p' "$OUT_DIR/dry_run.log"
[ $rc = 0 ] || log "the dry run failed (exit $rc)"

# 3. the CPU tests on Python 3.12 + torch 2.11 + the wheelhouse
log "pytest ${PYTEST_ARGS[*]} (log $OUT_DIR/pytest.log)"
trc=0
(cd "$ROOT" && PYTHONPATH="$ROOT" "$SCRATCH/venv/bin/python" -m pytest \
    -p no:cacheprovider -q "${PYTEST_ARGS[@]}") > "$OUT_DIR/pytest.log" \
    2>&1 || trc=$?
tail -n 3 "$OUT_DIR/pytest.log"
[ $trc = 0 ] || log "the tests failed (exit $trc)"
[ $rc = 0 ] && [ $trc = 0 ]
