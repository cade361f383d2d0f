"""Region deletion: the predicted change of each gene when regions are removed."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..._shared.constants import ATAC, DELETE_REGIONS_KEY, MOTIF_KEY, RNA
from ..._shared.docs import inject_docs
from ..._shared.storage import writable
from ..._shared.utils import name_list
from .._core._model import GETModel
from .._core._promoters import promoters
from ._change import change, store_change
from ._unmatched import resolve_regions


@inject_docs()
def delete_regions(
    pb,
    model: GETModel,
    *,
    regions: str | os.PathLike | Sequence[str] | pd.DataFrame,
    genes: Sequence[str] | None = None,
    groups: str | Sequence[str] | None = None,
    unmatched: str = "error",
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
        Peak names (``["atac"].var_names``), a BED file (plain or gzipped; chromosome,
        0-based start and end, then any other columns; header, ``track``, ``browser``
        and ``#`` lines are skipped, tabs or spaces separate the columns) or a DataFrame
        with ``chrom``, ``start`` and ``end`` (0-based, half-open; ``name`` optional).
    {genes_groups}
    {unmatched}
        Here: peak names that are not peaks, and regions overlapping no peak
        (each with the reason: start after end, a chromosome the peaks lack with the
        naming they use, or no peak there).
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
        If a peak name is unknown (with ``unmatched="warn"``: if none is known).
    FileNotFoundError
        If ``regions`` names neither a peak nor a file.
    ValueError
        If a region overlaps no peak (with ``unmatched="warn"``: if none does), a BED
        line cannot be read (the message names the file and line) or a table lacks its
        columns.

    Examples
    --------
    >>> change = scget.tl.delete_regions(pb, model, regions=["chr1:40402-40793"])
    >>> change.shape  # groups x genes
    (3, 90)
    """
    groups = name_list(groups)
    deleted = resolve_regions(
        pb, regions, atac=atac, caller="delete_regions", unmatched=unmatched
    ).peaks()
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
    pb = writable(pb, copy)
    names = [str(name) for name in pb[atac].var_names[deleted]]
    params = {**chosen.params, "peaks": names, "unmatched": unmatched, "batch_size": batch_size}
    return store_change(
        pb, deltas, windows, chosen, params, key=key_added, what="delete_regions", copy=copy
    )
