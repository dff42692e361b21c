#!/usr/bin/env bash
# The one recipe that builds an mmcv wheel with compiled ops from its source
# distribution. tools/env/setup_env.sh (CPU set-up) and the GPU wheelhouse
# builder both call it.
#
#   bash tools/env/build_mmcv.sh PYTHON OUT_DIR
#
# PYTHON is the interpreter of the environment to build against (it must
# have torch, setuptools with pkg_resources, wheel and ninja). The wheel is
# written to OUT_DIR only once it is complete, so an interrupted build
# never leaves a partial wheel there.
#
# Steps: download the sdist (or copy PWMM_MMCV_SDIST) -> unpack -> patch ->
# `pip wheel --no-build-isolation` -> strip debug symbols from the compiled
# libraries -> move into OUT_DIR.
#
# Environment (defaults):
#   MMCV_VERSION     2.1.0
#   PWMM_MMCV_SDIST  a local mmcv-$MMCV_VERSION.tar.gz to build instead of
#                    downloading it from the package index (offline builds,
#                    and the set-up test, which builds a tiny stand-in)
#   MAX_JOBS         $(nproc): parallel compile jobs (ninja)
#   MMCV_WITH_OPS    1
#   FORCE_CUDA, TORCH_CUDA_ARCH_LIST, CUDA_HOME: passed to mmcv's setup.py
#                    unchanged (a CUDA build; see tools/env/)
#   PWMM_STRIP       1: strip debug symbols (82 MB -> 2 MB for the CPU ops)
#   PWMM_MMCV_WORK_DIR  unset: build in a temporary folder, removed at the
#                    end. Set: build in this folder and keep it, so that a
#                    build that failed or was interrupted resumes where it
#                    stopped (the unpacked, patched source and ninja's
#                    objects are reused; patch scripts must then be
#                    idempotent and leave patched files untouched)
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 PYTHON OUT_DIR" >&2
    exit 2
fi
PY="$1"
OUT_DIR="$(realpath -m -- "$2")"
MMCV_VERSION="${MMCV_VERSION:-2.1.0}"
PIP=("$PY" -m pip --disable-pip-version-check)

if [ -n "${PWMM_MMCV_WORK_DIR:-}" ]; then
    BUILD="$(realpath -m -- "$PWMM_MMCV_WORK_DIR")"
    mkdir -p "$BUILD"
else
    BUILD="$(mktemp -d "${TMPDIR:-/tmp}/pwmm-mmcv-build.XXXXXX")"
    trap 'rm -rf "$BUILD"' EXIT
fi

log() { printf '[build_mmcv %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# 1. the source distribution
SDIST="$BUILD/mmcv-$MMCV_VERSION.tar.gz"
SRC="$BUILD/mmcv-$MMCV_VERSION"
if [ -n "${PWMM_MMCV_WORK_DIR:-}" ] && [ -f "$SRC/setup.py" ]; then
    log "resuming the build in $SRC"
elif [ -n "${PWMM_MMCV_SDIST:-}" ]; then
    if [ ! -f "$PWMM_MMCV_SDIST" ]; then
        echo "PWMM_MMCV_SDIST=$PWMM_MMCV_SDIST: no such file" >&2
        exit 1
    fi
    log "using the local source distribution $PWMM_MMCV_SDIST"
    cp -- "$PWMM_MMCV_SDIST" "$SDIST"
else
    log "downloading the mmcv $MMCV_VERSION source distribution"
    "${PIP[@]}" download -q --no-deps --no-binary :all: \
        --no-build-isolation "mmcv==$MMCV_VERSION" -d "$BUILD/download"
    mv "$BUILD"/download/mmcv-"$MMCV_VERSION".tar.gz "$SDIST"
fi

# 2. unpack
if [ ! -f "$SRC/setup.py" ]; then
    tar -xzf "$SDIST" -C "$BUILD"
fi
if [ ! -f "$SRC/setup.py" ]; then
    echo "$SDIST: no mmcv-$MMCV_VERSION/setup.py inside" >&2
    exit 1
fi

# 3. patches, each with its reason
# torch >= 2.10 headers need C++20; mmcv 2.1.0 hard-codes C++14/17.
if grep -q -e '-std=c++1[47]' "$SRC/setup.py"; then
    sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' \
        "$SRC/setup.py"
fi
# Further patches (e.g. for a CUDA toolkit) are shell scripts in
# PWMM_MMCV_PATCHES (colon-separated), run in the source folder.
IFS=':' read -r -a EXTRA_PATCHES <<< "${PWMM_MMCV_PATCHES:-}"
for patch in "${EXTRA_PATCHES[@]}"; do
    [ -n "$patch" ] || continue
    log "applying $patch"
    (cd "$SRC" && bash "$patch")
done

# 4. build (ninja compiles MAX_JOBS files at once)
log "building the wheel (MAX_JOBS=${MAX_JOBS:-$(nproc)})"
rm -rf "$BUILD/dist" "$BUILD/unpacked"
if [ -n "${PWMM_MMCV_WORK_DIR:-}" ]; then
    # setup.py itself: after a failed or interrupted build pip runs
    # `setup.py clean`, which deletes the compiled objects to resume from
    BUILD_WHEEL=("$PY" setup.py -q bdist_wheel -d "$BUILD/dist")
else
    BUILD_WHEEL=("${PIP[@]}" wheel --no-build-isolation --no-deps \
        -w "$BUILD/dist" .)
fi
(cd "$SRC" && MMCV_WITH_OPS="${MMCV_WITH_OPS:-1}" \
    MAX_JOBS="${MAX_JOBS:-$(nproc)}" "${BUILD_WHEEL[@]}")
WHEELS=("$BUILD"/dist/mmcv-*.whl)
if [ ${#WHEELS[@]} -ne 1 ] || [ ! -f "${WHEELS[0]}" ]; then
    echo "the build produced no single mmcv wheel in $BUILD/dist" >&2
    exit 1
fi
WHEEL="${WHEELS[0]}"

# 5. strip debug symbols from the compiled libraries (the wheel's RECORD
# is rewritten by `wheel pack`)
if [ "${PWMM_STRIP:-1}" = 1 ] && command -v strip >/dev/null 2>&1; then
    "$PY" -m wheel unpack -d "$BUILD/unpacked" "$WHEEL" >/dev/null
    find "$BUILD/unpacked" -name '*.so' -exec strip --strip-debug {} +
    rm -f "$WHEEL"
    "$PY" -m wheel pack -d "$BUILD/dist" "$BUILD"/unpacked/mmcv-* >/dev/null
    WHEEL="$(ls "$BUILD"/dist/mmcv-*.whl)"
fi

# 6. into OUT_DIR, atomically
mkdir -p "$OUT_DIR"
cp -- "$WHEEL" "$OUT_DIR/.$(basename "$WHEEL").partial"
mv -- "$OUT_DIR/.$(basename "$WHEEL").partial" "$OUT_DIR/$(basename "$WHEEL")"
log "wrote $OUT_DIR/$(basename "$WHEEL") ($(du -h "$WHEEL" | cut -f1))"
