"""Wall time and peak memory of ``scget.datasets.simulate_multiome`` at a chosen size.

Usage::

    python benchmarks/simulate.py --size tiny        # the issue's call (300 cells)
    python benchmarks/simulate.py --size default     # the demo's defaults
    python benchmarks/simulate.py --size realistic   # 10k cells, 16 types, 20k genes, 100k peaks

Prints the wall time, the peak resident memory of the process (``ru_maxrss``), the
data's shape and sparsity, and the sizes of the written files.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

SIZES = {
    "tiny": {"n_cells": 300, "n_cell_types": 4, "n_genes": 200},
    "default": {},
    "realistic": {
        "n_cells": 10_000,
        "n_cell_types": 16,
        "n_genes": 20_000,
        "n_peaks": 100_000,
        "n_chromosomes": 10,
        "n_tfs": 64,
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="folder for the files")
    args = parser.parse_args()

    import scget

    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        start = time.perf_counter()
        mdata = scget.datasets.simulate_multiome(**SIZES[args.size], seed=args.seed, path=out)
        seconds = time.perf_counter() - start
        peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        sim = mdata.uns["simulation"]
        params = sim["params"]
        print(f"size {args.size}: {params}")
        print(f"wall time      {seconds:8.1f} s")
        print(f"peak RSS       {peak_gib:8.2f} GiB")
        for mod in ("rna", "atac"):
            matrix = mdata[mod].X
            density = matrix.nnz / (matrix.shape[0] * matrix.shape[1])
            print(
                f"{mod:5s} {matrix.shape[0]:>7} x {matrix.shape[1]:<7} "
                f"nonzero {density:6.2%}  mean count per cell {matrix.sum() / matrix.shape[0]:9.1f}"
            )
        for key in ("genome", "gtf", "fragments"):
            print(f"{key:10s} {Path(sim[key]).stat().st_size / 2**20:9.1f} MiB")
        print(
            f"truth: {len(sim['drivers'])} drivers, {len(sim['links'])} links, "
            f"{len(sim['interactions'])} interactions, {sim['tf_activity'].shape[1]} TFs"
        )


if __name__ == "__main__":
    main()
