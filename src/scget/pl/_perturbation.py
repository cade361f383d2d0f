"""Predicted change of a perturbation, per gene."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import get
from .._shared.constants import UNS_KEY
from .._shared.logging import logger
from .._shared.utils import one_name
from ._plotter import plot_function, split_axes


@plot_function(figsize=(7, 3.5))
def perturbation(
    pb,
    key: str,
    *,
    group: str | None = None,
    n_top: int = 10,
    measured: pd.Series | None = None,
    measured_label: str = "measured change",
    ax=None,
) -> None:
    """Ranked bars of the predicted change of a perturbation, the largest changes named.

    Reads :func:`scget.get.knockout_motifs` or :func:`scget.get.delete_regions` (perturbed
    minus reference predicted log10(TPM + 1)); genes no window of which was changed are
    left out.
    The ``n_top`` genes of largest absolute change are labelled, in a column beside
    their tail of the ranking, with a line to their bar. With ``measured``, a second
    panel scatters the predicted against the measured change of the genes both have,
    with Pearson's r in its title.

    Parameters
    ----------
    {mdata_pb} Needs :func:`scget.tl.knockout_motifs` or :func:`scget.tl.delete_regions` results.
    key
        The run's ``key_added`` (``"knockout_motifs"`` or ``"delete_regions"`` by default).
    group
        The group; ``None`` averages the groups perturbed.
    n_top
        Number of genes labelled.
    measured
        Measured change per gene (e.g. a log fold change of a CRISPR screen), indexed by
        gene.
    measured_label
        The x axis label of the ``measured`` panel (e.g. ``"planted effect"`` for the
        truth of a simulation).
    {plot}

    Returns
    -------
    {plot_returns}

    Raises
    ------
    KeyError
        If no perturbation is stored under ``key``, or ``group`` is unknown.
    ValueError
        If no gene was changed, or ``measured`` shares fewer than 2 genes with it.

    Examples
    --------
    >>> change = scget.tl.knockout_motifs(pb, model, motifs=["PAX"], groups=["type_01"])
    >>> scget.pl.perturbation(pb, "knockout_motifs", show=False)
    """
    group = one_name(group)
    deletion = key in pb.uns.get(UNS_KEY, {}) and "motifs" not in get.params(pb, key)
    table = (get.delete_regions if deletion else get.knockout_motifs)(pb, key=key)
    if group is None:
        change, where = table.mean(axis=0), f"mean of {len(table)} groups"
    else:
        if group not in table.index:
            raise KeyError(f"group {group!r} is not in perturbation {key!r}: {list(table.index)}.")
        change, where = table.loc[group], group
    change = change.dropna().sort_values(ascending=False)
    if change.empty:
        raise ValueError(f"No gene was changed by perturbation {key!r} in {where}.")
    bars = ax
    if measured is not None:
        bars, scatter = split_axes(ax, [3, 2], vertical=False, gap=0.2)
        _draw_measured(scatter, change, measured, measured_label)
    ranks = np.arange(len(change))
    colours = np.where(change.to_numpy() > 0, "tab:red", "tab:blue")
    bars.bar(ranks, change.to_numpy(), width=1.0, color=colours, linewidth=0)
    bars.axhline(0, color="black", linewidth=0.6)
    bars.set_xlim(-1, len(change))
    _label_tails(bars, change, change.abs().nlargest(n_top).index)
    bars.set_xlabel(f"gene rank ({len(change)} genes)")
    bars.set_ylabel("predicted change\nlog10(TPM + 1)")
    bars.set_title(f"{_what(get.params(pb, key), deletion)}, {where}")


def _label_tails(ax, change: pd.Series, named: pd.Index) -> None:
    """Name ``named`` genes in columns in the empty corners: losses bottom left, gains top right."""
    low, high = float(min(change.min(), 0)), float(max(change.max(), 0))
    for sign, column, edge, ha in ((-1, 0.6, low, "right"), (1, 0.4, high, "left")):
        genes = [g for g in named if np.sign(change[g]) == sign]
        genes.sort(key=lambda g: abs(change[g]))
        heights = np.linspace(0.25 * edge, edge, len(genes) + 1)[1:]
        for gene, y in zip(genes, heights, strict=True):
            ax.annotate(
                gene,
                xy=(change.index.get_loc(gene), change[gene]),
                xytext=(column * len(change), y),
                ha=ha,
                va="center",
                fontsize="x-small",
                arrowprops={"arrowstyle": "-", "color": "grey", "lw": 0.5},
            )


def _what(params: dict, deletion: bool) -> str:
    """The perturbation in words: the motifs knocked out, or the regions deleted."""
    if deletion:
        peaks = params.get("peaks") or []
        return f"deletion of {len(peaks)} region{'s' if len(peaks) != 1 else ''}"
    motifs = params.get("motifs") or []
    motifs = [motifs] if isinstance(motifs, str) else list(motifs)
    shown = ", ".join(motifs[:3]) + (f" +{len(motifs) - 3}" if len(motifs) > 3 else "")
    return f"knockout of {shown}"


def _draw_measured(ax, change: pd.Series, measured: pd.Series, label: str) -> None:
    """Scatter of predicted against measured change, Pearson's r in the title."""
    shared = change.index.intersection(measured.dropna().index)
    if len(shared) < 2:
        raise ValueError(
            f"measured shares {len(shared)} gene(s) with the perturbation; need at least 2."
        )
    if len(shared) < len(measured.dropna()):
        logger.info(
            f"perturbation: {len(measured.dropna()) - len(shared)} measured genes have no "
            "predicted change and are left out."
        )
    predicted, observed = change[shared].to_numpy(float), measured[shared].to_numpy(float)
    ax.scatter(observed, predicted, s=10, alpha=0.7, linewidths=0)
    pearson = float(np.corrcoef(observed, predicted)[0, 1])
    ax.set_title(f"r = {pearson:.3f}, n = {len(shared)}")
    ax.set_xlabel(label)
    ax.set_ylabel("predicted change")
