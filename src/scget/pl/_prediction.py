"""Observed against predicted expression on the evaluated genes."""

from __future__ import annotations

import os

import numpy as np

from .._constants import ATAC, EVALUATION_KEY, RNA, UNS_KEY
from .._docs import inject_docs
from .._logging import logger
from ._plotter import finish, new_axes


@inject_docs()
def prediction(
    pb,
    *,
    group: str | None = None,
    method: str = "GET",
    key: str = EVALUATION_KEY,
    s: float = 8,
    alpha: float = 0.6,
    rna: str = RNA,
    atac: str = ATAC,
    ax=None,
    figsize: tuple[float, float] = (4, 4),
    dpi: int = 100,
    return_fig: bool = False,
    save: str | os.PathLike | None = None,
):
    """Scatter observed against predicted expression of the genes :func:`scget.tl.evaluate` scored.

    The genes and predictions are those of the stored evaluation (its split and
    parameters in ``pb.uns["scget"][key]["params"]``); baselines are recomputed with them
    (the trained ones take seconds to minutes). The title gives Pearson's r of the points shown.

    Parameters
    ----------
    {mdata_pb}
    group
        Group to show; ``None`` pools every evaluated group, coloured by group (r is then
        computed over the pooled points).
    method
        A method of the evaluation, e.g. ``"GET"`` or ``"TSS accessibility"``.
    key
        ``pb.uns["scget"]`` key of the evaluation.
    s, alpha
        Marker size and opacity.
    {rna}
    {atac}
    {plot}

    Returns
    -------
    The figure when ``return_fig``, else ``None``.

    Raises
    ------
    KeyError
        If ``pb`` has no evaluation under ``key``.
    ValueError
        If ``method`` or ``group`` was not evaluated.
    """
    from ..tl._evaluation._evaluate import regression_metrics, stored_predictions

    stored = pb.uns.get(UNS_KEY, {}).get(key)
    if not stored or "params" not in stored:
        raise KeyError(f"pb.uns['{UNS_KEY}'][{key!r}] not found; run scget.tl.evaluate(pb) first.")
    params = stored["params"]
    evaluated_methods = [str(m) for m in np.atleast_1d(params["methods"])]
    if method not in evaluated_methods:
        raise ValueError(f"method {method!r} was not evaluated; evaluated: {evaluated_methods}.")
    table = stored["result"]
    groups = list(dict.fromkeys(table.loc[table["method"] == method, "group"].astype(str)))
    if group is not None and group not in groups:
        raise ValueError(f"group {group!r} has no {method!r} evaluation; groups: {groups}.")
    if method != "GET":
        logger.info(f"Recomputing the {method!r} predictions of the evaluation.")
    # GET's missing predictions shape the evaluated genes: recompute it beside ``method``
    methods = [m for m in evaluated_methods if m in (method, "GET")]
    evaluated = stored_predictions(pb, params, methods, rna=rna, atac=atac)
    fig, ax = new_axes(ax, figsize, dpi)
    shown = [group] if group is not None else groups
    observed, predicted = [], []
    for name in shown:
        row = evaluated.groups.get_loc(name)
        genes = evaluated.evaluated[row]
        observed.append(evaluated.observed[row, genes])
        predicted.append(evaluated.predictions[method][row, genes])
        ax.scatter(predicted[-1], observed[-1], s=s, alpha=alpha, label=name, linewidths=0)
    observed, predicted = np.concatenate(observed), np.concatenate(predicted)
    pearson = regression_metrics(observed, predicted)[0]
    where = group if group is not None else f"{len(shown)} groups pooled"
    ax.set_title(f"{method}, {where}\nr = {pearson:.3f}, n = {len(observed)}")
    ax.set_xlabel(f"predicted ({method})")
    ax.set_ylabel("observed log10(TPM + 1)")
    if group is None and len(shown) > 1:
        ax.legend(
            frameon=False,
            markerscale=2,
            fontsize="small",
            loc="center left",
            bbox_to_anchor=(1, 0.5),
        )
    return finish(fig, return_fig=return_fig, save=save)
