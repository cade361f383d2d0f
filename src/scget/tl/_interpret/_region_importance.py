"""Region importance: how much each region of a gene's window matters to its output."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..._shared.constants import ATAC, MOTIF_KEY, REGION_IMPORTANCE_KEY, RNA
from ..._shared.docs import inject_docs
from ..._shared.storage import finish_writer, writable
from ..._shared.utils import name_list
from .._core._ensemble import explained_windows, mean_over_models
from .._core._knockouts import check_method, knockout
from .._core._model import GETModel
from .._core._promoters import Promoters, run

#: Columns of the region-importance table (decoupler's source, target, weight).
COLUMNS = ("group", "source", "target", "weight", "distance", "accessibility")


@inject_docs()
def region_importance(
    pb,
    model: GETModel | Sequence[GETModel],
    *,
    genes: Sequence[str] | None = None,
    groups: str | Sequence[str] | None = None,
    method: Literal["gradient", "knockout"] = "gradient",
    batch_size: int = 32,
    device: str | None = "auto",
    rna: str = RNA,
    atac: str = ATAC,
    motif_key: str = MOTIF_KEY,
    key_added: str = REGION_IMPORTANCE_KEY,
    copy: bool = False,
):
    """Importance of each region of a gene's window for the gene, per group.

    A region's importance in a window is, by ``method``:

    - ``"gradient"``: the L2 norm of the gradient of the gene's output with respect to
      the region's embedding (Fu et al. 2025): one forward and one backward pass per
      window;
    - ``"knockout"``: the absolute change of the gene's output when the region is
      removed: its motif scores and accessibility set to zero, as
      :func:`scget.tl.delete_regions` removes it. The token stays, with its TSS
      indicators and position: GET reads a fixed number of consecutive accessible
      regions, and dropping the token would pull the next region into the window. One
      forward pass per window and per region (about 40 times the gradient's time on a
      CPU).

    It is averaged over the gene's windows that hold the region and divided by the
    gene's maximum in the group (so that genes compare). On the demo simulation neither
    method ranks planted enhancer links above distance alone (the model docs, "Exact
    attributions"). {windows}
    :func:`scget.tl.gene_by_motif` computes it too with ``with_regions``.

    Parameters
    ----------
    {mdata_pb} Needs ``["atac"].varm["motif_scores"]``, ``["atac"].layers["counts"]``
        and ``["rna"].var["tss_peaks"|"strand"|"tss"]``.
    {model} Or a sequence of models that read the same inputs (an ensemble): their
        importances are averaged.
    {genes_groups}
    method
        ``"gradient"`` or ``"knockout"`` (above).
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
    ``key_added``, ``pb.uns["scget"][key_added]``: the parameters (``"method"`` and
    ``"n_models"`` among them) and as ``"result"`` a long table, one row per (group,
    gene, region in the gene's windows): ``group``,
    ``source`` (the region's peak), ``target`` (the gene), ``weight`` (the importance,
    in [0, 1]), ``distance`` (bp from the gene's TSS to the region's midpoint, positive
    downstream on the gene's strand) and ``accessibility`` (the region's score in the
    group). Read it with :func:`scget.get.region_importance`.

    Raises
    ------
    {errors}
    ValueError
        If ``method`` is unknown, or the models of an ensemble read different inputs.

    Examples
    --------
    >>> scget.tl.region_importance(pb, model, groups=["type_01"])
    >>> scget.get.region_importance(pb).columns.tolist()
    ['group', 'source', 'target', 'weight', 'distance', 'accessibility']
    """
    groups = name_list(groups)
    check_method(method)
    check_tss(pb, rna)
    models, chosen = explained_windows(
        pb, model, genes=genes, groups=groups, rna=rna, atac=atac, motif_key=motif_key
    )
    options = {"batch_size": batch_size, "device": device}
    norms = mean_over_models(
        models,
        lambda member, desc: {"regions": importance(chosen, member, method, desc=desc, **options)},
        "region_importance",
    )["regions"]
    pb = writable(pb, copy)
    params = {**chosen.params, "method": method, "n_models": len(models), "batch_size": batch_size}
    return store_importance(pb, norms, chosen, params, rna=rna, atac=atac, key=key_added, copy=copy)


def importance(
    promoters: Promoters,
    model: GETModel,
    method: str,
    *,
    batch_size: int,
    device: str | None,
    desc: str = "region_importance",
) -> np.ndarray:
    """Each promoter window's importance of each of its regions (windows x window size)."""
    if method == "knockout":
        desc = f"{desc} (knockout)"
        effects = knockout(
            promoters, model, "regions", batch_size=batch_size, device=device, desc=desc
        )
        return np.abs(effects)
    parts = run(
        promoters,
        model,
        regions=True,
        batch_size=batch_size,
        device=device,
        desc=desc,
    )
    return parts["regions"]


def check_tss(pb, rna: str) -> None:
    """Raise ``KeyError`` unless the genes' TSS positions (for the distances) are known."""
    if "tss" not in pb[rna].var.columns:
        raise KeyError(f'pb["{rna}"].var has no "tss" column; run scget.pp.annotate_tss.')


def store_importance(
    pb,
    norms: np.ndarray,
    promoters: Promoters,
    params: Mapping[str, Any],
    *,
    rna: str,
    atac: str,
    key: str,
    copy: bool = False,
) -> Any:
    """Write the region-importance table of per-window importances under ``key``.

    Returns ``None``, or with ``copy`` ``pb`` (:func:`scget._shared.storage.finish_writer`).
    """
    table = importance_table(pb, norms, promoters, rna=rna, atac=atac)
    message = f"region_importance: {len(table)} (group, gene, region) rows."
    return finish_writer(pb, key, table, params, copy=copy, message=message)


def importance_table(
    pb, norms: np.ndarray, promoters: Promoters, *, rna: str, atac: str
) -> pd.DataFrame:
    """The long table of :func:`region_importance` from per-window gradient norms.

    Parameters
    ----------
    pb
        The pseudobulk.
    norms
        Windows x window size: the importance of each position for each window's output
        (gradient norm or absolute knockout effect).
    promoters
        The windows (:func:`scget.tl._core._promoters.promoters`).
    rna, atac
        Modality names.

    Returns
    -------
    DataFrame with columns :data:`COLUMNS`, ordered by group, gene and position.
    """
    table, inputs = promoters.table, promoters.inputs
    lengths = table["length"].to_numpy()
    window = np.repeat(np.arange(len(table)), lengths)
    position = np.arange(len(window)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    group = table["group"].to_numpy()[window]
    gene = table["gene"].to_numpy()[window]
    first = np.cumsum([0] + [len(g.peaks) for g in inputs.groups])
    all_peaks = np.concatenate([g.peaks for g in inputs.groups])
    peak = all_peaks[first[group] + table["start"].to_numpy()[window] + position]
    frame = pd.DataFrame(
        {"group": group, "gene": gene, "peak": peak, "weight": norms[window, position]}
    )
    frame = frame.groupby(["group", "gene", "peak"], sort=False)["weight"].mean().reset_index()
    top = frame.groupby(["group", "gene"], sort=False)["weight"].transform("max")
    frame["weight"] = np.where(top > 0, frame["weight"] / top.where(top > 0, 1.0), 0.0)
    var = pb[rna].var
    minus = var["strand"].astype(str).to_numpy()[frame["gene"]] == "-"
    midpoint = (inputs.start[frame["peak"]] + inputs.end[frame["peak"]]) // 2
    distance = midpoint - var["tss"].to_numpy(dtype=np.int64)[frame["gene"]]
    group_names = pb[atac].obs_names.astype(str)
    return pd.DataFrame(
        {
            "group": pd.Categorical(group_names[frame["group"]], categories=list(group_names)),
            "source": pd.Categorical(pb[atac].var_names[frame["peak"]].astype(str)),
            "target": pd.Categorical(pb[rna].var_names[frame["gene"]].astype(str)),
            "weight": frame["weight"].to_numpy(np.float32),
            "distance": np.where(minus, -distance, distance).astype(np.int64),
            "accessibility": promoters.scores[frame["group"], frame["peak"]],
        }
    )
