"""Speed of ``scget.pp.scan_motifs`` against a single-process MOODS scan of the same sequences.

A genome with the simulator's GC structure (isochores, GC-rich promoters around 5 % of
the peaks) is written to a temporary FASTA, and ``--peaks`` peaks of ``--width`` bp are
placed on it. For each motif collection (JASPAR 2024 CORE vertebrates, and the Vierstra
archetype PWMs when ``--vierstra`` points to them):

1. baseline: one process, one ``MOODS.scan.Scanner`` (look-ahead window 7, MOODS'
   default) holding every matrix on both strands, scanning each peak sequence (fetched
   beforehand) and reading every hit's position and score; the time spent in
   ``Scanner.scan`` alone is reported beside the total;
2. scget: the scan of ``scan_motifs`` (``score_sequences``: workers fetch the sequences
   from the FASTA, scan with MOODS, keep the best non-overlapping hits per cluster and
   sum them) with ``--jobs`` processes, and with 1 process too with ``--serial``.

Both use the same log-odds matrices and thresholds, whose preparation (``threshold_from_p``)
is timed separately and excluded; both times include building the MOODS scanners. Mbp/s =
scanned bases / wall time. CPU seconds (this process and its workers) are printed too: on a
shared machine, wall-clock ratios depend on what else runs (the load average is printed), so
an estimate for dedicated cores is printed beside them: the main process's CPU time plus the
workers' CPU time divided by their number, against the baseline's CPU time.

Usage::

    python benchmarks/scan_motifs.py                     # 20,000 peaks, a few minutes
    python benchmarks/scan_motifs.py --peaks 100000      # the realistic size
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "vierstra_archetypes_v1"


def make_genome(folder: Path, n_peaks: int, width: int, seed: int):
    """Write a simulated genome FASTA; return it with the peaks ``(chroms, starts, ends)``."""
    from scget.datasets._sim_files import write_fasta
    from scget.datasets._sim_genome import background_sequence, chromosome_sizes
    from scget.genome import Genome

    rng = np.random.default_rng(seed)
    n_chroms = 4
    slot = 2 * width  # one peak per slot, at a random offset inside it
    sizes = chromosome_sizes(int(1.5 * n_peaks * slot) + n_chroms * slot, n_chroms)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    per_chrom = np.floor(sizes / sizes.sum() * n_peaks).astype(int)
    per_chrom[0] += n_peaks - per_chrom.sum()
    chroms, starts = [], []
    for k, (size, count) in enumerate(zip(sizes, per_chrom, strict=True)):
        slots = rng.choice(size // slot - 1, size=count, replace=False)
        chroms += [f"chr{k + 1}"] * count
        starts.append(np.sort(slots) * slot + rng.integers(0, width, count))
    starts = np.concatenate(starts)
    chrom_index = np.array([int(c[3:]) - 1 for c in chroms])
    promoters = rng.random(n_peaks) < 0.05
    tss_global = offsets[chrom_index[promoters]] + starts[promoters] + width // 2
    sequence = background_sequence(sizes, tss_global, rng)
    names = [f"chr{k + 1}" for k in range(n_chroms)]
    path = write_fasta(folder / "genome.fa", sequence, names, offsets, sizes)
    return Genome(path), np.array(chroms), starts, starts + width


def baseline(sequences: list[str], model) -> tuple[float, float, int]:
    """Single-process MOODS scan reading every hit: (total seconds, scan seconds, hits).

    The total includes building the scanner (``set_motifs``), as scget's time does.
    """
    import MOODS.scan

    begin = time.perf_counter()
    scanner = MOODS.scan.Scanner(7)
    scanner.set_motifs(model.log_odds, model.background, model.thresholds)
    in_scan, n_hits = 0.0, 0
    for sequence in sequences:
        tick = time.perf_counter()
        results = scanner.scan(sequence)
        in_scan += time.perf_counter() - tick
        for hits in results:
            for hit in hits:
                n_hits += 1
                _ = (hit.pos, hit.score)
    return time.perf_counter() - begin, in_scan, n_hits


def cpu_seconds() -> np.ndarray:
    """CPU seconds of this process and of its finished children (workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return np.array([own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime])


def run(name, motifs, genome, chroms, starts, ends, args) -> None:
    from scget.motifs._scan import CHUNK_SIZE, build_scan_model, score_sequences

    megabases = float((ends - starts).sum()) / 1e6
    tick = time.perf_counter()
    model = build_scan_model(motifs, pvalue=1e-4)
    setup = time.perf_counter() - tick
    sequences = genome.fetch_many(chroms, starts, ends)
    cpu = cpu_seconds()
    total, in_scan, n_hits = baseline(sequences, model)
    baseline_cpu = (cpu_seconds() - cpu).sum()
    tasks = [
        (genome, chroms[i : i + CHUNK_SIZE], starts[i : i + CHUNK_SIZE], ends[i : i + CHUNK_SIZE])
        for i in range(0, len(starts), CHUNK_SIZE)
    ]
    timings = {}
    for jobs in ([1] if args.serial else []) + [args.jobs]:
        tick, cpu = time.perf_counter(), cpu_seconds()
        scores = score_sequences(tasks, len(starts), model, n_jobs=jobs)
        timings[jobs] = (time.perf_counter() - tick, cpu_seconds() - cpu)
    print(
        f"\n{name}: {len(motifs)} PWMs ({2 * len(motifs)} matrices with reverse complements), "
        f"{len(motifs.clusters)} clusters; {len(starts)} peaks, {megabases:.1f} Mbp; "
        f"{n_hits / len(starts):.0f} hits per peak; non-zero scores {np.mean(scores > 0):.1%}"
    )
    print(f"  thresholds and log odds (excluded): {setup:.1f} s")
    print(f"  baseline MOODS, 1 process: {total:.1f} s = {megabases / total:.3f} Mbp/s ", end="")
    print(f"(Scanner.scan alone {in_scan:.1f} s = {megabases / in_scan:.3f} Mbp/s), ", end="")
    print(f"CPU {baseline_cpu:.1f} s")
    for jobs, (seconds, (own, workers)) in timings.items():
        # on dedicated cores: this process's serial part, then the workers' share in parallel
        dedicated = own + workers / jobs
        print(
            f"  scget, {jobs} process(es): {seconds:.1f} s = {megabases / seconds:.3f} Mbp/s; "
            f"x{total / seconds:.2f} the baseline, x{in_scan / seconds:.2f} its Scanner.scan time; "
            f"CPU {own:.1f} s main + {workers:.1f} s workers"
        )
        if jobs > 1:
            print(
                f"    dedicated-core estimate (main CPU + worker CPU / {jobs}): {dedicated:.1f} s "
                f"= {megabases / dedicated:.3f} Mbp/s, x{baseline_cpu / dedicated:.2f} the "
                f"baseline's CPU time"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--peaks", type=int, default=20_000)
    parser.add_argument("--width", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--vierstra", type=Path, default=SHARED, help="folder of the Vierstra v1.0 files"
    )
    parser.add_argument("--serial", action="store_true", help="also time scget with 1 process")
    parser.add_argument("--collections", default="jaspar,vierstra")
    args = parser.parse_args()

    import scget
    from scget.motifs import load_jaspar, vierstra_archetypes

    scget.settings.verbosity = 1
    print(f"CPUs available: {len(os.sched_getaffinity(0))}; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        tick = time.perf_counter()
        genome, chroms, starts, ends = make_genome(Path(tmp), args.peaks, args.width, args.seed)
        size = sum(genome.chrom_sizes.values()) / 1e6
        print(f"genome {size:.0f} Mbp written in {time.perf_counter() - tick:.0f} s")
        wanted = args.collections.split(",")
        if "jaspar" in wanted:
            run("JASPAR 2024 CORE vertebrates", load_jaspar(), genome, chroms, starts, ends, args)
        if "vierstra" in wanted:
            if args.vierstra.is_dir():
                run(
                    "Vierstra archetypes v1.0",
                    vierstra_archetypes(args.vierstra),
                    genome,
                    chroms,
                    starts,
                    ends,
                    args,
                )
            else:
                print(
                    f"\nVierstra files not found in {args.vierstra}; skipped (pass --vierstra DIR)."
                )
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
