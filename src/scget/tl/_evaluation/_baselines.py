"""The paper's baselines for gene expression prediction (Fu et al. 2025, Fig. 2 and Extended Data).

Every function returns a groups x genes ``float64`` array of predicted log10(TPM + 1)
values (or scores correlated with it), NaN where the baseline is undefined. Which genes
are scored is decided by :func:`scget.tl.evaluate`; these functions only predict.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..._shared.constants import ATAC_SCALE, MIN_ACCESSIBILITY
from ..._shared.logging import logger, progress
from .._core._genes import peaks_to_genes
from .._core._group_weights import prior_weights

#: Promoter length (bp) upstream of the gene start added to the gene body for gene activity.
GENE_ACTIVITY_UPSTREAM = 2_000
#: Random forest of the paper: 10 trees of depth 10.
FOREST_TREES = 10
FOREST_DEPTH = 10
#: Hidden layers of the paper's MLP (283-512-256-2, ReLU, Softplus output).
MLP_HIDDEN = (512, 256)
#: Ridge penalty of the least-squares fit of the linear regression baseline.
LINEAR_RIDGE = 1e-6
#: Mini-batch size of the MLP baseline.
MLP_BATCH_SIZE = 256
#: Feature-based baselines and their display names.
FEATURE_METHODS = ("linear regression", "random forest", "MLP")
#: Why a baseline built from the other training groups cannot score a group.
NO_OTHER_TRAINING_GROUP = "no training group other than the group itself"


def tss_accessibility(accessibility: np.ndarray, tss: sp.spmatrix) -> np.ndarray:
    """Mean accessibility score over each gene's TSS peaks (all of them, accessible or not).

    Parameters
    ----------
    accessibility
        Accessibility scores, groups x peaks.
    tss
        Genes x peaks indicator of TSS peaks (:func:`scget.tl._core._genes.tss_peak_matrix`).

    Returns
    -------
    Groups x genes, NaN for genes without a TSS peak.
    """
    n_tss = np.asarray(tss.sum(axis=1)).ravel()
    sums = np.asarray(tss @ np.asarray(accessibility, dtype=np.float64).T).T
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_tss > 0, sums / n_tss, np.nan)


def gene_peak_overlap(
    genes: pd.DataFrame, peaks: pd.DataFrame, *, upstream: int = GENE_ACTIVITY_UPSTREAM
) -> sp.csr_matrix:
    """Genes x peaks indicator of peaks overlapping the gene body plus an upstream promoter.

    Parameters
    ----------
    genes
        ``chrom``, ``strand`` ("+"/"-"), ``gene_start``, ``gene_end`` (0-based, half-open;
        -1 when unknown: such genes overlap nothing).
    peaks
        ``chrom``, ``start``, ``end`` (0-based, half-open).
    upstream
        Promoter length added before the gene start (strand-aware: after the end on "-").

    Returns
    -------
    Sparse ``float32`` matrix, genes x peaks.
    """
    start = genes["gene_start"].to_numpy(dtype=np.int64)
    end = genes["gene_end"].to_numpy(dtype=np.int64)
    minus = genes["strand"].astype(str).to_numpy() == "-"
    lo = np.where(minus, start, start - upstream)
    hi = np.where(minus, end + upstream, end)
    known = (start >= 0) & (end > start)
    gene_chrom = genes["chrom"].astype(str).to_numpy()
    peak_chrom = peaks["chrom"].astype(str).to_numpy()
    rows, cols = [], []
    for chrom in np.unique(gene_chrom[known]):
        on_chrom = np.flatnonzero(peak_chrom == chrom)
        if on_chrom.size == 0:
            continue
        order = on_chrom[np.argsort(peaks["start"].to_numpy()[on_chrom], kind="stable")]
        p_start = peaks["start"].to_numpy(dtype=np.int64)[order]
        p_end = peaks["end"].to_numpy(dtype=np.int64)[order]
        longest = int((p_end - p_start).max())
        for gene in np.flatnonzero(known & (gene_chrom == chrom)):
            first = np.searchsorted(p_start, lo[gene] - longest, side="left")
            last = np.searchsorted(p_start, hi[gene], side="left")
            hits = first + np.flatnonzero(p_end[first:last] > lo[gene])
            rows.extend([gene] * hits.size)
            cols.extend(order[hits].tolist())
    data = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(genes), len(peaks)))


def gene_activity(counts: np.ndarray, overlap: sp.spmatrix) -> np.ndarray:
    """Gene activity score: log10 of the summed counts per 1e5 over the gene's region, + 1.

    The counts of the peaks overlapping the gene body and its promoter
    (:func:`gene_peak_overlap`) are summed and normalised by the group's total peak counts
    with the scale of the accessibility score (``ATAC_SCALE``), then log10(x + 1).

    Parameters
    ----------
    counts
        Raw ATAC counts, groups x peaks (``["atac"].layers["counts"]``).
    overlap
        Genes x peaks indicator from :func:`gene_peak_overlap`.

    Returns
    -------
    Groups x genes; genes overlapping no peak get 0.
    """
    counts = np.asarray(counts, dtype=np.float64)
    library = counts.sum(axis=1, keepdims=True)
    library[library == 0] = 1.0
    summed = np.asarray(overlap @ counts.T).T
    return np.log10(summed / library * ATAC_SCALE + 1)


def mean_training_expression(expression: np.ndarray, train_groups: np.ndarray) -> np.ndarray:
    """Mean expression of each gene over the training groups other than the group itself.

    Parameters
    ----------
    expression
        Observed log10(TPM + 1), groups x genes.
    train_groups
        Boolean mask of training groups (not left out).

    Returns
    -------
    Groups x genes; all NaN for a group with no other training group.
    """
    return weighted_means(expression, prior_weights(train_groups)[0])


def weighted_means(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``weights @ values``, NaN where a weighed value is not finite or a row weighs nothing.

    Parameters
    ----------
    values
        Groups x genes.
    weights
        Groups x groups (:func:`scget.tl._core._group_weights.prior_weights`).

    Returns
    -------
    Groups x genes, float64.
    """
    finite = np.isfinite(values)
    means = weights @ np.where(finite, values, 0.0)
    means[((weights > 0) @ ~finite) > 0] = np.nan
    means[weights.sum(axis=1) == 0] = np.nan
    return means


def accessibility_change(
    expression: np.ndarray,
    tss_scores: np.ndarray,
    train_groups: np.ndarray,
    fit: np.ndarray,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Mean training expression plus ``beta`` times the change of TSS accessibility.

    With ``m_E`` and ``m_A`` each gene's mean expression and mean TSS accessibility over
    the training groups other than the group itself (:func:`mean_training_expression`),
    the prediction is ``m_E + beta * (A - m_A)``. The one scalar ``beta`` is the least
    squares slope through the origin of ``E - m_E`` on ``A - m_A`` over the pairs
    ``fit`` selects among the training groups: ``sum(dA * dE) / sum(dA ** 2)``. With
    ``weights``, ``m_E`` and ``m_A`` are those weighted means instead (for example the
    matched mixture of :func:`scget.tl._core._group_weights.prior_weights`).

    Parameters
    ----------
    expression
        Observed log10(TPM + 1), groups x genes.
    tss_scores
        TSS accessibility (:func:`tss_accessibility`), groups x genes.
    train_groups
        Boolean mask of training groups.
    fit
        Boolean groups x genes: the (group, gene) pairs ``beta`` may be fitted on; only
        those of training groups with finite values are used.
    weights
        Groups x groups: the weight of each training group in each group's means (rows
        summing to 1, 0 on the diagonal and outside the training groups); ``None``: the
        plain means.

    Returns
    -------
    Groups x genes predictions (all NaN for a group with no other training group, and
    everywhere when ``beta`` cannot be fitted: no training pair whose accessibility
    differs from its mean), and ``beta`` (NaN when it cannot be fitted).
    """
    name = "mean" if weights is None else "matched mixture"
    if weights is None:
        weights, _ = prior_weights(train_groups)
    mean_expression = weighted_means(expression, weights)
    change = tss_scores - weighted_means(tss_scores, weights)
    deviation = expression - mean_expression
    use = fit & train_groups[:, None] & np.isfinite(change) & np.isfinite(deviation)
    spread = float(change[use] @ change[use])
    if spread <= 0:
        return np.full(expression.shape, np.nan), np.nan
    beta = float(change[use] @ deviation[use]) / spread
    logger.info(
        f"{name} + TSS accessibility change: "
        f"beta = {beta:.4g} (least squares on {int(use.sum())} training (group, gene) pairs)"
    )
    return mean_expression + beta * change, beta


def top_correlated_group(
    expression: np.ndarray, train_groups: np.ndarray, train_genes: np.ndarray
) -> np.ndarray:
    """Expression of the training group best correlated with each group on training genes.

    For each group, the other training group whose expression over ``train_genes``
    (genes off the test chromosomes) has the highest Pearson correlation with the group's
    own is chosen, and its expression is the prediction.

    Parameters
    ----------
    expression
        Observed log10(TPM + 1), groups x genes.
    train_groups
        Boolean mask of training groups.
    train_genes
        Boolean mask of the genes used to choose the group.

    Returns
    -------
    Groups x genes; all NaN for a group with no other training group.
    """
    profile = expression[:, train_genes]
    finite = np.isfinite(profile).all(axis=0)
    correlation = np.corrcoef(profile[:, finite]) if finite.sum() > 1 else None
    result = np.full(expression.shape, np.nan)
    for group in range(expression.shape[0]):
        candidates = np.flatnonzero(train_groups & (np.arange(len(train_groups)) != group))
        if candidates.size == 0 or correlation is None:
            continue
        scores = np.nan_to_num(correlation[group, candidates], nan=-np.inf)
        best = candidates[int(np.argmax(scores))]
        logger.debug(f"top-correlated training group of row {group}: row {best}")
        result[group] = expression[best]
    return result


def feature_baselines(
    methods: Sequence[str],
    *,
    motif_scores: np.ndarray,
    accessibility: np.ndarray,
    regions: np.ndarray,
    targets: tuple[np.ndarray, np.ndarray],
    train_groups: np.ndarray,
    train_peaks: np.ndarray,
    predict_peaks: np.ndarray,
    tss: sp.spmatrix,
    strand: np.ndarray,
    max_train_rows: int,
    mlp_epochs: int,
    seed: int,
    n_jobs: int,
    min_accessibility: float = MIN_ACCESSIBILITY,
) -> dict[str, np.ndarray]:
    """Linear regression, random forest and MLP on GET's per-region features, without context.

    Each region of a group is one row: its motif scores and the group's accessibility
    score (the 283 features of GET); the targets are the two strands' expression targets.
    Training rows are the regions of the training groups on the training chromosomes,
    subsampled (seeded) to at most ``max_train_rows``. Predictions of the regions in
    ``predict_peaks`` are turned into gene values with
    :func:`scget.tl._core._genes.peaks_to_genes`, as GET's.

    Parameters
    ----------
    methods
        A subset of :data:`FEATURE_METHODS`.
    motif_scores
        Peaks x motifs.
    accessibility
        Accessibility scores, groups x peaks.
    regions
        Boolean groups x peaks: the group's regions (peaks with counts > 0).
    targets
        ``(target_plus, target_minus)``, groups x peaks each.
    train_groups
        Boolean mask of training groups.
    train_peaks
        Boolean mask of peaks on training chromosomes.
    predict_peaks
        Boolean groups x peaks: regions to predict.
    tss
        Genes x peaks TSS indicator.
    strand
        Gene strands.
    max_train_rows
        Cap on training rows.
    mlp_epochs
        Passes over the training rows for the MLP.
    seed
        Seed of the subsampling, the forest and the MLP.
    n_jobs
        Workers of the random forest.
    min_accessibility
        Accessibility cut-off of the gene aggregation.

    Returns
    -------
    Method name -> groups x genes predictions.
    """
    rng = np.random.default_rng(seed)
    group_idx, peak_idx = np.nonzero(regions & train_groups[:, None] & train_peaks[None, :])
    if group_idx.size == 0:
        raise ValueError(
            "No training regions for the feature baselines: no peak with counts > 0 in a "
            "training group on a training chromosome."
        )
    if group_idx.size > max_train_rows:
        keep = np.sort(rng.choice(group_idx.size, size=max_train_rows, replace=False))
        group_idx, peak_idx = group_idx[keep], peak_idx[keep]
    x_train = _region_features(motif_scores, accessibility, group_idx, peak_idx)
    y_train = np.stack([targets[0][group_idx, peak_idx], targets[1][group_idx, peak_idx]], 1)
    logger.info(f"feature baselines: {len(x_train)} training regions, {x_train.shape[1]} features")

    pred_groups, pred_peaks = np.nonzero(predict_peaks)
    x_pred = _region_features(motif_scores, accessibility, pred_groups, pred_peaks)
    results = {}
    for method in progress(methods, desc="feature baselines"):
        predicted = _fit_predict(method, x_train, y_train, x_pred, mlp_epochs, seed, n_jobs)
        plus = np.zeros(accessibility.shape)
        minus = np.zeros(accessibility.shape)
        plus[pred_groups, pred_peaks] = predicted[:, 0]
        minus[pred_groups, pred_peaks] = predicted[:, 1]
        results[method] = peaks_to_genes(
            plus,
            minus,
            tss=tss,
            strand=strand,
            accessibility=accessibility,
            min_accessibility=min_accessibility,
        )
    return results


def _region_features(
    motif_scores: np.ndarray, accessibility: np.ndarray, groups: np.ndarray, peaks: np.ndarray
) -> np.ndarray:
    """Rows of (motif scores, accessibility score of the group) for (group, peak) pairs."""
    return np.hstack([motif_scores[peaks], accessibility[groups, peaks][:, None]], dtype=np.float32)


def _fit_predict(
    method: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_pred: np.ndarray,
    mlp_epochs: int,
    seed: int,
    n_jobs: int,
) -> np.ndarray:
    """Fit one feature baseline and predict ``x_pred`` (rows x 2)."""
    if len(x_pred) == 0:
        return np.zeros((0, 2))
    if method == "linear regression":
        from sklearn.linear_model import Ridge

        # ordinary least squares by the normal equations (a vanishing ridge keeps them
        # solvable with constant motif columns); far faster than an SVD-based solver
        model = Ridge(alpha=LINEAR_RIDGE, solver="cholesky").fit(x_train, y_train)
        return model.predict(x_pred)
    if method == "random forest":
        from sklearn.ensemble import RandomForestRegressor

        model = RandomForestRegressor(
            n_estimators=FOREST_TREES, max_depth=FOREST_DEPTH, random_state=seed, n_jobs=n_jobs
        ).fit(x_train, y_train)
        # one thread adds the trees' predictions in tree order; threads add them in the
        # order they finish, which changes the last bit from run to run
        return model.set_params(n_jobs=1).predict(x_pred)
    if method == "MLP":
        return _mlp_fit_predict(x_train, y_train, x_pred, mlp_epochs, seed)
    raise ValueError(f"unknown feature baseline {method!r}; choose from {FEATURE_METHODS}")


def _mlp_fit_predict(
    x_train: np.ndarray, y_train: np.ndarray, x_pred: np.ndarray, epochs: int, seed: int
) -> np.ndarray:
    """Fit the paper's MLP (features-512-256-2, ReLU, Softplus; MSE, Adam, CPU) and predict."""
    import torch
    from torch import nn

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        sizes = (x_train.shape[1], *MLP_HIDDEN)
        layers: list[nn.Module] = []
        for n_in, n_out in itertools.pairwise(sizes):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        network = nn.Sequential(*layers, nn.Linear(sizes[-1], 2), nn.Softplus())
        optimiser = torch.optim.Adam(network.parameters(), lr=1e-3)
        x = torch.from_numpy(np.ascontiguousarray(x_train, dtype=np.float32))
        y = torch.from_numpy(np.ascontiguousarray(y_train, dtype=np.float32))
        generator = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            for batch in torch.randperm(len(x), generator=generator).split(MLP_BATCH_SIZE):
                optimiser.zero_grad()
                loss = nn.functional.mse_loss(network(x[batch]), y[batch])
                loss.backward()
                optimiser.step()
        with torch.no_grad():
            return network(torch.from_numpy(np.ascontiguousarray(x_pred, np.float32))).numpy()
