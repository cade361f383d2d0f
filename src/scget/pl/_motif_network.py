"""The TF-TF network of motif clusters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import matplotlib as mpl
import numpy as np

from .. import get
from .._scan.tfs import attribution_params, tf_expression
from .._shared.constants import MOTIF_KEY, MOTIF_NETWORK_KEY, RNA
from .._shared.storage import read_params
from .._shared.utils import one_name
from ._plotter import plot_function

#: How the title names each method of :func:`scget.tl.motif_network`.
_KIND = {
    "lingam": "LiNGAM, source causes target",
    "spearman": "Spearman",
    "interaction": "pairwise knockouts",
}
_LAYOUTS = ("spring", "circular", "kamada_kawai", "shell")
#: Node area (points^2) without expressed TFs, and added at the largest expression.
_NODE_SIZE = (60.0, 600.0)


@plot_function(figsize=(6, 5))
def motif_network(
    pb,
    *,
    group: str,
    motifs: Sequence[str] | None = None,
    min_weight: float = 0.0,
    top: int | None = None,
    neighbourhood: Literal["parents", "children", "both"] | None = None,
    motif: str | None = None,
    layout: Literal["spring", "circular", "kamada_kawai", "shell"] = "spring",
    seed: int = 0,
    cmap: str = "RdBu_r",
    key: str = MOTIF_NETWORK_KEY,
    ax=None,
) -> None:
    """Draw a group's TF-TF network of motif clusters from :func:`scget.tl.motif_network`.

    The graph is that of :func:`scget.get.motif_network` (``graph=True``): directed for
    LiNGAM (source causes target), undirected for Spearman and pairwise knockouts
    (``method="interaction"``); the title names the method. An edge's colour is its
    signed weight (a diverging colour map centred on zero, with a colour bar) and its
    width ``|weight|``; a node's size is the largest log10(TPM + 1) in ``group`` of the
    motif cluster's TFs (smallest when none is measured).

    Parameters
    ----------
    {mdata_pb} Needs :func:`scget.tl.motif_network` results.
    group
        The network's group (``"all"`` for a cell-type-agnostic network).
    motifs
        Only edges between these motif clusters.
    min_weight
        Only edges with ``|weight| >= min_weight``.
    top
        Only the ``top`` edges of largest ``|weight|`` (after the other filters).
    neighbourhood
        Only the edges into ``motif`` (``"parents"``), out of it (``"children"``) or
        both; for an undirected network every choice gives its neighbours' edges.
    motif
        The motif cluster whose ``neighbourhood`` is drawn.
    layout
        :mod:`networkx` layout: ``"spring"`` (seeded), ``"circular"``,
        ``"kamada_kawai"`` or ``"shell"``.
    {seed} Used by the spring layout.
    cmap
        Diverging colour map of the edge weights.
    key
        The ``key_added`` of :func:`scget.tl.motif_network`.
    {plot}

    Returns
    -------
    {plot_returns}

    Raises
    ------
    KeyError
        If :func:`scget.tl.motif_network` has not run under ``key``.
    ValueError
        If ``group`` has no network, ``layout`` or ``neighbourhood`` is unknown,
        ``neighbourhood`` is given without ``motif``, or no edge is left to draw.

    Examples
    --------
    >>> scget.tl.gene_by_motif(pb, model, groups=["type_01"])
    >>> edges = scget.tl.motif_network(pb, motifs=["HES", "PAX", "HOXB"], method="spearman")
    >>> scget.pl.motif_network(pb, group="type_01", show=False)
    """
    import networkx as nx
    from adjustText import adjust_text

    group = one_name(group)
    if layout not in _LAYOUTS:
        raise ValueError(f"layout must be one of {list(_LAYOUTS)}, got {layout!r}.")
    graph = get.motif_network(pb, group=group, graph=True, key=key)
    graph = _filtered(graph, motifs, min_weight, top, neighbourhood, motif)
    edges = list(graph.edges(data="weight"))
    if not edges:
        raise ValueError(f"No edge of group {group!r} is left to draw; relax the filters.")
    if layout == "spring":
        spread = 2.5 / np.sqrt(graph.number_of_nodes())
        positions = nx.spring_layout(graph, k=spread, iterations=200, seed=seed)
    else:
        positions = getattr(nx, f"{layout}_layout")(graph)
    source = attribution_params(pb, key)
    expression = tf_expression(
        pb, group, rna=source.get("rna", RNA), motif_key=source.get("motif_key", MOTIF_KEY)
    )["expression"]
    level = expression.reindex(list(graph.nodes)).fillna(0.0).to_numpy()
    top_level = level.max() or 1.0
    sizes = _NODE_SIZE[0] + _NODE_SIZE[1] * level / top_level
    weights = np.array([w for _, _, w in edges], dtype=float)
    limit = float(np.abs(weights).max())
    norm = mpl.colors.Normalize(vmin=-limit, vmax=limit)
    nx.draw_networkx_nodes(
        graph, positions, ax=ax, node_size=sizes, node_color="#dddddd", edgecolors="grey"
    )
    nx.draw_networkx_edges(
        graph,
        positions,
        ax=ax,
        edgelist=[(u, v) for u, v, _ in edges],
        edge_color=weights,
        edge_cmap=mpl.colormaps[cmap],
        edge_vmin=-limit,
        edge_vmax=limit,
        width=0.3 + 2.2 * np.abs(weights) / limit,
        alpha=0.8,
        arrows=True,
        arrowstyle="-|>" if graph.is_directed() else "-",
        node_size=sizes,
    )
    labels = [
        ax.text(*positions[node], str(node), fontsize=7, ha="center", va="center")
        for node in graph.nodes
    ]
    xy = np.array([positions[node] for node in graph.nodes])
    adjust_text(labels, x=xy[:, 0], y=xy[:, 1], ax=ax, expand=(1.3, 1.6))
    ax.figure.colorbar(
        mpl.cm.ScalarMappable(norm=norm, cmap=cmap),
        ax=ax,
        shrink=0.45,
        anchor=(0.0, 1.0),
        label="edge weight",
    )
    _size_legend(ax, top_level)
    kind = _KIND[read_params(pb, key)["method"]]
    ax.set_title(f"{group}: {len(edges)} edges ({kind})")
    ax.set_axis_off()


def _size_legend(ax, top_level: float) -> None:
    """A legend of node sizes: the expression of the motif clusters' most expressed TF."""
    shown = sorted({round(top_level * share, 1) for share in (1.0, 0.5)} | {0.0})
    handles = [
        ax.scatter(
            [], [], s=_NODE_SIZE[0] + _NODE_SIZE[1] * value / top_level, c="#dddddd",
            edgecolors="grey", label=f"{value:g}",
        )
        for value in shown
    ]  # fmt: skip
    ax.legend(
        handles=handles,
        title="TF log10(TPM + 1)",
        title_fontsize="x-small",
        fontsize="x-small",
        loc="lower left",
        bbox_to_anchor=(1.0, 0.0),
        frameon=False,
        labelspacing=1.6,
        borderpad=1.2,
    )


def _filtered(graph, motifs, min_weight, top, neighbourhood, motif):
    """The subgraph of the edges the filters of :func:`motif_network` keep."""
    keep = [
        (u, v)
        for u, v, w in graph.edges(data="weight")
        if abs(w) >= min_weight and (motifs is None or (u in motifs and v in motifs))
    ]
    if neighbourhood is not None:
        if neighbourhood not in ("parents", "children", "both"):
            raise ValueError(
                f"neighbourhood must be 'parents', 'children' or 'both', got {neighbourhood!r}."
            )
        if motif is None:
            raise ValueError("neighbourhood needs motif= (the motif cluster at its centre).")
        if not graph.is_directed():
            keep = [(u, v) for u, v in keep if motif in (u, v)]
        else:
            into = neighbourhood in ("parents", "both")
            out = neighbourhood in ("children", "both")
            keep = [(u, v) for u, v in keep if (into and v == motif) or (out and u == motif)]
    if top is not None:
        keep = sorted(keep, key=lambda e: -abs(graph.edges[e]["weight"]))[:top]
    return graph.edge_subgraph(keep).copy()
