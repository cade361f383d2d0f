"""Volcano plot and heatmap of contrasts of differential regulation."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from .. import get
from .._shared.utils import one_name
from ._plotter import plot_function

#: Colours of significant rises and falls, and of the rest.
_UP, _DOWN, _OTHER = "#b2182b", "#2166ac", "#bbbbbb"


@plot_function(figsize=(5, 4))
def differential_regulation(
    pb,
    *,
    kind: Literal["volcano", "heatmap"] = "volcano",
    group: str | None = None,
    contrast: str | None = None,
    alpha: float = 0.05,
    n_labels: int = 10,
    n_top: int = 20,
    cmap: str = "RdBu_r",
    key: str = "differential_regulation",
    ax=None,
) -> None:
    """Volcano plot of one contrast, or a heatmap of every contrast, of differential regulation.

    Reads :func:`scget.get.differential_regulation`.

    - ``kind="volcano"``, for one group and contrast: x is the effect (its label says
      what it is for the score tested, e.g. the targets' log10 fold change for
      ``on="target_expression"``), y -log10 of the p-value; tests with
      ``padj < alpha`` are red (effect > 0) or blue, the rest grey, and the
      ``n_labels`` of smallest ``padj`` among them are named.
    - ``kind="heatmap"``: the ``n_top`` sources of smallest ``padj`` in any column, by
      columns of (group, contrast); the colour is the test statistic (centred on 0), and
      ``*`` marks ``padj < alpha``.

    Parameters
    ----------
    {mdata_pb} Needs :func:`scget.tl.differential_regulation` results.
    kind
        ``"volcano"`` or ``"heatmap"``.
    group
        Only this group (cell type); the volcano needs one when several were tested.
    contrast
        Only this contrast; the volcano needs one when several were tested.
    alpha
        Adjusted p-value below which a test is called.
    n_labels
        Called tests named on the volcano.
    n_top
        Rows of the heatmap.
    cmap
        Diverging colour map of the heatmap.
    key
        The ``key_added`` of :func:`scget.tl.differential_regulation`.
    {plot}

    Returns
    -------
    {plot_returns}

    Raises
    ------
    KeyError
        If :func:`scget.tl.differential_regulation` has not run under ``key``.
    ValueError
        If ``kind`` is unknown, nothing is left for ``group`` and ``contrast``, or the
        volcano is asked for several groups or contrasts.

    Examples
    --------
    >>> table = scget.tl.differential_regulation(samples, "condition", on="accessibility")
    >>> scget.pl.differential_regulation(samples, kind="heatmap", show=False)
    """
    group = one_name(group)
    if kind not in ("volcano", "heatmap"):
        raise ValueError(f'kind must be "volcano" or "heatmap", got {kind!r}.')
    table = get.differential_regulation(pb, group=group, contrast=contrast, key=key)
    if table.empty:
        raise ValueError(f"No test for group {group!r} and contrast {contrast!r}.")
    if kind == "volcano":
        on = get.params(pb, key).get("on", "gene_by_motif")
        _volcano(table, ax, alpha=alpha, n_labels=n_labels, xlabel=EFFECT_LABELS[on])
    else:
        _heatmap(table, ax, alpha=alpha, n_top=n_top, cmap=cmap)


#: The volcano's x label: what the effect is, for each score of ``on``.
EFFECT_LABELS = {
    "target_expression": "effect: targets' log10 fold change beyond all genes",
    "gene_by_motif": "effect: difference of mean attribution",
    "accessibility": "effect: difference of log2 accessibility deviation",
}


def _names(table: pd.DataFrame) -> pd.Series:
    """A test's name: its source, with its target when the table has genes."""
    names = table["source"].astype(str)
    if "target" in table.columns:
        names = names + ":" + table["target"].astype(str)
    return names


def _volcano(table: pd.DataFrame, ax, *, alpha: float, n_labels: int, xlabel: str) -> None:
    for column in ("group", "contrast"):
        values = table[column].unique()
        if len(values) > 1:
            raise ValueError(
                f"A volcano shows one {column}; give {column}= (one of {sorted(values)[:10]})."
            )
    table = table[np.isfinite(table["pvalue"]).to_numpy()]
    called = (table["padj"] < alpha).to_numpy()
    up = called & (table["effect"] > 0).to_numpy()
    colours = np.where(up, _UP, np.where(called, _DOWN, _OTHER))
    height = -np.log10(table["pvalue"].clip(lower=np.finfo(float).tiny).to_numpy(float))
    order = np.argsort(called, kind="stable")  # called tests drawn on top
    ax.scatter(table["effect"].to_numpy()[order], height[order], c=colours[order], s=12, lw=0)
    names = _names(table).to_numpy()
    for i in table["padj"].to_numpy().argsort()[: int(called.sum())][:n_labels]:
        ax.annotate(
            names[i],
            (table["effect"].iloc[i], height[i]),
            fontsize="x-small",
            xytext=(3, 2),
            textcoords="offset points",
        )
    ax.axvline(0.0, color="black", lw=0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("-log10(p-value)")
    ax.set_title(
        f"{table['group'].iloc[0]}: {table['contrast'].iloc[0]} "
        f"({int(up.sum())} up, {int(called.sum() - up.sum())} down at padj < {alpha})",
        fontsize="small",
    )


def _heatmap(table: pd.DataFrame, ax, *, alpha: float, n_top: int, cmap: str) -> None:
    table = table.assign(name=_names(table).to_numpy())
    several = table["contrast"].nunique() > 1
    table["column"] = table["group"].astype(str) + (
        " " + table["contrast"].astype(str) if several else ""
    )
    best = table.groupby("name")["padj"].min().nsmallest(n_top).index
    stat = table.pivot_table(index="name", columns="column", values="stat", aggfunc="first")
    padj = table.pivot_table(index="name", columns="column", values="padj", aggfunc="first")
    stat, padj = stat.loc[best], padj.loc[best]
    limit = float(np.nanmax(np.abs(stat.to_numpy()))) or 1.0
    image = ax.imshow(stat.to_numpy(), cmap=cmap, vmin=-limit, vmax=limit, aspect="auto")
    for i, j in zip(*np.nonzero((padj < alpha).to_numpy()), strict=True):
        ax.text(j, i, "*", ha="center", va="center", fontsize="small")
    ax.set_yticks(range(len(stat)), stat.index, fontsize="small")
    ax.set_xticks(range(stat.shape[1]), stat.columns, rotation=90, fontsize="small")
    ax.figure.colorbar(image, ax=ax, shrink=0.6, label="statistic")
    ax.set_title(f"* padj < {alpha}", fontsize="small")
