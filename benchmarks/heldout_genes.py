"""Where the held-out-gene signal of the simulated multiome lies, and how much GET captures.

Runs the ``scget demo`` pipeline (simulate, pseudobulk, scan motifs, TSS targets, brief
pretraining, fine-tuning with a held-out chromosome and group, predict, evaluate), then
scores, on exactly the genes and groups that ``scget.tl.evaluate`` scores:

- GET, TSS accessibility and linear regression, from the evaluation table;
- two *gene-level* models of the promoter alone, trained on the training groups' genes
  off the test chromosome: ridge regression and gradient boosting on the gene's TSS-peak
  motif scores and TSS accessibility. They see which peak is the gene's promoter, which
  GET and the region-level baselines must infer from the features, so they bound what
  promoter features can tell;
- the boosting model times the probability, inferred from a peak's features alone, that
  the peak is a promoter: the cost of having to tell promoters from other regions, which
  GET pays because it predicts every region (0 where there is no TSS);
- the share of each gene's simulated rate that comes from its enhancers (the rest comes
  from its promoter), from the simulation's truth.

GET has no positional encoding, so it cannot weigh an enhancer by its distance to the
gene; expression carried by distance-weighted enhancers is out of its reach.

Usage::

    python benchmarks/heldout_genes.py                 # the default demo, seed 0
    python benchmarks/heldout_genes.py --seed 1 --out /tmp/heldout
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import mudata
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import RidgeCV

import scget
from scget._cli import demo as _demo
from scget._shared.utils import mudata_update_quietly, to_dense
from scget.tl._core._genes import accessible_tss, tss_peak_matrix
from scget.tl._evaluation._baselines import tss_accessibility
from scget.tl._evaluation._evaluate import (
    EvaluationParams,
    evaluated_predictions,
    resolve_split,
)


def promoter_features(pb) -> dict[str, np.ndarray]:
    """Peak and gene-level inputs of the promoter models.

    ``peak_motifs`` (peaks x motifs), ``accessibility`` (groups x peaks), ``tss`` (genes x
    peaks), ``gene_motifs`` (mean motif scores of each gene's TSS peaks; NaN without one),
    ``tss_acc`` and ``accessible`` (groups x genes).
    """
    rna, atac = pb["rna"], pb["atac"]
    tss = tss_peak_matrix(rna.var, atac.var_names)
    peak_motifs = to_dense(atac.varm["motif_scores"], np.float64)
    accessibility = to_dense(atac.X, np.float64)
    return {
        "peak_motifs": peak_motifs,
        "accessibility": accessibility,
        "tss": tss,
        # the mean over each gene's TSS peaks, as for TSS accessibility, per motif column
        "gene_motifs": tss_accessibility(peak_motifs.T, tss).T,
        "tss_acc": tss_accessibility(accessibility, tss),
        "accessible": accessible_tss(accessibility, tss),
    }


def promoter_probability(pb, inputs: dict, train_groups, test_chromosomes) -> np.ndarray:
    """Groups x genes: the mean over a gene's TSS peaks of P(peak is a promoter | features).

    A classifier of accessible peaks (motif scores and accessibility; promoter = holds a
    TSS), trained off the test chromosomes: what a model that predicts every region, as
    GET does, must infer instead of being told.
    """
    tss, accessibility = inputs["tss"], inputs["accessibility"]
    is_promoter = np.asarray(tss.sum(axis=0)).ravel() > 0
    trainable = ~pb["atac"].var["chrom"].astype(str).isin(test_chromosomes).to_numpy()

    def features(k: int) -> np.ndarray:
        return np.column_stack([inputs["peak_motifs"], accessibility[k]])

    rows = [trainable & (accessibility[k] > 0) for k in train_groups]
    classifier = HistGradientBoostingClassifier(max_iter=200, random_state=0).fit(
        np.vstack([features(k)[r] for k, r in zip(train_groups, rows, strict=True)]),
        np.concatenate([is_promoter[r] for r in rows]),
    )
    peak_probability = np.stack(
        [classifier.predict_proba(features(k))[:, 1] for k in range(len(accessibility))]
    )
    return tss_accessibility(peak_probability, tss)


def gene_level_scores(pb, model) -> pd.DataFrame:
    """Pearson r per group of the gene-level promoter models on the evaluated genes."""
    split = resolve_split(pb, model=model)
    evaluated = evaluated_predictions(pb, EvaluationParams(split=split, methods=["GET"]))
    inputs = promoter_features(pb)
    observed = evaluated.observed
    chrom = pb["rna"].var["chrom"].astype(str).to_numpy()
    trainable = ~np.isin(chrom, split["test_chromosomes"])
    train_groups = np.flatnonzero(~evaluated.groups.isin(split["leave_out_groups"]))

    def features(k: int, genes: np.ndarray) -> np.ndarray:
        return np.column_stack([inputs["gene_motifs"][genes], inputs["tss_acc"][k][genes]])

    rows = [trainable & inputs["accessible"][k] & np.isfinite(observed[k]) for k in train_groups]
    x = np.vstack([features(k, r) for k, r in zip(train_groups, rows, strict=True)])
    y = np.concatenate([observed[k][r] for k, r in zip(train_groups, rows, strict=True)])
    ridge = RidgeCV(alphas=np.logspace(-2, 3, 11)).fit(x, y)
    boosting = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05, random_state=0)
    boosting.fit(x, y)
    probability = promoter_probability(pb, inputs, train_groups, split["test_chromosomes"])
    methods = {
        "promoter ridge (gene level)": lambda k, g: ridge.predict(features(k, g)),
        "promoter boosting (gene level)": lambda k, g: boosting.predict(features(k, g)),
        "promoter boosting x P(promoter)": lambda k, g: (
            boosting.predict(features(k, g)) * probability[k][g]
        ),
    }
    records = []
    for name, predict in methods.items():
        for k, group in enumerate(evaluated.groups):
            genes = evaluated.evaluated[k]
            if genes.sum() < 3:
                continue
            r = np.corrcoef(predict(k, genes), observed[k][genes])[0, 1]
            records.append({"group": group, "method": name, "pearson": r})
    return pd.DataFrame(records)


def enhancer_share(pb) -> float:
    """Mean over genes with enhancers of the enhancers' share of the simulated rate."""
    links = pb.uns["simulation"]["links"]
    return float(links.groupby("gene")["contribution"].sum().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=None, help="demo output, replaced if present (default: temp)"
    )
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    scget.settings.verbosity = 1

    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch) / "demo"
        demo = argparse.ArgumentParser()
        _demo.add_arguments(demo)  # the demo's own defaults, for any option not given here
        options = ["--out", str(out), "--seed", str(args.seed), "--device", args.device]
        _demo.run(demo.parse_args([*options, "--overwrite"]))
        with mudata_update_quietly():
            pb = mudata.read_h5mu(out / "pseudobulk.h5mu")
        model = scget.tl.GETModel.load(out / "model")
        # the same simulation again, for its truth (the pseudobulk does not carry it)
        truth = scget.datasets.simulate_multiome(
            **_demo._SIZES["default"]["simulation"], seed=args.seed, path=Path(scratch) / "truth"
        )
    pb.uns["simulation"] = truth.uns["simulation"]

    table = scget.get.evaluation(pb)
    wanted = ["GET", "TSS accessibility", "linear regression"]
    scores = pd.concat(
        [
            table[table["method"].isin(wanted)][["group", "method", "pearson"]],
            gene_level_scores(pb, model),
        ]
    )
    summary = scores.groupby("method")["pearson"].mean().sort_values(ascending=False)
    print(f"Held-out genes (demo, seed {args.seed}): mean Pearson r over groups")
    print(summary.to_frame().to_markdown(floatfmt=".3f"))
    print(f"GET / TSS accessibility: {summary['GET'] / summary['TSS accessibility']:.3f}")
    best = summary["promoter boosting (gene level)"]
    print(f"promoter boosting / TSS accessibility: {best / summary['TSS accessibility']:.3f}")
    print(f"enhancers' mean share of a gene's simulated rate: {enhancer_share(pb):.3f}")


if __name__ == "__main__":
    main()
