"""Region deletion: the predicted change of each gene when regions are removed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..._constants import ATAC, DELETE_REGIONS_KEY, MOTIF_KEY, PEAK_COLUMNS, RNA
from ..._docs import inject_docs
from ..._genomic import peak_coordinates
from ...pp._intervals import overlap_pairs
from .._core._model import GETModel
from .._core._promoters import DOCS as INTERPRET_DOCS
from .._core._promoters import promoters
from ._change import DOCS, change, named_peaks, store_change


@inject_docs(**INTERPRET_DOCS, **DOCS)
def delete_regions(
    pb,
    model: GETModel,
    *,
    regions: str | os.PathLike | Sequence[str] | pd.DataFrame,
    genes: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
    batch_size: int = 32,
    device: str | None = "auto",
    rna: str = RNA,
    atac: str = ATAC,
    motif_key: str = MOTIF_KEY,
    key_added: str = DELETE_REGIONS_KEY,
    copy: bool = False,
):
    """Predicted change of each gene when genomic regions are deleted.

    Every peak overlapping ``regions`` loses its input: its motif scores and its
    accessibility are set to zero (its TSS indicators and position stay, so the
    windows keep their layout), as an in silico CRISPR deletion or CRISPRi of an
    element.
    {change}

    Parameters
    ----------
    {mdata_pb} Needs ``["atac"].varm["motif_scores"]``, ``["atac"].layers["counts"]``
        and ``["rna"].var["tss_peaks"|"strand"]``.
    {model}
    regions
        Peak names (``["atac"].var_names``), a BED file (its first three columns:
        chromosome, 0-based start, end) or a DataFrame with ``chrom``, ``start`` and
        ``end`` (0-based, half-open).
    {genes_groups}
    batch_size
        Windows per forward pass (each affected window runs twice: as it is and
        perturbed).
    {device}
    {rna}
    {atac}
    {motif_key}
    {key_added}
    {copy}

    Returns
    -------
    {returns}

    Raises
    ------
    {errors}
    KeyError
        If a peak name is unknown.
    FileNotFoundError
        If ``regions`` names neither a peak nor a file.
    ValueError
        If no region overlaps a peak, or a table lacks its columns.
    """
    deleted = overlapping_peaks(pb, regions, atac=atac)
    chosen = promoters(
        pb, model, genes=genes, groups=groups, rna=rna, atac=atac, motif_key=motif_key
    )
    present = np.zeros(pb[atac].n_vars, dtype=bool)
    present[deleted] = True
    changed = np.broadcast_to(present, chosen.scores.shape)
    deltas, windows = change(
        chosen,
        model,
        changed,
        np.arange(chosen.inputs.n_features),
        shape=pb[rna].shape,
        batch_size=batch_size,
        device=device,
        desc="delete_regions",
    )
    if copy:
        pb = pb.copy()
    names = [str(name) for name in pb[atac].var_names[deleted]]
    params = {**chosen.params, "peaks": names, "batch_size": batch_size}
    frame = store_change(pb, deltas, windows, chosen, params, key=key_added, what="delete_regions")
    return pb if copy else frame


def overlapping_peaks(
    pb, regions: str | os.PathLike | Sequence[str] | pd.DataFrame, *, atac: str
) -> np.ndarray:
    """Numbers of the peaks that ``regions`` name or overlap (checked, before any work)."""
    peak_names = pb[atac].var_names
    if isinstance(regions, str | os.PathLike) and str(regions) in peak_names:
        regions = [str(regions)]
    elif isinstance(regions, str | os.PathLike):
        if not Path(regions).is_file():
            raise FileNotFoundError(
                f"regions {str(regions)!r} is neither a peak of pb[{atac!r}] nor a BED file."
            )
        regions = pd.read_csv(
            regions,
            sep="\t",
            header=None,
            usecols=[0, 1, 2],
            names=list(PEAK_COLUMNS),
            comment="#",
            dtype={0: str},
        )
    if isinstance(regions, pd.DataFrame):
        missing = [column for column in PEAK_COLUMNS if column not in regions.columns]
        if missing:
            raise ValueError(f"The regions table lacks the columns {missing}.")
        table = regions[list(PEAK_COLUMNS)].astype({"chrom": str})
        _, found = overlap_pairs(table, peak_coordinates(pb[atac]))
        if len(found) == 0:
            raise ValueError(
                "No region overlaps a peak: check the chromosome names and the "
                "coordinates (0-based, half-open)."
            )
        return np.unique(found)
    return named_peaks(
        pb, regions, atac=atac, hint=", or a BED file or a DataFrame of chrom, start, end"
    )
