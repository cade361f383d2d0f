"""Genomic intervals: parsing and formatting peak names (``chr:start-end``)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ._constants import PEAK_COLUMNS

_PEAK_PATTERN = re.compile(r"^([^:\s]+)[:_-](\d+)[-_](\d+)$")


def parse_peak_names(names: Iterable[str]) -> pd.DataFrame:
    """Parse peak names into a BED-like table.

    Accepts ``chr1:100-200`` (the contract), and also ``chr1-100-200`` and
    ``chr1_100_200`` as written by some pipelines. Coordinates are 0-based,
    half-open, as in BED and 10x peak names.

    Parameters
    ----------
    names
        Peak names.

    Returns
    -------
    DataFrame with columns ``chrom`` (str), ``start`` and ``end`` (int64), indexed by name.

    Raises
    ------
    ValueError
        If any name cannot be parsed or has ``end <= start``; the message lists
        the first offenders.
    """
    names = pd.Index(names).astype(str)
    matches = [_PEAK_PATTERN.match(name) for name in names]
    bad = np.fromiter((m is None for m in matches), dtype=bool, count=len(matches))
    if bad.any():
        examples = ", ".join(repr(n) for n in names[bad][:5])
        raise ValueError(
            f"{bad.sum()} peak name(s) cannot be parsed as 'chrom:start-end', e.g. {examples}. "
            "Rename the peaks (e.g. mdata['atac'].var_names) to the form 'chr1:1000-1500'."
        )
    fields = np.array([m.groups() for m in matches], dtype=object).reshape(-1, 3)
    table = pd.DataFrame(
        {
            "chrom": fields[:, 0].astype(str),
            "start": fields[:, 1].astype(np.int64),
            "end": fields[:, 2].astype(np.int64),
        },
        index=names,
    )
    empty = table["end"] <= table["start"]
    if empty.any():
        examples = ", ".join(repr(n) for n in table.index[empty][:5])
        raise ValueError(f"{empty.sum()} peak(s) have end <= start, e.g. {examples}.")
    return table


def peak_coordinates(adata) -> pd.DataFrame:
    """Coordinates of the peaks of ``adata``: its ``var`` columns, else parsed from the names.

    Parameters
    ----------
    adata
        :class:`~anndata.AnnData` whose ``var`` are peaks.

    Returns
    -------
    DataFrame with columns ``chrom`` (str), ``start`` and ``end`` (int64), indexed by peak
    name, from ``var["chrom", "start", "end"]`` when all three are present (as
    :func:`scget.pp.pseudobulk` writes them), else from :func:`parse_peak_names`.
    """
    if set(PEAK_COLUMNS) <= set(adata.var.columns):
        var = adata.var
        return pd.DataFrame(
            {
                "chrom": var["chrom"].astype(str).to_numpy(),
                "start": var["start"].to_numpy(dtype=np.int64),
                "end": var["end"].to_numpy(dtype=np.int64),
            },
            index=var.index,
        )
    return parse_peak_names(adata.var_names)


def format_peak_names(chrom, start, end) -> pd.Index:
    """Format intervals as ``chrom:start-end`` names."""
    return pd.Index(
        [f"{c}:{s}-{e}" for c, s, e in zip(chrom, np.asarray(start), np.asarray(end), strict=True)]
    )


def chromosome_sort_key(chrom: str) -> tuple[int, int, str]:
    """Natural order of chromosome names: chr1, chr2, ..., chr10, ..., chrX, chrY, chrM, others."""
    name = chrom[3:] if chrom.lower().startswith("chr") else chrom
    if name.isdigit():
        return (0, int(name), "")
    return (1, {"X": 0, "Y": 1, "M": 2, "MT": 2}.get(name.upper(), 3), name)
