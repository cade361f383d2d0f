"""Motif importance: the gene-by-motif heatmap and one gene's top motifs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator
from scipy.cluster.hierarchy import leaves_list, linkage

from .. import get
from .._scan.record import read_scan_record
from .._scan.tfs import scan_key_of, tf_expression
from .._shared.constants import ACCESSIBILITY_FEATURE, GENE_BY_MOTIF_KEY, LIST_SEP
from .._shared.logging import logger
from .._shared.utils import name_list, one_name
from ._plotter import plot_function, split_axes

#: Expressed TFs named in a motif's label before "+n".
_SHOWN_TFS = 3


#: Axis labels of gene-by-motif values per attribution method.
METHOD_LABELS = {
    "gradient": "motif importance (gradient x input)",
    "knockout": "motif importance (knockout effect)",
}


def _importance_label(pb, key: str) -> str:
    """The axis label of the gene-by-motif values stored under ``key``."""
    return METHOD_LABELS[get.params(pb, key).get("method", "gradient")]


def _label(cluster: str, tfs: list[str]) -> str:
    """``"cluster (TF1, TF2, TF3 +n)"``, or the cluster alone without expressed TFs."""
    if not tfs:
        return cluster
    more = f" +{len(tfs) - _SHOWN_TFS}" if len(tfs) > _SHOWN_TFS else ""
    return f"{cluster} ({', '.join(tfs[:_SHOWN_TFS])}{more})"


def _leaf_order(matrix: np.ndarray) -> np.ndarray:
    """Order of the rows of ``matrix`` by average-linkage hierarchical clustering."""
    if len(matrix) < 3:
        return np.arange(len(matrix))
    return leaves_list(linkage(matrix, method="average", metric="euclidean"))


@plot_function(figsize=(5, 6))
def gene_by_motif(
    pb,
    *,
    genes: Sequence[str] | None = None,
    groups: str | Sequence[str] | None = None,
    n_top: int = 20,
    center: bool = False,
    cmap: str = "RdBu_r",
    key: str = GENE_BY_MOTIF_KEY,
    ax=None,
) -> None:
    """Heatmap of signed motif importance, motifs by groups or by genes, clustered.

    Reads the attributions of :func:`scget.tl.gene_by_motif` (with
    :func:`scget.get.gene_by_motif`). Without ``genes``, a column is a group and a cell
    the motif's mean importance over the group's genes; with ``genes``, a column is a
    gene and a cell its importance averaged over ``groups``. The ``n_top`` motifs of
    largest mean absolute importance are shown; rows and columns are ordered by
    average-linkage clustering (:mod:`scipy.cluster.hierarchy`). The colour scale is
    centred on zero.

    Parameters
    ----------
    {mdata_pb} Needs :func:`scget.tl.gene_by_motif` results.
    genes
        Genes as columns; ``None``: groups as columns, averaging every gene.
    groups
        Only this group or these groups (``None``: every interpreted group).
    n_top
        Number of motifs (rows).
    center
        Subtract each motif's mean over the columns, to show how groups (or genes)
        differ rather than the motif's overall effect; the motifs shown are still those
        of largest mean absolute importance.
    cmap
        Diverging colour map.
    key
        The ``key_added`` of :func:`scget.tl.gene_by_motif`.
    {plot}

    Returns
    -------
    {plot_returns}

    Raises
    ------
    KeyError
        If :func:`scget.tl.gene_by_motif` has not run under ``key``.
    ValueError
        If a gene or group has no attributions.

    Examples
    --------
    >>> scget.tl.gene_by_motif(pb, model, groups=["type_01"])
    >>> scget.pl.gene_by_motif(pb, n_top=10, show=False)
    """
    groups = name_list(groups)
    table = get.gene_by_motif(pb, key=key).drop(columns=ACCESSIBILITY_FEATURE, errors="ignore")
    chosen = table.index.get_level_values("group").astype(str)
    if groups is not None:
        missing = sorted(set(groups) - set(chosen))
        if missing:
            raise ValueError(f"groups {missing} have no gene-by-motif attributions.")
        table = table[chosen.isin(groups)]
    if genes is None:
        matrix = table.groupby(level="group", observed=True, sort=False).mean().T
    else:
        names = table.index.get_level_values("gene").astype(str)
        missing = sorted(set(genes) - set(names))
        if missing:
            raise ValueError(f"genes {missing} have no gene-by-motif attributions.")
        matrix = table[names.isin(list(genes))].groupby(level="gene", sort=False).mean()
        matrix = matrix.reindex(list(genes)).T
    top = matrix.abs().mean(axis=1).nlargest(n_top).index
    matrix = matrix.loc[top]
    if center:
        matrix = matrix.sub(matrix.mean(axis=1), axis=0)
    values = matrix.to_numpy(dtype=float)
    rows, columns = _leaf_order(values), _leaf_order(values.T)
    matrix = matrix.iloc[rows, columns]
    limit = float(np.abs(values).max()) or 1.0
    power = int(np.floor(np.log10(limit))) if not 1e-2 <= limit < 1e3 else 0
    scale = 10.0**-power
    image = ax.imshow(
        matrix.to_numpy(dtype=float) * scale,
        cmap=cmap,
        vmin=-limit * scale,
        vmax=limit * scale,
        aspect="auto",
    )
    ax.set_yticks(range(len(matrix)), matrix.index.astype(str), fontsize="small")
    ax.set_xticks(range(matrix.shape[1]), matrix.columns.astype(str), rotation=90)
    ax.set_xlabel("gene" if genes is not None else "group")
    label = _importance_label(pb, key) + (" - motif mean" if center else "")
    label += f" (x 1e{power})" if power else ""
    ax.figure.colorbar(image, ax=ax, shrink=0.6, label=label)


@plot_function(figsize=(6, 4))
def motif_importance(
    pb,
    gene: str,
    *,
    group: str,
    n_top: int = 10,
    motifs=None,
    key: str = GENE_BY_MOTIF_KEY,
    ax=None,
) -> None:
    """Horizontal bars of a gene's most important motifs in a group, signed.

    The importance is that of :func:`scget.tl.gene_by_motif` (read with
    :func:`scget.get.gene_by_motif`): positive motifs raise the predicted expression,
    negative ones lower it. Each motif is labelled with its cluster and the cluster's
    TFs expressed in ``group`` (log10(TPM + 1) >= log10(2) in ``[rna].X``; TF names from
    the ``tf_names`` of :func:`scget.pp.scan_motifs`'s ``"motifs"`` table). With
    ``motifs``, a sequence logo (:mod:`logomaker`, information content) of the cluster's
    first motif is drawn beside each bar; :func:`scget.pp.scan_motifs` stores no PWMs,
    so without ``motifs`` the logos are left out (with a log message).

    Parameters
    ----------
    {mdata_pb} Needs :func:`scget.tl.gene_by_motif` and :func:`scget.pp.scan_motifs` results.
    gene
        The gene.
    group
        The group.
    n_top
        Number of motifs, by absolute importance.
    motifs
        The :class:`~scget.motifs.MotifCollection` scanned (e.g.
        :func:`scget.motifs.load_jaspar`), for the logos.
    key
        The ``key_added`` of :func:`scget.tl.gene_by_motif`.
    {plot}

    Returns
    -------
    {plot_returns}

    Raises
    ------
    KeyError
        If :func:`scget.tl.gene_by_motif` or :func:`scget.pp.scan_motifs` has not run, or
        ``gene`` has no attributions in ``group``.
    ValueError
        If ``group`` was not interpreted.

    Examples
    --------
    >>> scget.tl.gene_by_motif(pb, model, groups=["type_01"])
    >>> scget.pl.motif_importance(pb, "PAX9", group="type_01", show=False)
    """
    group = one_name(group)
    frame = get.gene_by_motif(pb, group=group, key=key)
    if gene not in frame.index:
        raise KeyError(f"gene {gene!r} has no gene-by-motif attributions in group {group!r}.")
    scores = frame.loc[gene].drop(ACCESSIBILITY_FEATURE, errors="ignore").astype(float)
    top = scores.loc[scores.abs().nlargest(n_top).index][::-1]
    motif_key = scan_key_of(pb, key)
    tfs = tf_expression(pb, group, rna=get.params(pb, key)["rna"], motif_key=motif_key)
    labels = [_label(name, tfs["expressed"].get(name, [])) for name in top.index]
    bars = ax
    if motifs is None:
        logger.info(
            "motif_importance: no MotifCollection given (scan_motifs stores no PWMs); "
            "drawing no logos."
        )
    else:
        bars, logos = split_axes(ax, [3, 1], vertical=False, gap=0.02)
        _, scan = read_scan_record(pb, motif_key)
        _draw_logos(logos, list(top.index), scan["motifs"], motifs)
    colours = np.where(top.to_numpy() > 0, "tab:red", "tab:blue")
    bars.barh(range(len(top)), top.to_numpy(), color=colours)
    bars.set_yticks(range(len(top)), labels, fontsize="small")
    bars.set_ylim(-0.5, len(top) - 0.5)
    bars.axvline(0, color="black", linewidth=0.8)
    bars.xaxis.set_major_locator(MaxNLocator(5))
    bars.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
    bars.set_xlabel(_importance_label(pb, key))
    bars.set_title(f"{gene} in {group}")


def _draw_logos(ax, clusters: list[str], members: pd.Series, motifs) -> None:
    """One logo per cluster (its first scanned motif), stacked as the bars, bottom up."""
    import logomaker

    panels = split_axes(ax, np.ones(len(clusters)), gap=0.0)[::-1]
    for panel, cluster in zip(panels, clusters, strict=True):
        panel.set_axis_off()
        found = [m for m in str(members.get(cluster, "")).split(LIST_SEP) if m in motifs]
        if not found:
            continue
        probabilities = pd.DataFrame(motifs[found[0]], columns=list("ACGT"))
        information = logomaker.transform_matrix(
            probabilities, from_type="probability", to_type="information"
        )
        logomaker.Logo(information, ax=panel, show_spines=False)
        panel.set_ylim(0, 2)
        panel.set_axis_off()
