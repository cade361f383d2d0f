"""Differential regulation on simulated designs whose changed (TF, cell type) pairs are known.

One two-condition design (3 samples per condition, 4 cell types, 3 TFs shifted per cell
type, ``ConditionDesign()``'s defaults) and null designs (``n_changed=0``) over several
seeds. For each: simulate, pseudobulk per sample and cell type, scan motifs, annotate TSSs,
fine-tune GET (``--epochs``), gene-by-motif on every pseudobulk, then
:func:`scget.tl.differential_regulation` on ``gene_by_motif`` and, as the model-free
reference, on ``accessibility``. Printed, per score:

- the design: AUROC of -log10(p) for changed against unchanged (simulated TF, cell type)
  pairs; the changed pairs called at BH 0.05 and the share whose effect has the planted
  direction (the TF's regulatory output: the activity shift times +1 for an activator,
  -1 for a repressor), split by the TF's role; calls among the motif clusters that no
  simulated TF uses (false by construction);
- the null designs: the share of tests called at BH 0.05 per seed and over all seeds,
  and a Kolmogorov-Smirnov test of the p-values against the uniform;
- the wall time of the whole design run (simulation to table) and the machine load.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/differential.py --cache /tmp/scget_differential
    OMP_NUM_THREADS=1 python benchmarks/differential.py --null-seeds 0 1 2 3 4 --epochs 6
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import time
from pathlib import Path

import mudata
import numpy as np
import pandas as pd
import torch
from scipy import stats
from sklearn.metrics import roc_auc_score

import scget
from scget._shared.utils import mudata_update_quietly

SOURCES = ("gene_by_motif", "accessibility")
SIZE = {"n_cells": 6000, "n_cell_types": 4, "n_genes": 1000}


def run_design(
    cache: Path, *, seed: int, n_changed: int, epochs: int, with_model: bool = True
) -> dict:
    """Simulate one design and test it; tables and timings cached under ``cache``.

    Without ``with_model`` only the accessibility score is tested (no training).
    """
    name = f"{'design' if n_changed else 'null'}_seed{seed}"
    out = cache / name
    sources = SOURCES if with_model else ("accessibility",)
    record = out / "timing.json"
    timing = json.loads(record.read_text()) if record.exists() else {}
    if all((out / f"{source}.csv").exists() for source in sources):
        return {**timing, "tables": _read_tables(out, sources), "out": out}
    out.mkdir(parents=True, exist_ok=True)
    clock = _Clock()
    prepared = out / "pb.h5mu"
    if prepared.exists():
        with mudata_update_quietly():
            pb = mudata.read_h5mu(prepared)
    else:
        design = scget.datasets.ConditionDesign(n_samples=3, n_changed=n_changed)
        mdata = scget.datasets.simulate_multiome(
            **SIZE, design=design, seed=seed, path=cache / f"{name}_files"
        )
        truth = mdata.uns["simulation"]
        pb = scget.pp.pseudobulk(mdata, groupby="cell_type", sample="sample", min_cells=50)
        scget.pp.scan_motifs(pb, genome=truth["genome"])
        scget.pp.annotate_tss(pb, gtf=truth["gtf"])
        truth["differential"].to_csv(out / "truth.csv", index=False)
        truth["tfs"].to_csv(out / "tfs.csv", index=False)
        timing["prepare"] = clock.lap()
        scget.tl.differential_regulation(pb, "condition", on="accessibility").to_csv(
            out / "accessibility.csv", index=False
        )
        timing["test_accessibility"] = clock.lap()
        pb.write_h5mu(prepared)
        clock.lap()  # writing the cache is not part of the test
    if with_model:
        model = scget.tl.finetune(pb, max_epochs=epochs)
        timing["finetune"] = clock.lap()
        timing["epochs_run"] = len(scget.get.history(pb))
        scget.tl.gene_by_motif(pb, model)
        scget.tl.differential_regulation(pb, "condition").to_csv(
            out / "gene_by_motif.csv", index=False
        )
        timing["gene_by_motif_and_test"] = clock.lap()
    timing["n_pseudobulks"] = pb.n_obs
    timing["load"] = os.getloadavg()
    record.write_text(json.dumps(timing))
    return {**timing, "tables": _read_tables(out, sources), "out": out}


class _Clock:
    """Wall and CPU seconds (this process and its children) since the last lap."""

    def __init__(self) -> None:
        self.last = self._now()

    @staticmethod
    def _now() -> tuple[float, float]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
        return time.perf_counter(), cpu

    def lap(self) -> list[float]:
        now = self._now()
        elapsed = [now[0] - self.last[0], now[1] - self.last[1]]
        self.last = now
        return elapsed


def _read_tables(out: Path, sources) -> dict:
    return {source: pd.read_csv(out / f"{source}.csv") for source in sources}


def recovery(run: dict) -> pd.DataFrame:
    """Per score: AUROC, calls and direction on the simulated (TF, cell type) pairs."""
    truth = pd.read_csv(run["out"] / "truth.csv")
    tfs = pd.read_csv(run["out"] / "tfs.csv").set_index("motif")
    truth["output"] = np.sign(truth["shift"]) * np.where(
        tfs.loc[truth["motif"], "role"].to_numpy() == "activator", 1.0, -1.0
    )
    truth["role"] = tfs.loc[truth["motif"], "role"].to_numpy()
    rows = {}
    for source, table in run["tables"].items():
        merged = truth.merge(
            table, left_on=["cell_type", "motif"], right_on=["group", "source"], how="left"
        )
        score = -np.log10(merged["pvalue"].fillna(1.0).clip(lower=1e-300))
        called = merged["padj"] < 0.05
        hits = merged[called & merged["changed"]]
        right = np.sign(hits["effect"]) == hits["output"]
        other = table[~table["source"].isin(tfs.index)]
        rows[source] = {
            "AUROC": roc_auc_score(merged["changed"], score),
            "changed called": f"{len(hits)}/{int(merged['changed'].sum())}",
            "direction right": right.mean() if len(hits) else np.nan,
            "activators right": _share(right[hits["role"] == "activator"]),
            "repressors right": _share(right[hits["role"] == "repressor"]),
            "unchanged TFs called": f"{int((called & ~merged['changed']).sum())}/"
            f"{int((~merged['changed']).sum())}",
            "other motifs called": f"{int((other['padj'] < 0.05).sum())}/{len(other)}",
        }
    return pd.DataFrame(rows).T


def _share(values: pd.Series) -> str:
    return f"{int(values.sum())}/{len(values)}" if len(values) else "0/0"


def calibration(runs: list[dict]) -> pd.DataFrame:
    """Per score: the share of null tests called per seed and overall, and the KS test."""
    rows = {}
    for source in SOURCES:
        tables = [run["tables"][source] for run in runs if source in run["tables"]]
        if not tables:
            continue
        pvalues = np.concatenate([t["pvalue"].dropna().to_numpy() for t in tables])
        called = [float((t["padj"] < 0.05).mean()) for t in tables]
        rows[source] = {
            "seeds": len(tables),
            "called per seed": " ".join(f"{c:.3f}" for c in called),
            "called overall": float(np.mean(called)),
            "tests": len(pvalues),
            "KS p (uniform)": stats.kstest(pvalues, "uniform").pvalue,
            "p < 0.05": float((pvalues < 0.05).mean()),
            "histogram (10 bins)": " ".join(
                map(str, np.histogram(pvalues, bins=10, range=(0, 1))[0])
            ),
        }
    return pd.DataFrame(rows).T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/scget_differential"))
    parser.add_argument("--seed", type=int, default=0, help="seed of the changed design")
    parser.add_argument("--null-seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--model-null-seeds",
        type=int,
        nargs="*",
        default=None,
        help="null seeds also tested with GET (default: all --null-seeds)",
    )
    parser.add_argument("--epochs", type=int, default=6, help="fine-tuning epochs (at most)")
    args = parser.parse_args()
    model_seeds = args.null_seeds if args.model_null_seeds is None else args.model_null_seeds
    torch.set_num_threads(1)
    scget.settings.verbosity = 1
    logging.getLogger("scget").setLevel(logging.WARNING)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 20)

    design = run_design(args.cache, seed=args.seed, n_changed=3, epochs=args.epochs)
    steps = ("prepare", "test_accessibility", "finetune", "gene_by_motif_and_test")
    wall, cpu = (sum(design[step][i] for step in steps) for i in (0, 1))
    print(
        f"Design (seed {args.seed}): {design['n_pseudobulks']} pseudobulks, "
        f"{design['epochs_run']} epochs. Whole test (simulation to both tables): "
        f"{wall:.0f} s wall, {cpu:.0f} CPU s; "
        + ", ".join(f"{step} {design[step][0]:.0f}/{design[step][1]:.0f}" for step in steps)
        + f" (wall/CPU s); load average {', '.join(f'{x:.1f}' for x in design['load'])}"
    )
    print(recovery(design).to_string(), flush=True)
    nulls = {}
    for seed in args.null_seeds:  # the model-free score first: it is cheap
        nulls[seed] = run_design(args.cache, seed=seed, n_changed=0, epochs=0, with_model=False)
        print(f"null seed {seed}: accessibility done", flush=True)
    for seed in model_seeds:
        nulls[seed] = run_design(args.cache, seed=seed, n_changed=0, epochs=args.epochs)
        print(f"null seed {seed}: gene_by_motif done", flush=True)
    nulls = list(nulls.values())
    if nulls:
        print(f"Null designs (seeds {args.null_seeds}; GET on {model_seeds}), BH 0.05:")
        print(calibration(nulls).to_string())


if __name__ == "__main__":
    main()
