"""TF-TF networks from gene-by-motif attributions (ICA-LiNGAM, Spearman) or pairwise knockouts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats
from scipy.stats import rankdata

from ... import get
from ..._shared.constants import (
    ACCESSIBILITY_FEATURE,
    AGNOSTIC_GROUP,
    GENE_BY_MOTIF_KEY,
    MOTIF_NETWORK_KEY,
)
from ..._shared.docs import inject_docs
from ..._shared.logging import progress
from ..._shared.storage import finish_writer, writable
from ..._shared.utils import name_list, resolve_n_jobs
from ._linear_models import adjust
from ._lingam import ica_lingam

if TYPE_CHECKING:
    from .._core._model import GETModel

#: Columns of a network table, in decoupler's convention (source acts on target).
COLUMNS = ("group", "source", "target", "weight", "frequency")
#: Further columns of a Spearman network.
SPEARMAN_COLUMNS = ("pvalue", "padj")
METHODS = ("lingam", "spearman", "interaction")
#: Smallest absolute weight reported by default, per method (0.05 as published).
MIN_WEIGHT = {"lingam": 0.05, "spearman": 0.05, "interaction": 0.0}


@inject_docs()
def motif_network(
    pb,
    model: GETModel | Sequence[GETModel] | None = None,
    *,
    method: Literal["lingam", "spearman", "interaction"] | None = None,
    groups: str | Sequence[str] | None = None,
    agnostic: bool = False,
    motifs: Sequence[str] | None = None,
    n_genes: int = 50_000,
    n_bootstraps: int = 5,
    min_weight: float | None = None,
    top_motifs: int = 12,
    seed: int = 0,
    n_jobs: int | None = None,
    batch_size: int = 32,
    device: str | None = "auto",
    key: str = GENE_BY_MOTIF_KEY,
    key_added: str = MOTIF_NETWORK_KEY,
    copy: bool = False,
):
    """TF-TF network of motif clusters per group, from GET's attributions or pairwise knockouts.

    Each group's genes x motifs matrix of :func:`scget.tl.gene_by_motif` is z-scored per
    motif, as in Fu et al. (2025), and read as samples of the motifs' joint
    distribution. The matrix is that of the attribution method the run under ``key``
    used (gradient x input or knockout effects), recorded as ``"attribution"`` in the
    parameters.

    - ``"lingam"``: ICA-LiNGAM, a linear non-Gaussian acyclic causal model. Its result
      equals :class:`lingam.ICALiNGAM`'s (tested), with the adaptive-lasso pruning
      solved from the covariance matrix and FastICA started coarse-to-fine, which makes
      it many times faster. ``weight`` is the direct causal effect of ``source`` on
      ``target`` in standard deviations: **source causes target** (the published code
      reversed every edge by reading pcalg's ``B[i, j]``, the effect of ``j`` on ``i``,
      as ``i -> j``).
    - ``"spearman"``: rank correlation, undirected; each pair appears once (``source``
      before ``target`` in the feature order), with its p-value and Benjamini-Hochberg
      adjusted p-value over the group's pairs.
    - ``"interaction"``: asks ``model`` which motifs act together. For each gene, its
      ``top_motifs`` motifs of largest absolute gene-by-motif attribution are knocked
      out (their scores zeroed in the gene's window) one at a time and two at a time;
      a pair's interaction is ``f - f_a - f_b + f_ab`` (``f``: the gene's output,
      ``f_a`` without ``a``, ``f_ab`` without both), what the two do together beyond
      the sum of what each does. ``weight`` is its mean over the group's gene windows
      (0 for a gene where the pair is not among its top motifs): positive where the
      two raise their genes more together than apart (cooperation), negative where
      they do less (competition or redundancy). Undirected, each pair once. It costs
      ``1 + k + k (k - 1) / 2`` forward passes per gene window (79 for ``k = 12``); on
      the demo simulation it puts two planted TF pairs in a cell type's top 1 % of
      edges on each of three seeds, where the networks read from attributions put
      at most one (``docs/networks.md``, "Measured").

    Edge stability: the network is refitted to ``n_bootstraps`` resamples of the genes
    (LiNGAM's FastICA starting from the full fit's solution; for ``"interaction"`` the
    mean over resampled gene windows); ``frequency`` is the share of resamples in which
    the edge has ``|weight| >= min_weight`` with the same sign.

    Parameters
    ----------
    {mdata_pb} Needs :func:`scget.tl.gene_by_motif` results.
    model
        Read by ``method="interaction"`` only, the default when a model is given: the
        model (or the ensemble, whose interactions are averaged) that the gene-by-motif
        run explained.
    method
        ``"lingam"`` (causal, directed), ``"spearman"`` (correlation) or
        ``"interaction"`` (pairwise knockouts through ``model``). By default
        ``"interaction"`` when a model is given (it finds planted TF pairs best), else
        ``"lingam"``.
    groups
        Groups to fit a network to (default: every group interpreted).
    agnostic
        Fit one network, group ``"all"``, to (group, gene) rows of all groups together
        (up to ``n_genes`` rows drawn at random), instead of one per group (not with
        ``"interaction"``).
    motifs
        Motif clusters to use (default: all; the accessibility feature is never used).
        Motifs constant over a group's genes are left out of its network; with
        ``"interaction"`` each gene's top motifs are chosen among them.
    n_genes
        Most (group, gene) rows per network; more are subsampled at random.
    n_bootstraps
        Resamples for the edge frequencies (0: none, ``frequency`` is NaN).
    min_weight
        Edges with a smaller absolute weight are not reported; by default 0.05 (as
        published) for ``"lingam"`` and ``"spearman"``, 0 for ``"interaction"`` (every
        pair that is among a gene's top motifs). LiNGAM never reports the effects its
        pruning set to zero.
    top_motifs
        Motifs per gene whose pairs ``"interaction"`` knocks out.
    {seed}
    {n_jobs} The bootstrap refits run in parallel.
    batch_size, device
        Window copies per forward pass and torch device of ``"interaction"``.
    key
        ``key_added`` of the gene-by-motif run to read.
    {key_added}
    {copy}

    Returns
    -------
    The network table (with ``copy``, the modified copy instead): one row per edge,
    ``group``, ``source``, ``target``, ``weight`` (signed effect of source on target, the
    correlation, or the mean interaction), ``frequency`` and, for Spearman, ``pvalue``
    and ``padj``. Writes
    it, replacing an earlier run, as ``pb.uns["scget"][key_added]["result"]`` with the
    parameters. Read it with :func:`scget.get.motif_network`.

    Raises
    ------
    KeyError
        If :func:`scget.tl.gene_by_motif` has not run under ``key``.
    ValueError
        If ``method`` or a parameter is invalid, ``model`` is missing for (or given
        without) ``"interaction"``, a group or motif is unknown, or a group has too few
        genes for its motifs (LiNGAM needs more genes than motifs + 1).

    Examples
    --------
    >>> scget.tl.gene_by_motif(pb, model, groups=["type_01"])
    >>> tfs = mdata.uns["simulation"]["tfs"]["motif"].tolist()  # the planted TFs' motifs
    >>> edges = scget.tl.motif_network(pb, motifs=tfs)
    >>> edges.columns.tolist()
    ['group', 'source', 'target', 'weight', 'frequency']
    """
    groups = name_list(groups)
    if method is None:
        method = "lingam" if model is None else "interaction"
    _check_method(method, model, agnostic, top_motifs)
    if min_weight is None:
        min_weight = MIN_WEIGHT[method]
    if n_bootstraps < 0 or n_genes < 3 or min_weight < 0:
        raise ValueError("n_bootstraps and min_weight must be >= 0, and n_genes >= 3.")
    workers = resolve_n_jobs(n_jobs)
    attributions = get.gene_by_motif(pb, key=key)
    attributed = get.params(pb, key)
    matrices = _matrices(attributions, groups, motifs, agnostic, n_genes, seed, method)
    extra = {}
    if method == "interaction":
        from .._core._model import check_models
        from ._interaction_network import interaction_edges

        models = check_models(model)
        source = {name: attributed[name] for name in ("rna", "atac", "motif_key")}
        table = interaction_edges(
            pb,
            models,
            matrices,
            top_motifs=top_motifs,
            n_bootstraps=n_bootstraps,
            min_weight=min_weight,
            seed=seed,
            source=source,
            batch_size=batch_size,
            device=device,
        )
        extra = {"top_motifs": top_motifs, "n_models": len(models)}
    else:
        parts = [
            _network(matrix, method, n_bootstraps, min_weight, seed, workers).assign(group=name)
            for name, matrix in progress(matrices.items(), desc="motif_network", unit="group")
        ]
        table = pd.concat(parts, ignore_index=True)
    columns = list(COLUMNS) + (list(SPEARMAN_COLUMNS) if method == "spearman" else [])
    table = table[columns]
    params = {
        "method": method,
        "groups": list(matrices),
        "agnostic": agnostic,
        "motifs": None if motifs is None else list(motifs),
        "n_genes": n_genes,
        "n_bootstraps": n_bootstraps,
        "min_weight": min_weight,
        "seed": seed,
        "key": key,
        "attribution": attributed.get("method", "gradient"),
        **extra,
    }
    pb = writable(pb, copy)
    message = f"motif_network: {len(table)} edges in {len(matrices)} network(s)."
    return finish_writer(pb, key_added, table, params, copy=copy, returns=table, message=message)


def _check_method(method: str, model, agnostic: bool, top_motifs: int) -> None:
    """Raise ``ValueError`` for a method its other arguments do not fit."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}.")
    if method != "interaction":
        if model is not None:
            raise ValueError(
                f'model is read by method="interaction" only; method={method!r} reads the '
                "stored gene-by-motif attributions."
            )
        return
    if model is None:
        raise ValueError(
            'method="interaction" knocks motifs out through the model: pass the model (or '
            "ensemble) that gene_by_motif explained, "
            'motif_network(pb, model, method="interaction").'
        )
    if agnostic:
        raise ValueError(
            'method="interaction" runs per group; agnostic=True pools attributions over '
            "groups, which only lingam and spearman read."
        )
    if isinstance(top_motifs, bool) or not isinstance(top_motifs, int) or top_motifs < 2:
        raise ValueError(f"top_motifs must be an integer >= 2, got {top_motifs!r}.")


def _matrices(
    attributions: pd.DataFrame,
    groups: list[str] | None,
    motifs: Sequence[str] | None,
    agnostic: bool,
    n_genes: int,
    seed: int,
    method: str,
) -> dict[str, pd.DataFrame]:
    """Each network's (rows x motifs) attributions, checked, before any fitting."""
    stored = list(dict.fromkeys(attributions.index.get_level_values("group")))
    chosen = stored if groups is None else groups
    unknown = sorted(set(chosen) - set(stored))
    if unknown:
        raise ValueError(f"Groups {unknown} have no gene-by-motif results; stored: {stored}.")
    features = [column for column in attributions.columns if column != ACCESSIBILITY_FEATURE]
    if motifs is not None:
        missing = sorted(set(motifs) - set(features))
        if missing:
            raise ValueError(f"Unknown motif clusters {missing[:5]}; features: {features[:5]}...")
        features = list(dict.fromkeys(motifs))
    rng = np.random.default_rng(seed)
    rows = attributions.loc[chosen, features]
    matrices = {AGNOSTIC_GROUP: rows} if agnostic else {g: rows.loc[g] for g in chosen}
    for name, matrix in matrices.items():
        if len(matrix) > n_genes:
            matrix = matrix.iloc[np.sort(rng.choice(len(matrix), n_genes, replace=False))]
        matrix = matrix.loc[:, matrix.std(axis=0) > 0]
        needed = matrix.shape[1] + 2 if method == "lingam" else 3
        if len(matrix) < needed:
            raise ValueError(
                f"Network {name!r}: {len(matrix)} genes for {matrix.shape[1]} motifs; "
                f"{method} needs at least {needed}. Choose fewer motifs (motifs=), or fit "
                "one network to all groups (agnostic=True)."
            )
        matrices[name] = matrix
    return matrices


def _network(
    matrix: pd.DataFrame,
    method: str,
    n_bootstraps: int,
    min_weight: float,
    seed: int,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """One network's edge table from its (genes x motifs) attributions."""
    values = matrix.to_numpy(dtype=np.float64)
    values = (values - values.mean(axis=0)) / values.std(axis=0)
    weights, start = _fit(values, method, seed)
    rng = np.random.default_rng(seed)
    resamples = [rng.integers(0, len(values), len(values)) for _ in range(n_bootstraps)]
    stable = np.zeros(weights.shape)
    for again in _refits(values, resamples, method, seed, start, n_jobs):
        stable += (np.abs(again) >= min_weight) & (np.sign(again) == np.sign(weights))
    frequency = stable / n_bootstraps if n_bootstraps else np.full(weights.shape, np.nan)
    names = matrix.columns.astype(str).to_numpy()
    if method == "lingam":
        # adjacency[i, j] is the effect of j on i: source j, target i
        target, source = np.nonzero((np.abs(weights) >= min_weight) & (weights != 0))
        extra = {}
    else:
        source, target = np.triu_indices(len(names), k=1)
        keep = np.abs(weights[source, target]) >= min_weight
        pvalues = _spearman_pvalues(weights, len(values))[source, target]
        extra = {"pvalue": pvalues, "padj": adjust(pvalues)}
        source, target = source[keep], target[keep]
        extra = {name: column[keep] for name, column in extra.items()}
    return pd.DataFrame(
        {
            "source": names[source],
            "target": names[target],
            "weight": weights[target, source].astype(np.float32),
            "frequency": frequency[target, source].astype(np.float32),
            **extra,
        }
    )


def _refits(values, resamples, method, seed, start, n_jobs: int) -> list[np.ndarray]:
    """The weights fitted to each resample of the rows, in ``n_jobs`` processes."""
    if n_jobs == 1 or len(resamples) < 2:
        return [_fit(values[rows], method, seed, start)[0] for rows in resamples]

    jobs = (delayed(_refit)(values, rows, method, seed, start) for rows in resamples)
    return Parallel(n_jobs=min(n_jobs, len(resamples)))(jobs)


def _refit(values, rows, method, seed, start) -> np.ndarray:
    """:func:`_fit` to a resample in a worker process, with one torch thread."""
    import torch

    torch.set_num_threads(1)
    return _fit(values[rows], method, seed, start)[0]


def _fit(values: np.ndarray, method: str, seed: int, start: np.ndarray | None = None):
    """The weights (LiNGAM's adjacency or Spearman's correlations) and LiNGAM's unmixing.

    ``start`` starts LiNGAM's FastICA from an earlier fit's unmixing matrix.
    """
    if method == "lingam":
        fit = ica_lingam(values, seed=seed, start=start)
        return fit.adjacency, fit.unmixing

    return np.corrcoef(rankdata(values, axis=0), rowvar=False), None


def _spearman_pvalues(rho: np.ndarray, n: int) -> np.ndarray:
    """Two-sided p-values of Spearman correlations (t approximation, as scipy's)."""
    rho = np.clip(rho, -1 + 1e-12, 1 - 1e-12)
    t = rho * np.sqrt((n - 2) / (1 - rho**2))
    return 2 * stats.t.sf(np.abs(t), n - 2)
