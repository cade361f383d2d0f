"""Scaling of the scget pipeline: wall time and peak memory of every step, at several sizes.

Each size runs in a fresh Python process the steps of ``scget demo`` (``src/scget/_cli/demo.py``),
in its order and with its calls, on a simulated multiome of that size, plus three steps
the demo does not take (marked * below):

1. ``scget.datasets.simulate_multiome`` writing its genome, GTF and fragments files into
   a new folder (so they are written, never reused from the cache);
2. * writing the cells' MuData to ``.h5mu`` and 3. * reading it back with
   ``mudata.read_h5mu`` (what a user starting from a saved multiome pays; the demo takes
   the simulated MuData from memory). The pipeline goes on with the MuData read back;
4. ``scget.pp.pseudobulk`` (``groupby="cell_type"``, the demo's ``min_cells``);
5. ``scget.pp.scan_motifs`` on the simulated genome (the demo's motif setting: the
   default JASPAR clusters and p-value, ``scget.settings.n_jobs`` workers: all cores);
6. ``scget.pp.annotate_tss`` with the simulated GTF;
7. ``scget.tl.pretrain`` and 8. ``scget.tl.finetune`` with the demo's split (the last
   chromosome held out, and for fine-tuning the last group) and options, but a fixed
   ``max_epochs`` (``--epochs``) and ``patience=None``, so that every size trains the
   same number of epochs. Their windows per epoch (training and validation) and the
   set-up time before the first epoch are read from scget's log; the time per epoch is
   the rest of the step divided by the epochs;
9. ``scget.tl.predict`` (its default tiled windows; their number is counted after the
   run, as ``benchmarks/predict_speed.py`` counts them);
10. ``scget.tl.evaluate`` against the baselines;
11. writing the checkpoint and the pseudobulk ``.h5mu``, as the demo does;
12. * ``scget.tl.gene_by_motif`` on ``--gbm-genes`` genes (a fixed draw among genes with a
    TSS peak), all groups; its promoter windows are counted after the run.

Per step: wall time; CPU time (this process and its finished worker processes); the
resident memory before the step and the step's own peak (Linux: the process's
high-water mark ``VmHWM``, reset before each step through ``/proc/self/clear_refs``;
where the reset is refused, the highest resident memory sampled every 50 ms) and their
difference; the growth of the process's high-water mark over the step (``ru_maxrss``
before and after; since resetting ``VmHWM`` resets ``ru_maxrss`` too, it is then kept as
the running maximum of the steps' peaks); the summed proportional memory (PSS) of
worker processes, sampled every 50 ms (the motif scan's ``ProcessPoolExecutor``); with
CUDA, torch's peak allocated GPU memory. The machine's 1-minute load average at the end
of each step is printed beside it: on a shared machine, wall times depend on what else
runs. Training that starts a process's first torch work (pretraining) also pays torch's
one-off start-up in its first epoch, which matters at the smallest sizes only.

Sizes are named (``--list`` shows them) or given as ``NAME:key=value,...`` (overrides of
``simulate_multiome``'s arguments and ``min_cells``). ``SIZE-genes``, ``-peaks``,
``-groups`` and ``-cells`` double one axis of ``small`` or ``medium``; for every two
sizes that differ in exactly one of cells, cell types, genes and peaks the script prints
the growth exponent of each step (log ratio of times over log ratio of the axis; for
cell types the groups actually kept by ``pseudobulk``). ``simulate_multiome`` sizes its
genome with the genes (7.5 kbp per gene), so the ``-genes`` sizes also simulate a
longer genome; its default sequencing depths (2 UMIs per gene, at most 3,000; one
fragment per peak, at most 5,000) are at their caps from ``small`` on.

Each size's scratch files (the simulation, the ``.h5mu`` files, the checkpoint) go to a
temporary folder under ``--workdir``, removed when the size is done (their sizes are
printed); scget's log and progress bars go to a file there, whose end is printed if
the size fails. ``--cold`` gives each size an empty ``scget.settings.cachedir`` (the
JASPAR collection and the motif thresholds are then built in the simulate and scan
steps, as in a new installation); by default the user's cache is used, as in a repeated
session. ``--out FILE.csv`` writes one row per size and step and ``FILE.json``;
``--merge`` prints the tables of earlier runs' ``.json`` files together (for sizes run
at different times, e.g. ``realistic`` alone).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/scaling.py --sizes tiny       # a smoke test
    python benchmarks/scaling.py --sizes small medium realistic --out scaling.csv
    python benchmarks/scaling.py --sizes small small-genes small-peaks small-groups
    python benchmarks/scaling.py --sizes "small:n_genes=3000,n_peaks=15000" --epochs 1
    python benchmarks/scaling.py --merge ladder.json axes.json --out all.csv
"""

from __future__ import annotations

import argparse
import csv
import gc
import inspect
import json
import logging
import math
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

from simulate import SIZES as SIMULATION_SIZES  # benchmarks/simulate.py

from scget._shared.utils import mudata_update_quietly

REALISTIC = SIMULATION_SIZES["realistic"]

#: Named sizes: ``simulate_multiome`` arguments and the pseudobulk's ``min_cells``
#: (the demo's: 20 for its tiny size, 50 otherwise). The ladder keeps the realistic
#: size's chromosomes and TFs.
SIZES: dict[str, dict] = {
    "tiny": {**SIMULATION_SIZES["tiny"], "min_cells": 20},
    "small": {
        **REALISTIC,
        "n_cells": 1_000,
        "n_cell_types": 4,
        "n_genes": 2_000,
        "n_peaks": 10_000,
        "min_cells": 50,
    },
    "medium": {
        **REALISTIC,
        "n_cells": 4_000,
        "n_cell_types": 8,
        "n_genes": 6_000,
        "n_peaks": 30_000,
        "min_cells": 50,
    },
    "realistic": {**REALISTIC, "min_cells": 50},
}
#: One-axis variants: the axis doubled, everything else as in the base size.
AXES = {"cells": "n_cells", "groups": "n_cell_types", "genes": "n_genes", "peaks": "n_peaks"}
#: simulate_multiome's default genome (7,500 bp per gene) holds only about 1.2x a base
#: size's peaks without overlaps, so the peaks variants double the genome with the peaks.
for _base in ("small", "medium"):
    for _axis, _key in AXES.items():
        SIZES[f"{_base}-{_axis}"] = {**SIZES[_base], _key: 2 * SIZES[_base][_key]}
    SIZES[f"{_base}-peaks"]["genome_size"] = 2 * 7_500 * SIZES[_base]["n_genes"]

TRAINING = ("pretrain", "finetune")
WINDOWS_LOG = re.compile(r"(\d+) training windows .*?(\d+) validation windows")
MIB = 2**20


# ---------------------------------------------------------------------------------------
# measuring one step (in the child process)


def _status_kib(field: str, pid: str = "self") -> float | None:
    """A ``kB`` field of ``/proc/PID/status`` (``None`` where unreadable)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset this process's ``VmHWM`` to its current RSS (Linux >= 4.0); whether it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def _children() -> list[str]:
    """Process ids of this process's children (every thread's)."""
    pids: list[str] = []
    try:
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children") as handle:
                pids += handle.read().split()
    except OSError:
        pass
    return pids


def _pss_kib(pid: str) -> float:
    """Proportional set size of a process (its RSS where PSS is unreadable), 0 if gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return float(line.split()[1])
    except OSError:
        pass
    return _status_kib("VmRSS", pid) or 0.0


def _maxrss_mib() -> float:
    """``ru_maxrss`` of this process in MiB (kB on Linux, bytes on macOS)."""
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value / MIB if sys.platform == "darwin" else value / 1024


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class _Sampler(threading.Thread):
    """Every ``interval`` s: this process's RSS and the summed PSS of its children (kB)."""

    def __init__(self, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.own_peak = _status_kib("VmRSS") or 0.0
        self.workers_peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self.own_peak = max(self.own_peak, _status_kib("VmRSS") or 0.0)
            pids = _children()
            if pids:
                self.workers_peak = max(self.workers_peak, sum(_pss_kib(p) for p in pids))


class _LogRecords(logging.Handler):
    """Keeps (time, message) of scget's log records (the window counts of training)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.created, record.getMessage()))


class Meter:
    """Wall time, CPU time and memory of each step of one pipeline run (this process)."""

    def __init__(self, cuda: bool = False) -> None:
        self.rows: list[dict] = []
        self.log = _LogRecords()
        self.cuda = cuda
        # the process's high-water mark: ru_maxrss, and after VmHWM resets (which reset
        # ru_maxrss too) the running maximum of the steps' peaks
        self.high_water = _maxrss_mib()
        logging.getLogger("scget").addHandler(self.log)

    @contextmanager
    def step(self, name: str):
        """Measure the body as step ``name``; yields its row, to which the body adds."""
        gc.collect()
        row: dict = {"step": name}
        before, high_water = (_status_kib("VmRSS") or 0.0) / 1024, self.high_water
        reset = _reset_peak()
        if self.cuda:
            import torch

            torch.cuda.reset_peak_memory_stats()
        cpu, epoch, first_record = _cpu_seconds(), time.time(), len(self.log.records)
        sampler = _Sampler()
        sampler.start()
        start = time.perf_counter()
        try:
            yield row
        finally:
            seconds = time.perf_counter() - start
            sampler.done.set()
            sampler.join()
        hwm = _status_kib("VmHWM") if reset else None
        if hwm is None:  # no reset: the highest sampled RSS
            hwm_source, hwm = "sampled", max(sampler.own_peak, _status_kib("VmRSS") or 0.0)
        else:
            hwm_source = "VmHWM"
        peak = hwm / 1024
        self.high_water = max(high_water, peak) if reset else _maxrss_mib()
        row.update(
            seconds=seconds,
            cpu_seconds=_cpu_seconds() - cpu,
            rss_before_mib=before,
            peak_mib=peak,
            increase_mib=peak - before,
            maxrss_mib=self.high_water,
            maxrss_increase_mib=self.high_water - high_water,
            workers_peak_mib=sampler.workers_peak / 1024,
            load=os.getloadavg()[0],
            peak_method=hwm_source,
        )
        if self.cuda:
            import torch

            row["gpu_peak_mib"] = torch.cuda.max_memory_allocated() / MIB
        row["_log"] = [(t - epoch, m) for t, m in self.log.records[first_record:]]
        self.rows.append(row)
        print(f"  {name}: {seconds:.1f} s, peak {peak:,.0f} MiB", flush=True)


def _training_figures(row: dict, epochs: int) -> None:
    """Windows per epoch, set-up time and time per epoch of a training step, from its log."""
    for offset, message in row["_log"]:
        match = WINDOWS_LOG.search(message)
        if match:
            train, valid = (int(x) for x in match.groups())
            per_epoch = (row["seconds"] - offset) / epochs
            row.update(
                epochs=epochs,
                train_windows=train,
                valid_windows=valid,
                setup_seconds=offset,
                seconds_per_epoch=per_epoch,
                rate=(train + valid) / per_epoch,
                rate_unit="windows/s (training + validation)",
                work=f"{epochs} epoch{'s' * (epochs != 1)} x {train:,} training + "
                f"{valid:,} validation windows",
            )
            return
    row["work"] = f"{epochs} epochs (window counts not found in the log)"


# ---------------------------------------------------------------------------------------
# one size (child process)


def _promoter_windows(pb, model, genes: list[str]) -> int:
    """Promoter windows ``gene_by_motif`` runs for ``genes`` in all groups."""
    from scget.tl._core._promoters import promoters

    chosen = promoters(
        pb, model, genes=genes, groups=None, rna="rna", atac="atac", motif_key="motif_scores"
    )
    return len(chosen.table)


def _file_mib(*paths) -> float:
    """Total size of files (the files of folders included), MiB."""
    total = 0
    for path in map(Path, paths):
        files = path.rglob("*") if path.is_dir() else [path]
        total += sum(f.stat().st_size for f in files if f.is_file())
    return total / MIB


def run_size(job: dict) -> dict:
    """Run the pipeline at one size in this process; return its rows and facts."""
    import mudata
    import numpy as np
    import torch

    import scget
    from scget._shared.genomic import chromosome_sort_key, peak_coordinates
    from scget._shared.utils import resolve_device

    warnings.filterwarnings("ignore", category=FutureWarning)
    spec = dict(job["spec"])
    min_cells = spec.pop("min_cells")
    epochs, seed, device = job["epochs"], job["seed"], job["device"]
    work = Path(job["workdir"])
    if job["cold"]:
        scget.settings.cachedir = work / "cache"
    cuda = torch.cuda.is_available()
    if cuda:  # the context's host memory, before the first step
        torch.cuda.init()
        torch.zeros(1, device="cuda")
    meter = Meter(cuda)
    facts = {
        "torch_threads": torch.get_num_threads(),
        "device": str(resolve_device(device)),
        "cachedir": str(scget.settings.cachedir),
    }
    print(f"size {job['label']}: {spec}, min_cells {min_cells}", flush=True)

    with meter.step("simulate") as row:
        mdata = scget.datasets.simulate_multiome(**spec, seed=seed, path=work / "simulation")
    row["work"] = f"{mdata.n_obs:,} cells; files {_file_mib(work / 'simulation'):,.0f} MiB written"
    cells_file = work / "cells.h5mu"
    with meter.step("write cells .h5mu*") as row:
        mdata.write_h5mu(cells_file)
    row["work"] = f"{_file_mib(cells_file):,.0f} MiB"
    del mdata
    with meter.step("read cells .h5mu*") as row:
        with mudata_update_quietly():
            mdata = mudata.read_h5mu(cells_file)
    row["work"] = f"{_file_mib(cells_file):,.0f} MiB"
    files = mdata.uns["simulation"]

    with meter.step("pseudobulk") as row:
        pb = scget.pp.pseudobulk(mdata, groupby="cell_type", min_cells=min_cells)
    row.update(
        work=f"{mdata.n_obs:,} cells -> {pb.n_obs} groups",
        rate=mdata.n_obs / row["seconds"],
        rate_unit="cells/s",
    )
    facts.update(
        n_groups=pb.n_obs, n_genes=pb["rna"].n_vars, n_peaks=pb["atac"].n_vars, n_cells=mdata.n_obs
    )

    with meter.step("scan_motifs") as row:
        scget.pp.scan_motifs(pb, genome=files["genome"])
    n_peaks = pb["atac"].n_vars
    row.update(
        work=f"{n_peaks:,} peaks x {pb['atac'].varm['motif_scores'].shape[1]} motif clusters",
        rate=n_peaks / row["seconds"],
        rate_unit="peaks/s",
    )
    with meter.step("annotate_tss") as row:
        scget.pp.annotate_tss(pb, gtf=files["gtf"])
    row["work"] = f"{pb['rna'].n_vars:,} genes"

    # the demo's split: the last chromosome, and for fine-tuning the last group, held out
    groups = list(pb.obs_names)
    chromosomes = sorted(set(peak_coordinates(pb["atac"])["chrom"]), key=chromosome_sort_key)
    bounded = {"max_epochs": epochs, "patience": None}
    with meter.step("pretrain") as row:
        pretrained = scget.tl.pretrain(
            pb, leave_out_chromosomes=[chromosomes[-1]], device=device, seed=seed, **bounded
        )
    _training_figures(row, len(pretrained.history))
    with meter.step("finetune") as row:
        model = scget.tl.finetune(
            pb,
            model=pretrained,
            leave_out_chromosomes=[chromosomes[-1]],
            leave_out_groups=[groups[-1]],
            device=device,
            seed=seed,
            **bounded,
        )
    _training_figures(row, len(model.history))
    with meter.step("predict") as predict_row:
        scget.tl.predict(pb, model)
    n_windows = scget.get.result(pb, "predict")["n_windows"]
    predict_row.update(
        work=f"{n_windows:,} windows ({pb.n_obs} groups)",
        rate=n_windows / predict_row["seconds"],
        rate_unit="windows/s",
    )
    with meter.step("evaluate") as row:
        table = scget.tl.evaluate(pb, model=model)
    row["work"] = f"{len(table)} scores ({table['method'].nunique()} methods)"
    with meter.step("write outputs") as row:
        model.save(work / "model")
        pb.write_h5mu(work / "pseudobulk.h5mu")
    row["work"] = f"{_file_mib(work / 'model', work / 'pseudobulk.h5mu'):,.1f} MiB"

    var = pb["rna"].var
    with_tss = var.index[var["tss_peaks"].fillna("").astype(str) != ""]
    genes = list(np.random.default_rng(seed).permutation(with_tss)[: job["gbm_genes"]])
    with meter.step("gene_by_motif*") as gbm_row:
        scget.tl.gene_by_motif(pb, model, genes=genes)

    # counted after every step, so that no step's memory figures include the counting
    n_windows = _promoter_windows(pb, model, genes)
    gbm_row.update(
        work=f"{len(genes)} of {len(with_tss):,} genes with a TSS peak x {pb.n_obs} groups: "
        f"{n_windows:,} promoter windows; {gbm_row['seconds'] / len(genes):.2f} s per gene",
        rate=n_windows / gbm_row["seconds"],
        rate_unit="windows/s",
    )
    for row in meter.rows:
        row.pop("_log")
    return {"label": job["label"], "spec": job["spec"], "facts": facts, "rows": meter.rows}


# ---------------------------------------------------------------------------------------
# reporting


def _number(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:,.{digits}f}"


def size_table(result: dict) -> str:
    """Markdown table of one size's steps."""
    gpu = any("gpu_peak_mib" in row for row in result["rows"])
    columns = ["step", "time (s)", "CPU (s)", "RSS before (MiB)", "step peak (MiB)"]
    columns += ["increase (MiB)", "ru_maxrss + (MiB)", "workers (MiB)"]
    columns += ["GPU peak (MiB)"] * gpu + ["load", "work", "rate"]
    lines = ["| " + " | ".join(columns) + " |", "| --- |" + " ---: |" * (len(columns) - 3)]
    lines[-1] += " --- | --- |"
    for row in result["rows"]:
        rate = f"{_number(row['rate'])} {row['rate_unit']}" if "rate" in row else ""
        if "seconds_per_epoch" in row:
            rate += f"; set-up {row['setup_seconds']:.1f} s, {row['seconds_per_epoch']:.1f} s/epoch"
        cells = [row["step"], _number(row["seconds"]), _number(row["cpu_seconds"])]
        cells += [_number(row[k], 0) for k in ("rss_before_mib", "peak_mib", "increase_mib")]
        cells.append(_number(row["maxrss_increase_mib"], 0))
        cells.append(_number(row["workers_peak_mib"], 0) if row["workers_peak_mib"] else "")
        cells += [_number(row.get("gpu_peak_mib"), 0)] * gpu
        cells += [f"{row['load']:.1f}", row.get("work", ""), rate]
        lines.append("| " + " | ".join(cells) + " |")
    total = sum(row["seconds"] for row in result["rows"])
    peak = max(row["peak_mib"] for row in result["rows"])
    ends = [""] * (len(columns) - 5)
    lines.append("| " + " | ".join(["**total**", _number(total), "", "", _number(peak, 0), *ends]))
    lines[-1] += " |"
    return "\n".join(lines)


def _describe(result: dict) -> str:
    facts, spec = result["facts"], result["spec"]
    return (
        f"{facts['n_cells']:,} cells, {spec['n_cell_types']} types -> {facts['n_groups']} "
        f"groups, {facts['n_genes']:,} genes, {facts['n_peaks']:,} peaks, "
        f"{spec.get('n_chromosomes', 4)} chromosomes, {spec.get('n_tfs', 16)} TFs"
    )


def _values(result: dict) -> dict[str, dict]:
    """Rows by step, with the training steps' time per epoch as rows of their own."""
    rows = {row["step"]: row for row in result["rows"]}
    for step in TRAINING:
        if "seconds_per_epoch" in rows.get(step, {}):
            row = rows[step]
            rows[f"{step} per epoch"] = {"seconds": row["seconds_per_epoch"], "peak_mib": None}
    return rows


def combined_tables(results: list[dict]) -> str:
    """Time and step peak of every step, one column per size."""
    labels = [r["label"] for r in results]
    head = "| step | " + " | ".join(labels) + " |\n| --- |" + " ---: |" * len(labels)
    values = [_values(r) for r in results]
    steps = [s for s in values[0] if all(s in v for v in values)]
    out = ["Sizes:", ""]
    out += [f"- {r['label']}: {_describe(r)}" for r in results]
    for title, key, digits in (("Wall time (s)", "seconds", 1), ("Step peak (MiB)", "peak_mib", 0)):
        out += ["", f"{title}:", "", head]
        for step in steps:
            if key == "peak_mib" and step.endswith("per epoch"):
                continue
            cells = " | ".join(_number(v[step][key], digits) for v in values)
            out.append(f"| {step} | {cells} |")
    return "\n".join(out)


def _axis_values(result: dict) -> dict[str, float]:
    """The four axes of a size as simulated (peaks: 5 per gene unless given)."""
    spec = result["spec"]
    return {
        "cells": spec["n_cells"],
        "groups": spec["n_cell_types"],
        "genes": spec["n_genes"],
        "peaks": spec.get("n_peaks") or 5 * spec["n_genes"],
    }


def growth_table(results: list[dict]) -> str | None:
    """Growth exponents of time and memory increase for sizes differing in one axis."""
    keys = {"n_cells", "n_cell_types", "n_genes", "n_peaks", "genome_size"}
    pairs = []
    for i, a in enumerate(results):
        for b in results[i + 1 :]:
            va, vb = _axis_values(a), _axis_values(b)
            differ = [axis for axis in va if va[axis] != vb[axis]]
            rest = {k for k in a["spec"] | b["spec"] if k not in keys}
            if len(differ) == 1 and all(a["spec"].get(k) == b["spec"].get(k) for k in rest):
                pairs.append((differ[0], a, b))
    if not pairs:
        return None

    def axis(result: dict, name: str) -> float:
        # as realised: the groups pseudobulk kept (cell types under min_cells are
        # dropped), the peaks the simulator fitted into its genome
        realised = {"groups": "n_groups", "peaks": "n_peaks"}
        if name in realised:
            return result["facts"][realised[name]]
        return _axis_values(result)[name]

    head = [
        "| step | "
        + " | ".join(f"{name}: {a['label']} -> {b['label']}" for name, a, b in pairs)
        + " |",
        "| --- |" + " ---: |" * len(pairs),
    ]
    values = {id(r): _values(r) for r in results}
    steps = [s for s in _values(results[0]) if all(s in v for v in values.values())]
    lines = [
        "Growth exponents k (time ~ axis^k; memory: the step's increase ~ axis^k, '-' where "
        "an increase is under 20 MiB):",
        "",
        *[
            f"- {name}: {axis(a, name):,.0f} -> {axis(b, name):,.0f} ({a['label']} -> {b['label']})"
            for name, a, b in pairs
        ],
        "",
        *head,
    ]
    for step in steps:
        cells = []
        for name, a, b in pairs:
            ratio = math.log(axis(b, name) / axis(a, name))
            ra, rb = values[id(a)][step], values[id(b)][step]
            if not ratio:  # e.g. more cell types, but no more groups kept
                cells.append("-")
                continue
            time_k = math.log(rb["seconds"] / ra["seconds"]) / ratio
            mem = "-"
            ma, mb = ra.get("increase_mib"), rb.get("increase_mib")
            if ma is not None and mb is not None and min(ma, mb) >= 20:
                mem = f"{math.log(mb / ma) / ratio:.2f}"
            cells.append(f"{time_k:.2f} / {mem}")
        lines.append(f"| {step} (time / memory) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_csv(results: list[dict], path: Path) -> None:
    """One row per size and step."""
    fields = [
        "size",
        "n_cells",
        "n_cell_types",
        "n_groups",
        "n_genes",
        "n_peaks",
        "n_chromosomes",
        "n_tfs",
        "torch_threads",
        "device",
        "step",
        "seconds",
        "cpu_seconds",
        "rss_before_mib",
        "peak_mib",
        "increase_mib",
        "maxrss_mib",
        "maxrss_increase_mib",
        "workers_peak_mib",
        "gpu_peak_mib",
        "peak_method",
        "load",
        "work",
        "rate",
        "rate_unit",
        "epochs",
        "train_windows",
        "valid_windows",
        "setup_seconds",
        "seconds_per_epoch",
    ]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for result in results:
            spec, facts = result["spec"], result["facts"]
            common = {
                "size": result["label"],
                "n_cells": facts["n_cells"],
                "n_cell_types": spec["n_cell_types"],
                "n_groups": facts["n_groups"],
                "n_genes": facts["n_genes"],
                "n_peaks": facts["n_peaks"],
                "n_chromosomes": spec.get("n_chromosomes", 4),
                "n_tfs": spec.get("n_tfs", 16),
                "torch_threads": facts["torch_threads"],
                "device": facts["device"],
            }
            for row in result["rows"]:
                writer.writerow({**common, **row})


# ---------------------------------------------------------------------------------------
# the driver (parent process)


def parse_size(text: str) -> tuple[str, dict]:
    """``NAME`` or ``NAME:key=value,...`` -> (label, simulate arguments and ``min_cells``)."""
    import scget

    name, _, overrides = text.partition(":")
    if name not in SIZES:
        raise SystemExit(f"unknown size {name!r}; --list shows them")
    spec = dict(SIZES[name])
    allowed = set(inspect.signature(scget.datasets.simulate_multiome).parameters) | {"min_cells"}
    allowed -= {"seed", "path", "motifs", "count_model"}
    for item in filter(None, overrides.split(",")):
        key, _, value = item.partition("=")
        if key not in allowed:
            raise SystemExit(f"{key!r} cannot be set; choose among {sorted(allowed)}")
        spec[key] = float(value) if "." in value or "e" in value else int(value)
    return text, spec


def header(args: argparse.Namespace) -> str:
    """The machine and settings, for the log."""
    import torch

    import scget

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"scget {scget.__version__}, torch {torch.__version__}, Python "
        f"{platform.python_version()}, {platform.machine()}\n"
        f"CPUs available: {cpus}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; "
        f"torch threads {torch.get_num_threads()}; CUDA {torch.cuda.is_available()}; "
        f"device {args.device}; load {os.getloadavg()[0]:.2f}\n"
        f"epochs {args.epochs} (pretrain and finetune), gene_by_motif on {args.gbm_genes} "
        f"genes, seed {args.seed}, {'cold (empty) cache' if args.cold else 'the user cache'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", nargs="+", default=["tiny"])
    parser.add_argument("--epochs", type=int, default=2, help="max_epochs of both trainings")
    parser.add_argument("--gbm-genes", type=int, default=100, help="genes for gene_by_motif")
    parser.add_argument("--device", default="auto", help="device of pretrain and finetune")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cold", action="store_true", help="an empty cache for each size")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch parent folder")
    parser.add_argument(
        "--out", type=Path, default=None, help="CSV of every size and step (and its .json)"
    )
    parser.add_argument(
        "--merge", nargs="+", type=Path, help="report the .json of earlier runs instead of running"
    )
    parser.add_argument("--list", action="store_true", help="print the named sizes and exit")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        job = json.loads(Path(args.child).read_text())
        result = run_size(job)
        print(f"\n## {result['label']}: {_describe(result)}\n\n{size_table(result)}\n")
        Path(job["result"]).write_text(json.dumps(result))
        return
    if args.list:
        for name, spec in SIZES.items():
            print(f"{name:16s} {spec}")
        return

    if args.merge:
        results = [r for path in args.merge for r in json.loads(Path(path).read_text())]
    else:
        results = run_sizes(args)
    if not results:
        raise SystemExit("no size finished")
    report(results, args.out)


def run_sizes(args: argparse.Namespace) -> list[dict]:
    """Run each size of ``args.sizes`` in a fresh process; the results of those that finished."""
    jobs = [parse_size(text) for text in args.sizes]
    machine = header(args)
    settings = {"epochs": args.epochs, "gbm_genes": args.gbm_genes, "seed": args.seed}
    settings |= {"device": args.device, "cold": args.cold}
    print(machine, flush=True)
    results = []
    for label, spec in jobs:
        with tempfile.TemporaryDirectory(dir=args.workdir, prefix="scget_scaling_") as tmp:
            job = {"label": label, "spec": spec, **settings, "workdir": tmp}
            job["result"] = str(Path(tmp) / "result.json")
            job_file = Path(tmp) / "job.json"
            job_file.write_text(json.dumps(job))
            log = Path(tmp) / "scget.log"
            start = time.perf_counter()
            with open(log, "w") as stderr:  # scget's log and progress bars
                done = subprocess.run(
                    [sys.executable, __file__, "--child", str(job_file)], stderr=stderr, check=False
                )
            seconds = time.perf_counter() - start
            if done.returncode != 0:
                tail = "".join(log.read_text().splitlines(keepends=True)[-30:])
                print(
                    f"{tail}\nsize {label} failed (exit status {done.returncode}) after "
                    f"{seconds:.0f} s; the end of its log is above"
                )
                continue
            result = json.loads(Path(job["result"]).read_text())
            results.append({**result, "machine": machine, "settings": settings})
            print(f"size {label}: {seconds:.0f} s in all (the process with its imports)")
    return results


def report(results: list[dict], out: Path | None) -> None:
    """Print the combined and growth tables; write the CSV and the JSON of ``results``."""
    print("\n# All sizes\n")
    for machine in dict.fromkeys(r["machine"] for r in results):
        labels = ", ".join(r["label"] for r in results if r["machine"] == machine)
        print(f"{labels}:\n{machine}\n")
    if len({json.dumps(r["settings"], sort_keys=True) for r in results}) > 1:
        print("NOTE: the sizes ran with different settings (epochs, genes, device, cache)\n")
    print(combined_tables(results))
    growth = growth_table(results)
    if growth:
        print("\n" + growth)
    if out:
        write_csv(results, out)
        out.with_suffix(".json").write_text(json.dumps(results, indent=1))
        print(f"\nwrote {out} and {out.with_suffix('.json')} (for --merge)")
    print(f"\nload {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
