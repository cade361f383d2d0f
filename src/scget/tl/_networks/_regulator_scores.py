"""A score per pseudobulk for each regulator (motif cluster), or each (motif, gene) pair.

- From gene-by-motif: the mean attribution of a motif over its targets, the genes where
  it matters most on average over the group's pseudobulks (chosen without looking at the
  conditions, so that the choice cannot favour a difference); or the mean expression of
  those targets relative to the pseudobulk's genes, each signed by the direction in
  which the motif acts on it (its mean attribution's sign): the regulator's activity as
  its targets show it.
- From accessibility, without a model (chromVAR-like): the log2 ratio of the share of a
  pseudobulk's ATAC counts that fall in the motif's peaks (weighted by motif score) to
  that share over the pseudobulks scored together (one cell type's).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..._shared.constants import ACCESSIBILITY_FEATURE, COUNTS_LAYER
from ..._shared.storage import read_params, read_result
from ..._shared.utils import modality, to_dense


def target_scores(
    pb,
    names: Sequence[str],
    *,
    key: str,
    motifs: Sequence[str] | None,
    n_targets: int,
    level: str,
    of: str = "attribution",
) -> pd.DataFrame:
    """Scores of one group's pseudobulks ``names`` on each motif's targets by gene-by-motif ``key``.

    A motif's targets are the ``n_targets`` genes of largest mean absolute attribution over
    ``names``, chosen without looking at the conditions. Each target's sign is that of
    its mean attribution over ``names`` (0 for a gene the motif does not act on).

    Parameters
    ----------
    of
        ``"attribution"``: the motif's attribution to each target; ``"expression"``: each
        target's expression in the pseudobulk (``.X`` of the RNA modality, log10 TPM)
        minus the mean expression of the pseudobulk's genes with attributions, times the
        target's sign: it rises when an activated gene rises or a repressed one falls,
        so a regulator's targets add up instead of cancelling when it activates some and
        represses others (or the models of an ensemble disagree on the sign).

    Returns
    -------
    Pseudobulks x motifs (``level="motif"``: the mean over the motif's targets) or x
    (motif, gene) pairs (``level="gene"``: each target's value).
    """
    rna = read_params(pb, key, writer="scget.tl.gene_by_motif")["rna"]
    adata = modality(pb, rna)
    slots = read_result(pb, key).set_index("group")["varm_key"]
    frames = [adata.varm[slots[name]] for name in names]
    features = _motif_columns(frames[0].columns, motifs)
    complete = np.logical_and.reduce([f[features].notna().all(axis=1).to_numpy() for f in frames])
    genes = frames[0].index[complete]
    if len(genes) == 0:
        raise ValueError(f"No gene has gene-by-motif values in all of {list(names)}.")
    values = np.stack([f.loc[genes, features].to_numpy(np.float64) for f in frames])
    k = min(n_targets, len(genes))
    strength = np.abs(values).mean(axis=0)  # genes x motifs, blind to the condition
    targets = np.argpartition(-strength, k - 1, axis=0)[:k]  # k x motifs
    if of == "expression":
        sign = np.sign(np.take_along_axis(values.mean(axis=0), targets, axis=0))  # k x motifs
        picked = relative_expression(adata, names, genes)[:, targets] * sign[None]
    else:
        picked = np.take_along_axis(values, targets[None], axis=1)
    if level == "motif":
        return pd.DataFrame(picked.mean(axis=1), index=list(names), columns=features)
    columns = pd.MultiIndex.from_arrays(
        [np.repeat(features, k), genes.to_numpy()[targets.T.ravel()]], names=["source", "target"]
    )
    return pd.DataFrame(
        picked.transpose(0, 2, 1).reshape(len(names), -1), index=list(names), columns=columns
    )


def relative_expression(adata, names: Sequence[str], genes: pd.Index) -> np.ndarray:
    """Pseudobulks ``names`` x ``genes``: ``.X`` minus each pseudobulk's mean over ``genes``.

    Log TPM is compositional: genes that rise lower every other gene a little, so a
    set of genes is compared with the pseudobulk's genes as a whole.
    """
    rows = adata.obs_names.get_indexer(list(names))
    columns = adata.var_names.get_indexer(genes)
    expression = to_dense(adata.X[rows][:, columns], np.float64)
    return expression - expression.mean(axis=1, keepdims=True)


def accessibility_deviations(
    pb, names: Sequence[str], *, atac: str, motif_key: str, motifs: Sequence[str] | None
) -> pd.DataFrame:
    """Pseudobulks ``names`` x motifs: log2 of observed over expected motif accessibility.

    For pseudobulk ``j`` and motif ``m`` with scores ``w[p, m]`` and counts ``c[j, p]``,
    ``log2((sum_p w c_j / sum_p c_j) / (sum_p w C / sum_p C))`` with ``C`` the counts
    summed over ``names``.
    """
    adata = modality(pb, atac)
    if motif_key not in adata.varm:
        raise KeyError(
            f"pb[{atac!r}].varm has no {motif_key!r}; run scget.pp.scan_motifs(pb, genome=...)."
        )
    scores = adata.varm[motif_key]
    features = _motif_columns(scores.columns, motifs)
    weights = scores[features].to_numpy(np.float64)
    rows = adata.obs_names.get_indexer(list(names))
    counts = to_dense(adata.layers[COUNTS_LAYER][rows], np.float64)
    share = (counts @ weights) / counts.sum(axis=1, keepdims=True)
    total = counts.sum(axis=0)
    expected = (total @ weights) / total.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        deviation = np.log2(share / expected)
    return pd.DataFrame(deviation, index=list(names), columns=features)


def _motif_columns(columns: pd.Index, motifs: Sequence[str] | None) -> list[str]:
    available = [str(c) for c in columns if c != ACCESSIBILITY_FEATURE]
    if motifs is None:
        return available
    motifs = [motifs] if isinstance(motifs, str) else list(motifs)
    unknown = sorted(set(motifs) - set(available))
    if unknown:
        raise ValueError(f"motifs {unknown[:5]} are not among the {len(available)} motif clusters.")
    return motifs
