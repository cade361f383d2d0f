"""A peak set as the published pipeline builds it, counted from a fragments file."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Literal

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._shared.constants import ATAC, COUNTS_LAYER, RECOUNT_KEY
from .._shared.docs import inject_docs
from .._shared.genomic import (
    chromosome_sort_key,
    format_peak_names,
    parse_peak_names,
    peak_coordinates,
    read_bed,
)
from .._shared.logging import logger, progress
from .._shared.storage import write_result
from .._shared.utils import modality
from ._fragments import DEFAULT_FRAGMENT_CHUNK, check_fragments_file, iter_fragments
from ._groups import as_columns, assign_groups, find_labels
from ._intervals import overlap_pairs
from ._normalize import accessibility_score, compact_counts

_COUNT_MODES = ("insertions", "fragments")


@inject_docs()
def recount_peaks(
    data,
    fragments: str | os.PathLike | None = None,
    *,
    reference: str | os.PathLike | pd.DataFrame | Iterable[str] | None = None,
    width: int | None = None,
    groupby: str | Sequence[str] | None = None,
    count: Literal["insertions", "fragments"] = "insertions",
    atac: str = ATAC,
    chunk_size: int = DEFAULT_FRAGMENT_CHUNK,
):
    """Build a peak set and count a fragments file into it, per cell or per group.

    The peak set is built as the published GET pipeline does: the data's peaks
    (optionally resized to ``width`` bp around their centre), minus those overlapping a
    ``reference`` peak, plus every reference peak (reference coordinates win on
    overlap), sorted by chromosome and start. The fragments file is then streamed,
    ``chunk_size`` rows at a time; only fragments of the data's cells are counted.

    Parameters
    ----------
    data
        Cell-level :class:`~mudata.MuData` (its ``[atac]`` modality is used) or ATAC
        :class:`~anndata.AnnData`: its ``obs_names`` are the barcodes to count, its
        ``var_names`` (``chrom:start-end``) the data's peaks.
    fragments
        10x fragments file (``chrom, start, end, barcode, count``; ``.tsv`` or
        ``.tsv.gz``, bgzipped and tabix-indexed or not). ``None`` uses the one recorded
        in the ATAC data's ``uns["files"]["fragments"]`` (as
        :func:`scget.read_10x_multiome` and muon record it).
    reference
        Reference peaks to join: a BED file (read as :func:`scget.tl.delete_regions`
        reads one: header, ``track``, ``browser`` and ``#`` lines skipped, tabs or
        spaces, extra columns allowed), a DataFrame with ``chrom``, ``start``,
        ``end`` (or ``Chromosome``, ``Start``, ``End``), or peak names. ``None`` keeps
        the data's peaks only.
    width
        Resize the data's peaks to this width around their centre before the union
        (the published pipeline used 400 bp around summits); ``None`` keeps them.
    groupby
        ``.obs`` column(s) grouping the cells; ``None`` counts per cell.
    count
        ``"insertions"`` (default, as Cell Ranger ATAC/ARC): each fragment has two Tn5
        insertion sites, at its ``start`` and ``end`` as written in the file, and
        each site adds 1 to the peak containing it (a fragment within one peak adds 2).
        ``"fragments"``: a fragment adds 1 to every peak it overlaps. Each row is one
        fragment whatever its duplicate count.
    {atac}
    chunk_size
        Fragment rows read at once.

    Returns
    -------
    A new :class:`~anndata.AnnData`, peaks in ``var`` (``chrom``, ``start``, ``end``,
    ``origin``: ``"data"`` or ``"reference"``), named ``chrom:start-end``:

    - per cell (``groupby=None``): cells x peaks sparse CSR float32 counts in ``X``,
      ``obs`` a copy of the cells' ``obs``;
    - per group: as the ATAC modality of :func:`scget.pp.pseudobulk`, groups x peaks
      dense counts in ``layers["counts"]``, the accessibility score in ``X``, ``obs``
      with the ``groupby`` columns, ``n_cells`` and ``n_fragments`` (counts in peaks).
      Groups without counts are dropped (logged).

    ``uns["scget"]["recount_peaks"]`` holds the numbers of peaks and fragments read and
    the parameters.

    Raises
    ------
    FileNotFoundError
        If the fragments or reference file does not exist.
    ValueError
        If no fragments file is given or recorded, peak names cannot be parsed, the
        fragments file is malformed, ``count`` or ``width`` is invalid, or no fragment
        belongs to a cell of ``data``.
    KeyError
        If the modality or a ``groupby`` column is missing.

    Examples
    --------
    >>> fragments = mdata.uns["simulation"]["fragments"]
    >>> counts = scget.pp.recount_peaks(mdata, fragments, groupby="cell_type")
    >>> counts.shape
    (3, 450)
    >>> bool((counts.layers["counts"] == pb["atac"].layers["counts"]).all())
    True
    """
    if count not in _COUNT_MODES:
        raise ValueError(f"count must be one of {_COUNT_MODES}, got {count!r}.")
    if width is not None and (not isinstance(width, int | np.integer) or width < 1):
        raise ValueError(f"width must be a positive integer or None, got {width!r}.")
    cells = modality(data, atac) if hasattr(data, "mod") else data
    if cells.obs_names.has_duplicates:
        raise ValueError("The cells' obs_names (barcodes) are duplicated; make them unique.")
    if fragments is None:
        fragments = cells.uns.get("files", {}).get("fragments")
        if fragments is None:
            raise ValueError(
                "Pass the fragments file: none is recorded in the ATAC data's "
                "uns['files']['fragments'] (scget.read_10x_multiome records it)."
            )
    path = check_fragments_file(fragments)
    peaks, summary = _union_peaks(peak_coordinates(cells), reference, width)
    if groupby is None:
        codes, groups = np.arange(cells.n_obs), None
    else:
        columns = as_columns(groupby)
        labels = pd.DataFrame(
            {c: _labels(data, c, atac).reindex(cells.obs_names) for c in columns},
            index=cells.obs_names,
        )
        codes, groups = assign_groups(labels)
    n_rows = cells.n_obs if groups is None else len(groups)

    counts, read = _count(path, cells.obs_names, codes, peaks, n_rows, count, chunk_size)
    summary.update(read)
    params = {"reference": _describe(reference), "width": width, "groupby": groupby}
    params.update(count=count, atac=atac)
    if groups is None:
        result = ad.AnnData(X=counts.astype(np.float32), obs=cells.obs.copy(), var=peaks)
    else:
        counts = counts.toarray()
        obs = groups.assign(
            n_cells=np.bincount(codes[codes >= 0], minlength=len(groups)),
            n_fragments=counts.sum(axis=1).round().astype(np.int64),
        )
        empty = obs["n_fragments"].to_numpy() == 0
        if empty.any():
            logger.warning(f"Groups without counts in peaks are dropped: {list(obs.index[empty])}.")
        counts, obs = counts[~empty], obs[~empty]
        result = ad.AnnData(X=accessibility_score(counts), obs=obs, var=peaks)
        result.layers[COUNTS_LAYER] = compact_counts(counts)
    write_result(result, RECOUNT_KEY, summary, params)
    return result


def _labels(data, column: str, atac: str) -> pd.Series:
    if hasattr(data, "mod"):
        return find_labels(data, column, (atac,))
    if column not in data.obs.columns:
        raise KeyError(f"groupby column {column!r} is not in .obs ({list(data.obs.columns)}).")
    return data.obs[column]


def _describe(reference) -> str | None:
    if reference is None or isinstance(reference, str | os.PathLike):
        return None if reference is None else os.fspath(reference)
    return type(reference).__name__


def _read_peaks(reference) -> pd.DataFrame:
    """Read reference peaks into a chrom/start/end table."""
    if isinstance(reference, str | os.PathLike):
        table = read_bed(reference)
        backwards = table[table["start"] >= table["end"]]
        if len(backwards):
            first = backwards.iloc[0]
            raise ValueError(
                f"{len(backwards)} reference peaks in {reference} have start >= end (first: line "
                f"{first['line']}, {first['chrom']} {first['start']} {first['end']}); fix them."
            )
        return table[["chrom", "start", "end"]]
    if isinstance(reference, pd.DataFrame):
        renamed = reference.rename(columns={"Chromosome": "chrom", "Start": "start", "End": "end"})
        missing = {"chrom", "start", "end"} - set(renamed.columns)
        if missing:
            raise ValueError(f"Reference peaks lack column(s) {sorted(missing)}.")
        return renamed[["chrom", "start", "end"]].astype({"start": np.int64, "end": np.int64})
    return parse_peak_names(reference).reset_index(drop=True)


def _union_peaks(data_peaks: pd.DataFrame, reference, width: int | None):
    """Join the (resized) data peaks not overlapping the reference with the reference."""
    peaks = data_peaks.reset_index(drop=True)[["chrom", "start", "end"]]
    if width is not None:
        centre = (peaks["start"] + peaks["end"]) // 2
        peaks = peaks.assign(start=(centre - width // 2).clip(lower=0))
        peaks["end"] = peaks["start"] + width
    peaks = peaks.drop_duplicates().assign(origin="data")
    summary = {"n_data_peaks": len(peaks), "n_reference_peaks": 0, "n_replaced": 0}
    if reference is not None:
        ref = _read_peaks(reference).drop_duplicates().assign(origin="reference")
        overlapping = np.unique(overlap_pairs(peaks, ref)[0])
        summary.update(n_reference_peaks=len(ref), n_replaced=len(overlapping))
        peaks = pd.concat([peaks.drop(index=peaks.index[overlapping]), ref], ignore_index=True)
        logger.info(
            f"{len(overlapping)} of {summary['n_data_peaks']} data peaks overlap one of "
            f"{len(ref)} reference peaks and are replaced by them."
        )
    rank = {c: i for i, c in enumerate(sorted(peaks["chrom"].unique(), key=chromosome_sort_key))}
    order = np.lexsort((peaks["end"], peaks["start"], peaks["chrom"].map(rank)))
    peaks = peaks.iloc[order].reset_index(drop=True)
    peaks.index = format_peak_names(peaks["chrom"], peaks["start"], peaks["end"])
    if peaks.index.has_duplicates:  # a data peak identical to a reference one
        peaks = peaks[~peaks.index.duplicated(keep="last")]
    summary["n_peaks"] = len(peaks)
    return peaks, summary


def _count(path, barcodes: pd.Index, codes, peaks: pd.DataFrame, n_rows, count, chunk_size):
    """Stream the fragments file and count each row's sites into (row code, peak) pairs."""
    row_of_barcode = pd.Series(codes, index=barcodes)
    pieces = []
    n_read = n_kept = 0
    for chunk in progress(iter_fragments(path, chunk_size=chunk_size), desc="fragments"):
        n_read += len(chunk)
        rows = row_of_barcode.reindex(chunk["barcode"]).fillna(-1).to_numpy(np.int64)
        known = rows >= 0
        chunk, rows = chunk[known], rows[known]
        n_kept += len(chunk)
        if count == "insertions":
            sites = np.concatenate([chunk["start"].to_numpy(), chunk["end"].to_numpy()])
            query = pd.DataFrame(
                {"chrom": np.tile(chunk["chrom"].to_numpy(), 2), "start": sites, "end": sites + 1}
            )
            rows = np.tile(rows, 2)
        else:
            query = chunk[["chrom", "start", "end"]]
        hit, peak = overlap_pairs(query, peaks)
        piece = sp.coo_matrix(
            (np.ones(len(hit), dtype=np.float64), (rows[hit], peak)), shape=(n_rows, len(peaks))
        ).tocsr()  # sums duplicates: few (row, peak) pairs recur across position-sorted chunks
        pieces.append(piece.tocoo())
    if n_kept == 0:
        raise ValueError(
            f"None of the {n_read} fragments of {path} belongs to a cell of the data "
            f"(e.g. data barcode {barcodes[0]!r}); check that the barcodes match obs_names."
        )
    data = np.concatenate([p.data for p in pieces])
    row = np.concatenate([p.row for p in pieces])
    col = np.concatenate([p.col for p in pieces])
    counts = sp.csr_matrix((data, (row, col)), shape=(n_rows, len(peaks)))
    logger.info(
        f"{n_kept} of {n_read} fragments belong to the data's cells; "
        f"{int(counts.sum())} {count} counted in {len(peaks)} peaks."
    )
    return counts, {"n_fragments_read": n_read, "n_fragments_of_cells": n_kept}
