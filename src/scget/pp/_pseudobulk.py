"""Pseudobulks of a cell-level multiome: summed counts, accessibility score, log10(TPM + 1)."""

from __future__ import annotations

from collections.abc import Sequence

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd

from .._shared.constants import ATAC, COUNTS_LAYER, PSEUDOBULK_KEY, RNA
from .._shared.docs import inject_docs
from .._shared.genomic import peak_coordinates
from .._shared.logging import logger
from .._shared.storage import write_result
from .._shared.utils import modality
from ._aggregate import DEFAULT_CHUNK_SIZE, sum_by_group
from ._design import log_design, sample_covariates
from ._groups import as_columns, assign_groups, find_labels
from ._normalize import accessibility_score, compact_counts, log_tpm

#: Smallest pseudobulk kept by default (GET tutorial: > 100 cells; the paper used > 600).
MIN_CELLS = 100


@inject_docs()
def pseudobulk(
    mdata,
    groupby: str | Sequence[str],
    *,
    sample: str | None = None,
    covariates: Sequence[str] | None = None,
    rna: str = RNA,
    atac: str = ATAC,
    rna_layer: str | None = None,
    atac_layer: str | None = None,
    min_cells: int = MIN_CELLS,
    min_fragments: int = 1,
    min_counts: int = 1,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
):
    """Sum a cell-level multiome into pseudobulks: GET's inputs and expression values.

    Cells of the RNA and ATAC modalities are matched by barcode (``obs_names``); cells
    present in only one modality are left out and counted in a warning. Counts are
    summed per group in one pass over the stored values of sparse matrices (never
    densified); on-disk (backed) matrices are read ``chunk_size`` cells at a time, so an
    atlas need not fit in memory.

    Parameters
    ----------
    mdata
        Cell-level :class:`~mudata.MuData` with raw counts (cells x genes, cells x peaks;
        peaks named ``chrom:start-end``). May be backed (``read_h5mu(..., backed=True)``).
    groupby
        ``.obs`` column(s) defining the groups, e.g. ``"cell_type"`` or
        ``["cell_type", "sample"]`` (groups named ``"B_donor1"``). Looked up in
        ``mdata.obs``, then in the modalities' ``.obs``. Cells with a missing label are
        left out.
    sample
        ``.obs`` column of the sample (donor, replicate): one pseudobulk per ``groupby``
        group and sample (named ``"B_donor1"``), the replicates that
        :func:`scget.tl.differential_regulation` compares. Sample-level covariates are
        kept in ``.obs`` (see ``covariates``), and the samples each covariate level
        keeps per group after filtering are logged: a level with one sample is a
        warning.
    covariates
        With ``sample``: ``.obs`` columns that are properties of the sample (condition,
        batch, sex), kept in the pseudobulks' ``.obs``; each must be constant within
        every sample. ``None``: every column of ``mdata.obs`` that is.
    {rna}
    {atac}
    rna_layer, atac_layer
        Layer holding the raw counts; ``None`` uses ``.X``.
    min_cells
        Groups with fewer cells are dropped (logged).
    min_fragments
        Groups with fewer ATAC counts in peaks are dropped (at least 1: a group
        without counts has no accessibility score).
    min_counts
        Groups with fewer RNA counts are dropped (at least 1).
    chunk_size
        Cells read at once from dense or on-disk (backed) matrices.

    Returns
    -------
    A new :class:`~mudata.MuData` with one observation per kept group:

    - ``.obs``: the ``groupby`` columns (categorical), with ``sample`` the sample column
      and the sample-level covariates, then ``n_cells``, ``n_fragments``
      (summed ATAC counts in peaks, the ATAC library size; Cell Ranger matrices count
      Tn5 insertions, two per fragment) and ``n_counts`` (summed RNA counts). The
      modalities' ``.obs`` hold only the group names (columns there would be pulled
      into ``.obs`` again, prefixed, by ``read_h5mu``).
    - ``[rna].layers["counts"]``, ``[atac].layers["counts"]``: dense summed counts
      (float32, or float64 when a value exceeds 2**24 and float32 would round it).
    - ``[rna].X``: dense float32 ``log10(c / sum(c) * 1e6 + 1)`` (log10 TPM + 1).
    - ``[atac].X``: dense float32 accessibility score ``log10(c / sum(c) * 1e5 + 1)``,
      divided by its maximum over the group's peaks.
    - ``[atac].var``: the input ``.var`` plus ``chrom``, ``start``, ``end`` parsed from
      the peak names; ``[rna].var``: the input ``.var``.
    - ``.uns["scget"]["pseudobulk"]``: ``result``, a table of every group before
      filtering (``n_cells``, ``n_fragments``, ``n_counts``, ``kept``) and ``params``.

    Raises
    ------
    KeyError
        If a modality, a layer, a ``groupby``, ``sample`` or ``covariates`` column is
        missing.
    ValueError
        If a modality is empty, peak names cannot be parsed, barcodes are duplicated or
        shared by no cell, a label is an empty string or labels of mixed types name the
        same group, counts are non-finite, negative or non-integer, no group has
        ``min_cells`` cells, or a covariate takes two values in one sample.

    Examples
    --------
    >>> pb = scget.pp.pseudobulk(mdata, groupby="cell_type", min_cells=20)
    >>> pb.obs_names.tolist()
    ['type_01', 'type_02', 'type_03']
    >>> pb["rna"].shape, pb["atac"].shape
    ((3, 90), (3, 450))
    """
    columns = as_columns(groupby)
    if sample is not None:
        if not isinstance(sample, str) or sample in columns:
            raise ValueError(
                f"sample must be an .obs column name other than groupby {columns}, got {sample!r}."
            )
        columns = [*columns, sample]
    _check_thresholds(min_cells=min_cells, min_fragments=min_fragments, min_counts=min_counts)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}.")
    rna_data, atac_data = (modality(mdata, name) for name in (rna, atac))
    for name, data, features in ((rna, rna_data, "genes"), (atac, atac_data, "peaks")):
        if data.n_obs == 0 or data.n_vars == 0:
            raise ValueError(
                f"mdata[{name!r}] is empty ({data.n_obs} cells x {data.n_vars} {features}); "
                "pseudobulks need cells with counts in both modalities."
            )
    rna_matrix = _counts_matrix(rna_data, rna_layer, rna)
    atac_matrix = _counts_matrix(atac_data, atac_layer, atac)
    peaks = peak_coordinates(atac_data)
    cells = _shared_cells(rna_data.obs_names, atac_data.obs_names, rna=rna, atac=atac)
    labels = pd.DataFrame(
        {c: find_labels(mdata, c, (rna, atac)).reindex(cells) for c in columns},
        index=cells,
    )
    codes, groups = assign_groups(labels)
    if sample is not None:
        per_sample = sample_covariates(
            mdata, cells, labels[sample], covariates, exclude=columns, modalities=(rna, atac)
        )
        for name in per_sample.columns:
            groups[name] = per_sample[name].reindex(groups[sample].astype(object)).to_numpy()
            if isinstance(per_sample[name].dtype, pd.CategoricalDtype):
                groups[name] = groups[name].astype(per_sample[name].dtype)
    n_cells = np.bincount(codes[codes >= 0], minlength=len(groups))
    if not (n_cells >= min_cells).any():
        raise ValueError(
            f"No group has min_cells={min_cells} cells (largest: {n_cells.max()}). "
            "Lower min_cells or group more coarsely."
        )

    cell_codes = pd.Series(codes, index=cells)
    rna_counts = sum_by_group(
        rna_matrix,
        cell_codes.reindex(rna_data.obs_names, fill_value=-1).to_numpy(),
        len(groups),
        what=_matrix_name(rna, rna_layer),
        chunk_size=chunk_size,
    )
    atac_counts = sum_by_group(
        atac_matrix,
        cell_codes.reindex(atac_data.obs_names, fill_value=-1).to_numpy(),
        len(groups),
        what=_matrix_name(atac, atac_layer),
        chunk_size=chunk_size,
    )

    summary = groups.copy()
    summary["n_cells"] = n_cells
    summary["n_fragments"] = atac_counts.sum(axis=1).round().astype(np.int64)
    summary["n_counts"] = rna_counts.sum(axis=1).round().astype(np.int64)
    keep = (
        (summary["n_cells"] >= min_cells)
        & (summary["n_fragments"] >= min_fragments)
        & (summary["n_counts"] >= min_counts)
    ).to_numpy()
    _log_dropped(
        summary, keep, min_cells=min_cells, min_fragments=min_fragments, min_counts=min_counts
    )
    summary["kept"] = keep
    obs = summary.loc[keep].drop(columns="kept")
    if sample is not None:
        log_design(obs, columns[:-1], sample, [c for c in obs.columns if c in per_sample])

    atac_var = atac_data.var.copy()
    for column in ("chrom", "start", "end"):
        atac_var[column] = peaks[column].to_numpy()
    modalities = {
        rna: _pseudobulk_modality(rna_counts[keep], log_tpm, obs, rna_data.var.copy()),
        atac: _pseudobulk_modality(atac_counts[keep], accessibility_score, obs, atac_var),
    }
    with md.set_options(pull_on_update=False):
        pb = md.MuData(modalities)
    pb.obs = obs.copy()
    params = {
        "groupby": columns if sample is None else columns[:-1],
        "sample": sample,
        "covariates": None if sample is None else list(per_sample.columns),
        "rna": rna,
        "atac": atac,
        "rna_layer": rna_layer,
        "atac_layer": atac_layer,
        "min_cells": min_cells,
        "min_fragments": min_fragments,
        "min_counts": min_counts,
    }
    write_result(pb, PSEUDOBULK_KEY, summary, params)
    logger.info(
        f"{len(obs)} pseudobulk(s) of {int(obs['n_cells'].sum())} cells, "
        f"{rna_data.n_vars} genes and {atac_data.n_vars} peaks."
    )
    return pb


def _check_thresholds(**thresholds: int) -> None:
    for name, value in thresholds.items():
        minimum = 0 if name == "min_cells" else 1
        if not isinstance(value, int | np.integer) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")


def _counts_matrix(adata, layer: str | None, mod: str):
    if layer is None:
        return adata.X
    if layer not in adata.layers:
        raise KeyError(
            f"Layer {layer!r} is not in mdata[{mod!r}].layers ({list(adata.layers)}); "
            "pass the layer that holds raw counts, or None for .X."
        )
    return adata.layers[layer]


def _matrix_name(mod: str, layer: str | None) -> str:
    return f'mdata["{mod}"].' + ("X" if layer is None else f'layers["{layer}"]')


def _shared_cells(rna_cells: pd.Index, atac_cells: pd.Index, *, rna: str, atac: str) -> pd.Index:
    """Barcodes present in both modalities (in RNA order); mismatches are reported."""
    for name, cells in ((rna, rna_cells), (atac, atac_cells)):
        if cells.has_duplicates:
            raise ValueError(
                f"mdata[{name!r}].obs_names has duplicated barcodes, e.g. "
                f"{cells[cells.duplicated()][0]!r}; make them unique (obs_names_make_unique)."
            )
    shared = rna_cells[rna_cells.isin(atac_cells)]
    if shared.empty:
        raise ValueError(
            f"No barcode is shared by mdata[{rna!r}] and mdata[{atac!r}] (e.g. {rna_cells[0]!r} "
            f"vs {atac_cells[0]!r}); RNA and ATAC cells are matched by obs_names."
        )
    only_rna, only_atac = len(rna_cells) - len(shared), len(atac_cells) - len(shared)
    if only_rna or only_atac:
        logger.warning(
            f"{only_rna} cell(s) only in {rna!r} and {only_atac} only in {atac!r} are left out; "
            f"{len(shared)} cells have both modalities."
        )
    return shared


def _log_dropped(
    summary: pd.DataFrame, keep: np.ndarray, *, min_cells: int, min_fragments: int, min_counts: int
) -> None:
    for name, row in summary.loc[~keep].iterrows():
        logger.warning(
            f"Pseudobulk {name!r} dropped: {row['n_cells']} cells (min_cells={min_cells}), "
            f"{row['n_fragments']} fragments (min_fragments={min_fragments}), "
            f"{row['n_counts']} RNA counts (min_counts={min_counts})."
        )


def _pseudobulk_modality(counts: np.ndarray, normalize, obs: pd.DataFrame, var: pd.DataFrame):
    adata = ad.AnnData(X=normalize(counts), obs=pd.DataFrame(index=obs.index), var=var)
    adata.layers[COUNTS_LAYER] = compact_counts(counts)
    return adata
