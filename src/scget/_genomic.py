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
    """Coordinates of the peaks of ``adata``, parsed from its peak names.

    The names are the one source of the coordinates. When ``var`` also has the columns
    ``chrom``, ``start`` and ``end`` (as :func:`scget.pp.pseudobulk` writes them), they
    must agree with the names: a peak renamed without its columns (or the reverse) is an
    error rather than a silent choice of one of the two.

    Parameters
    ----------
    adata
        :class:`~anndata.AnnData` whose ``var`` are peaks.

    Returns
    -------
    DataFrame with columns ``chrom`` (str), ``start`` and ``end`` (int64), indexed by peak
    name, from :func:`parse_peak_names`.

    Raises
    ------
    ValueError
        If a name cannot be parsed, or the ``var`` columns disagree with the names; the
        message names the first disagreeing peak.
    """
    table = parse_peak_names(adata.var_names)
    present = [column for column in PEAK_COLUMNS if column in adata.var.columns]
    if not present:
        return table
    var = adata.var
    differ = np.zeros(len(table), dtype=bool)
    for column in present:
        stored = var[column].astype(str).to_numpy()
        differ |= stored != table[column].astype(str).to_numpy()
    if differ.any():
        first = int(np.flatnonzero(differ)[0])
        stored = ", ".join(f"{c}={var[c].iloc[first]}" for c in present)
        raise ValueError(
            f"{int(differ.sum())} peak(s) have var[{present}] disagreeing with their names, "
            f"e.g. {table.index[first]!r} has {stored}. The names are the coordinates: "
            "rename peaks and their columns together, or drop the columns "
            f"(adata.var.drop(columns={present})) to use the names."
        )
    return table


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
