"""Dot plot of enriched terms."""

from __future__ import annotations

import numpy as np

from ._plotter import plot_function

#: Marker area (points^2) per gene in the overlap.
_AREA_PER_GENE = 12.0


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
    groups remain, a term is labelled with its motif and group.

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
    """
    from .. import get

    table = get.enrichment(pb, motif=motif, group=group, key=key)
    if table.empty:
        raise ValueError(f"No enriched term for motif {motif!r} and group {group!r}.")
    several = table[["motif", "group"]].drop_duplicates().shape[0] > 1
    top = table.nsmallest(n_top, "padj").iloc[::-1]
    labels = top["term"].astype(str)
    if several:
        labels = labels + " (" + top["motif"].astype(str) + ", " + top["group"].astype(str) + ")"
    score = -np.log10(top["padj"].clip(lower=np.finfo(float).tiny).to_numpy(float))
    dots = ax.scatter(
        top["gene_ratio"],
        np.arange(len(top)),
        s=_AREA_PER_GENE * top["n_genes"].to_numpy(float),
        c=score,
        cmap=cmap,
        edgecolors="grey",
        linewidths=0.5,
    )
    ax.set_yticks(range(len(top)), labels, fontsize="small")
    ax.set_ylim(-0.7, len(top) - 0.3)
    ax.set_xlabel("gene ratio")
    ax.margins(x=0.15)
    ax.figure.colorbar(dots, ax=ax, shrink=0.6, label="-log10(padj)")
    sizes = np.unique(np.quantile(top["n_genes"], [0, 0.5, 1]).round().astype(int))
    handles = [ax.scatter([], [], s=_AREA_PER_GENE * n, color="grey", label=str(n)) for n in sizes]
    ax.legend(
        handles=handles,
        title="genes",
        frameon=False,
        fontsize="small",
        loc="upper left",
        bbox_to_anchor=(1.3, 1.0),
    )
