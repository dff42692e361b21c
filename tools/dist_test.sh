#!/usr/bin/env bash
# Data-parallel testing on one or more machines with torchrun.
#
#   bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py arguments...]
#
# NPROC processes per machine: one per GPU, or CPU processes (gloo backend)
# on a machine without CUDA. Environment variables (defaults):
#   NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1), PORT (29500),
#   PYTHON (see find_python.sh: the active environment, else the
#   project's .venv).

set -e

if [ $# -lt 3 ]; then
    echo "usage: $0 CONFIG CHECKPOINT NPROC [test.py arguments...]" >&2
    exit 2
fi

CONFIG=$1
CHECKPOINT=$2
GPUS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
# shellcheck source=find_python.sh
source "$(dirname "$0")/env/find_python.sh"
# shellcheck source=supervise.sh
source "$(dirname "$0")/env/supervise.sh"
TOOLS_DIR="$(cd "$(dirname "$0")" && pwd)"

export PYTHONPATH="$TOOLS_DIR/..":$PYTHONPATH
supervise "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$TOOLS_DIR/test.py" \
    "$CONFIG" \
    "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
