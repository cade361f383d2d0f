"""Motif knockout: the predicted change of each gene when motif clusters are removed."""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..._shared.constants import ATAC, KNOCKOUT_MOTIFS_KEY, MOTIF_KEY, RNA
from ..._shared.docs import inject_docs
from ..._shared.storage import writable
from ..._shared.utils import name_list
from .._core._model import GETModel
from .._core._predict import accessibility_change
from .._core._promoters import covered_peaks, promoters
from ._change import change, check_accessibility_model, store_change
from ._unmatched import resolve_regions


@inject_docs()
def knockout_motifs(
    pb,
    model: GETModel,
    *,
    motifs: str | Sequence[str],
    peaks: str | os.PathLike | Sequence[str] | pd.DataFrame | None = None,
    genes: Sequence[str] | None = None,
    groups: str | Sequence[str] | None = None,
    accessibility_model: GETModel | None = None,
    unmatched: str = "error",
    batch_size: int = 32,
    device: str | None = "auto",
    rna: str = RNA,
    atac: str = ATAC,
    motif_key: str = MOTIF_KEY,
    key_added: str = KNOCKOUT_MOTIFS_KEY,
    copy: bool = False,
):
    """Predicted change of each gene when motif clusters are knocked out.

    The scores of ``motifs`` are set to zero in every region (or only in ``peaks``),
    as if their binding sites were mutated, and each gene whose windows hold a region
    with a nonzero score of them is predicted again (in silico TF knockout, Fu et al.
    2025).
    {change}

    The accessibility input stays as observed unless ``accessibility_model`` is given:
    then each region's accessibility score also changes by what that model predicts
    removing the motifs does to it (its prediction with the motifs' scores zeroed minus
    with them intact, the accessibility input hidden as it was trained), clipped at 0,
    and every window holding a region whose accessibility changes is predicted again.
    This reads a TF knockout as mutating its sites *and* losing the chromatin they
    opened. A TF that opens chromatin acts partly through the accessibility it causes,
    which a knockout holding accessibility fixed leaves in place: on the demo
    simulation the model then reads several planted activators backwards
    (``docs/model.md``, "A knockout that closes chromatin"). Closing it has a cost of
    its own: a gene whose sites of the motifs lie only in its enhancers is predicted to
    *rise* more often, since removing distant sites makes the accessibility model open
    the gene's TSS a little and the expression model read less distant accessibility as
    more expression (``docs/model.md``, "Gene-by-motif with the chromatin closed").

    Parameters
    ----------
    {mdata_pb} Needs ``["atac"].varm["motif_scores"]``, ``["atac"].layers["counts"]``
        and ``["rna"].var["tss_peaks"|"strand"]``.
    {model}
    motifs
        Motif clusters (the model's feature names) to knock out.
    peaks
        Knock out only in these peaks: peak names (``["atac"].var_names``), or the peaks
        overlapping a BED file or a DataFrame of regions, as ``regions`` of
        :func:`scget.tl.delete_regions`; ``None``: everywhere.
    {genes_groups}
    accessibility_model
        A model that predicts accessibility (fine-tuned with ``objective="accessibility"``
        or ``"joint"``, on the same motif features; it may be ``model`` itself when
        ``"joint"``), or ``None`` to keep the observed accessibility. ``model`` must read
        quantitative accessibility.
    {unmatched}
        Here: ``peaks`` that are not peaks, regions overlapping no peak, and
        peaks (or regions) holding no site of ``motifs`` (a score of 0 for each), where
        the knockout would change nothing.
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
        If a motif is unknown (with the closest motif names), or a peak is (with
        ``unmatched="warn"``: if none is known).
    ValueError
        If a region of ``peaks`` overlaps no peak or no peak of ``peaks`` holds a site of
        ``motifs`` (with ``unmatched="warn"``: if none does).
    FileNotFoundError
        If ``peaks`` names neither a peak nor a file.

    Examples
    --------
    >>> change = scget.tl.knockout_motifs(pb, model, motifs=["PAX"], groups=["type_01"])
    >>> change.shape  # groups x genes, NaN outside the groups run
    (3, 90)
    """
    groups = name_list(groups)
    motifs = [motifs] if isinstance(motifs, str) else [str(name) for name in motifs]
    known = list(model.feature_names[:-1])
    unknown = [name for name in motifs if name not in known]
    if unknown or not motifs:
        lower = {name.lower(): name for name in known}
        close = {
            name: [lower[m] for m in matches]
            for name in unknown
            if (matches := difflib.get_close_matches(name.lower(), lower, 3, 0.5))
        }
        what = f"Unknown motif clusters {unknown}" if unknown else "No motif cluster given"
        hint = f" (closest: {close})" if close else ""
        raise KeyError(
            f"{what}{hint}; give at least one of the model's motif clusters (model.feature_names)."
        )
    if accessibility_model is not None:
        check_accessibility_model(accessibility_model, model, caller="knockout_motifs")
    if peaks is not None:
        matches = resolve_regions(
            pb, peaks, atac=atac, caller="knockout_motifs", unmatched=unmatched, argument="peaks"
        )
    chosen = promoters(
        pb, model, genes=genes, groups=groups, rna=rna, atac=atac, motif_key=motif_key
    )
    features = np.array([known.index(name) for name in motifs])
    present = (chosen.inputs.motifs[:, features] != 0).any(axis=1)
    if peaks is not None:
        matches = matches.keep(
            present,
            what=f"peaks hold no site of the motifs knocked out {motifs} (all scores 0)",
            caller="knockout_motifs",
            unmatched=unmatched,
            fix="Knock out in peaks that hold the motifs (pb['atac'].varm scores > 0).",
        )
        inside = np.zeros_like(present)
        inside[matches.peaks()] = True
        present &= inside
        peaks = [str(name) for name in pb[atac].var_names[matches.peaks()]]
    changed = np.broadcast_to(present, chosen.scores.shape)
    opened = None
    if accessibility_model is not None:
        opened = accessibility_change(
            pb,
            accessibility_model,
            chosen.groups,
            (features, changed),
            needed=covered_peaks(chosen, model.window_size),
            batch_size=batch_size,
            device=device,
            rna=rna,
            atac=atac,
            motif_key=motif_key,
        )
    deltas, windows = change(
        chosen,
        model,
        changed,
        features,
        shape=pb[rna].shape,
        batch_size=batch_size,
        device=device,
        desc="knockout_motifs",
        accessibility=opened,
    )
    pb = writable(pb, copy)
    params = {**chosen.params, "motifs": motifs, "peaks": peaks, "unmatched": unmatched}
    params["accessibility"] = "observed" if opened is None else "predicted knockout"
    params["batch_size"] = batch_size
    return store_change(
        pb, deltas, windows, chosen, params, key=key_added, what="knockout_motifs", copy=copy
    )
