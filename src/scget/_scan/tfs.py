"""The TFs of each motif cluster and their expression in a group, for tl and pl alike."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from .._shared.constants import LIST_SEP, MOTIF_KEY, RNA
from .._shared.storage import read_params
from .._shared.utils import modality, to_dense
from .record import read_scan_record

#: log10(TPM + 1) from which a TF counts as expressed (1 TPM).
EXPRESSED = float(np.log10(2))


def tf_expression(
    pb,
    group: str,
    *,
    rna: str = RNA,
    min_expression: float = EXPRESSED,
    across: Literal["mean", "max"] = "mean",
    motif_key: str = MOTIF_KEY,
) -> pd.DataFrame:
    """Expression of each motif cluster's TFs in ``group``.

    The TFs of a cluster are the ``tf_names`` of the table that
    :func:`scget.pp.scan_motifs` recorded with the scores in ``varm[motif_key]``
    (dimers ``A::B`` count both), matched to ``[rna].var_names`` without regard to case
    and named as there (JASPAR's mouse-style "Hmx2" is listed as the gene "HMX2").
    A ``group`` that is no observation (the ``"all"`` of a cell-type-agnostic network)
    takes the mean (or the maximum, with ``across="max"``) over the groups.

    Returns
    -------
    Indexed by cluster: ``expressed`` (the TFs with log10(TPM + 1) of at least
    ``min_expression``, most expressed first) and ``expression`` (the largest
    log10(TPM + 1) of its TFs; NaN when none is measured).

    Raises
    ------
    KeyError
        If no :func:`scget.pp.scan_motifs` run is recorded for ``motif_key``.
    """
    _, table = read_scan_record(pb, motif_key)
    adata = modality(pb, rna)
    names = pd.Index(adata.obs_names.astype(str))
    rows = [names.get_loc(group)] if group in names else slice(None)
    values = getattr(to_dense(adata.X[rows], np.float64), across)(axis=0)
    gene_names = adata.var_names.astype(str)
    genes = pd.Series(gene_names, index=gene_names.str.upper())
    level = pd.Series(values, index=genes.index).groupby(level=0).max()
    gene_of = genes[~genes.index.duplicated()]  # a motif's TF name -> the gene's own name
    expressed, expression = [], []
    for cluster_names in table["tf_names"].astype(str):
        tfs = dict.fromkeys(
            gene_of.get(part.upper(), part)
            for name in cluster_names.split(LIST_SEP)
            for part in name.split("::")
            if part
        )
        found = pd.Series({tf: level.get(tf.upper(), np.nan) for tf in tfs}, dtype=float)
        found = found.dropna().sort_values(ascending=False)
        expressed.append(found.index[found >= min_expression].tolist())
        expression.append(found.max() if len(found) else np.nan)
    index = table.index.astype(str)
    return pd.DataFrame({"expressed": expressed, "expression": expression}, index=index)


def attribution_params(pb, key: str) -> dict:
    """The parameters of the gene-by-motif run behind the result stored under ``key``.

    ``key`` is a gene-by-motif run itself, or a result built from one (a motif network,
    which records the ``key`` of its gene-by-motif run, and is followed).
    """
    params = read_params(pb, key)
    if "motif_key" not in params and "key" in params:
        params = read_params(pb, params["key"])
    return params


def scan_key_of(pb, key: str) -> str:
    """The ``motif_key`` (scan) behind the attribution or network result stored under ``key``.

    Results written before the key was recorded get the default scan.
    """
    return attribution_params(pb, key).get("motif_key", MOTIF_KEY)
