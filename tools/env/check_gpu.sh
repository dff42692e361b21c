#!/usr/bin/env bash
# Proves a GPU install in minutes: offline install from a wheelhouse, CUDA
# op tests, the benchmark and a short real training run, with a summary.
#
#   bash tools/env/check_gpu.sh [--dry-run] WHEELHOUSE OUT_DIR
#
# WHEELHOUSE  folder of wheels made by tools/env/gpu_wheelhouse.sh
# OUT_DIR     logs, benchmark tables, metrics and summary.md go here
#
# Steps, the most valuable first (each with its own time limit; a failure
# is reported and the script goes on with the steps that do not depend on
# it; OUT_DIR/summary.md is rewritten after every step, so a run cut short
# still leaves every finished step's numbers):
#   install      venv over the preinstalled torch (--system-site-packages,
#                plus the site-packages of the interpreter's own venv),
#                `pip install --no-index --no-deps` of every wheel
#   versions     versions, GPU name, mmcv's compiled ops and CUDA version
#   cuda-tests   mmcv DeformConv2d CUDA vs CPU vs torchvision (outputs and
#                gradients), the neck vs mmpose's PoseWarperNeck on the GPU
#   bench-*      tools/analysis/benchmark_posewarper.py at W48 384x288, one
#                run (and one json) per batch and mode: batch 1 fp32 with
#                the deform backends and the training steps, then batch 32
#                bf16 + channels_last and fp32, then batch 1 bf16 + channels
#                last; the summary's GPU table gives ms and crops per second,
#                TFLOP/s (a multiply-add is 2 FLOPs) and % of the card's
#                dense bf16 peak (PWMM_PEAK_TFLOPS overrides the table)
#   data         generated videos (the quickstart's settings, 24 videos)
#   train-stage1 the quickstart configs through tools/dist_train.sh CFG 1
#   test-stage1  (NCCL, --amp), a few hundred iterations each, then
#   train-stage2 tools/test.py on the checkpoint; each training step notes
#   test-stage2  its end: seconds from the last checkpoint to the exit,
#                and the logged teardown steps
#   fast-exit    stage 1 for 20 iterations with PWMM_FAST_EXIT=1 (skip the
#                interpreter's finalisation after the teardown): the same
#                end-of-run seconds, to compare
#   lever-*      the batch-32 bf16 run with cuDNN's benchmark mode; the
#                neck per deform-conv backend in bf16 at batch 32 (mmcv's
#                kernel runs in fp32, the plain-PyTorch one in bf16); (a)
#                and (c) with torch.compile'd backbones
# The whole run is kept under PWMM_CHECK_BUDGET_S (default 540 s): a step
# that no longer fits is reported as skipped-no-time.
#
# --dry-run runs the same steps on CPU with tiny sizes (quick benchmark,
# a few iterations, no --amp, gloo instead of NCCL); the CUDA kernel
# tests are collected and skip themselves there. The test suite runs it
# (tests/test_tools/test_env/test_check_gpu.py).
#
# Environment (defaults):
#   PWMM_PYTHON          python3: the interpreter that has torch
#   PWMM_GPU_SCRATCH     ${TMPDIR:-/tmp}/pwmm-gpu-check: venv, data, work
#   PWMM_CHECK_BUDGET_S  540 (GPU) / 600 (dry run)
#   PWMM_STAGE1_ITERS, PWMM_STAGE2_ITERS  150, 100 (dry run: 3, 2)
#   PWMM_NUM_WORKERS     8 data-loading workers (dry run: 0)
#   PWMM_PEAK_TFLOPS     the card's dense bf16 peak (default: by its name)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/gpu_lib.sh"

DRY_RUN=0
POS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY_RUN=1 ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
        *) POS+=("$1") ;;
    esac
    shift
done
if [ ${#POS[@]} -ne 2 ]; then
    usage >&2
    exit 2
fi
WHEELHOUSE="$(realpath -m -- "${POS[0]}")"
OUT_DIR="$(realpath -m -- "${POS[1]}")"
[ -d "$WHEELHOUSE" ] || { echo "no wheelhouse folder $WHEELHOUSE" >&2; exit 2; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PARENT_PY="${PWMM_PYTHON:-python3}"
command -v "$PARENT_PY" >/dev/null 2>&1 \
    || { echo "no interpreter $PARENT_PY (set PWMM_PYTHON)" >&2; exit 2; }
SCRATCH="$(realpath -m -- "${PWMM_GPU_SCRATCH:-${TMPDIR:-/tmp}/pwmm-gpu-check}")"
VENV="$SCRATCH/venv"
VPY="$VENV/bin/python"
WORK="$SCRATCH/work"
DATA="$SCRATCH/data"
STAGE1_CFG=configs/quickstart/posewarper-stage1_hrnet-tiny_synthetic.py
STAGE2_CFG=configs/quickstart/posewarper_hrnet-tiny_synthetic.py

if [ "$DRY_RUN" = 1 ]; then
    BUDGET="${PWMM_CHECK_BUDGET_S:-600}"
    ITERS1="${PWMM_STAGE1_ITERS:-3}"
    ITERS2="${PWMM_STAGE2_ITERS:-2}"
    WORKERS="${PWMM_NUM_WORKERS:-0}"
    DEVICE=cpu
    AMP=()
    BENCH_ARGS=(--quick --device cpu --no-memory --warmup 0 --repeats 1)
    BIG=2
    BF16=bf16-cl
else
    BUDGET="${PWMM_CHECK_BUDGET_S:-540}"
    ITERS1="${PWMM_STAGE1_ITERS:-150}"
    ITERS2="${PWMM_STAGE2_ITERS:-100}"
    WORKERS="${PWMM_NUM_WORKERS:-8}"
    DEVICE=cuda
    AMP=(--amp)
    BENCH_ARGS=(--device cuda --input-size 384 288)
    BIG=32
    BF16=bf16-cl
fi
export ROOT WHEELHOUSE OUT_DIR PARENT_PY SCRATCH VENV VPY WORK DATA \
    STAGE1_CFG STAGE2_CFG DRY_RUN ITERS1 ITERS2 WORKERS DEVICE
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
mkdir -p "$OUT_DIR" "$SCRATCH"

T0=$SECONDS
STEPS=()
declare -A STATUS=() SECS=() NOTE=()
NUM=0

# write_summary: OUT_DIR/summary.md from the steps so far and every
# benchmark json (rewritten after each step)
write_summary() {
    {
        echo "# GPU check $( [ "$DRY_RUN" = 1 ] && echo '(dry run on CPU)' )"
        echo
        echo "- device: $(cat "$OUT_DIR/gpu_name.txt" 2>/dev/null || echo '?')"
        echo "- command: tools/env/check_gpu.sh $( [ "$DRY_RUN" = 1 ] \
            && echo '--dry-run ' )$WHEELHOUSE $OUT_DIR"
        echo "- elapsed: $((SECONDS - T0)) s (budget $BUDGET s)"
        echo
        echo "| step | status | seconds | note |"
        echo "| --- | --- | ---: | --- |"
        local s
        for s in "${STEPS[@]}"; do
            echo "| $s | ${STATUS[$s]:-running} | ${SECS[$s]} | ${NOTE[$s]} |"
        done
        "$PARENT_PY" "$ROOT/tools/env/check_gpu_table.py" "$OUT_DIR" 2>&1 \
            || true
    } > "$OUT_DIR/summary.md.tmp"
    mv "$OUT_DIR/summary.md.tmp" "$OUT_DIR/summary.md"
}

# run_step NAME LIMIT_S DEPENDS COMMAND...
#   DEPENDS: steps that must be ok (comma list or -). Output goes to
#   OUT_DIR/NN_NAME.log; a command may write a one-line note to
#   $STEP_NOTE.
run_step() {
    local name="$1" limit="$2" depends="$3"
    shift 3
    NUM=$((NUM + 1))
    local log
    log="$OUT_DIR/$(printf '%02d' "$NUM")_$name.log"
    STEPS+=("$name")
    SECS[$name]=0
    NOTE[$name]=""
    local dep
    if [ "$depends" != - ]; then
        for dep in ${depends//,/ }; do
            if [ "${STATUS[$dep]:-}" != ok ]; then
                STATUS[$name]=skipped-after-failure
                NOTE[$name]="needs $dep"
                printf '[check_gpu] %-13s skipped (needs %s)\n' "$name" "$dep"
                return 0
            fi
        done
    fi
    local left=$((BUDGET - (SECONDS - T0)))
    [ "$limit" -le "$left" ] || limit="$left"
    if [ "$limit" -lt 10 ]; then
        STATUS[$name]=skipped-no-time
        printf '[check_gpu] %-13s skipped (budget spent)\n' "$name"
        return 0
    fi
    printf '[check_gpu] %-13s running (limit %s s, log %s)\n' \
        "$name" "$limit" "$log"
    local t=$SECONDS rc=0
    STEP_NOTE="$SCRATCH/.note" && : > "$STEP_NOTE" && export STEP_NOTE
    timeout --kill-after=15 "$limit" "$@" > "$log" 2>&1 || rc=$?
    SECS[$name]=$((SECONDS - t))
    NOTE[$name]="$(head -c 300 "$STEP_NOTE" | tr '\n|' ' /')"
    case $rc in
        0) STATUS[$name]=ok ;;
        124|137) STATUS[$name]=TIMEOUT ;;
        *) STATUS[$name]="FAIL(rc=$rc)" ;;
    esac
    printf '[check_gpu] %-13s %s in %s s %s\n' "$name" "${STATUS[$name]}" \
        "${SECS[$name]}" "${NOTE[$name]}"
    if [ "${STATUS[$name]}" != ok ]; then
        echo "---- last lines of $log ----"
        tail -n 15 "$log" || true
        echo "----"
    fi
    write_summary
}

# ---- the steps (each runs in its own bash, under `timeout`) ----

step_install() {
    set -euo pipefail
    rm -rf "$VENV"
    "$PARENT_PY" -m venv --system-site-packages --without-pip "$VENV"
    # the GPU image's python3 lives in a venv itself: --system-site-packages
    # only reaches the base interpreter, so add the parent's site folders
    # after this venv's own (the wheelhouse's versions come first)
    local site
    site="$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    "$PARENT_PY" - "$site/_pwmm_parent_site.pth" <<'EOF'
import site
import sys
dirs = [p for p in site.getsitepackages() if p.endswith('-packages')]
with open(sys.argv[1], 'w') as f:
    f.write('import site; ' + '; '.join(
        f'site.addsitedir({d!r})' for d in dirs) + '\n')
print('parent site folders:', dirs)
EOF
    "$VPY" -m pip --version
    local wheels=("$WHEELHOUSE"/*.whl)
    [ -f "${wheels[0]}" ] || { echo "no wheels in $WHEELHOUSE"; exit 1; }
    "$VPY" -m pip install --no-index --no-deps --no-cache-dir --ignore-installed \
        --disable-pip-version-check -q "${wheels[@]}"
    "$VPY" -m pip list --path "$site" --format freeze
    # informational: mmengine and mmpose ask for opencv-python, which the
    # image's opencv-python-headless replaces
    "$VPY" -m pip check || true
    echo "${#wheels[@]} wheels installed" > "$STEP_NOTE"
}

step_versions() {
    set -euo pipefail
    command -v nvidia-smi >/dev/null && nvidia-smi || true
    "$VPY" - <<'EOF'
import os
import sys

import torch
import torchvision

print('python', sys.version.split()[0], sys.executable)
print('torch', torch.__version__, 'cuda', torch.version.cuda,
      'cudnn', torch.backends.cudnn.version(), 'from', torch.__file__)
print('torchvision', torchvision.__version__)
import numpy  # noqa: E402

print('numpy', numpy.__version__)
import mmcv  # noqa: E402
import mmcv._ext  # noqa: E402,F401
import mmdet  # noqa: E402
import mmdet.apis  # noqa: E402,F401  (pycocotools, shapely, ...)
import mmengine  # noqa: E402
import mmpose  # noqa: E402
from mmcv.ops import get_compiler_version, get_compiling_cuda_version  # noqa

import posewarper_mm  # noqa: E402

print('mmcv', mmcv.__version__, 'ops compiled with', get_compiler_version(),
      '/ CUDA', get_compiling_cuda_version())
print('mmengine', mmengine.__version__, 'mmdet', mmdet.__version__,
      'mmpose', mmpose.__version__, 'posewarper_mm', posewarper_mm.__file__)
cuda = torch.cuda.is_available()
name = torch.cuda.get_device_name(0) if cuda else 'no GPU'
print('GPU:', name)
note = (f'{name}; torch {torch.__version__}; mmcv {mmcv.__version__} '
        f'CUDA ops {get_compiling_cuda_version()}')
with open(os.environ['STEP_NOTE'], 'w') as f:
    f.write(note)
with open(os.path.join(os.environ['OUT_DIR'], 'gpu_name.txt'), 'w') as f:
    f.write(name + '\n')
if os.environ['DRY_RUN'] != '1':
    assert cuda, 'torch sees no GPU'
    assert get_compiling_cuda_version().startswith('13'), \
        'mmcv was not built with CUDA 13 ops'
EOF
}

step_cuda_tests() {
    set -euo pipefail
    cd "$ROOT"
    local summary
    "$VPY" -m pytest -p no:cacheprovider -rs -v \
        tests/test_models/test_necks/test_cuda_ops.py \
        "tests/test_models/test_necks/test_deform_conv_backends.py::test_cuda_mmcv_matches_torchvision" \
        | tee "$SCRATCH/pytest.out"
    summary="$(tail -n 1 "$SCRATCH/pytest.out" | tr -d '=')"
    echo "$summary" > "$STEP_NOTE"
    # on a GPU machine a skipped CUDA test is a failure (the dry run
    # collects and skips them: it checks this step's own commands)
    if [ "$DRY_RUN" != 1 ] && grep -q skipped <<< "$summary"; then
        echo "CUDA tests were skipped: $summary"
        exit 1
    fi
}

step_bench() {  # step_bench TAG BENCHMARK_ARGS...: bench_TAG.{json,md}
    set -euo pipefail
    local tag="$1"
    shift
    cd "$ROOT"
    local rc=0
    "$VPY" tools/analysis/benchmark_posewarper.py "$@" \
        --out-json "$OUT_DIR/bench_$tag.json" \
        --out-md "$OUT_DIR/bench_$tag.md" || rc=$?
    "$VPY" - "$OUT_DIR/bench_$tag.json" <<'EOF' > "$STEP_NOTE" || true
import json
import sys
data = json.load(open(sys.argv[1]))
cases = sum(len(r['cases']) for r in data['results'])
print(f"{','.join(r['mode'] for r in data['results'])}: {cases} cases, "
      f"exit code {data['exit_code']}")
EOF
    exit $rc
}

# `--cfg-options` of the quickstart, written by step_data: data paths,
# loaders and the schedule of stage N (one file per stage)
quickstart_options() {
    cat "$WORK/options_stage$1.txt"
}

step_data() {
    set -euo pipefail
    cd "$ROOT"
    rm -rf "$DATA" "$WORK"
    mkdir -p "$WORK"
    "$VPY" - <<'EOF'
import os

from tools.quickstart import synthetic
from tools.quickstart.pipeline import DATA_KW, data_options, schedule_options

dry = os.environ['DRY_RUN'] == '1'
kw = dict(DATA_KW)
if dry:  # the smallest data the two stages and the metric accept
    kw.update(num_videos=2, num_frames=6, videos_per_split=(1, 1),
              sparse_every=3, width=160, height=120, persons_per_video=1)
else:  # a few hundred iterations need a fifth of the quickstart's videos
    kw.update(num_videos=24, videos_per_split=(16, 8))
synthetic.generate_posetrack_dataset(os.environ['DATA'], **kw)
workers = int(os.environ['WORKERS'])
common = data_options(os.environ['DATA']) + [
    f'train_dataloader.num_workers={workers}',
    f'train_dataloader.persistent_workers={workers > 0}',
    f'val_dataloader.num_workers={workers}',
    f'test_dataloader.num_workers={workers}']
if dry:
    common += [f'{loader}.batch_size=2' for loader in
               ('train_dataloader', 'val_dataloader', 'test_dataloader')]
# stage 2 on mmcv's deformable-conv kernel (CUDA on the GPU), the op this
# check is about; the quickstart config itself picks the plain-PyTorch
# one, whose backward is the faster one on CPU
backend = {1: [], 2: ['model.neck.deform_backend=mmcv']}
for stage in (1, 2):
    iters = int(os.environ[f'ITERS{stage}'])
    with open(os.path.join(os.environ['WORK'], f'options_stage{stage}.txt'),
              'w') as f:
        f.write('\n'.join(common + backend[stage] + schedule_options(
            os.environ[f'STAGE{stage}_CFG'], iters)) + '\n')
with open(os.environ['STEP_NOTE'], 'w') as f:
    f.write(f"{kw['num_videos']} videos x {kw['num_frames']} frames")
EOF
}

step_train() {
    set -euo pipefail
    local stage="$1" cfg iters extra=() amp=()
    # bash exports no arrays: AMP travels as AMP_FLAGS
    [ -z "$AMP_FLAGS" ] || read -r -a amp <<< "$AMP_FLAGS"
    cd "$ROOT"
    if [ "$stage" = 1 ]; then
        cfg="$STAGE1_CFG"
        iters="$ITERS1"
    else
        cfg="$STAGE2_CFG"
        iters="$ITERS2"
        extra=("load_from=$WORK/stage1/iter_$ITERS1.pth")
    fi
    rm -rf "$WORK/stage$stage"
    local opts
    mapfile -t opts < <(quickstart_options "$stage")
    # each output line stamped with the seconds since the start, so that
    # the end of the run (last checkpoint -> exit) is timed step by step
    PYTHON="$VPY" PORT="$((29500 + RANDOM % 1000))" \
        bash tools/dist_train.sh "$cfg" 1 --work-dir "$WORK/stage$stage" \
        --no-validate "${amp[@]}" --cfg-options "${opts[@]}" "${extra[@]}" \
        2>&1 | stamp_lines "$WORK/stage$stage.stamped"
    [ "${PIPESTATUS[0]}" = 0 ]
    # what ran: AMP, the backend, the iterations, a finite loss
    "$VPY" - "$WORK/stage$stage" "$cfg" "$iters" <<'EOF'
import glob
import json
import math
import os
import os.path as osp
import sys

from mmengine.config import Config

sys.path.insert(0, os.path.join(os.environ['ROOT'], 'tools', 'env'))
from check_gpu_table import end_of_run  # noqa: E402

work_dir, cfg_path, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
cfg = Config.fromfile(osp.join(work_dir, osp.basename(cfg_path)),
                      import_custom_modules=False)
optim = cfg.optim_wrapper.get('type', 'OptimWrapper')
backend = cfg.env_cfg.dist_cfg.backend
scalars = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                    'scalars.json')))[-1]
rows = [json.loads(line) for line in open(scalars)]
losses = [r['loss'] for r in rows if 'loss' in r]
last = rows[-1]
assert osp.isfile(osp.join(work_dir, f'iter_{iters}.pth')), 'no checkpoint'
assert losses and all(math.isfinite(x) for x in losses), losses
if os.environ['DRY_RUN'] != '1':
    assert optim == 'AmpOptimWrapper', optim
    assert backend == 'nccl', backend
note = (f'{iters} iters, {optim}, {backend}, loss {losses[0]:.4g} -> '
        f'{losses[-1]:.4g}, {last.get("time", float("nan")):.3f} s/iter; '
        + end_of_run(work_dir + '.stamped'))
print(note)
with open(os.environ['STEP_NOTE'], 'w') as f:
    f.write(note)
EOF
}

# stamp_lines FILE: copy stdin to stdout and to FILE, each line of FILE
# prefixed with the seconds since the call (to time the end of a run)
stamp_lines() {
    "$VPY" -u -c '
import sys, time
start = time.time()
with open(sys.argv[1], "w") as out:
    for line in sys.stdin:
        sys.stdout.write(line)
        out.write(f"{time.time() - start:8.2f} {line}")
        out.flush()
    out.write(f"{time.time() - start:8.2f} <exit>\n")
' "$1"
}

step_fast_exit() {
    set -euo pipefail
    cd "$ROOT"
    local opts
    mapfile -t opts < <(quickstart_options 1)
    rm -rf "$WORK/fast_exit"
    PWMM_FAST_EXIT=1 PYTHON="$VPY" PORT="$((29500 + RANDOM % 1000))" \
        bash tools/dist_train.sh "$STAGE1_CFG" 1 --work-dir \
        "$WORK/fast_exit" --no-validate --cfg-options "${opts[@]}" \
        train_cfg.max_iters=20 default_hooks.checkpoint.interval=20 \
        param_scheduler.0.end=20 2>&1 | stamp_lines "$WORK/fast_exit.stamped"
    [ "${PIPESTATUS[0]}" = 0 ]
    "$VPY" - "$WORK/fast_exit.stamped" <<'EOF' > "$STEP_NOTE"
import os
import sys
sys.path.insert(0, os.path.join(os.environ['ROOT'], 'tools', 'env'))
from check_gpu_table import end_of_run  # noqa: E402
print('with PWMM_FAST_EXIT=1: ' + end_of_run(sys.argv[1]))
EOF
}

step_test() {
    set -euo pipefail
    local stage="$1" cfg iters
    cd "$ROOT"
    if [ "$stage" = 1 ]; then cfg="$STAGE1_CFG"; iters="$ITERS1"
    else cfg="$STAGE2_CFG"; iters="$ITERS2"; fi
    local opts
    mapfile -t opts < <(quickstart_options "$stage")
    "$VPY" tools/test.py "$cfg" "$WORK/stage$stage/iter_$iters.pth" \
        --work-dir "$WORK/test$stage" \
        --out "$OUT_DIR/metrics_stage$stage.json" --cfg-options "${opts[@]}"
    "$VPY" - "$OUT_DIR/metrics_stage$stage.json" <<'EOF' > "$STEP_NOTE"
import json
import sys
metrics = json.load(open(sys.argv[1]))
keys = [k for k in metrics if k.endswith('/AP')] or sorted(metrics)[:2]
print(', '.join(f'{k} {metrics[k]:.2f}' if isinstance(metrics[k], float)
                else f'{k} {metrics[k]}' for k in keys))
EOF
}

export -f step_install step_versions step_cuda_tests step_bench \
    quickstart_options step_data step_train step_test stamp_lines \
    step_fast_exit
export AMP_FLAGS="${AMP[*]:-}"

echo "[check_gpu] $( [ "$DRY_RUN" = 1 ] && echo 'DRY RUN (CPU, tiny sizes)' \
    || echo 'GPU run' ), budget $BUDGET s, wheelhouse $WHEELHOUSE, out $OUT_DIR"
run_step install 150 - bash -c step_install
run_step versions 60 install bash -c step_versions
run_step cuda-tests 120 versions bash -c step_cuda_tests
# the GPU table: the most valuable numbers after the kernels' correctness
run_step bench-b1-fp32 150 versions bash -c 'step_bench "$@"' _ b1-fp32 \
    --batch 1 --modes fp32 "${BENCH_ARGS[@]}" --sections inference,deform,train
run_step "bench-b$BIG-$BF16" 120 versions bash -c 'step_bench "$@"' _ \
    "b$BIG-$BF16" --batch "$BIG" --modes "$BF16" --repeats 3 --no-flops \
    "${BENCH_ARGS[@]}" --sections inference
run_step "bench-b$BIG-fp32" 120 versions bash -c 'step_bench "$@"' _ \
    "b$BIG-fp32" --batch "$BIG" --modes fp32 --repeats 3 --no-flops \
    --no-check "${BENCH_ARGS[@]}" --sections inference
run_step "bench-b1-$BF16" 90 versions bash -c 'step_bench "$@"' _ \
    "b1-$BF16" --batch 1 --modes "$BF16" --no-flops "${BENCH_ARGS[@]}" \
    --sections inference,train
run_step data 60 versions bash -c step_data
run_step train-stage1 120 data bash -c 'step_train 1'
run_step test-stage1 60 train-stage1 bash -c 'step_test 1'
run_step fast-exit 90 data bash -c step_fast_exit
run_step train-stage2 120 train-stage1 bash -c 'step_train 2'
run_step test-stage2 60 train-stage2 bash -c 'step_test 2'
run_step lever-cudnn 120 versions bash -c 'step_bench "$@"' _ \
    "b$BIG-$BF16-cudnn" --batch "$BIG" --modes "$BF16" --repeats 3 \
    --no-flops --no-check --cudnn-benchmark "${BENCH_ARGS[@]}" \
    --sections inference
run_step lever-deform 120 versions bash -c 'step_bench "$@"' _ \
    "b$BIG-$BF16-deform" --batch "$BIG" --modes "$BF16" --repeats 3 \
    --no-flops --no-check "${BENCH_ARGS[@]}" --sections deform --cases c \
    --lever deform-backends
run_step lever-compile 150 versions bash -c 'step_bench "$@"' _ \
    "b$BIG-$BF16-compile" --batch "$BIG" --modes "$BF16" --repeats 3 \
    --no-flops --no-check --compile "${BENCH_ARGS[@]}" --sections inference \
    --cases a,c

# ---- summary ----
write_summary
echo
echo "==== summary ($OUT_DIR/summary.md) ===="
printf '%-16s %-22s %7s  %s\n' step status seconds note
FAILED=0
for s in "${STEPS[@]}"; do
    printf '%-16s %-22s %7s  %s\n' "$s" "${STATUS[$s]}" "${SECS[$s]}" \
        "${NOTE[$s]}"
    [ "${STATUS[$s]}" = ok ] || FAILED=1
done
printf '%-16s %-22s %7s\n' total "" "$((SECONDS - T0))"
exit $FAILED
