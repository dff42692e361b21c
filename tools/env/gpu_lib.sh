# What the scripts of tools/env/ share; sourced, not run:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/gpu_lib.sh"
#
# the usage text (the calling script's header comment) and the check of
# its arguments, log and die lines named after the script, the cache
# folder and the Python 3.12 venvs of build_wheelhouse.sh (build venv)
# and check_wheelhouse_cpu.sh (stand-in for the GPU image).
#
# Environment (defaults):
#   PWMM_CACHE_DIR   ~/.cache/posewarper_mm
#   PWMM_PYTHON312   python3.12, else pyenv's newest 3.12

# the GPU image's torch: the build venv and the stand-in both have it
PWMM_TORCH_VERSION=2.11.0

# cache_dir: print the cache folder (wheelhouses; gpu-build/ holds the
# build venv, the stand-in, the CUDA home and the mmcv build folder)
cache_dir() {
    realpath -m -- "${PWMM_CACHE_DIR:-$HOME/.cache/posewarper_mm}"
}

# usage: print the calling script's header comment (line 2 to `set -euo`)
usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

# check_usage MIN MAX ARGS...: `-h`/`--help` prints the usage and exits
# 0; fewer than MIN or more than MAX (empty: no limit) arguments print it
# on stderr and exit 2
check_usage() {
    local min="$1" max="$2"
    shift 2
    case "${1:-}" in -h|--help) usage; exit 0 ;; esac
    if [ $# -lt "$min" ] || { [ -n "$max" ] && [ $# -gt "$max" ]; }; then
        usage >&2
        exit 2
    fi
}

# log MESSAGE...: one time-stamped line, e.g. `[build_wheelhouse 12:00:00]`
log() {
    printf '[%s %s] %s\n' "$(basename "$0" .sh)" "$(date +%H:%M:%S)" "$*"
}

# die MESSAGE...: one error line on stderr, then exit 1
die() {
    printf '[%s] ERROR: %s\n' "$(basename "$0" .sh)" "$*" >&2
    exit 1
}

# is_python312 PY: whether PY runs and is Python 3.12
is_python312() {
    "$1" -c 'import sys; assert sys.version_info[:2] == (3, 12)' \
        >/dev/null 2>&1
}

# python312: prints a Python 3.12 that runs: PWMM_PYTHON312, else
# python3.12 on PATH, else pyenv's newest 3.12 (its shim alone fails when
# 3.12 is installed but not selected); dies when there is none
python312() {
    local py
    for py in "${PWMM_PYTHON312:-}" python3.12 \
            $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 \
              2>/dev/null | sort -V -r); do
        [ -n "$py" ] || continue
        if is_python312 "$py"; then
            command -v "$py"
            return 0
        fi
        [ -n "${PWMM_PYTHON312:-}" ] && [ "$py" = "$PWMM_PYTHON312" ] && \
            die "PWMM_PYTHON312=$py is not a Python 3.12 that runs"
    done
    die "no Python 3.12: install one (pyenv install 3.12) or set" \
        "PWMM_PYTHON312"
}

# venv312 DIR: a Python 3.12 venv in DIR (see python312) unless DIR already
# holds one; dies if DIR's python is not 3.12
venv312() {
    local dir="$1" py312
    if [ ! -x "$dir/bin/python" ]; then
        py312="$(python312)" || exit 1
        "$py312" -m venv "$dir" || die "could not create $dir with $py312"
    fi
    is_python312 "$dir/bin/python" \
        || die "$dir/bin/python is not Python 3.12"
}
