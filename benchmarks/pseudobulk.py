"""Speed and memory of ``scget.pp.pseudobulk`` against ``scanpy.get.aggregate``.

A random sparse multiome (default 100,000 cells x 100,000 peaks, 2,000 non-zero counts
per cell, counts 1-4; RNA 100,000 cells x 200 genes, 100 non-zeros per cell; 20 cell
types) is summed per cell type:

1. in memory: ``scget.pp.pseudobulk`` (both modalities, with the accessibility score and
   log10 TPM) against ``scanpy.get.aggregate(atac, by="cell_type", func="sum")`` on the
   same ATAC matrix (best of ``--repeats``; the sums are checked to be equal);
2. backed: the MuData is written to a temporary ``.h5mu`` and, in a fresh process, read
   with ``backed=True`` and pseudobulked ``--chunk-size`` cells at a time. The peak
   resident memory of that process (``ru_maxrss``) is reported beside its memory after
   the imports and the size of the in-memory ATAC matrix.

The in-memory timing of ``pseudobulk`` includes its whole work (parsing peak names, both
modalities, normalisation, building the MuData); the time of its summing step alone
(``scget.pp._aggregate.sum_by_group`` on the ATAC matrix) is reported beside it. Peak
memory is the process's high-water mark (``VmHWM`` of ``/proc/self/status`` on Linux,
which unlike ``ru_maxrss`` is not inherited from the parent process).

Usage::

    python benchmarks/pseudobulk.py                         # 100k x 100k, 2k nnz per cell
    python benchmarks/pseudobulk.py --cells 20000 --nnz-per-cell 500   # a quick run
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from scget._shared.utils import mudata_update_quietly


def random_counts(n_rows: int, n_cols: int, nnz_per_row: int, rng, chunk: int = 10_000):
    """CSR float32 counts with ``nnz_per_row`` distinct columns per row, values 1-4."""
    indptr = np.arange(n_rows + 1, dtype=np.int64) * nnz_per_row
    indices = np.empty(n_rows * nnz_per_row, dtype=np.int32)
    data = np.empty(n_rows * nnz_per_row, dtype=np.float32)
    values, weights = np.array([1, 2, 3, 4], np.float32), [0.6, 0.25, 0.1, 0.05]
    for start in range(0, n_rows, chunk):
        stop = min(start + chunk, n_rows)
        draws = rng.integers(0, n_cols - nnz_per_row, size=(stop - start, nnz_per_row))
        draws.sort(axis=1)
        draws += np.arange(nnz_per_row)  # strictly increasing, hence distinct, columns
        block = slice(start * nnz_per_row, stop * nnz_per_row)
        indices[block] = draws.ravel()
        data[block] = rng.choice(values, p=weights, size=draws.size)
    return sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols))


def make_multiome(args):
    import anndata as ad
    import mudata as md

    rng = np.random.default_rng(args.seed)
    cells = pd.Index([f"cell{i}" for i in range(args.cells)])
    cell_type = pd.Categorical(rng.integers(0, args.groups, args.cells).astype(str))
    atac_var = pd.DataFrame(index=[f"chr1:{1000 * i}-{1000 * i + 500}" for i in range(args.peaks)])
    atac = ad.AnnData(
        random_counts(args.cells, args.peaks, args.nnz_per_cell, rng),
        obs=pd.DataFrame({"cell_type": cell_type}, index=cells),
        var=atac_var,
    )
    rna = ad.AnnData(
        random_counts(args.cells, args.genes, min(100, args.genes // 2), rng),
        obs=pd.DataFrame(index=cells),
        var=pd.DataFrame(index=[f"gene{i}" for i in range(args.genes)]),
    )
    mdata = md.MuData({"rna": rna, "atac": atac})
    mdata.obs["cell_type"] = cell_type
    return mdata


def best_time(function, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def in_memory(mdata, args) -> dict:
    import scanpy as sc

    import scget
    from scget.pp._aggregate import sum_by_group

    scget.settings.verbosity = 1
    codes = mdata["atac"].obs["cell_type"].cat.codes.to_numpy()
    n_groups = len(mdata["atac"].obs["cell_type"].cat.categories)
    sum_by_group(mdata["atac"].X[:10], codes[:10], n_groups, what="warm-up")  # compile
    t_sum, _ = best_time(
        lambda: sum_by_group(mdata["atac"].X, codes, n_groups, what="ATAC"), args.repeats
    )
    t_scget, pb = best_time(
        lambda: scget.pp.pseudobulk(mdata, "cell_type", min_cells=1), args.repeats
    )
    t_scanpy, aggregated = best_time(
        lambda: sc.get.aggregate(mdata["atac"], by="cell_type", func="sum"), args.repeats
    )
    expected = aggregated[pb.obs_names].layers["sum"]
    expected = expected.toarray() if sp.issparse(expected) else np.asarray(expected)
    assert np.array_equal(pb["atac"].layers["counts"], expected), "sums differ from scanpy"
    return {"scget_s": t_scget, "scget_sum_s": t_sum, "scanpy_atac_s": t_scanpy}


def high_water_kb() -> int:
    """Peak resident memory of this process (kB)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: kB; inherited


def backed_worker(path: str, chunk_size: int) -> None:
    """Run in a fresh process: pseudobulk a backed MuData, print time and memory (JSON)."""
    import mudata as md

    import scget

    scget.settings.verbosity = 1
    baseline = high_water_kb()
    start = time.perf_counter()
    with mudata_update_quietly():
        mdata = md.read_h5mu(path, backed=True)
    pb = scget.pp.pseudobulk(mdata, "cell_type", min_cells=1, chunk_size=chunk_size)
    elapsed = time.perf_counter() - start
    peak = high_water_kb()
    print(
        json.dumps(
            {"seconds": elapsed, "baseline_kb": baseline, "peak_kb": peak, "groups": pb.n_obs}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument("--peaks", type=int, default=100_000)
    parser.add_argument("--nnz-per-cell", type=int, default=2_000)
    parser.add_argument("--genes", type=int, default=200)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--chunk-size", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backed-worker", metavar="H5MU", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backed_worker:
        backed_worker(args.backed_worker, args.chunk_size)
        return

    import warnings

    warnings.simplefilter("ignore")  # mudata's FutureWarnings on update()
    start = time.perf_counter()
    mdata = make_multiome(args)
    matrix = mdata["atac"].X
    matrix_gb = (matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes) / 1e9
    print(
        f"ATAC {args.cells:,} cells x {args.peaks:,} peaks, {matrix.nnz:,} non-zeros "
        f"({matrix_gb:.2f} GB in memory); RNA {args.genes} genes; {args.groups} cell types "
        f"(made in {time.perf_counter() - start:.1f} s)"
    )
    timing = in_memory(mdata, args)
    print(
        f"in memory: scget.pp.pseudobulk (RNA + ATAC, normalised) {timing['scget_s']:.2f} s; "
        f"scanpy.get.aggregate (ATAC sum) {timing['scanpy_atac_s']:.2f} s; "
        f"ratio scget / scanpy = {timing['scget_s'] / timing['scanpy_atac_s']:.2f}"
    )
    print(
        f"summing step alone (ATAC): {timing['scget_sum_s']:.2f} s; ratio scget / scanpy = "
        f"{timing['scget_sum_s'] / timing['scanpy_atac_s']:.2f}"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cells.h5mu"
        start = time.perf_counter()
        mdata.write_h5mu(path)
        print(f"wrote {path.stat().st_size / 1e9:.2f} GB in {time.perf_counter() - start:.1f} s")
        del mdata, matrix
        command = [sys.executable, __file__, "--backed-worker", str(path)]
        command += ["--chunk-size", str(args.chunk_size)]
        report = json.loads(
            subprocess.run(command, capture_output=True, text=True, check=True).stdout
        )
    peak_gb, baseline_gb = report["peak_kb"] / 1e6, report["baseline_kb"] / 1e6
    print(
        f"backed (chunks of {args.chunk_size:,} cells): {report['seconds']:.2f} s; peak resident "
        f"memory {peak_gb:.2f} GB ({baseline_gb:.2f} GB after imports, so "
        f"{peak_gb - baseline_gb:.2f} GB for the work) vs {matrix_gb:.2f} GB for the ATAC "
        "matrix in memory"
    )


if __name__ == "__main__":
    main()
