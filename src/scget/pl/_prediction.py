"""Observed against predicted expression on the evaluated genes."""

from __future__ import annotations

import numpy as np

from .. import get
from .._shared.constants import EVALUATION_KEY, SETTINGS
from .._shared.utils import one_name
from ._plotter import plot_function


@plot_function(figsize=(4, 4))
def prediction(
    pb,
    *,
    group: str | None = None,
    setting: str | None = None,
    method: str = "GET",
    key: str = EVALUATION_KEY,
    s: float = 8,
    alpha: float = 0.6,
    ax=None,
) -> None:
    """Scatter observed against predicted expression of the genes :func:`scget.tl.evaluate` scored.

    The genes and predictions are those the evaluation stored (read with
    :func:`scget.get.evaluated_genes`); nothing is recomputed. The title gives Pearson's
    r: the evaluation's for one group, that of the pooled points otherwise.

    Parameters
    ----------
    {mdata_pb}
    group
        Group to show; ``None`` pools every evaluated group, coloured by group.
    setting
        The evaluation setting (``"held-out group"``, ``"held-out chromosome"``,
        ``"held-out both"``); ``None`` takes the first, in that order, in which the
        method scored ``group``.
    method
        A method of the evaluation, e.g. ``"GET"`` or ``"TSS accessibility"``.
    key
        The evaluation's ``key_added``.
    s, alpha
        Marker size and opacity.
    {plot}

    Returns
    -------
    {plot_returns}

    Raises
    ------
    KeyError
        If ``pb`` has no evaluation under ``key``.
    ValueError
        If ``method`` or ``group`` was not evaluated.

    Examples
    --------
    >>> scget.tl.predict(pb, model)
    >>> table = scget.tl.evaluate(pb, model=model)
    >>> scget.pl.prediction(pb, show=False)
    """
    group = one_name(group)
    table = get.evaluation(pb, key=key)
    if setting is None:
        scored = table["method"] == method
        if group is not None:
            scored &= table["group"] == group
        setting = next((s for s in SETTINGS if s in set(table.loc[scored, "setting"])), None)
    points = get.evaluated_genes(pb, method=method, group=group, setting=setting, key=key)
    shown = list(dict.fromkeys(points["group"]))
    for name in shown:
        part = points[points["group"] == name]
        ax.scatter(part["predicted"], part["observed"], s=s, alpha=alpha, label=name, linewidths=0)
    if group is not None:
        row = (table["group"] == group) & (table["method"] == method)
        pearson = float(table.loc[row & (table["setting"] == setting), "pearson"].iloc[0])
        where = group
    else:
        pearson = float(np.corrcoef(points["observed"], points["predicted"])[0, 1])
        where = shown[0] if len(shown) == 1 else f"{len(shown)} groups pooled"
    low = float(min(points["predicted"].min(), points["observed"].min()))
    high = float(max(points["predicted"].max(), points["observed"].max()))
    ax.plot([low, high], [low, high], color="grey", linestyle="--", linewidth=0.8, label="y = x")
    ax.set_title(f"{method}, {setting}, {where}\nr = {pearson:.3f}, n = {len(points)}")
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
