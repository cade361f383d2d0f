"""Dot plot of enriched terms."""

from __future__ import annotations

import numpy as np

from .. import get
from .._shared.utils import one_name
from ._plotter import plot_function

#: Marker area (points^2) of the smallest possible and of the largest overlap shown.
_AREA = (20.0, 200.0)


@plot_function(figsize=(5, 4))
def enrichment(
    pb,
    *,
    n_top: int = 10,
    motif: str | None = None,
    group: str | None = None,
    cmap: str = "viridis",
    key: str = "enrichment",
    ax=None,
) -> None:
    """Dot plot of the most enriched terms of :func:`scget.tl.enrichment`.

    Reads :func:`scget.get.enrichment`: x is the gene ratio (overlap over the query
    list), y the term, a dot's area the number of genes in the overlap and its colour
    -log10 of the adjusted p-value (with a colour bar). The ``n_top`` terms of smallest
    adjusted p-value are shown, the most significant on top; when several motifs or
    groups remain, a term is labelled with them.

    Parameters
    ----------
    {mdata_pb} Needs :func:`scget.tl.enrichment` results.
    n_top
        Number of terms.
    motif
        Only this motif's terms.
    group
        Only this group's terms.
    cmap
        Colour map of -log10(padj).
    key
        The ``key_added`` of :func:`scget.tl.enrichment`.
    {plot}

    Returns
    -------
    {plot_returns}

    Raises
    ------
    KeyError
        If :func:`scget.tl.enrichment` has not run under ``key``.
    ValueError
        If no term is left for ``motif`` and ``group``.

    Examples
    --------
    >>> scget.tl.gene_by_motif(pb, model, groups=["type_01"])
    >>> targets = scget.tl.regulator_targets(pb, ["HES", "PAX"])
    >>> table = scget.tl.enrichment(pb, scget.datasets.planted_gene_sets(mdata))
    >>> scget.pl.enrichment(pb, show=False)
    """
    group = one_name(group)
    table = get.enrichment(pb, motif=motif, group=group, key=key)
    if table.empty:
        raise ValueError(f"No enriched term for motif {motif!r} and group {group!r}.")
    top = table.nsmallest(n_top, "padj").iloc[::-1]
    varying = [c for c in ("motif", "group") if table[c].nunique() > 1]
    labels = top["term"].astype(str)
    if varying:
        labels = labels + " (" + top[varying].astype(str).agg(", ".join, axis=1) + ")"
    score = -np.log10(top["padj"].clip(lower=np.finfo(float).tiny).to_numpy(float))
    largest = float(top["n_genes"].max())
    dots = ax.scatter(
        top["gene_ratio"],
        np.arange(len(top)),
        s=_dot_area(top["n_genes"].to_numpy(float), largest),
        c=score,
        cmap=cmap,
        edgecolors="grey",
        linewidths=0.5,
    )
    ax.set_yticks(range(len(top)), labels, fontsize="small")
    ax.set_ylim(-0.8, len(top) - 0.2)
    ax.set_xlabel("gene ratio")
    fixed = [f"{c} {table[c].iloc[0]}" for c in ("motif", "group") if table[c].nunique() == 1]
    ax.set_title("targets of " + ", ".join(fixed) if fixed else "targets of each motif and group")
    ax.margins(x=0.15)
    ax.figure.colorbar(dots, ax=ax, shrink=0.6, label="-log10(padj)")
    sizes = np.unique(np.quantile(top["n_genes"], [0, 0.5, 1]).round().astype(int))
    handles = [
        ax.scatter([], [], s=_dot_area(n, largest), color="grey", label=str(n)) for n in sizes
    ]
    ax.legend(
        handles=handles,
        title="genes",
        frameon=False,
        fontsize="small",
        loc="upper left",
        bbox_to_anchor=(1.45, 1.0),  # right of the colour bar
        labelspacing=1.2,
    )


def _dot_area(n_genes, largest: float):
    """Marker area (points^2) of an overlap of ``n_genes``: 20 to 200, by the largest."""
    return _AREA[0] + (_AREA[1] - _AREA[0]) * np.asarray(n_genes, dtype=float) / largest
