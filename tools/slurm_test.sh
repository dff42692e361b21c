#!/usr/bin/env bash
# Testing on a Slurm cluster, one task per GPU.
#
#   bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [args...]
#
# Environment variables (defaults): GPUS (8), GPUS_PER_NODE (8),
#   CPUS_PER_TASK (5), SRUN_ARGS (""), PYTHON (see find_python.sh: the
#   active environment, else the project's .venv).

set -x

if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args...]" >&2
    exit 2
fi

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
# shellcheck source=find_python.sh
source "$(dirname "$0")/env/find_python.sh"
TOOLS_DIR="$(cd "$(dirname "$0")" && pwd)"

# SRUN_ARGS is split into words on purpose.
PYTHONPATH="$TOOLS_DIR/..":$PYTHONPATH \
srun -p "${PARTITION}" \
    --job-name="${JOB_NAME}" \
    --gres=gpu:"${GPUS_PER_NODE}" \
    --ntasks="${GPUS}" \
    --ntasks-per-node="${GPUS_PER_NODE}" \
    --cpus-per-task="${CPUS_PER_TASK}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$PYTHON" -u "$TOOLS_DIR/test.py" "${CONFIG}" "${CHECKPOINT}" \
    --launcher=slurm "${@:5}"
