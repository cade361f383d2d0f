"""Enhancer-gene links: GET's region importance and the ABC model, per group and gene."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from ..._shared.constants import (
    ATAC,
    ENHANCER_GENE_KEY,
    MOTIF_KEY,
    POWERLAW_GAMMA,
    POWERLAW_MIN_DISTANCE,
    POWERLAW_SCALE,
    RNA,
    WINDOW_SIZE,
)
from ..._shared.docs import inject_docs
from ..._shared.storage import finish_writer, writable
from ..._shared.utils import name_list
from .._core._knockouts import check_method
from .._core._model import GETModel
from .._core._promoters import promoters
from ._region_importance import check_tss, importance, importance_table

#: Scores of :func:`enhancer_gene`; all but ``"abc"`` need a model.
METHODS = ("jacobian", "jacobian_powerlaw", "jacobian_atac_powerlaw", "abc")
#: Leading columns of the :func:`enhancer_gene` table (the scores follow).
COLUMNS = ("group", "gene", "peak", "distance")


def powerlaw_contact(distance: np.ndarray) -> np.ndarray:
    """ABC's power-law contact at ``distance`` bp (|distance|, raised to 5 kb at least)."""
    clipped = np.maximum(np.abs(np.asarray(distance, dtype=np.float64)), POWERLAW_MIN_DISTANCE)
    return np.exp(POWERLAW_SCALE - POWERLAW_GAMMA * np.log(clipped + 1))


@inject_docs()
def enhancer_gene(
    pb,
    model: GETModel | None = None,
    *,
    genes: Sequence[str] | None = None,
    groups: str | Sequence[str] | None = None,
    methods: str | Sequence[str] | None = None,
    attribution: Literal["gradient", "knockout"] = "gradient",
    contact: Callable[[np.ndarray], np.ndarray] | None = None,
    window_size: int = WINDOW_SIZE,
    batch_size: int = 32,
    device: str | None = "auto",
    rna: str = RNA,
    atac: str = ATAC,
    motif_key: str = MOTIF_KEY,
    key_added: str = ENHANCER_GENE_KEY,
    copy: bool = False,
):
    """Enhancer-gene scores of each region of each gene's windows, per group.

    The candidates of a gene are the regions of its windows (those of
    :func:`scget.tl.region_importance`), with ``a`` their accessibility score in the
    group, ``c`` the contact at their distance from the TSS and ``J`` their GET region
    importance. Every score is normalised over the gene's regions in the group (divided
    by its sum there, so that a gene's scores sum to 1, as ABC does; the paper
    normalises over the gene's ±100 regions):

    - ``"jacobian"``: ``J a`` (the paper's GET Jacobian, importance weighted by aCPM);
    - ``"jacobian_powerlaw"``: ``J c`` (Jacobian x power law);
    - ``"jacobian_atac_powerlaw"``: ``J a`` and ``a c``, each normalised per gene, added
      and normalised again (Jacobian + aCPM x power law; the published code adds the two
      raw terms, whose scales differ by orders of magnitude, so that one term decides);
    - ``"abc"``: ``a c``, the ABC score with accessibility as activity (no model).

    ``c`` is by default ABC's power law, exp(5.9594510043736655 - 1.024238616787792
    ln(d + 1)), with ``d`` the distance in bp raised to 5 kb (``get_powerlaw_at_distance``
    of ABC-Enhancer-Gene-Prediction, the values the paper used).
    ``J`` is :func:`scget.tl.region_importance` with the method ``attribution``.
    {windows}

    Parameters
    ----------
    {mdata_pb} Needs ``["atac"].varm["motif_scores"]``, ``["atac"].layers["counts"]``
        and ``["rna"].var["tss_peaks"|"strand"|"tss"]``.
    model
        A trained :class:`scget.tl.GETModel` with the data's motif features; ``None``
        for ``"abc"`` alone.
    {genes_groups}
    methods
        Scores to compute, of those above; ``None``: every one that applies (only
        ``"abc"`` without a model).
    attribution
        How ``J`` is computed: ``"gradient"`` (the paper's Jacobian norm) or
        ``"knockout"`` (the change of the gene's output when the region is removed); see
        :func:`scget.tl.region_importance`.
    contact
        Contact as a function of the distance in bp (an array of nonnegative
        integers), returning nonnegative values of the same shape; ``None``: ABC's
        power law.
    window_size
        Regions per window without a model (a model uses its own).
    {batch_size}
    {device}
    {rna}
    {atac}
    {motif_key}
    {key_added}
    {copy}

    Returns
    -------
    ``None`` (or the modified copy when ``copy``); writes, replacing an earlier run under
    ``key_added``, ``pb.uns["scget"][key_added]``: the parameters and as ``"result"`` a
    long table, one row per (group, gene, region of the gene's windows): ``group``,
    ``gene``, ``peak``, ``distance`` (bp from the TSS to the region's midpoint, positive
    downstream on the gene's strand) and one float32 column per method. Read it with
    :func:`scget.get.enhancer_gene`; export it with :func:`scget.tl.export_enhancer_gene`.

    Raises
    ------
    {errors}
    ValueError
        If a method or ``attribution`` is unknown, a method needs a model that was not
        given, or ``contact`` returns values of another shape, negative or not finite.
    TypeError
        If ``contact`` is not callable.

    Examples
    --------
    >>> scget.tl.enhancer_gene(pb, model, groups=["type_01"])
    >>> scget.get.enhancer_gene(pb).columns.tolist()
    ['group', 'gene', 'peak', 'distance', 'jacobian', 'jacobian_powerlaw', 'jacobian_atac_powerlaw',
     'abc']
    """
    groups = name_list(groups)
    methods = _methods(methods, model)
    check_method(attribution)
    if contact is not None and not callable(contact):
        raise TypeError(f"contact must be a function of the distance in bp, got {contact!r}.")
    check_tss(pb, rna)
    chosen = promoters(
        pb,
        model,
        genes=genes,
        groups=groups,
        rna=rna,
        atac=atac,
        motif_key=motif_key,
        window_size=window_size,
        prior=False,
    )
    size = chosen.params["window_size"]
    norms = np.zeros((len(chosen.table), size), dtype=np.float32)
    if model is not None and any(method != "abc" for method in methods):
        norms = importance(chosen, model, attribution, batch_size=batch_size, device=device)
    table = importance_table(pb, norms, chosen, rna=rna, atac=atac)
    distance = np.abs(table["distance"].to_numpy())
    values = (powerlaw_contact if contact is None else contact)(distance)
    values = np.asarray(values, dtype=np.float64)
    if values.shape != distance.shape or not np.all(np.isfinite(values) & (values >= 0)):
        raise ValueError(
            "contact must return one finite nonnegative value per distance; it returned "
            f"shape {values.shape} for {distance.shape}."
        )
    frame = table.rename(columns={"source": "peak", "target": "gene"})[list(COLUMNS)]
    for method, score in _scores(table, values, methods).items():
        frame[method] = score.astype(np.float32)
    pb = writable(pb, copy)
    params = {**chosen.params, "methods": methods, "attribution": attribution}
    params["batch_size"] = batch_size
    params["contact"] = "powerlaw" if contact is None else getattr(contact, "__name__", "custom")
    message = f"enhancer_gene: {len(frame)} (group, gene, region) rows, methods {methods}."
    return finish_writer(pb, key_added, frame, params, copy=copy, message=message)


def _methods(methods: str | Sequence[str] | None, model: GETModel | None) -> list[str]:
    """The methods to compute, checked against :data:`METHODS` and the model."""
    if methods is None:
        return list(METHODS) if model is not None else ["abc"]
    methods = [methods] if isinstance(methods, str) else [str(name) for name in methods]
    unknown = [name for name in methods if name not in METHODS]
    if unknown or not methods:
        raise ValueError(f"Unknown methods {unknown}; choose from {list(METHODS)}.")
    if model is None and methods != ["abc"] * len(methods):
        raise ValueError(f"Methods {methods} need a trained model; pass model= or use 'abc'.")
    return list(dict.fromkeys(methods))


def _scores(table: pd.DataFrame, contact: np.ndarray, methods: list[str]) -> dict:
    """Each method's score of each row, normalised over each (group, gene)'s regions."""
    gene = table.groupby(["group", "target"], observed=True, sort=False).ngroup().to_numpy()

    def normalise(values: np.ndarray) -> np.ndarray:
        sums = np.bincount(gene, weights=values)[gene]
        return np.divide(values, sums, out=np.zeros_like(values), where=sums > 0)

    access = table["accessibility"].to_numpy(np.float64)
    importance = table["weight"].to_numpy(np.float64)
    terms = {
        "jacobian": lambda: normalise(importance * access),
        "jacobian_powerlaw": lambda: normalise(importance * contact),
        "abc": lambda: normalise(access * contact),
    }
    terms["jacobian_atac_powerlaw"] = lambda: normalise(terms["jacobian"]() + terms["abc"]())
    return {method: terms[method]() for method in methods}
