#!/usr/bin/env bash
# Builds the offline wheelhouse for a GPU machine, on any Linux x86_64
# machine with internet access (no GPU needed).
#
#   bash tools/env/gpu_wheelhouse.sh [WHEELHOUSE]
#
# Target: Python 3.12, torch 2.11.0+cu130 and nvcc 13.0 preinstalled, a
# Hopper GPU (sm_90), no network, no OpenMMLab packages. The wheelhouse
# holds cp312 wheels for what such a machine lacks: mmcv 2.1.0 with its
# CUDA ops (built here, through the project's one recipe
# tools/env/build_mmcv.sh), mmengine, mmdet, mmpose, xtcocotools (built for
# numpy 2), chumpy, their pure-Python dependencies, setuptools < 81 and
# numpy < 2.4 (see requirements/runtime.txt). tools/env/check_gpu.sh
# installs it offline and checks the GPU path.
#
# How the CUDA build works without a CUDA toolkit: a build venv (Python
# 3.12) gets torch 2.11.0 from PyPI, a CUDA 13.0 build that pulls the CUDA
# 13 runtime and library headers (nvidia/cu13/include). The compiler comes
# from PyPI too: nvidia-cuda-nvcc (nvcc, ptxas), nvidia-nvvm (cicc),
# nvidia-cuda-crt (crt headers), nvidia-cuda-cccl (thrust/cub/libcu++).
# They are merged into one CUDA_HOME folder. mmcv's CUDA sources are then
# compiled for TORCH_CUDA_ARCH_LIST (9.0) with FORCE_CUDA=1. Source patches
# for a toolkit go in tools/env/gpu_patches/*.sh (run in the unpacked sdist
# through PWMM_MMCV_PATCHES; they must be idempotent). None is needed for
# CUDA 13.0 / torch 2.11: all 58 CUDA sources of mmcv 2.1.0 compile for
# sm_90 with nvcc 13.0.88 and -std=c++20 (the recipe's own patch) with
# deprecation warnings only (Tensor.type(), longlong4/double4,
# cudaFuncSetSharedMemConfig).
#
# Cached outside the repository, keyed by versions:
#   $PWMM_CACHE_DIR/wheelhouse/gpu-mmcv2.1.0-torch2.11.0-cu130-py312-sm90/
#   $PWMM_CACHE_DIR/gpu-build/  (build venv, CUDA home, mmcv build folder)
# A second run reuses what is there: a finished mmcv wheel is not rebuilt,
# and an interrupted mmcv build resumes (PWMM_MMCV_WORK_DIR).
#
# Environment (defaults):
#   PWMM_CACHE_DIR        ~/.cache/posewarper_mm
#   PWMM_PYTHON312        python3.12, else pyenv's newest 3.12
#   TORCH_CUDA_ARCH_LIST  9.0 (Hopper; the cache key follows it)
#   MAX_JOBS              $(nproc)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/gpu_lib.sh"
check_usage 0 1 "$@"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$(cache_dir)"

# versions (the cache key is made of them)
MMCV_VERSION=2.1.0
TORCH_VERSION="$PWMM_TORCH_VERSION"  # tools/env/gpu_lib.sh
CUDA_TAG=cu130
CUDA_COMPILER_VERSION=13.0.88    # nvidia-cuda-nvcc, -nvvm, -cuda-crt
CCCL_VERSION=13.0.85             # nvidia-cuda-cccl
export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}"
SM_TAG="sm$(echo "$TORCH_CUDA_ARCH_LIST" | tr -cd '0-9')"
# What the target lacks, pinned. Determined by an offline install into a
# Python 3.12 + torch 2.11 environment followed by importing the project
# and running its tests (tools/env/check_wheelhouse_cpu.sh).
PURE_WHEELS=(
    mmengine==0.10.7 mmdet==3.3.0 mmpose==1.3.2
    json_tricks==3.17.3 munkres==1.1.4 addict==2.4.0 yapf==0.43.0
    platformdirs==4.14.8 termcolor==3.3.0 terminaltables==3.1.10
    setuptools==80.10.2
)
BINARY_WHEELS=(
    numpy==2.3.5 shapely==2.2.0 pycocotools==2.0.11
)
XTCOCOTOOLS_VERSION=1.14.3
CHUMPY_VERSION=0.70

KEY="gpu-mmcv$MMCV_VERSION-torch$TORCH_VERSION-$CUDA_TAG-py312-$SM_TAG"
WHEELHOUSE="$(realpath -m -- "${1:-$CACHE/wheelhouse/$KEY}")"
WORK="$CACHE/gpu-build"
VENV="$WORK/venv-py312-torch$TORCH_VERSION"
CUDA_HOME_DIR="$WORK/cuda-13.0"
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

T0=$SECONDS
step() { log "== $* (+$((SECONDS - T0)) s)"; }

mkdir -p "$WORK" "$WHEELHOUSE"
log "wheelhouse: $WHEELHOUSE"
log "build folder: $WORK"

# 1. the build venv: Python 3.12 + torch 2.11.0 (CUDA 13.0 build) + tools
step "1/5 build venv (Python 3.12, torch $TORCH_VERSION)"
venv312 "$VENV"
# setuptools < 70: mmcv's setup.py imports pkg_resources; cython builds
# xtcocotools; opencv-python-headless present at build time makes mmcv's
# wheel require the headless OpenCV (the target has it) rather than
# opencv-python.
"${PIP[@]}" install -q "torch==$TORCH_VERSION" "setuptools<70" wheel ninja \
    cython "numpy==2.3.5" opencv-python-headless \
    || die "pip could not install the build tools into $VENV"
TV="$("$PY" -c 'import torch; print(torch.__version__, torch.version.cuda)')"
log "torch in the build venv: $TV"
case "$TV" in
    "$TORCH_VERSION"*" 13.0") ;;
    *) die "expected torch $TORCH_VERSION with CUDA 13.0, got: $TV" ;;
esac

# 2. a CUDA 13.0 home from PyPI packages (no system toolkit needed)
step "2/5 CUDA 13.0 home in $CUDA_HOME_DIR"
if [ ! -x "$CUDA_HOME_DIR/bin/nvcc" ]; then
    rm -rf "$CUDA_HOME_DIR" "$WORK/cuda-pkgs"
    "${PIP[@]}" install -q --no-deps --target "$WORK/cuda-pkgs" \
        "nvidia-cuda-nvcc==$CUDA_COMPILER_VERSION" \
        "nvidia-nvvm==$CUDA_COMPILER_VERSION" \
        "nvidia-cuda-crt==$CUDA_COMPILER_VERSION" \
        "nvidia-cuda-cccl==$CCCL_VERSION" \
        || die "pip could not fetch the CUDA compiler packages"
    SITE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    mkdir -p "$CUDA_HOME_DIR.partial"
    # the compiler packages (bin/nvcc, nvvm/bin/cicc, crt and cccl headers)
    cp -a "$WORK"/cuda-pkgs/nvidia/cu13/. "$CUDA_HOME_DIR.partial/"
    # runtime and library headers and libraries, as torch's wheel has them
    cp -a "$SITE"/nvidia/cu13/include/. "$CUDA_HOME_DIR.partial/include/"
    cp -a "$SITE"/nvidia/cu13/lib/. "$CUDA_HOME_DIR.partial/lib/"
    # the linker wants unversioned names; torch's builder looks in lib64
    (cd "$CUDA_HOME_DIR.partial/lib" && for f in lib*.so.[0-9]*; do
        base="${f%%.so.*}.so"
        [ -e "$base" ] || ln -s "$f" "$base"
    done)
    ln -s lib "$CUDA_HOME_DIR.partial/lib64"
    mv "$CUDA_HOME_DIR.partial" "$CUDA_HOME_DIR"
fi
export CUDA_HOME="$CUDA_HOME_DIR"
export PATH="$CUDA_HOME/bin:$PATH"
NVCC_VERSION="$("$CUDA_HOME/bin/nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
[ "$NVCC_VERSION" = 13.0 ] || die "nvcc in $CUDA_HOME is '$NVCC_VERSION', not 13.0"
log "nvcc $NVCC_VERSION at $CUDA_HOME/bin/nvcc"

# 3. mmcv with CUDA ops, through the project's one recipe
step "3/5 mmcv $MMCV_VERSION with CUDA ops (sm ${TORCH_CUDA_ARCH_LIST})"
if compgen -G "$WHEELHOUSE/mmcv-$MMCV_VERSION-cp312-*.whl" >/dev/null; then
    log "cached: $(ls "$WHEELHOUSE"/mmcv-"$MMCV_VERSION"-cp312-*.whl)"
else
    PATCHES=""
    for p in "$ROOT"/tools/env/gpu_patches/*.sh; do
        [ -f "$p" ] && PATCHES="${PATCHES:+$PATCHES:}$p"
    done
    t=$SECONDS
    FORCE_CUDA=1 MMCV_VERSION="$MMCV_VERSION" \
        PWMM_MMCV_PATCHES="$PATCHES" \
        PWMM_MMCV_WORK_DIR="$WORK/mmcv-build" \
        bash "$ROOT/tools/env/build_mmcv.sh" "$PY" "$WHEELHOUSE" \
        || die "the mmcv build failed (it resumes where it stopped when" \
               "run again; build folder $WORK/mmcv-build)"
    log "mmcv built in $((SECONDS - t)) s"
    rm -rf "$WORK/mmcv-build"
fi

# 4. source builds for numpy 2 / Python 3.12
step "4/5 xtcocotools $XTCOCOTOOLS_VERSION (numpy 2) and chumpy"
if ! compgen -G "$WHEELHOUSE/xtcocotools-$XTCOCOTOOLS_VERSION-*.whl" \
        >/dev/null; then
    # the PyPI wheels were built against numpy 1.x
    "${PIP[@]}" wheel -q --no-deps --no-build-isolation \
        --no-binary xtcocotools -w "$WHEELHOUSE" \
        "xtcocotools==$XTCOCOTOOLS_VERSION" \
        || die "xtcocotools did not build"
fi
if ! compgen -G "$WHEELHOUSE/chumpy-$CHUMPY_VERSION-*.whl" >/dev/null; then
    # sdist only; its setup.py imports pip, hence no build isolation
    "${PIP[@]}" wheel -q --no-deps --no-build-isolation -w "$WHEELHOUSE" \
        "chumpy==$CHUMPY_VERSION" || die "chumpy did not build"
fi

# 5. the other wheels, for CPython 3.12 on manylinux x86_64
step "5/5 the other wheels"
"${PIP[@]}" download -q --no-deps -d "$WHEELHOUSE" "${PURE_WHEELS[@]}" \
    || die "pip could not download ${PURE_WHEELS[*]}"
"${PIP[@]}" download -q --no-deps --only-binary=:all: \
    --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$WHEELHOUSE" "${BINARY_WHEELS[@]}" \
    || die "pip could not download ${BINARY_WHEELS[*]}"
# only wheels: pip download falls back to an sdist for pure packages
# that publish no wheel; build those here
for sd in "$WHEELHOUSE"/*.tar.gz "$WHEELHOUSE"/*.zip; do
    [ -f "$sd" ] || continue
    "${PIP[@]}" wheel -q --no-deps --no-build-isolation -w "$WHEELHOUSE" \
        "$sd" || die "could not build a wheel from $sd"
    rm -f -- "$sd"
done

# one version of each package (two stop an offline install)
DUP="$(ls "$WHEELHOUSE"/*.whl | xargs -n1 basename | cut -d- -f1 \
    | tr 'A-Z_.' 'a-z--' | sort | uniq -d)"
[ -z "$DUP" ] || die "several versions in $WHEELHOUSE of: $DUP"

step "done"
ls -l "$WHEELHOUSE"
log "wheelhouse $WHEELHOUSE: $(ls "$WHEELHOUSE"/*.whl | wc -l) wheels," \
    "$(du -sh "$WHEELHOUSE" | cut -f1)"
# what goes to the GPU machine with it: the repository's tracked files
# (not the local venv, data or work dirs)
log "repository (tracked files): $(cd "$ROOT" && git ls-files -z \
    | du -ch --files0-from=- | tail -n 1 | cut -f1)"
log "total $((SECONDS - T0)) s"
