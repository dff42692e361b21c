# Sourced by the launch scripts (dist_*.sh, slurm_*.sh): sets PYTHON, the
# interpreter that runs the tools, so the README's commands work from a
# fresh shell. In order:
#   1. $PYTHON, when set;
#   2. `python` of an active virtual or conda environment (the plugin used
#      from an existing mmpose install);
#   3. the project's own .venv (made by `make demo`, `make test` or
#      tools/env/setup_env.sh), when it exists;
#   4. `python`, else `python3`, on PATH.
_pwmm_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
    if [ -n "${VIRTUAL_ENV:-}${CONDA_PREFIX:-}" ] && \
            command -v python >/dev/null 2>&1; then
        PYTHON="$(command -v python)"
    elif [ -x "$_pwmm_root/.venv/bin/python" ]; then
        PYTHON="$_pwmm_root/.venv/bin/python"
    else
        PYTHON="$(command -v python || command -v python3)"
    fi
fi
unset _pwmm_root
