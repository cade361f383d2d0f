"""Which TFs of each motif cluster the groups express, as the networks' tables list them."""

from __future__ import annotations

import pandas as pd

from ..._scan.tfs import EXPRESSED, scan_key_of, tf_expression
from ..._shared.constants import AGNOSTIC_GROUP, LIST_SEP

#: Default expression cut-off, log10(TPM + 1): 1 TPM.
MIN_EXPRESSION = EXPRESSED


def expressed_tfs(pb, groups, *, rna: str, min_expression: float, key: str) -> pd.DataFrame:
    """Per motif cluster (rows) and group (columns): its TFs expressed in the group.

    A TF counts when its gene has ``["rna"].X`` (log10(TPM + 1)) of at least
    ``min_expression`` in the group (in any group for :data:`AGNOSTIC_GROUP`), as
    :func:`scget._scan.tfs.tf_expression` matches them; the cell is a ``;``-joined
    string, most expressed first, empty if none. The TF names are those of the motif scan
    behind the result stored under ``key`` (a gene-by-motif run or a network).
    """
    motif_key = scan_key_of(pb, key)
    columns = {}
    for group in groups:
        across = "max" if group == AGNOSTIC_GROUP else "mean"
        table = tf_expression(
            pb, group, rna=rna, min_expression=min_expression, across=across, motif_key=motif_key
        )
        columns[group] = table["expressed"].map(LIST_SEP.join)
    return pd.DataFrame(columns)
