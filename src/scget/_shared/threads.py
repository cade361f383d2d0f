"""How many threads torch computes with on the CPU (``scget.settings.n_threads``).

torch's CPU kernels split work over intra-op threads that wait for each other. On a
machine whose cores are busy with other work (another notebook, a scan, a second
training) those threads stall each other: on 2 cores beside one busy process, ``scget demo
--size tiny`` took 115.8 s with torch's default of 2 threads and 23.5 s with 1, for the
same metrics. scget therefore chooses the threads for the cores that are free when a
computation starts, unless ``scget.settings.n_threads`` (or ``OMP_NUM_THREADS``) says.
"""

from __future__ import annotations

import os
import time

from .logging import logger

#: Seconds over which the other processes' CPU use is sampled.
_SAMPLE_SECONDS = 0.2
#: Seconds for which an automatic choice is reused: steps called in a loop (predict per
#: group, a scan per chunk) do not each pay for a new sample.
_REUSE_SECONDS = 30.0
#: (time.monotonic() of the sample, threads chosen) of the last automatic choice.
_last_automatic: tuple[float, int] | None = None


def available_cores() -> int:
    """Cores this process may run on, shared among the ranks of a ``torchrun`` node."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    ranks = int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1)
    return max(1, cores // max(1, ranks))


def busy_cores(seconds: float = _SAMPLE_SECONDS) -> float:
    """Cores kept busy by other processes over ``seconds`` (from ``/proc/stat``).

    This process's own CPU time in the interval is taken off; where ``/proc/stat`` cannot
    be read (not Linux), the one-minute load average is used.
    """
    first, own = _cpu_times(), time.process_time()
    if first is None:
        try:
            return float(os.getloadavg()[0])
        except (AttributeError, OSError):
            return 0.0
    time.sleep(seconds)
    second, own = _cpu_times(), time.process_time() - own
    busy = (second[0] - first[0]) / _ticks_per_second() - own
    elapsed = (second[1] - first[1]) / _ticks_per_second()
    cores = os.cpu_count() or 1
    return max(0.0, busy / max(elapsed, 1e-9) * cores) if elapsed > 0 else 0.0


def choose_threads(n_threads: int | None) -> int:
    """The intra-op threads for torch: ``n_threads``, else the free cores (at least 1).

    ``None`` (``scget.settings.n_threads``' default) defers to ``OMP_NUM_THREADS`` when
    it is set, and otherwise takes the cores available to this process (divided among a
    node's ``torchrun`` ranks) less those other processes keep busy, rounded to the
    nearest core.
    """
    if n_threads is not None:
        return n_threads
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    return max(1, available_cores() - int(busy_cores() + 0.5))


def apply_threads(n_threads: int | None) -> int:
    """Set torch's intra-op threads to :func:`choose_threads` and return the number set.

    An automatic choice (no ``n_threads``, no ``OMP_NUM_THREADS``) is reused for
    :data:`_REUSE_SECONDS` before the free cores are sampled again.
    """
    import torch

    global _last_automatic
    automatic = n_threads is None and not os.environ.get("OMP_NUM_THREADS", "").isdigit()
    now = time.monotonic()
    if automatic and _last_automatic and now - _last_automatic[0] < _REUSE_SECONDS:
        chosen = _last_automatic[1]
    else:
        chosen = choose_threads(n_threads)
        if automatic:
            _last_automatic = (now, chosen)
    if torch.get_num_threads() != chosen:
        torch.set_num_threads(chosen)
        logger.info(f"torch computes with {chosen} CPU thread(s) (scget.settings.n_threads).")
    return chosen


def _cpu_times() -> tuple[int, int] | None:
    """(busy, total) clock ticks of all CPUs since boot, or ``None`` without /proc/stat."""
    try:
        with open("/proc/stat") as handle:
            fields = handle.readline().split()[1:]
    except OSError:
        return None
    ticks = [int(value) for value in fields[:8]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return sum(ticks) - idle, sum(ticks)


def _ticks_per_second() -> int:
    return os.sysconf("SC_CLK_TCK")
