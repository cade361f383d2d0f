"""TF-TF networks: speed against the ``lingam`` package, and recovery of planted truth.

Part 1 (speed, printed in one run): 282 variables x 10,000 samples of a linear
non-Gaussian acyclic model (Laplace noise, a random DAG with 1.5 parents per variable on
average, as many motif columns and genes as the issue names):

- ``lingam.ICALiNGAM`` once, without bootstraps (the reference);
- scget's ICA-LiNGAM once, and with 5 bootstraps (the call
  ``scget.tl.motif_network`` makes per group);
- their agreement: causal orders, adjacency matrices, edges found by one and not the
  other, and both against the true DAG.

Part 2 (``--pb``, planted truth): a pseudobulk of the ``scget demo`` simulation with
:func:`scget.tl.gene_by_motif` results, its simulation regenerated from ``--seed``
(``simulate_multiome(n_genes=3000, seed)``, as ``scget demo`` makes it):

- planted interacting motif pairs among the top 1 % of pairs (unordered, by the larger
  absolute weight of the two directions), per group and cell-type agnostic, for
  ``"lingam"`` and ``"spearman"``, against the random rate; and the same for networks
  fitted to the planted driver effects themselves (what ideal attributions would give);
- enrichment of each planted activator's targets among its
  :func:`scget.tl.regulator_targets` (top 10 %), against gene sets built from the
  planted drivers, on all genes and on the held-out chromosome's genes only.

Usage::

    python benchmarks/motif_network.py [--skip-reference] [--pb demo_gbm.h5mu --seed 0]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import pandas as pd

from scget._shared.utils import mudata_update_quietly


def sem(n_variables: int, n_samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Samples of a random LiNGAM (Laplace noise) and its ``B[i, j]`` (effect of j on i)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_variables)
    B = np.zeros((n_variables, n_variables))
    for position in range(1, n_variables):
        parents = rng.choice(position, size=min(position, rng.poisson(1.5)), replace=False)
        B[order[position], order[parents]] = rng.uniform(0.5, 1.5, len(parents)) * rng.choice(
            [-1, 1], len(parents)
        )
    X = np.linalg.solve(np.eye(n_variables) - B, rng.laplace(size=(n_samples, n_variables)).T)
    return X.T, B


def speed(skip_reference: bool) -> None:
    """Part 1: time and agreement against ``lingam.ICALiNGAM``."""
    from scget.tl._networks._lingam import ica_lingam
    from scget.tl._networks._motif_network import _network

    X, B = sem(282, 10_000, seed=1)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    start = time.perf_counter()
    ours = ica_lingam(X, seed=0)
    once = time.perf_counter() - start
    frame = pd.DataFrame(X, columns=[f"m{i}" for i in range(X.shape[1])])
    start = time.perf_counter()
    _network(frame, "lingam", 5, 0.05, 0, n_jobs=2)
    boot = time.perf_counter() - start
    print("## Speed: 282 motifs x 10,000 genes, 2 cores")
    print(f"scget ICA-LiNGAM, no bootstrap:  {once:7.1f} s")
    print(f"scget ICA-LiNGAM, 5 bootstraps in 2 processes: {boot:7.1f} s (goal <= 60 s)")
    truth = B != 0
    found = ours.adjacency != 0
    print(
        f"scget vs true DAG: precision {(truth & found).sum() / found.sum():.3f}, "
        f"recall {(truth & found).sum() / truth.sum():.3f}"
    )
    if skip_reference:
        return
    import lingam

    start = time.perf_counter()
    reference = lingam.ICALiNGAM(random_state=0).fit(X)
    ref_time = time.perf_counter() - start
    ref = reference.adjacency_matrix_
    print(f"lingam.ICALiNGAM, no bootstrap:  {ref_time:7.1f} s")
    print(f"speed-up without bootstraps: {ref_time / once:.1f}x")
    print(f"scget with 5 bootstraps against one reference fit: {ref_time / boot:.1f}x faster")
    same_order = list(reference.causal_order_) == list(ours.causal_order)
    print(f"same causal order: {same_order}")
    print(f"max |adjacency difference|: {np.abs(ref - ours.adjacency).max():.2e}")
    print(
        f"edges only in scget: {int((found & (ref == 0)).sum())}, only in lingam: "
        f"{int(((ref != 0) & ~found).sum())}, in both: {int((found & (ref != 0)).sum())}"
    )


def planted(path: str, seed: int) -> None:
    """Part 2: planted interactions and targets on the demo's simulation."""
    import mudata

    import scget
    from scget.tl._networks._motif_network import _network

    with mudata_update_quietly():
        pb = mudata.read_h5mu(path)
    with tempfile.TemporaryDirectory() as folder:
        truth = scget.datasets.simulate_multiome(n_genes=3000, seed=seed, path=folder)
        truth = dict(truth.uns["simulation"])
    interactions = truth["interactions"]
    pairs = {frozenset(p) for p in zip(interactions.motif_a, interactions.motif_b, strict=True)}
    features = scget.get.gene_by_motif(pb).columns.drop("accessibility")
    n_pairs = len(features) * (len(features) - 1) // 2
    print(f"\n## Planted interactions: {len(pairs)} of {n_pairs:,} motif pairs")
    print(f"random top-1 % precision: {len(pairs) / n_pairs:.5f}")

    def top_precision(table: pd.DataFrame, total: int) -> tuple[float, list]:
        score = (
            table.assign(pair=[frozenset(p) for p in zip(table.source, table.target, strict=True)])
            .assign(strength=table.weight.abs())
            .groupby("pair")["strength"]
            .max()
            .sort_values(ascending=False)
        )
        top = score.index[: max(1, round(0.01 * total))]
        ranks = [score.index.get_loc(p) + 1 if p in score.index else None for p in pairs]
        return float(np.mean([p in pairs for p in top])), ranks

    rows = []
    for method in ("spearman", "lingam"):
        for agnostic in (False, True):
            start = time.perf_counter()
            # the weights that rank the pairs come from the full fit: no bootstraps needed
            table = scget.tl.motif_network(pb, method=method, agnostic=agnostic, n_bootstraps=0)
            seconds = time.perf_counter() - start
            for group, edges in table.groupby("group"):
                precision, ranks = top_precision(edges, n_pairs)
                rows.append((method, group, precision, precision * n_pairs / len(pairs), ranks))
            print(f"{method}, {'agnostic' if agnostic else 'per group'}: {seconds:.1f} s")
    drivers = truth["drivers"].pivot_table(
        index="gene", columns="motif", values="effect", aggfunc="sum", fill_value=0
    )
    ideal_pairs = drivers.shape[1] * (drivers.shape[1] - 1) // 2
    for method in ("spearman", "lingam"):
        precision, ranks = top_precision(_network(drivers, method, 0, 0.0, 0), ideal_pairs)
        rows.append((method, "planted effects", precision, None, ranks))
    result = pd.DataFrame(rows, columns=["method", "group", "top1%", "x random", "ranks"])
    print(result.to_string(index=False))

    tfs = truth["tfs"]
    activators = tfs.loc[tfs["role"] == "activator", "motif"].tolist()
    sets = scget.datasets.planted_gene_sets(truth["drivers"])
    test = set(scget.get.params(pb, "finetune")["split"]["test_chromosomes"])
    held_out = pb["rna"].var_names[pb["rna"].var["chrom"].isin(test)].astype(str)
    targets = scget.tl.regulator_targets(pb, activators, top=0.1)
    table = scget.tl.enrichment(pb, sets)
    print("\n## Planted targets of activators among regulator_targets (top 10 %)")
    rows = []
    for motif in activators:
        own = table[(table.motif == motif) & (table.term == f"{motif}_activated")]
        chosen = targets[(targets.motif == motif) & targets.gene.isin(held_out)]
        held = pd.DataFrame(columns=["term", "padj"])
        if len(chosen):
            genes = list(dict.fromkeys(chosen.gene))
            held = scget.tl.enrichment(genes, sets, background=list(held_out))
        held = held[held.term == f"{motif}_activated"]
        rows.append(
            {
                "motif": motif,
                "groups with padj < 0.01": f"{int((own.padj < 0.01).sum())}/8",
                "median padj": own.padj.median(),
                "held-out chromosome padj": held.padj.min() if len(held) else np.nan,
            }
        )
    print(pd.DataFrame(rows).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--pb", help="demo pseudobulk .h5mu with gene_by_motif results")
    parser.add_argument("--seed", type=int, default=0, help="the demo's seed")
    args = parser.parse_args()
    if not args.skip_speed:
        speed(args.skip_reference)
    if args.pb:
        planted(args.pb, args.seed)


if __name__ == "__main__":
    main()
