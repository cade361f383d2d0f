"""The TFs of each motif cluster, and which of them a group expresses."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..._constants import AGNOSTIC_GROUP, LIST_SEP, MOTIFS_KEY
from ..._storage import read_result
from ..._utils import modality, to_dense

#: Default expression cut-off, log10(TPM + 1): 1 TPM.
MIN_EXPRESSION = float(np.log10(2))


def expressed_tfs(pb, groups, *, rna: str, min_expression: float) -> pd.DataFrame:
    """Per motif cluster (rows) and group (columns): its TFs expressed in the group.

    A TF counts when a gene of that name has ``["rna"].X`` (log10(TPM + 1)) of at least
    ``min_expression`` in the group (in any group for :data:`AGNOSTIC_GROUP`); the cell is
    a ``;``-joined string, empty if none.
    """
    clusters = read_result(pb, MOTIFS_KEY, writer="scget.pp.scan_motifs")
    adata = modality(pb, rna)
    genes = pd.Index(adata.var_names.astype(str))
    rows = pd.Index(adata.obs_names.astype(str))
    expression = to_dense(adata.X, np.float32)
    table = {}
    for group in groups:
        level = (
            expression.max(axis=0) if group == AGNOSTIC_GROUP else expression[rows.get_loc(group)]
        )
        on = set(genes[level >= min_expression])
        table[group] = [
            LIST_SEP.join(tf for tf in str(names).split(LIST_SEP) if tf in on)
            for names in clusters["tf_names"]
        ]
    return pd.DataFrame(table, index=clusters.index.astype(str))


def cluster_tfs(pb, motif: str) -> list[str]:
    """All TF names of motif cluster ``motif`` (``ValueError`` if it is unknown)."""
    clusters = read_result(pb, MOTIFS_KEY, writer="scget.pp.scan_motifs")
    if motif not in clusters.index:
        raise ValueError(f"Unknown motif cluster {motif!r}; e.g. {list(clusters.index[:5])}.")
    return [tf for tf in str(clusters.loc[motif, "tf_names"]).split(LIST_SEP) if tf]
