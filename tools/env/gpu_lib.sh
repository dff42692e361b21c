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
#   PWMM_PYTHON312   python3.12 (pyenv's works)

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

# venv312 DIR: a Python 3.12 venv in DIR, created with PWMM_PYTHON312
# unless DIR already holds one; dies if DIR's python is not 3.12
venv312() {
    local dir="$1" py312="${PWMM_PYTHON312:-python3.12}"
    if [ ! -x "$dir/bin/python" ]; then
        command -v "$py312" >/dev/null 2>&1 || [ -x "$py312" ] \
            || die "no $py312: install Python 3.12 or set PWMM_PYTHON312"
        "$py312" -m venv "$dir" || die "could not create $dir"
    fi
    "$dir/bin/python" -c \
        'import sys; assert sys.version_info[:2] == (3, 12), sys.version' \
        || die "$dir/bin/python is not Python 3.12"
}
