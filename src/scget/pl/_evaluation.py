"""Each method's mean Pearson r (or another metric) per evaluation setting."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import get
from .._shared.constants import EVALUATION_KEY, SETTINGS
from ._plotter import plot_function

#: Pearson r reported by Fu et al. (Nature 2025), by setting and method: leave-out cell
#: type (fetal astrocytes) for GET and its baselines, leave-out chromosome for GET (the
#: mean over astrocyte chromosomes).
REFERENCE = pd.DataFrame(
    [
        ("held-out group", "GET", 0.94),
        ("held-out group", "TSS accessibility", 0.47),
        ("held-out group", "gene activity", 0.51),
        ("held-out group", "top-correlated training group", 0.83),
        ("held-out group", "mean training expression", 0.78),
        ("held-out chromosome", "GET", 0.78),
    ],
    columns=["setting", "method", "pearson"],
)


#: Axis labels of the metrics :func:`evaluation` draws.
METRIC_LABELS = {
    "pearson": "mean Pearson r",
    "spearman": "mean Spearman rho",
    "r2": "mean R^2",
    "centred_r": "mean centred r (deviations from the training mean)",
}


@plot_function(figsize=(7, 3.5))
def evaluation(
    pb,
    *,
    metric: str = "pearson",
    reference: bool = False,
    key: str = EVALUATION_KEY,
    ax=None,
) -> None:
    """Grouped bars of each method's mean score per setting of :func:`scget.tl.evaluate`.

    One group of bars per setting (held-out group, chromosome, both), one bar per method:
    the mean over the groups scored of ``metric`` in :func:`scget.get.evaluation`, with
    the groups' range as an error bar. Methods with no score for the metric (not scored,
    or ``centred_r`` of the mean training expression) have no bar.

    Parameters
    ----------
    {mdata_pb} Needs :func:`scget.tl.evaluate` results.
    metric
        ``"pearson"``, ``"spearman"``, ``"r2"`` or ``"centred_r"`` (Pearson r of the
        deviations from each gene's mean over the training groups, which tells what sets
        a group apart from each gene's own level).
    reference
        With ``metric="pearson"``, mark the Pearson r that Fu et al. (*Nature* 2025, "A
        foundation model of transcription across human cell types") report (black
        diamonds): on a held-out cell type (fetal astrocytes) GET 0.94, TSS
        accessibility 0.47, gene activity score 0.51, top-correlated training cell type
        0.83, mean training expression 0.78; on held-out chromosomes GET 0.78
        (astrocytes' mean). Real tissue, not this data: a yardstick, not a target.
    key
        The evaluation's ``key_added``.
    {plot}

    Returns
    -------
    {plot_returns}

    Raises
    ------
    ValueError
        If ``metric`` is unknown or no method has a score for it, or ``reference`` is
        asked for another metric than ``"pearson"``.
    KeyError
        If no evaluation is stored under ``key``, or it has no ``metric`` column (stored
        before the centred score existed: run :func:`scget.tl.evaluate` again).

    Examples
    --------
    >>> scget.tl.predict(pb, model)
    >>> table = scget.tl.evaluate(pb, model=model)
    >>> scget.pl.evaluation(pb, show=False)
    """
    if metric not in METRIC_LABELS:
        raise ValueError(f"metric must be one of {list(METRIC_LABELS)}, got {metric!r}.")
    if reference and metric != "pearson":
        raise ValueError("reference=True marks the paper's Pearson r: use metric='pearson'.")
    table = get.evaluation(pb, key=key)
    if metric not in table.columns:
        raise KeyError(
            f"The evaluation under {key!r} has no {metric!r} column; run scget.tl.evaluate again."
        )
    table = table[table[metric].notna()]
    if table.empty:
        raise ValueError(f"No method of the evaluation under {key!r} has a {metric!r} score.")
    summary = table.groupby(["setting", "method"], sort=False)[metric].agg(["mean", "min", "max"])
    settings = [s for s in SETTINGS if s in summary.index.get_level_values("setting")]
    methods = list(dict.fromkeys(table["method"]))
    width = 0.8 / len(methods)
    for i, method in enumerate(methods):
        rows = summary.reindex([(s, method) for s in settings])
        x = np.arange(len(settings)) + (i - (len(methods) - 1) / 2) * width
        errors = [rows["mean"] - rows["min"], rows["max"] - rows["mean"]]
        ax.bar(x, rows["mean"], width=width, label=method, yerr=errors, error_kw={"lw": 0.6})
        if reference:
            paper = REFERENCE.set_index(["setting", "method"])["pearson"]
            marks = paper.reindex([(s, method) for s in settings]).to_numpy()
            ax.scatter(x, marks, marker="D", color="black", s=18, zorder=3)
    if reference:
        ax.scatter([], [], marker="D", color="black", s=18, label="Fu et al. 2025")
    ax.set_xticks(range(len(settings)), settings)
    ax.set_ylabel(METRIC_LABELS[metric])
    ax.axhline(0, color="black", linewidth=0.6)
    several = bool((table.groupby(["setting", "method"]).size() > 1).any())
    ax.legend(
        frameon=False,
        fontsize="small",
        loc="center left",
        bbox_to_anchor=(1, 0.5),
        title="whiskers: range over groups" if several else None,
        title_fontsize="x-small",
    )
