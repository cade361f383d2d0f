"""Differential regulation on simulated designs whose changed (TF, cell type) pairs are known.

One two-condition design (3 samples per condition, 4 cell types, 3 TFs shifted per cell
type, ``ConditionDesign()``'s defaults) and null designs (``n_changed=0``) over several
seeds. For each: simulate, pseudobulk per sample and cell type, scan motifs, annotate TSSs,
fine-tune GET (``--epochs``; ``--models`` models of consecutive seeds, 3 by default as in
the tutorial, whose attributions are averaged), gene-by-motif on every pseudobulk, then
:func:`scget.tl.differential_regulation` on ``gene_by_motif`` and ``target_expression``
and, as the model-free references, on ``accessibility`` and on the expression of targets
chosen without a model (each motif's genes of largest score summed over the 200 peaks
nearest the TSS, weighted by accessibility / (distance + 1 kb), the interpretation
benchmark's rule of thumb). Printed, per score:

- the design: AUROC of -log10(p) for changed against unchanged (simulated TF, cell type)
  pairs; the changed pairs called at BH 0.05 and the share whose effect has the planted
  direction, split by the TF's role: the TF's regulatory output (the activity shift
  times +1 for an activator, -1 for a repressor) for accessibility, attributions and the
  rule of thumb's targets, its activity (the shift's sign) for GET's target expression,
  which signs each target by how the motif acts on it; calls among the motif clusters
  that no simulated TF uses (false by construction);
- with several ``--seeds``, per score over the designs: the AUROCs and their mean, the
  calls summed, and the paired AUROC difference from ``accessibility``;
- the null designs: the share of tests called at BH 0.05 per seed and over all seeds,
  and a Kolmogorov-Smirnov test of the p-values against the uniform;
- the wall time of the whole design run (simulation to table) and the machine load.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/differential.py --cache /tmp/scget_differential
    OMP_NUM_THREADS=1 python benchmarks/differential.py --seeds 0 1 2 3 4 --epochs 6
    OMP_NUM_THREADS=1 python benchmarks/differential.py --models 1   # one model, not three
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
import scipy.sparse
import torch
from scipy import stats
from sklearn.metrics import roc_auc_score

import scget
from scget._shared.utils import mudata_update_quietly
from scget.tl._networks._design import resolve_design
from scget.tl._networks._differential_regulation import _rows
from scget.tl._networks._linear_models import fit_contrasts
from scget.tl._networks._regulator_scores import relative_expression

MODEL_SOURCES = ("gene_by_motif", "target_expression")
SOURCES = (*MODEL_SOURCES, "accessibility", "rule_of_thumb_targets")
#: What a score's effect reads: the TF's ``"output"`` on its targets (activity shift x +1
#: for an activator, -1 for a repressor) or its ``"activity"`` (the shift's sign). GET's
#: target expression is signed by how the motif acts on each target, so it reads activity.
DIRECTION = {"target_expression": "activity"}
#: Peaks nearest the TSS (GET's window) and distance added (bp) in the rule of thumb.
WINDOW, CONTACT = 200, 1_000
SIZE = {"n_cells": 6000, "n_cell_types": 4, "n_genes": 1000}


def run_design(
    cache: Path,
    *,
    seed: int,
    n_changed: int,
    epochs: int,
    with_model: bool = True,
    n_targets: int = 100,
    extra: dict | None = None,
    n_models: int = 1,
) -> dict:
    """Simulate one design and test it; pseudobulks, attributions and timings cached.

    The tests run again on every call (seconds); simulation, preparation, fine-tuning and
    gene-by-motif run once per ``cache``. Without ``with_model`` only the model-free
    scores are tested (no training). ``n_targets`` is each motif's number of targets in
    the scores that have targets; ``extra`` are fine-tuning options beside the defaults
    (the model is cached per ``cache``: use another one for other options).
    ``n_models`` models are fine-tuned, with seeds ``extra["seed"]`` (0 by default) and
    the next ones, and gene-by-motif is their mean (an ensemble; cached apart from the
    single model's).
    """
    name = f"{'design' if n_changed else 'null'}_seed{seed}"
    out = cache / name
    out.mkdir(parents=True, exist_ok=True)
    ensemble = "" if n_models == 1 else f"_{n_models}models"
    record = out / f"timing{ensemble}.json"
    timing = json.loads(record.read_text()) if record.exists() else {}
    if ensemble and "prepare" not in timing and (out / "timing.json").exists():
        timing["prepare"] = json.loads((out / "timing.json").read_text())["prepare"]
    clock = _Clock()
    prepared, attributed = out / "pb.h5mu", out / f"attributed{ensemble}.h5mu"
    if with_model and attributed.exists():
        pb = _read(attributed)
    elif prepared.exists():
        pb = _read(prepared)
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
        pb.write_h5mu(prepared)
        clock.lap()  # writing the cache is not part of the test
    groups = replicated_groups(pb)
    tables = {
        "accessibility": scget.tl.differential_regulation(
            pb, "condition", on="accessibility", groups=groups
        )
    }
    timing["test_accessibility"] = clock.lap()
    tables["rule_of_thumb_targets"] = rule_of_thumb_targets(pb, groups, n_targets)
    clock.lap()  # a reference a user would not run
    if with_model:
        train = not attributed.exists()
        if train:
            options = {"max_epochs": epochs, **(extra or {})}
            first = options.pop("seed", 0)
            models = [
                scget.tl.finetune(pb, seed=first + number, **options) for number in range(n_models)
            ]
            timing["finetune"] = clock.lap()
            timing["epochs_run"] = len(scget.get.history(pb))
            scget.tl.gene_by_motif(pb, models)
        for source in MODEL_SOURCES:
            tables[source] = scget.tl.differential_regulation(
                pb, "condition", on=source, n_targets=n_targets, groups=groups
            )
        if train:
            timing["gene_by_motif_and_test"] = clock.lap()
            timing["load"] = os.getloadavg()
            pb.write_h5mu(attributed)
    timing["n_pseudobulks"] = pb.n_obs
    record.write_text(json.dumps(timing))
    for source, table in tables.items():
        table.to_csv(out / f"{source}.csv", index=False)
    return {**timing, "tables": tables, "out": out}


def _read(path: Path):
    with mudata_update_quietly():
        return mudata.read_h5mu(path)


def replicated_groups(pb) -> list[str]:
    """The cell types with 2 samples of each condition; the others are said and left out.

    With unequal cells per sample, a (sample, cell type) can fall below ``min_cells`` and
    lose its pseudobulk; such a cell type cannot be tested (``differential_regulation``
    refuses it), and its planted changes are left out of the truth that is scored.
    """
    counts = pb.obs.groupby(["cell_type", "condition"], observed=True)["sample"].nunique()
    counts = counts.unstack(fill_value=0)
    replicated = (counts >= 2).all(axis=1)
    if not replicated.all():
        print(
            "Left out, fewer than 2 samples of a condition (samples per condition): "
            f"{counts[~replicated].to_dict(orient='index')}"
        )
    return [str(group) for group in counts.index[replicated]]


def rule_of_thumb_targets(pb, groups: list[str], n_targets: int = 100) -> pd.DataFrame:
    """The ``target_expression`` test with each motif's targets chosen without a model.

    Per cell type, a gene's weight for a motif is the motif's score summed over the
    :data:`WINDOW` peaks nearest its TSS, each weighted by its accessibility (counts per
    million, mean over the cell type's pseudobulks) / (distance + :data:`CONTACT`); the
    ``n_targets`` genes of largest weight are the targets, their mean expression (minus
    the pseudobulk's mean over genes, as ``target_expression``) the score.
    """
    rna, atac = pb["rna"], pb["atac"]
    scores = atac.varm["motif_scores"]
    design = resolve_design(
        pb, "condition", reference=None, groups=groups, covariates=(), paired_by=None,
        mixed=False, weights=None,
    )  # fmt: skip
    counts = atac.layers["counts"]
    counts = counts.toarray() if hasattr(counts, "toarray") else np.asarray(counts)
    cpm = counts / counts.sum(axis=1, keepdims=True) * 1e6
    middle = ((atac.var["start"] + atac.var["end"]) // 2).to_numpy()
    rows, columns, contact = [], [], []  # each gene's window: its peaks, 1 / (distance + 1 kb)
    for chrom, genes in rna.var.groupby("chrom", observed=True):
        peaks = np.flatnonzero((atac.var["chrom"] == chrom).to_numpy())
        peaks = peaks[np.argsort(middle[peaks])]
        for gene, tss in genes["tss"].items():
            at = np.searchsorted(middle[peaks], tss)
            near = peaks[max(at - WINDOW // 2, 0) : at + WINDOW // 2]
            rows += [rna.var_names.get_loc(gene)] * len(near)
            columns += list(near)
            contact += list(1.0 / (np.abs(middle[near] - tss) + CONTACT))
    columns, contact = np.asarray(columns), np.asarray(contact)
    parts = []
    for group in design.groups:
        matrix = design.matrices[group]
        names = list(matrix.index)
        accessibility = cpm[atac.obs_names.get_indexer(names)].mean(axis=0)
        window = scipy.sparse.csr_matrix(
            (accessibility[columns] * contact, (rows, columns)), shape=(rna.n_vars, atac.n_vars)
        )
        strength = window @ scores.to_numpy()  # genes x motifs
        targets = np.argpartition(-strength, n_targets - 1, axis=0)[:n_targets]
        values = relative_expression(rna, names, rna.var_names)[:, targets].mean(axis=1)
        values = pd.DataFrame(values, index=names, columns=scores.columns)
        is_reference = (
            design.obs.loc[names, "condition"].astype(str) == design.reference
        ).to_numpy()
        mean_reference = values[is_reference].mean(axis=0).to_numpy()
        for contrast, fit in fit_contrasts(values, matrix, design.contrasts).items():
            parts.append(_rows(fit, group, f"{contrast}_vs_{design.reference}", mean_reference))
    return pd.concat(parts, ignore_index=True)


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


def recovery(run: dict) -> pd.DataFrame:
    """Per score: AUROC, calls and direction on the simulated (TF, cell type) pairs."""
    truth = pd.read_csv(run["out"] / "truth.csv")
    tested = set(next(iter(run["tables"].values()))["group"])
    truth = truth[truth["cell_type"].isin(tested)].reset_index(drop=True)
    tfs = pd.read_csv(run["out"] / "tfs.csv").set_index("motif")
    truth["activity"] = np.sign(truth["shift"])
    truth["output"] = truth["activity"] * np.where(
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
        right = np.sign(hits["effect"]) == hits[DIRECTION.get(source, "output")]
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


def across_designs(recoveries: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """Per score over the designs: AUROC per seed and its mean, calls summed, and the
    paired AUROC difference from ``accessibility`` (mean, and the seeds where it is higher).
    """
    seeds = list(recoveries)
    auroc = pd.DataFrame({seed: table["AUROC"].astype(float) for seed, table in recoveries.items()})
    difference = auroc - auroc.loc["accessibility"]
    summed = {
        column: [
            _summed_shares(recoveries[seed].loc[source, column] for seed in seeds)
            for source in auroc.index
        ]
        for column in ("changed called", "unchanged TFs called", "other motifs called")
    }
    return pd.DataFrame(
        {
            "AUROC per seed": [" ".join(f"{v:.3f}" for v in row) for row in auroc.to_numpy()],
            "mean AUROC": auroc.mean(axis=1).to_numpy(),
            "minus accessibility": difference.mean(axis=1).to_numpy(),
            "seeds higher": [
                f"{int((row > 0).sum())}/{len(seeds)}" for row in difference.to_numpy()
            ],
            **summed,
        },
        index=auroc.index,
    )


def _summed_shares(shares) -> str:
    """``"a/b"`` strings summed part by part: ``["1/2", "3/4"]`` -> ``"4/6"``."""
    called, total = np.sum([[int(part) for part in share.split("/")] for share in shares], axis=0)
    return f"{called}/{total}"


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
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0], help="seeds of the changed designs"
    )
    parser.add_argument("--null-seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--model-null-seeds",
        type=int,
        nargs="*",
        default=None,
        help="null seeds also tested with GET (default: all --null-seeds)",
    )
    parser.add_argument("--epochs", type=int, default=6, help="fine-tuning epochs (at most)")
    parser.add_argument(
        "--n-targets", type=int, default=100, help="targets per motif of the scores with targets"
    )
    parser.add_argument(
        "--extra", type=json.loads, default={}, help="JSON fine-tuning options beside the defaults"
    )
    parser.add_argument(
        "--models",
        type=int,
        default=3,
        help="models fine-tuned (seeds 0, 1, ...; from --extra's seed) whose gene-by-motif "
        "is averaged (3: the tutorial's workflow; 1: one model)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    model_seeds = args.null_seeds if args.model_null_seeds is None else args.model_null_seeds
    torch.set_num_threads(args.threads)
    scget.settings.verbosity = 1
    logging.getLogger("scget").setLevel(logging.WARNING)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 20)

    steps = ("prepare", "test_accessibility", "finetune", "gene_by_motif_and_test")
    options = {"epochs": args.epochs, "n_targets": args.n_targets, "extra": args.extra}
    options["n_models"] = args.models
    recoveries = {}
    for seed in args.seeds:
        design = run_design(args.cache, seed=seed, n_changed=3, **options)
        timed = [step for step in steps if step in design]  # prepared by a stopped run: untimed
        wall, cpu = (sum(design[step][i] for step in timed) for i in (0, 1))
        print(
            f"Design (seed {seed}): {design['n_pseudobulks']} pseudobulks, {args.models} "
            f"model(s) of {design['epochs_run']} epochs, {args.n_targets} targets per motif. "
            "Whole test "
            f"(simulation to both tables): {wall:.0f} s wall, {cpu:.0f} CPU s; "
            + ", ".join(f"{step} {design[step][0]:.0f}/{design[step][1]:.0f}" for step in timed)
            + f" (wall/CPU s); load average {', '.join(f'{x:.1f}' for x in design['load'])}"
        )
        recoveries[seed] = recovery(design)
        print(recoveries[seed].to_string(), flush=True)
    if len(recoveries) > 1:
        print(f"Designs of seeds {args.seeds}:")
        print(across_designs(recoveries).to_string(), flush=True)
    nulls = {}
    for seed in args.null_seeds:  # the model-free score first: it is cheap
        nulls[seed] = run_design(
            args.cache, seed=seed, n_changed=0, with_model=False, **{**options, "epochs": 0}
        )
        print(f"null seed {seed}: accessibility done", flush=True)
    for seed in model_seeds:
        nulls[seed] = run_design(args.cache, seed=seed, n_changed=0, **options)
        print(f"null seed {seed}: gene_by_motif done", flush=True)
    nulls = list(nulls.values())
    if nulls:
        print(f"Null designs (seeds {args.null_seeds}; GET on {model_seeds}), BH 0.05:")
        print(calibration(nulls).to_string())


if __name__ == "__main__":
    main()
