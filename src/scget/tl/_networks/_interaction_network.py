"""TF-TF networks from pairwise knockouts: which motifs the model makes act together.

A correlation or causal network reads how motifs' attributions covary over genes. The
interaction network asks the model directly: for each gene of a group, its ``top_motifs``
motifs of largest gene-by-motif attribution are removed one at a time and two at a time,
and the interaction of a pair is what removing both changes beyond the sum of what
removing each does (:func:`~scget.tl._core._knockouts.pair_interactions`).
An edge's weight is the pair's mean interaction over the group's genes (zero for a gene
where the two are not among its top motifs): positive where the two motifs raise their
genes together by more than apart (cooperation), negative where together they do less
(competition, redundancy).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse

from .._core._ensemble import explained_windows, mean_over_models
from .._core._knockouts import pair_interactions
from .._core._model import GETModel


def interaction_edges(
    pb,
    model: GETModel | Sequence[GETModel],
    matrices: dict[str, pd.DataFrame],
    *,
    top_motifs: int,
    n_bootstraps: int,
    min_weight: float,
    seed: int,
    source: dict,
    batch_size: int,
    device: str | None,
) -> pd.DataFrame:
    """The interaction network's edges of every group of ``matrices``.

    Parameters
    ----------
    pb
        The pseudobulk.
    model
        A model or an ensemble (interactions averaged over its models).
    matrices
        Per group, its genes x candidate motifs gene-by-motif attributions.
    top_motifs
        Motifs per gene whose pairs are knocked out.
    n_bootstraps
        Resamples of the genes for ``frequency``.
    min_weight
        Smallest absolute weight reported.
    seed
        Seed of the resamples.
    source
        ``rna``, ``atac`` and ``motif_key`` of the gene-by-motif run.
    batch_size, device
        Window copies per forward pass, torch device.

    Returns
    -------
    ``group``, ``source``, ``target`` (motifs in the model's feature order), ``weight``,
    ``frequency``: the share of resamples of the group's windows whose mean interaction
    has the weight's sign and at least ``min_weight``.
    """
    genes = sorted({gene for matrix in matrices.values() for gene in matrix.index})
    models, windows = explained_windows(
        pb,
        model,
        genes=genes,
        groups=list(matrices),
        rna=source["rna"],
        atac=source["atac"],
        motif_key=source["motif_key"],
    )
    names = pd.Index(windows.inputs.feature_names)
    group_names = np.asarray(pb[source["atac"]].obs_names.astype(str))
    gene_names = np.asarray(pb[source["rna"]].var_names.astype(str))
    window_group = group_names[windows.table["group"].to_numpy()]
    window_gene = pd.Index(gene_names[windows.table["gene"].to_numpy()])
    parts = []
    for group, matrix in matrices.items():
        columns = names.get_indexer(matrix.columns)
        if (columns < 0).any():
            raise ValueError(
                "The model does not read the motif clusters "
                f"{list(matrix.columns[columns < 0])[:5]} of the gene-by-motif run; run "
                "scget.tl.gene_by_motif with this model first."
            )
        k = min(top_motifs, matrix.shape[1])
        top = np.argsort(-np.abs(matrix.to_numpy(np.float64)), axis=1, kind="stable")[:, :k]
        row_of_gene = pd.Series(np.arange(len(matrix)), index=matrix.index.astype(str))
        found = row_of_gene.reindex(window_gene).to_numpy()
        rows = np.flatnonzero((window_group == group) & ~np.isnan(found))
        if len(rows) == 0:
            raise ValueError(f"Group {group!r}: none of its genes has a promoter window.")
        chosen = columns[top[found[rows].astype(int)]]
        in_group = windows.take(rows)
        desc = f"motif_network {group}, pairwise knockouts"
        options = {"batch_size": batch_size, "device": device, "desc": desc}
        pairs = _mean_interactions(models, in_group, chosen, **options)
        first, second = np.triu_indices(k, 1)
        edges = _edges(
            pairs, chosen[:, first], chosen[:, second], names, n_bootstraps, min_weight, seed
        )
        parts.append(edges.assign(group=group))
    return pd.concat(parts, ignore_index=True)


def _mean_interactions(models, windows, chosen, *, batch_size, device, desc) -> np.ndarray:
    """Windows x pairs interactions averaged over ``models``."""

    def attribute(member: GETModel, label: str) -> dict[str, np.ndarray]:
        options = {"batch_size": batch_size, "device": device, "desc": label}
        return {"pairs": pair_interactions(windows, member, chosen, **options)}

    return mean_over_models(models, attribute, desc)["pairs"]


def _edges(
    interactions: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    names: pd.Index,
    n_bootstraps: int,
    min_weight: float,
    seed: int,
) -> pd.DataFrame:
    """One group's edge table from its windows x pairs interactions."""
    n_windows, n_features = len(interactions), len(names)
    pair = np.minimum(first, second) * n_features + np.maximum(first, second)
    columns, inverse = np.unique(pair, return_inverse=True)
    window = np.repeat(np.arange(n_windows), pair.shape[1])
    values = scipy.sparse.csr_matrix(
        (interactions.ravel(), (window, inverse.ravel())), shape=(n_windows, len(columns))
    )
    weight = np.asarray(values.sum(axis=0)).ravel() / n_windows
    rng = np.random.default_rng(seed)
    stable = np.zeros(len(columns))
    for _ in range(n_bootstraps):
        drawn = np.bincount(rng.integers(0, n_windows, n_windows), minlength=n_windows)
        again = values.T @ drawn / n_windows
        stable += (np.abs(again) >= min_weight) & (np.sign(again) == np.sign(weight))
    frequency = stable / n_bootstraps if n_bootstraps else np.full(len(columns), np.nan)
    keep = np.abs(weight) >= min_weight
    return pd.DataFrame(
        {
            "source": names.to_numpy()[columns[keep] // n_features],
            "target": names.to_numpy()[columns[keep] % n_features],
            "weight": weight[keep].astype(np.float32),
            "frequency": frequency[keep].astype(np.float32),
        }
    )
