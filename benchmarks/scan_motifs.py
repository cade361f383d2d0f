"""Speed of ``scget.pp.scan_motifs`` against the machine's ceiling, at 4k, 40k and 100k peaks.

Peaks of ``--width`` bp are drawn at random on the real hg38 piece of ``shared/data``
(chr2:1-2,333,275, bgzipped; peaks may overlap) or, when it is absent, on a simulated
genome with the simulator's GC structure. Motifs: JASPAR 2024 CORE vertebrates (879
PWMs; ``--motifs vierstra`` for the Vierstra archetypes), both strands, p = 1e-4, uniform
background. For each size, in one process:

1. single-process MOODS: one ``MOODS.scan.Scanner`` (look-ahead window 7, MOODS'
   default) holding every matrix on both strands, scanning each peak sequence (fetched
   beforehand) and reading every hit's position and score; ``Scanner.scan`` alone is
   timed apart ("scan only"). Building the scanner is excluded. At 100k peaks it is
   timed on the first ``--baseline-peaks`` peaks and scaled (``--full-baseline`` times
   them all);
2. at the first size: ``scan_motifs`` with empty memory and disk caches (the first use
   after installation), then the first and second call of a new Python process that
   shares the filled disk cache (cold and warm; the issue's "cold first call");
3. ``--repeats`` triples, interleaved: the ceiling, two plain MOODS processes (``--jobs``)
   forked with the scanners ``scan_motifs`` uses for this size prebuilt and the
   sequences fetched beforehand, each scanning one share and reading every hit (no
   reduction, no table); then the whole warm ``scan_motifs(peaks, genome,
   n_jobs=--jobs)`` call (sequence reads, scan, per-cluster reduction, the table); then
   the same ceiling with each process's sequences joined by ``N`` in groups of
   ``scan_motifs``' task size, one MOODS call per group as ``scan_motifs`` makes, with the
   cyclic garbage collector paused as ``scan_motifs`` pauses it (the "joined
   ceiling"). Each repeat prints the share of both ceilings reached; the medians and
   ranges follow.

The machine load (``os.getloadavg``) is printed with every timing, with the CPU seconds of
``scan_motifs``' main process and workers: run it on a quiet machine.

Usage::

    python benchmarks/scan_motifs.py                   # the three sizes, about 10 minutes
    python benchmarks/scan_motifs.py --sizes 4000      # one size
    python benchmarks/scan_motifs.py --gpu             # with the exact torch scan on CUDA
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import tempfile
import time
from functools import partial
from itertools import pairwise
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
PIECE = SHARED / "hg38_chr2_piece" / "chr2_1-2333275.fa.gz"
PVALUE = 1e-4


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def simulated_genome(folder: Path, size: int, seed: int):
    """Write a simulated genome FASTA of ``size`` bp (4 chromosomes) and return it."""
    from scget.datasets._sim.files import write_fasta
    from scget.datasets._sim.genome import background_sequence, chromosome_sizes
    from scget.genome import Genome

    rng = np.random.default_rng(seed)
    sizes = chromosome_sizes(size, 4)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    tss = rng.integers(0, int(sizes.sum()), size // 20_000)
    sequence = background_sequence(sizes, tss, rng)
    names = [f"chr{k + 1}" for k in range(4)]
    return Genome(write_fasta(folder / "genome.fa", sequence, names, offsets, sizes))


def random_peaks(genome, n: int, width: int, rng, first: int):
    """``n`` peaks of ``width`` bp at random positions (from ``first`` on each chromosome)."""
    import pandas as pd

    sizes = genome.chrom_sizes
    names = list(sizes)
    lengths = np.array([sizes[c] - first - width for c in names], dtype=float)
    chroms = rng.choice(len(names), size=n, p=lengths / lengths.sum())
    starts = first + (rng.random(n) * lengths[chroms]).astype(np.int64)
    chroms = np.array(names)[chroms]
    order = np.lexsort((starts, chroms))
    return pd.DataFrame(
        {"chrom": chroms[order], "start": starts[order], "end": starts[order] + width}
    )


def baseline(sequences: list[str], model) -> tuple[float, float, float]:
    """Single-process MOODS, reading every hit: total, ``Scanner.scan`` and its CPU seconds."""
    import MOODS.scan

    scanner = MOODS.scan.Scanner(7)
    scanner.set_motifs(model.log_odds, model.background, model.thresholds)
    begin, in_scan, cpu = time.perf_counter(), 0.0, 0.0
    for sequence in sequences:
        tick, tock = time.perf_counter(), time.process_time()
        results = scanner.scan(sequence)
        in_scan += time.perf_counter() - tick
        cpu += time.process_time() - tock
        for hits in results:
            for hit in hits:
                _ = (hit.pos, hit.score)
    return time.perf_counter() - begin, in_scan, cpu


_CEILING: dict = {}


def _ceiling_share(share: int) -> int:
    """Scan one share of the sequences in a forked process, reading every hit."""
    scorer, shares = _CEILING["scorer"], _CEILING["shares"]
    n_hits = 0
    for sequence in shares[share]:
        for scanner, *_ in scorer.scanners:
            for hits in scanner.scan(sequence):
                for hit in hits:
                    _ = (hit.pos, hit.score)
                    n_hits += 1
    return n_hits


def ceiling(sequences: list[str], model, jobs: int, joined: int = 0) -> float:
    """Two (``jobs``) plain MOODS processes, one share of the sequences each: wall seconds.

    The scanners are those ``scan_motifs`` uses for this size (same look-ahead window),
    built beforehand and inherited through ``fork``; the sequences are fetched beforehand
    and inherited too, so nothing is sent to the workers but a share number and nothing
    comes back but a count. Starting the processes is timed. With ``joined``, each share's
    sequences are scanned ``joined`` at a time, joined by ``N`` into one sequence (as
    ``scan_motifs`` does; joining is timed): MOODS is called once per group, not once per
    sequence.
    """
    import multiprocessing

    from scget._scan.moods import cached_scorer, choose_window

    window = choose_window(sum(map(len, sequences)) / jobs)
    _CEILING["scorer"] = cached_scorer(model, window)
    bounds = np.linspace(0, len(sequences), jobs + 1).astype(int)
    _CEILING["shares"] = [sequences[a:b] for a, b in pairwise(bounds)]
    tick = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        if joined:
            pool.map(partial(_joined_share, size=joined), range(jobs), chunksize=1)
        else:
            pool.map(_ceiling_share, range(jobs), chunksize=1)
    seconds = time.perf_counter() - tick
    _CEILING.clear()
    return seconds


def _joined_share(share: int, size: int) -> int:
    """:func:`_ceiling_share` on groups of ``size`` sequences joined by ``N``, collector off."""
    sequences = _CEILING["shares"][share]
    groups = ["N".join(sequences[i : i + size]) for i in range(0, len(sequences), size)]
    _CEILING["shares"][share] = groups
    gc.disable()  # a group's hits live together: the collector would walk them again and again
    return _ceiling_share(share)


def cpu_seconds() -> np.ndarray:
    """CPU seconds of this process and of its finished children (the workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return np.array([own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime])


def clear_memory_caches() -> None:
    """Forget what this process cached (as a new Python session would)."""
    from scget._scan import moods as _scan
    from scget.motifs import _jaspar

    _jaspar._LOADED.clear()
    _scan._MODELS.clear()
    _scan._SCORERS.clear()


def timed_scan(peaks, genome, args, cpu: bool = False, device=None):
    """Wall seconds of a ``scan_motifs`` call (and its CPU seconds: main, workers)."""
    from scget.pp import scan_motifs

    tick, before = time.perf_counter(), cpu_seconds()
    kwargs = {"motifs": args.motifs, "pvalue": PVALUE, "n_jobs": args.jobs, "device": device}
    result = scan_motifs(peaks, genome, normalize=False, **kwargs)
    seconds = time.perf_counter() - tick
    timed_scan.last = result
    return (seconds, cpu_seconds() - before) if cpu else seconds


def new_session(peaks, args, cachedir: Path) -> tuple[float, float]:
    """First and second ``scan_motifs`` call of a new Python process sharing the disk cache."""
    import json
    import subprocess
    import sys

    bed = cachedir.parent / "peaks.bed"
    peaks.to_csv(bed, sep="\t", header=False, index=False)
    command = [sys.executable, __file__, "--session", str(bed), "--cachedir", str(cachedir)]
    command += ["--jobs", str(args.jobs), "--motifs", args.motifs, "--genome", str(args.genome)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    first, second = json.loads(output.strip().splitlines()[-1])
    return first, second


def session(args) -> None:
    """``--session``: time the first two scans of this process and print them as JSON."""
    import json

    import pandas as pd

    import scget
    from scget.genome import Genome

    scget.settings.verbosity = 1
    scget.settings.cachedir = Path(args.cachedir)
    peaks = pd.read_csv(args.session, sep="\t", names=["chrom", "start", "end"])
    genome = Genome(args.genome)
    print(json.dumps([timed_scan(peaks, genome, args), timed_scan(peaks, genome, args)]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="4000,40000,100000")
    parser.add_argument("--width", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="ceiling and warm scan pairs")
    parser.add_argument("--motifs", default="jaspar", choices=["jaspar", "vierstra"])
    parser.add_argument("--baseline-peaks", type=int, default=40_000)
    parser.add_argument("--full-baseline", action="store_true")
    parser.add_argument(
        "--gpu", action="store_true", help="also time scan_motifs(device='cuda') (needs CUDA)"
    )
    parser.add_argument("--session", help=argparse.SUPPRESS)  # internal: a new process
    parser.add_argument("--cachedir", help=argparse.SUPPRESS)
    parser.add_argument("--genome", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.session:
        session(args)
        return

    import scget
    from scget._scan.moods import build_scan_model, chunk_size
    from scget._scan.scores import resolve_motifs
    from scget.genome import Genome

    scget.settings.verbosity = 1
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(args.seed)
    print(f"CPUs available: {len(os.sched_getaffinity(0))}; {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        scget.settings.cachedir = Path(tmp) / "cache"  # cold: an empty cache
        if PIECE.is_file():
            genome, first, where = Genome(PIECE), 10_500, f"real hg38 piece {PIECE.name}"
        else:
            genome, first = simulated_genome(Path(tmp), 4_000_000, args.seed), 0
            where = "simulated 4 Mbp genome (real piece absent)"
        args.genome = genome.path
        print(f"peaks of {args.width} bp at random on the {where}; --jobs {args.jobs}")

        small = random_peaks(genome, 10, args.width, rng, first)
        cold = timed_scan(small, genome, args)
        clear_memory_caches()
        fresh = timed_scan(small, genome, args)
        warm = timed_scan(small, genome, args)
        print(
            f"fixed cost (scan_motifs on 10 peaks): empty caches {cold:.2f} s, first call of "
            f"a session with the disk cache {fresh:.2f} s, warm {warm:.2f} s; {load()}"
        )

        model = build_scan_model(resolve_motifs(args.motifs), pvalue=PVALUE)
        print(f"{args.motifs}: {len(model.log_odds)} matrices (both strands)")
        for rank, n in enumerate(sizes):
            peaks = random_peaks(genome, n, args.width, rng, first)
            megabases = n * args.width / 1e6
            sequences = genome.fetch_many(*(peaks[c].to_numpy() for c in peaks))
            timed = n if args.full_baseline else min(n, args.baseline_peaks)
            total, in_scan, scan_cpu = (x * n / timed for x in baseline(sequences[:timed], model))
            note = "" if timed == n else f" (timed on {timed} peaks, scaled)"
            print(
                f"\n{n} peaks, {megabases:.1f} Mbp: baseline MOODS 1 process: scan only "
                f"{in_scan:.1f} s ({megabases / in_scan:.2f} Mbp/s), with reading the hits "
                f"{total:.1f} s{note}; scan CPU {scan_cpu:.1f} s; {load()}"
            )
            if rank == 0:  # the first size: a new installation, then a new session
                clear_memory_caches()
                scget.settings.cachedir = Path(tmp) / "cache-2"
                empty = timed_scan(peaks, genome, args)
                first_call, second_call = new_session(peaks, args, scget.settings.cachedir)
                print(
                    f"  scan_motifs, empty caches (first use after installation): {empty:.1f} "
                    f"s\n  scan_motifs in a new Python session (disk cache filled): first "
                    f"call (cold) {first_call:.2f} s, second (warm) {second_call:.2f} s, "
                    f"cold - warm {first_call - second_call:+.2f} s; {load()}"
                )
            ratios, joined_ratios = [], []
            group = chunk_size(n, args.jobs)
            for repeat in range(args.repeats):
                ceiling_seconds = ceiling(sequences, model, args.jobs)
                seconds, (main_cpu, workers_cpu) = timed_scan(peaks, genome, args, cpu=True)
                joined_seconds = ceiling(sequences, model, args.jobs, joined=group)
                ratios.append(ceiling_seconds / seconds)
                joined_ratios.append(joined_seconds / seconds)
                print(
                    f"  run {repeat + 1}: {args.jobs}-process MOODS ceiling {ceiling_seconds:.1f}"
                    f" s; scan_motifs warm {seconds:.1f} s ({megabases / seconds:.2f} Mbp/s, "
                    f"CPU {main_cpu:.1f} s main + {workers_cpu:.1f} s workers): "
                    f"{100 * ratios[-1]:.0f} % of the ceiling, x{in_scan / seconds:.2f} "
                    f"MOODS 1 process scan only; the ceiling on {group} sequences joined per "
                    f"MOODS call {joined_seconds:.1f} s ({100 * joined_ratios[-1]:.0f} %); "
                    f"{load()}"
                )
            for name, shares in (("ceiling", ratios), ("joined ceiling", joined_ratios)):
                print(
                    f"  scan_motifs / {name} over {args.repeats} runs: median "
                    f"{100 * np.median(shares):.0f} %, range {100 * min(shares):.0f}-"
                    f"{100 * max(shares):.0f} %"
                )
            if args.gpu:
                moods = timed_scan.last
                timed_scan(peaks.iloc[:100], genome, args, device="cuda")  # warm-up
                seconds = timed_scan(peaks, genome, args, device="cuda")
                gap = float(np.abs(timed_scan.last.to_numpy() - moods.to_numpy()).max())
                print(
                    f"  scan_motifs(device='cuda'): {seconds:.1f} s ({megabases / seconds:.2f} "
                    f"Mbp/s), x{in_scan / seconds:.2f} MOODS scan only; largest difference "
                    f"from the MOODS scores {gap:.1e} (0 at window 7; last bits otherwise)"
                )
    print(f"\n{load()} at the end")


if __name__ == "__main__":
    main()
