"""What a new cell type's expression changes can be predicted from, on the demo simulation.

In the held-out group of ``scget demo`` (the last cell type; genes off the held-out
chromosome), each gene's expression is mostly its own level, which the mean over the
training groups gives; what tells the new cell type apart is each gene's *change* from
that mean, which ``scget.tl.evaluate`` scores as the centred r. This script asks how much
of that change any predictor can reach, and from which information, with linear models
fitted on the training groups' changes (each from the mean of the other training groups,
as the expression prior is) and scored on the held-out group:

1. ``scget.tl.evaluate``'s baselines "mean + TSS accessibility change" (one beta) and
   "matched mixture + TSS accessibility change" (the means over the mixture of training
   groups whose accessibility matches the group's best);
2. what a window of regions holds beside it, without a model of regulation: the
   accessibility change of the peaks within 2, 10, 30 and 100 kb of the TSS;
3. the same plus the TSS peak's motif scores times each motif cluster's accessibility
   change in the group over all peaks that hold it (a chromVAR-like estimate of which
   TFs the new cell type uses, from the whole genome, which a window does not see);
   and, instead, the TSS peak's accessibility change that its motifs predict from a
   ridge fit over every peak (the expression prior's motif channel);
4. an oracle told the simulation's truth: the planted sites of the gene's promoter (then
   also of its enhancers, weighted by their contact) times the change of each TF's true
   activity, beside the TSS accessibility change;
5. the simulation's expected expression without its per-gene noise (simulated again with
   ``expression_noise=0``; all else is drawn identically): what no predictor can beat;
6. the expected expression with that noise, which only count noise separates from the
   observation.

Usage::

    python benchmarks/heldout_group.py               # seeds 0 1 2 (a few minutes)
    python benchmarks/heldout_group.py --seeds 0
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from model_quality import simulated_pseudobulk
from sklearn.linear_model import RidgeCV

import scget
from scget._cli import demo as _demo
from scget._shared.utils import to_dense
from scget.tl._core._genes import tss_peak_matrix
from scget.tl._core._group_weights import prior_weights
from scget.tl._core._prior import motif_accessibility_change
from scget.tl._evaluation._baselines import accessibility_change, tss_accessibility

#: Distance bins (bp from the TSS) of the window's accessibility changes.
DISTANCE_BINS = ((0, 2_000), (2_000, 10_000), (10_000, 30_000), (30_000, 100_000))
#: Ridge penalties tried by leave-one-out cross-validation on the training groups.
ALPHAS = np.logspace(-3, 4, 15)


def changes(values: np.ndarray, train: np.ndarray, test: int) -> tuple[np.ndarray, np.ndarray]:
    """Each training group's change from the mean of the others, and the test group's."""
    loo = prior_weights(train)[0] @ values
    return values[train] - loo[train], values[test] - values[train].mean(axis=0)


def window_changes(delta_acc: np.ndarray, genes: pd.DataFrame, peaks: pd.DataFrame) -> np.ndarray:
    """Groups x genes x bins: summed accessibility change of the peaks in each TSS distance bin."""
    middle = ((peaks["start"] + peaks["end"]) // 2).to_numpy()
    out = np.zeros((len(delta_acc), len(genes), len(DISTANCE_BINS)))
    for chrom in genes["chrom"].unique():
        rows = np.flatnonzero(genes["chrom"].to_numpy() == chrom)
        cols = np.flatnonzero(peaks["chrom"].to_numpy() == chrom)
        distance = np.abs(genes["tss"].to_numpy()[rows, None] - middle[None, cols])
        for number, (low, high) in enumerate(DISTANCE_BINS):
            near = ((distance >= low) & (distance < high)).astype(float)
            out[:, rows, number] = delta_acc[:, cols] @ near.T
    return out


def centred_r(features_train, target_train, features_test, target_test) -> float:
    """Pearson r of the held-out changes and a ridge model's, fitted on the training ones."""
    model = RidgeCV(alphas=ALPHAS).fit(features_train, target_train)
    return float(np.corrcoef(model.predict(features_test), target_test)[0, 1])


def one_seed(seed: int, cache: Path) -> dict[str, float]:
    """The centred r of every predictor on simulation ``seed``."""
    pb, chromosome, group = simulated_pseudobulk(seed, cache)
    size = _demo._SIZES["default"]["simulation"]
    truth = scget.datasets.simulate_multiome(**size, seed=seed)
    noise_free = scget.datasets.simulate_multiome(**size, seed=seed, expression_noise=0.0)
    names = list(pb.obs_names)
    rna, atac = pb["rna"], pb["atac"]
    test = names.index(group)
    train = np.array([name != group for name in names])
    expression = to_dense(rna.X, np.float64)
    access = to_dense(atac.X, np.float64)
    tss = tss_peak_matrix(rna.var, atac.var_names)
    tss_acc = tss_accessibility(access, tss)
    genes = (rna.var["chrom"].to_numpy() != chromosome) & ~np.isnan(tss_acc).any(axis=0)
    dE_train, dE_test = changes(expression, train, test)
    dA_train, dA_test = changes(tss_acc, train, test)
    scores = {}
    # 1: the evaluate baselines, through scget's own function
    fit = np.zeros(expression.shape, dtype=bool)
    fit[np.ix_(train, genes)] = True
    for name, weights in (
        ("mean", None),
        ("matched mixture", prior_weights(train, access)[0]),
    ):
        predicted, _ = accessibility_change(expression, tss_acc, train, fit, weights)
        deviation = predicted[test, genes] - expression[train][:, genes].mean(0)
        scores[f"{name} + TSS accessibility change (tl.evaluate)"] = float(
            np.corrcoef(deviation, dE_test[genes])[0, 1]
        )
    n_train = int(train.sum())

    def stack(parts_train, parts_test):
        """Rows: (training group, gene) pairs, then the test group's genes."""
        x_train = np.concatenate([p.reshape(n_train, -1, p.shape[-1]) for p in parts_train], -1)
        x_test = np.concatenate([p.reshape(-1, p.shape[-1]) for p in parts_test], -1)
        return x_train[:, genes].reshape(-1, x_train.shape[-1]), x_test[genes]

    def score(name, parts_train, parts_test):
        x_train, x_test = stack(parts_train, parts_test)
        scores[name] = centred_r(x_train, dE_train[:, genes].ravel(), x_test, dE_test[genes])

    tss_parts = ([dA_train[..., None]], [dA_test[:, None]])
    score("TSS accessibility change (ridge)", *tss_parts)
    delta_peaks_train, delta_peaks_test = changes(access, train, test)
    window_train = window_changes(delta_peaks_train, rna.var, atac.var)
    window_test = window_changes(delta_peaks_test[None], rna.var, atac.var)[0]
    window_parts = ([dA_train[..., None], window_train], [dA_test[:, None], window_test])
    score("+ peaks' accessibility change within 2/10/30/100 kb", *window_parts)
    motifs = np.asarray(atac.varm["motif_scores"], dtype=np.float64)
    holds = (motifs > 0) / np.maximum((motifs > 0).sum(axis=0), 1)
    n_tss = np.asarray(tss.sum(axis=1)).ravel()[:, None]
    tss_motifs = np.asarray(tss @ motifs) / np.maximum(n_tss, 1)
    usage_train, usage_test = delta_peaks_train @ holds, delta_peaks_test @ holds
    score(
        "+ TSS motifs x motif accessibility change in the group (genome-wide)",
        window_parts[0] + [tss_motifs[None] * usage_train[:, None]],
        window_parts[1] + [tss_motifs * usage_test[None]],
    )
    motif_change = motif_accessibility_change(
        motifs, np.vstack([delta_peaks_train, delta_peaks_test])
    )
    tss_motif_change = tss_accessibility(motif_change, tss)
    score(
        "TSS accessibility change + its motif-predicted part (genome-wide ridge)",
        [dA_train[..., None], tss_motif_change[:n_train, :, None]],
        [dA_test[:, None], tss_motif_change[n_train][:, None]],
    )
    # the oracle: planted sites and true TF activities
    sites = truth["atac"].varm["sim_sites"].loc[atac.var_names]
    activity = truth.uns["simulation"]["tf_activity"].loc[names, sites.columns].to_numpy()
    sites = sites.to_numpy(dtype=np.float64)
    dT_train, dT_test = changes(activity, train, test)
    promoter = np.asarray(tss @ sites)
    links = truth.uns["simulation"]["links"]
    gene_index = rna.var_names.get_indexer(links["gene"])
    peak_index = atac.var_names.get_indexer(links["peak"])
    kept = (gene_index >= 0) & (peak_index >= 0)
    enhancer = np.zeros_like(promoter)
    np.add.at(
        enhancer,
        gene_index[kept],
        links["weight"].to_numpy()[kept, None] * sites[peak_index[kept]],
    )
    oracle_train = [dA_train[..., None], promoter[None] * dT_train[:, None]]
    oracle_test = [dA_test[:, None], promoter * dT_test[None]]
    score(
        "oracle: TSS accessibility change + promoter sites x TF activity change",
        oracle_train,
        oracle_test,
    )
    score(
        "oracle: + enhancer sites x TF activity change",
        [*oracle_train, enhancer[None] * dT_train[:, None]],
        [*oracle_test, enhancer * dT_test[None]],
    )
    for name, simulation in (
        ("expected expression without its per-gene noise (ceiling)", noise_free),
        ("expected expression with its per-gene noise", truth),
    ):
        expected = simulation["rna"].varm["sim_log_tpm"].loc[rna.var_names, names].to_numpy().T
        change = expected[test] - expected[train].mean(axis=0)
        scores[name] = float(np.corrcoef(change[genes], dE_test[genes])[0, 1])
    same = np.array_equal(
        truth["atac"].varm["sim_accessibility"].to_numpy(),
        noise_free["atac"].varm["sim_accessibility"].to_numpy(),
    )
    print(f"seed {seed}: {genes.sum()} genes; noise-free simulation otherwise identical: {same}")
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/scget_model_quality"))
    args = parser.parse_args()
    logging.getLogger("scget").setLevel(logging.WARNING)
    args.cache.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame({f"seed {seed}": one_seed(seed, args.cache) for seed in args.seeds})
    print("\ncentred r in the held-out group (genes off the held-out chromosome):")
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
