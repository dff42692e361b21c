"""Timing, peak-memory and table helpers of the PoseWarper benchmark.

Imported by the ``posewarper_bench_*`` modules of
``tools/analysis/benchmark_posewarper.py`` (siblings in this folder).
"""
import math
import time
from dataclasses import asdict, dataclass
from typing import Callable, Dict, List, Optional, Sequence

import torch

MIB = float(2**20)


def quantile(values: Sequence[float], q: float) -> float:
    """Linearly interpolated quantile (numpy's default method).

    Args:
        values (Sequence[float]): At least one sample.
        q (float): Quantile in [0, 1].

    Returns:
        float: The q-quantile of ``values``.
    """
    if not values:
        raise ValueError(f'{__name__}.quantile: no samples')
    if not 0.0 <= q <= 1.0:
        raise ValueError(f'{__name__}.quantile: q={q} is not in [0, 1]')
    ordered = sorted(float(v) for v in values)
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    frac = pos - low
    return ordered[low] + (ordered[high] - ordered[low]) * frac


@dataclass(frozen=True)
class TimingStats:
    """Summary of repeated timings, in seconds.

    Attributes:
        median (float): Median over repeats.
        minimum (float): Fastest repeat.
        maximum (float): Slowest repeat.
        q1 (float): First quartile.
        q3 (float): Third quartile.
        repeats (int): Number of timed repeats.
    """
    median: float
    minimum: float
    maximum: float
    q1: float
    q3: float
    repeats: int

    @classmethod
    def from_samples(cls, samples: Sequence[float]) -> 'TimingStats':
        """Summarise raw per-repeat timings (seconds)."""
        if not samples:
            raise ValueError(f'{__name__}.TimingStats: no samples')
        return cls(
            median=quantile(samples, 0.5),
            minimum=float(min(samples)),
            maximum=float(max(samples)),
            q1=quantile(samples, 0.25),
            q3=quantile(samples, 0.75),
            repeats=len(samples))

    def scaled(self, factor: float) -> 'TimingStats':
        """The same statistics multiplied by ``factor`` (e.g. 1 / batch)."""
        return TimingStats(self.median * factor, self.minimum * factor,
                           self.maximum * factor, self.q1 * factor,
                           self.q3 * factor, self.repeats)

    def to_dict(self) -> Dict[str, float]:
        """Plain dict for JSON output."""
        return asdict(self)


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work on ``device`` (no-op on the CPU)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


CLOCKS: Dict[str, Callable[[], float]] = dict(
    wall=time.perf_counter, process=time.process_time)


def get_clock(name: str) -> Callable[[], float]:
    """The timer function of ``'wall'`` (``time.perf_counter``) or
    ``'process'`` (``time.process_time``: CPU seconds of all threads of this
    process, insensitive to other processes competing for the cores)."""
    if name not in CLOCKS:
        raise ValueError(f'{__name__}: unknown clock {name!r}; choose one '
                         f'of {sorted(CLOCKS)}')
    return CLOCKS[name]


def time_callable(fn: Callable[[], object],
                  repeats: int,
                  warmup: int,
                  device: torch.device,
                  clock: Callable[[], float] = time.perf_counter
                  ) -> List[float]:
    """Run ``fn`` ``warmup`` times, then time ``repeats`` calls.

    Args:
        fn (Callable): The work to time; its result is discarded.
        repeats (int): Timed calls (>= 1).
        warmup (int): Untimed calls first (>= 0).
        device (torch.device): Synchronised around every timed call.
        clock (Callable): Timer function. Defaults to
            ``time.perf_counter`` (wall clock).

    Returns:
        list[float]: Seconds per timed call.
    """
    return time_interleaved([fn], repeats, warmup, device, clock)[0]


def time_interleaved(fns: Sequence[Callable[[], object]],
                     repeats: int,
                     warmup: int,
                     device: torch.device,
                     clock: Callable[[], float] = time.perf_counter
                     ) -> List[List[float]]:
    """Time several workloads in alternation, one call of each per round.

    A shared machine drifts (other jobs, clock speed) over the minutes a
    large case takes. Timing the workloads round by round puts the same
    drift on every one of them, so the ratio of two workloads taken round
    by round is steadier than the ratio of their medians taken one case
    after the other. The order flips every round (A B, B A, ...), so no
    workload always runs right after the same one.

    Args:
        fns (Sequence[Callable]): The workloads; results are discarded.
        repeats (int): Timed rounds (>= 1).
        warmup (int): Untimed calls of each workload first (>= 0).
        device (torch.device): Synchronised around every timed call.
        clock (Callable): Timer function. Defaults to
            ``time.perf_counter`` (wall clock).

    Returns:
        list[list[float]]: Per workload, seconds per timed call, in round
        order.
    """
    if repeats < 1 or warmup < 0 or not fns:
        raise ValueError(
            f'{__name__}.time_interleaved: need repeats >= 1, warmup >= 0 '
            f'and a workload, got repeats={repeats}, warmup={warmup}, '
            f'{len(fns)} workloads')
    for fn in fns:
        for _ in range(warmup):
            fn()
    synchronize(device)
    samples: List[List[float]] = [[] for _ in fns]
    for round_idx in range(repeats):
        order = range(len(fns))
        if round_idx % 2:
            order = reversed(order)
        for i in order:
            synchronize(device)
            start = clock()
            fns[i]()
            synchronize(device)
            samples[i].append(clock() - start)
    return samples


def _kineto_memory_events(prof) -> Optional[list]:
    """(start_ns, nbytes) of every allocator event the profiler saw."""
    results = getattr(getattr(prof, 'profiler', None), 'kineto_results',
                      None)
    if results is None:
        return None
    events = []
    for event in results.events():
        if event.name() == '[memory]':
            events.append((event.start_ns(), int(event.nbytes())))
    return events


def cpu_peak_tensor_bytes(fn: Callable[[], object]) -> Optional[int]:
    """Peak of live CPU tensor memory allocated while ``fn`` runs.

    Uses the PyTorch profiler's allocator events (``profile_memory``): the
    allocations and frees are replayed in time order and the highest
    running total is returned. Memory held before the call (weights,
    inputs, optimizer state from earlier steps) is not counted;
    allocations outside PyTorch's allocator are not seen.

    Args:
        fn (Callable): The work to measure.

    Returns:
        int | None: Peak bytes above the level at the start, or None when
        this PyTorch build does not expose allocator events.
    """
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU],
                 profile_memory=True) as prof:
        fn()
    events = _kineto_memory_events(prof)
    if events is None:
        return None
    live = peak = 0
    for _, nbytes in sorted(events):
        live += nbytes
        peak = max(peak, live)
    return peak


def cuda_peak_bytes(fn: Callable[[], object],
                    device: torch.device) -> Dict[str, int]:
    """Peak CUDA memory of one call of ``fn``.

    Returns:
        dict: ``peak_bytes`` (allocated above the level before the call)
        and ``peak_total_bytes`` (``torch.cuda.max_memory_allocated``).
    """
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    fn()
    torch.cuda.synchronize(device)
    total = torch.cuda.max_memory_allocated(device)
    return dict(peak_bytes=int(total - before), peak_total_bytes=int(total))


def peak_memory(fn: Callable[[], object],
                device: torch.device) -> Dict[str, Optional[int]]:
    """Peak memory of one call of ``fn`` on ``device``.

    CPU: :func:`cpu_peak_tensor_bytes`; CUDA: :func:`cuda_peak_bytes`.

    Returns:
        dict: ``peak_bytes`` above the level before the call (None when it
        cannot be measured) and ``method``.
    """
    if device.type == 'cuda':
        result: Dict[str, Optional[int]] = dict(cuda_peak_bytes(fn, device))
        result['method'] = 'torch.cuda.max_memory_allocated'
        return result
    return dict(
        peak_bytes=cpu_peak_tensor_bytes(fn),
        method='torch.profiler allocator events')


def format_markdown_table(headers: Sequence[str],
                          rows: Sequence[Sequence[str]]) -> str:
    """A GitHub markdown table; the first column left-, others
    right-aligned.

    Args:
        headers (Sequence[str]): Column titles.
        rows (Sequence[Sequence[str]]): Cells, one list per row, as many as
            ``headers``.

    Returns:
        str: The table, one line per row, without a trailing newline.
    """
    for idx, row in enumerate(rows):
        if len(row) != len(headers):
            raise ValueError(
                f'{__name__}.format_markdown_table: row {idx} has '
                f'{len(row)} cells for {len(headers)} columns')
    lines = ['| ' + ' | '.join(headers) + ' |']
    lines.append('|' + '|'.join([' --- '] + [' ---: '] *
                                (len(headers) - 1)) + '|')
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    return '\n'.join(lines)


def format_number(value: Optional[float], digits: int = 1) -> str:
    """Fixed-point text, 'n/a' for None or non-finite values."""
    if value is None or not math.isfinite(value):
        return 'n/a'
    return f'{value:.{digits}f}'
