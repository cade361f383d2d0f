"""Export enhancer-gene links as BEDPE or in the ABC / ENCODE-rE2G prediction format."""

from __future__ import annotations

import os
from typing import Literal

import numpy as np
import pandas as pd

from ..._shared.constants import ENHANCER_GENE_KEY, PEAK_COLUMNS
from ..._shared.genomic import peak_coordinates
from ..._shared.utils import one_name
from ...get import enhancer_gene, params

#: Columns of the ``"abc"`` format (EnhancerPredictions of ABC-Enhancer-Gene-Prediction,
#: read by the ENCODE-rE2G / CRISPR benchmarking pipelines), then ``method``.
ABC_COLUMNS = ("chr", "start", "end", "name", "TargetGene", "TargetGeneTSS", "CellType", "Score")
#: Columns of the ``"bedpe"`` format (region, then the TSS base; ``#`` header line).
BEDPE_COLUMNS = (
    "chrom1", "start1", "end1", "chrom2", "start2", "end2", "name", "score", "strand1",
    "strand2", "group",
)  # fmt: skip


def export_enhancer_gene(
    pb,
    path: str | os.PathLike,
    *,
    method: str | None = None,
    format: Literal["bedpe", "abc"] = "bedpe",
    group: str | None = None,
    min_score: float = 0.0,
    key: str = ENHANCER_GENE_KEY,
) -> pd.DataFrame:
    """Write the links of :func:`scget.tl.enhancer_gene` to a tab-separated file.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` on which :func:`scget.tl.enhancer_gene` ran.
    path
        File written (replaced).
    method
        The score written; ``None``: the first method stored.
    format
        ``"bedpe"``: one line per link, the region then the gene's TSS (one base),
        ``name`` the gene, ``score``, ``strand1`` ``"."``, ``strand2`` the gene's
        strand and the group, under a ``#`` header line (``bedtools pairtobed`` reads
        it). ``"abc"``: ABC's prediction table with a header, ``chr``, ``start``,
        ``end``, ``name`` (the peak), ``TargetGene``, ``TargetGeneTSS``, ``CellType``
        (the group), ``Score`` and ``method``, as ENCODE-rE2G and the CRISPR
        benchmarking pipelines read predictions.
    group
        Only this group's links (``None``: all).
    min_score
        Only links scoring above this.
    key
        The run's ``key_added``.

    Returns
    -------
    The table written.

    Raises
    ------
    KeyError
        If :func:`scget.tl.enhancer_gene` has not run under ``key``.
    ValueError
        If ``method``, ``format`` or ``group`` is not in the result.

    Examples
    --------
    >>> scget.tl.enhancer_gene(pb, model, groups=["type_01"])
    >>> links = scget.tl.export_enhancer_gene(pb, "links.bedpe", method="abc")
    >>> links.columns.tolist()
    ['chrom1', 'start1', 'end1', 'chrom2', 'start2', 'end2', 'name', 'score', 'strand1', 'strand2',
     'group']
    """
    group = one_name(group)
    stored = params(pb, key)
    if format not in ("bedpe", "abc"):
        raise ValueError(f"format must be 'bedpe' or 'abc', got {format!r}.")
    method = stored["methods"][0] if method is None else method
    if method not in stored["methods"]:
        raise ValueError(f"method {method!r} was not computed; computed: {stored['methods']}.")
    table = enhancer_gene(pb, group=group, key=key)
    table = table[table[method] > min_score].reset_index(drop=True)
    peaks = peak_coordinates(pb[stored["atac"]]).loc[table["peak"].astype(str)]
    var = pb[stored["rna"]].var
    genes = table["gene"].astype(str)
    tss = var["tss"].reindex(genes).to_numpy(np.int64)
    if format == "abc":
        values = (
            *(peaks[column].to_numpy() for column in PEAK_COLUMNS),
            table["peak"].astype(str),
            genes,
            tss,
            table["group"].astype(str),
            table[method],
        )
        out = pd.DataFrame(dict(zip(ABC_COLUMNS, values, strict=True))).assign(method=method)
        out.to_csv(path, sep="\t", index=False)
        return out
    chrom = var["chrom"].reindex(genes).astype(str).to_numpy()
    out = pd.DataFrame(
        {
            **{f"{column}1": peaks[column].to_numpy() for column in PEAK_COLUMNS},
            "chrom2": chrom,
            "start2": tss,
            "end2": tss + 1,
            "name": genes,
            "score": table[method],
            "strand1": ".",
            "strand2": var["strand"].reindex(genes).astype(str).to_numpy(),
            "group": table["group"].astype(str),
        }
    )
    with open(path, "w") as handle:
        handle.write("#" + "\t".join(BEDPE_COLUMNS) + "\n")
        out.to_csv(handle, sep="\t", index=False, header=False)
    return out
