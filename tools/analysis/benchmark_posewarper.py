"""Benchmark PoseWarper inference, deformable-conv backends and training.

On the same random inputs and weights (HRNet built from the configs,
random init, eval mode) it measures, per person crop:

- (a) the single-frame HRNet (backbone + 1x1 head conv, the stage-1
  model);
- (b) 5-frame PoseWarper done naively: each frame through the backbone on
  its own and each frame warped by its own neck call, the key frame's
  offsets recomputed (the persons of a frame stay batched);
- (b') the same with the key frame's cached constant offsets: (b) less
  the one piece of work (c) skips, so (b')/(b) bounds what (c) can save
  without batching more crops per pass, and (c)/(b') is what (c)'s
  batching adds or costs on top;
- (c) 5-frame PoseWarper as implemented: one backbone pass over all
  frames and persons, cached key-frame offsets; with its backbone / neck
  split;
- (c3) the same with the shorter window ``--short-offsets`` (default
  -1 0 1), against (c): the cost side of the 3- vs 5-frame trade-off;

then the neck with mmcv's and torchvision's deformable convolution
(forward and forward+backward) and a stage-1 vs stage-2 training step.
(b') and (c) must each agree with (b) (max abs diff <= ``--tolerance`` in
fp32), else the exit status is 1; a case that fails to run gives exit
status 3. Every row also gets its FLOPs per crop
(``posewarper_bench_flops``: mmengine's counter with the deformable
convolutions counted), the FLOP ratio beside the time ratio, the achieved
GFLOP/s and, on the CPU, the share of its time spent in the deformable
convolutions. The targets: each multi-frame inference row's time ratio
to (a) within 1.15x of its FLOP ratio, and (c) at most 0.9x (b)'s time
with at most 2x its peak memory.

Examples::

    # GPU: fp32, bf16 autocast and channels-last tables
    python tools/analysis/benchmark_posewarper.py --batch 8 \\
        --out-json bench.json --out-md bench.md
    # shared CPU: one thread, CPU-seconds clock (robust to other jobs)
    python tools/analysis/benchmark_posewarper.py --device cpu --batch 1 \\
        --repeats 3 --threads 1 --clock process --out-json bench.json
    # seconds-long smoke run with a tiny HRNet (used by the tests)
    python tools/analysis/benchmark_posewarper.py --quick --device cpu
"""
import argparse
import json
import os
import os.path as osp
import platform
import resource
import sys
from typing import List, Optional

import torch
from posewarper_bench_cases import Mode
from posewarper_bench_models import (HEATMAP_STRIDE, build_model,
                                     load_bench_config, prepare_models,
                                     random_frames)
from posewarper_bench_report import MUST_AGREE, report_markdown
from posewarper_bench_runner import run_mode

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STAGE2_CONFIG = osp.join(REPO, 'configs',
                         'posewarper_hrnet-w48_posetrack18.py')
STAGE1_CONFIG = osp.join(REPO, 'configs',
                         'posewarper-stage1_hrnet-w48_posetrack18.py')
DEFAULT_OUT_MD = osp.join('work_dirs', 'benchmark', 'benchmark_posewarper.md')
EXIT_MISMATCH = 1
EXIT_CASE_FAILED = 3
# --cases names -> the keys of the inference rows
INFERENCE_CASES = dict(a='single',
                       b='naive',
                       bk='naive_cached',
                       c='batched',
                       short='batched_short')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark PoseWarper (5-frame) against single-frame '
        'HRNet, the deformable-conv backends and the training steps.')
    parser.add_argument('--config', default=STAGE2_CONFIG,
                        help='stage-2 (PoseWarper) config')
    parser.add_argument('--stage1-config', default=STAGE1_CONFIG,
                        help='stage-1 (single-frame) config')
    parser.add_argument('--device', default=None,
                        help='cpu or cuda[:N] (default: cuda if available)')
    parser.add_argument('--batch', type=int, default=2,
                        help='person crops per call')
    parser.add_argument('--repeats', type=int, default=None,
                        help='timed calls per case (default 5; 3 in quick)')
    parser.add_argument('--warmup', type=int, default=1,
                        help='untimed calls before timing')
    parser.add_argument('--input-size', type=int, nargs=2, default=None,
                        metavar=('H', 'W'),
                        help='crop size (default 384 288; 64 64 in quick)')
    parser.add_argument('--quick', action='store_true',
                        help='tiny HRNet, 2-block neck, small inputs')
    parser.add_argument('--modes', default=None,
                        help='comma list of fp32, bf16, fp32-cl, bf16-cl '
                        '(default: fp32 on CPU; all four on GPU)')
    parser.add_argument('--deform-backend',
                        choices=('mmcv', 'torchvision', 'pytorch'),
                        default=None,
                        help="override the model neck's deform_backend")
    parser.add_argument('--crops-per-pass', type=int, default=None,
                        help="set (c)'s test_cfg.max_crops_per_pass: the "
                        'most crops per backbone pass and warp call (0: '
                        "all at once; default: the config's)")
    parser.add_argument('--threads', type=int, default=None,
                        help='torch intra-op threads (default: unchanged; 1 '
                        'in quick mode)')
    parser.add_argument('--clock', choices=('wall', 'process'),
                        default='wall',
                        help='wall: elapsed time; process: CPU seconds of '
                        'this process (all threads), robust to other '
                        'processes sharing the cores; CPU only')
    parser.add_argument('--no-memory', dest='memory', action='store_false',
                        help='skip the peak-memory measurements')
    parser.add_argument('--tolerance', type=float, default=1e-5,
                        help='max abs diff allowed between (b) and (c) in '
                        'fp32')
    parser.add_argument('--short-offsets', type=int, nargs='+',
                        default=[-1, 0, 1], metavar='OFFSET',
                        help='the shorter window measured against the '
                        '5-frame one (its weights: the test weights of '
                        'these offsets, renormalised)')
    parser.add_argument('--no-flops', dest='flops', action='store_false',
                        help='skip the FLOP counts')
    parser.add_argument('--sections', default='inference,deform,train',
                        help='comma list of the tables to run: inference '
                        '(always), deform, train')
    parser.add_argument('--cases', default=','.join(INFERENCE_CASES),
                        help='comma list of the inference cases to time: '
                        "a (single-frame), b (naive), bk (naive, cached "
                        "key-frame offsets: (b')), c (batched), short "
                        '(batched, shorter window); default: all')
    parser.add_argument('--no-check', dest='check', action='store_false',
                        help="skip the outputs checks, (b') and (c) "
                        "against (b) (one more call of each)")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cudnn-benchmark', action='store_true',
                        help='let cuDNN pick algorithms per shape')
    parser.add_argument('--out-json', default=None, help='write JSON here')
    parser.add_argument('--out-md', default=DEFAULT_OUT_MD,
                        help='write the markdown report here')
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    if args.threads is None and args.quick:
        args.threads = 1
    if args.input_size is None:
        args.input_size = [64, 64] if args.quick else [384, 288]
    for name in ('batch', 'repeats'):
        if getattr(args, name) < 1:
            parser.error(f'--{name} must be >= 1')
    if args.crops_per_pass is not None and args.crops_per_pass < 0:
        parser.error('--crops-per-pass must be >= 0')
    if args.warmup < 0:
        parser.error('--warmup must be >= 0')
    args.sections = {s.strip() for s in args.sections.split(',') if s.strip()}
    unknown = args.sections - {'inference', 'deform', 'train'}
    if unknown:
        parser.error(f'--sections: unknown {sorted(unknown)}')
    args.sections.add('inference')
    names = [c.strip() for c in args.cases.split(',') if c.strip()]
    unknown = set(names) - set(INFERENCE_CASES)
    if unknown or not names:
        parser.error(f'--cases: unknown or none {sorted(unknown)}; choose '
                     f'from {list(INFERENCE_CASES)}')
    args.cases = [INFERENCE_CASES[c] for c in INFERENCE_CASES if c in names]
    if any(s < 32 or s % 32 for s in args.input_size):
        parser.error('--input-size values must be multiples of 32 (the '
                     'HRNet branches downsample by 32), got '
                     f'{args.input_size}')
    return args


def _device(name: Optional[str]) -> torch.device:
    if name is None:
        name = 'cuda' if torch.cuda.is_available() else 'cpu'
    device = torch.device(name)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda requested but no GPU is available')
    return device


def _cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def _load() -> Optional[str]:
    try:
        return ' '.join(f'{v:.2f}' for v in os.getloadavg())
    except OSError:
        return None


def _meta(args, device: torch.device, bench_cfg) -> dict:
    import mmcv
    heatmap = [s // HEATMAP_STRIDE for s in args.input_size]
    meta = dict(
        device=str(device),
        device_name=(torch.cuda.get_device_name(device)
                     if device.type == 'cuda' else _cpu_name()),
        torch=torch.__version__,
        mmcv=mmcv.__version__,
        threads=torch.get_num_threads(),
        stage2_config=osp.relpath(args.config, REPO),
        stage1_config=osp.relpath(args.stage1_config, REPO),
        quick=args.quick,
        input_size=list(args.input_size),
        heatmap_size=heatmap,
        batch=args.batch,
        repeats=args.repeats,
        warmup=args.warmup,
        clock=args.clock,
        test_frame_offsets=list(bench_cfg.test_offsets),
        test_frame_weights=list(bench_cfg.test_weights),
        train_frame_weights=list(bench_cfg.train_weights),
        deform_backend=bench_cfg.stage2.neck.get('deform_backend', 'mmcv'),
        max_crops_per_pass=bench_cfg.crops_per_pass,
        memory=args.memory,
        short_offsets=sorted(args.short_offsets),
        flops=args.flops,
        sections=sorted(args.sections),
        cases=list(args.cases),
        outputs_check=args.check,
        load_average_start=_load())
    if device.type == 'cuda':
        meta['cudnn_benchmark'] = args.cudnn_benchmark
        meta['tf32'] = False
    return meta


def _exit_code(results: List[dict], tolerance: float) -> int:
    code = 0
    for result in results:
        if any('error' in r for r in result['cases']):
            code = EXIT_CASE_FAILED
    for result in results:
        for name in MUST_AGREE:
            check = result['checks'].get(name)
            if check is None or result['checks']['tolerance'] is None:
                continue
            if 'error' in check or check['max_abs_diff'] > tolerance:
                code = EXIT_MISMATCH
    return code


def _write(path: Optional[str], text: str) -> None:
    if path:
        directory = osp.dirname(osp.abspath(path))
        os.makedirs(directory, exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    device = _device(args.device)
    if args.clock == 'process' and device.type != 'cpu':
        raise SystemExit('--clock process measures CPU time; use it with '
                         '--device cpu')
    if args.threads:
        torch.set_num_threads(args.threads)
    if device.type == 'cuda':
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.benchmark = args.cudnn_benchmark
    modes = args.modes or ('fp32' if device.type == 'cpu' else
                           'fp32,bf16,fp32-cl,bf16-cl')
    modes = [Mode.parse(m.strip()) for m in modes.split(',') if m.strip()]

    bench_cfg = load_bench_config(args.config, args.stage1_config,
                                  args.quick, args.deform_backend,
                                  args.crops_per_pass)
    meta = _meta(args, device, bench_cfg)
    frames = random_frames(args.batch, len(bench_cfg.test_weights),
                           tuple(args.input_size), args.seed).to(device)
    stage1 = build_model(bench_cfg.stage1, args.seed).to(device).eval()
    stage2 = build_model(bench_cfg.stage2, args.seed + 1).to(device).eval()
    meta['calibration'] = prepare_models(stage1, stage2, frames[:, 0],
                                         frames[:, 1], args.seed + 2)

    results = []
    for mode in modes:
        print(f'[benchmark] mode {mode.name} ...', file=sys.stderr,
              flush=True)
        results.append(
            run_mode(mode, stage1, stage2, bench_cfg.stage2.neck, frames,
                     bench_cfg, args))
    meta['load_average_end'] = _load()
    meta['process_max_rss_mib'] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    code = _exit_code(results, args.tolerance)
    markdown = report_markdown(meta, results)
    print(markdown)
    _write(args.out_md, markdown)
    if args.out_json:
        _write(args.out_json,
               json.dumps(dict(meta=meta, results=results, exit_code=code),
                          indent=2, default=str))
    return code


if __name__ == '__main__':
    sys.exit(main())
