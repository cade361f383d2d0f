"""UMAP of the regulatory embedding."""

from __future__ import annotations

from .. import get
from .._shared.constants import GENE_BY_MOTIF_KEY, REGULATORY_EMBEDDING_KEY
from ._plotter import plot_function


@plot_function(figsize=(5, 4))
def regulatory_embedding(
    pb,
    *,
    color: str = "group",
    n_neighbors: int = 15,
    seed: int = 0,
    key: str = REGULATORY_EMBEDDING_KEY,
    motif_key: str = GENE_BY_MOTIF_KEY,
    size: float | None = None,
    ax=None,
) -> None:
    """UMAP of the regulatory embedding of :func:`scget.tl.embed_regulatory`, a dot a (group, gene).

    The embedding is read with :func:`scget.get.regulatory_embedding`; the neighbour
    graph and UMAP are computed on a copy with :func:`scanpy.pp.neighbors` and
    :func:`scanpy.tl.umap` and drawn with :func:`scanpy.pl.umap` (nothing is stored).

    Parameters
    ----------
    {mdata_pb} Needs :func:`scget.tl.embed_regulatory` results.
    color
        A column of the embedding's ``obs`` (``group``, ``gene``, ``observed``,
        ``predicted``), or a motif cluster: its importance for each (group, gene) from
        :func:`scget.tl.gene_by_motif` (NaN, grey, where not attributed).
    n_neighbors
        Neighbours of :func:`scanpy.pp.neighbors` (at most the dots less one).
    {seed} Of the UMAP.
    key
        The ``key_added`` of :func:`scget.tl.embed_regulatory`.
    motif_key
        The ``key_added`` of :func:`scget.tl.gene_by_motif`, when ``color`` is a motif.
    size
        Dot size (``None``: scanpy's default for the number of dots).
    {plot}

    Returns
    -------
    {plot_returns}

    Raises
    ------
    KeyError
        If :func:`scget.tl.embed_regulatory` has not run, or ``color`` is neither an obs
        column nor a motif of :func:`scget.tl.gene_by_motif` (or it has not run).

    Examples
    --------
    >>> embedding = scget.tl.embed_regulatory(pb, model, groups=["type_01", "type_02"])
    >>> scget.pl.regulatory_embedding(pb, show=False)
    """
    import scanpy as sc

    adata = get.regulatory_embedding(pb, key=key)
    motif = color not in adata.obs.columns
    if motif:
        adata.obs[color] = _importance(pb, adata.obs, color, motif_key)
    sc.pp.neighbors(adata, n_neighbors=min(n_neighbors, adata.n_obs - 1), use_rep="X")
    sc.tl.umap(adata, random_state=seed)
    style = {"cmap": "RdBu_r", "vcenter": 0} if motif else {}
    sc.pl.umap(adata, color=color, ax=ax, show=False, sort_order=False, size=size, **style)
    if motif:
        ax.set_title(f"{color} importance")


def _importance(pb, obs, motif: str, key: str):
    """The gene-by-motif importance of ``motif`` for each (group, gene) of ``obs``."""
    table = get.gene_by_motif(pb, key=key)
    if motif not in table.columns:
        raise KeyError(
            f"color {motif!r} is neither an obs column {list(obs.columns)} nor a motif of "
            f"scget.tl.gene_by_motif (key {key!r})."
        )
    pairs = zip(obs["group"].astype(str), obs["gene"], strict=True)
    return table[motif].reindex(list(pairs)).to_numpy()
