"""A genome-browser view of a locus: accessibility, peaks, genes, GET's region scores."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import cycle
from typing import Literal

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Arc

from .. import get
from .._shared.constants import ATAC, ENHANCER_GENE_KEY, REGION_IMPORTANCE_KEY, RNA, UNS_KEY
from .._shared.genomic import parse_peak_names, peak_coordinates
from .._shared.logging import logger
from .._shared.utils import modality, name_list, to_dense
from ._plotter import plot_function, split_axes

#: Readers of the region scores, by name, and their default keys.
_SCORES = {"region_importance": REGION_IMPORTANCE_KEY, "enhancer_gene": ENHANCER_GENE_KEY}
#: Their names on the score track.
_SCORE_NAMES = {"region_importance": "region importance", "enhancer_gene": "enhancer-gene"}


@plot_function(figsize=(8, 6))
def tracks(
    pb,
    *,
    gene: str | None = None,
    region: str | None = None,
    groups: str | Sequence[str] | None = None,
    flank: int = 100_000,
    layer: str | None = None,
    scores: Literal["region_importance", "enhancer_gene"] | None = "region_importance",
    key: str | None = None,
    method: str | None = None,
    min_distance: int = 1_000,
    n_arcs: int | None = 10,
    links: pd.DataFrame | None = None,
    rna: str = RNA,
    atac: str = ATAC,
    ax=None,
) -> None:
    """Genome-browser view of a locus, top to bottom: accessibility, peaks, genes, scores.

    - **Accessibility**: one row per group, bars over the locus's peaks of ``[atac].X``
      (or ``layer``), on one y scale.
    - **Peaks** of ``[atac]``.
    - **Genes** of ``[rna].var`` with a TSS in the locus: the gene body
      (``gene_start``-``gene_end`` when present) and an arrow at the TSS in the
      direction of transcription; no exons are drawn (none are stored).
    - **Scores** (``scores``): arcs from each gene's TSS to its regions, as high as the
      region's score and coloured by group (those of ``gene``, else of every gene in the
      locus): the ``weight`` of
      :func:`scget.get.region_importance`, or a ``method`` column of
      :func:`scget.get.enhancer_gene`.
    - **Links** (``links``): arcs of known or predicted links, e.g. the planted links of
      a simulation.

    Parameters
    ----------
    {mdata_pb}
    gene
        Centre the view on this gene's TSS (``flank`` on each side) and draw its scores
        only.
    region
        The locus as ``"chrom:start-end"`` (overrides the window around ``gene``).
    groups
        Group or groups to draw (``None``: all).
    flank
        Bases on each side of ``gene``'s TSS.
    layer
        ``[atac]`` layer of the accessibility (``None``: ``X``).
    scores
        ``"region_importance"`` (:func:`scget.tl.region_importance`),
        ``"enhancer_gene"`` (:func:`scget.tl.enhancer_gene`) or ``None`` (no score track).
    key
        The ``key_added`` of that run (``None``: its default; when that default run is
        not stored, the view is drawn without the score track, with a log message).
    method
        Column of the enhancer-gene table (``None``: its first method).
    min_distance
        Leave out the scores of regions closer than this (bp, peak centre) to the TSS:
        the promoter usually scores highest and would flatten the distal arcs.
    n_arcs
        Draw only the ``n_arcs`` highest scores of each gene and group (after
        ``min_distance``); ``None`` draws all.
    links
        Links to draw as arcs: a DataFrame with ``gene`` and ``peak`` columns, or
        ``chrom``, ``start`` and ``end`` (one arc from start to end, e.g. a BED file read
        with :func:`scget.genome.read_bed`), with an optional ``weight`` (arc height).
    {rna}
    {atac}
    {plot}

    Returns
    -------
    {plot_returns}

    Raises
    ------
    KeyError
        If the ``scores`` run is not stored, or ``gene`` is unknown.
    ValueError
        If neither ``gene`` nor ``region`` is given, ``scores`` is unknown, a group is
        unknown, or ``[rna].var`` lacks ``chrom``/``tss``.

    Examples
    --------
    >>> scget.tl.region_importance(pb, model, groups=["type_01"])
    >>> scget.pl.tracks(pb, gene="PAX9", show=False)
    """
    if scores is not None and scores not in _SCORES:
        raise ValueError(f"scores must be one of {list(_SCORES)} or None, got {scores!r}.")
    genes_var = modality(pb, rna).var
    if not {"chrom", "tss"} <= set(genes_var.columns):
        raise ValueError(f"[{rna}].var needs chrom and tss columns (scget.pp.annotate_tss).")
    chrom, start, end = _locus(genes_var, gene, region, flank)
    peaks_adata = modality(pb, atac)
    coords = peak_coordinates(peaks_adata)
    inside = (coords["chrom"] == chrom) & (coords["end"] > start) & (coords["start"] < end)
    peaks = coords[inside.to_numpy()]
    names = list(pd.Index(peaks_adata.obs_names.astype(str)))
    groups = names if groups is None else name_list(groups)
    unknown = sorted(set(groups) - set(names))
    if unknown:
        raise ValueError(f"groups {unknown} are not in [{atac}].obs_names.")
    matrix = peaks_adata.X if layer is None else peaks_adata.layers[layer]
    rows = [names.index(g) for g in groups]
    values = to_dense(matrix[rows][:, np.flatnonzero(inside.to_numpy())], np.float64)
    shown = genes_var[
        (genes_var["chrom"].astype(str) == chrom)
        & (genes_var["tss"] >= start)
        & (genes_var["tss"] < end)
    ]
    scored = shown.index if gene is None else pd.Index([gene])
    table = None if scores is None else _scores(pb, scores, key, method, scored)
    if table is None and scores is not None:
        scores = None
    gene_rows = _gene_rows(shown, end - start)
    heights = [1.0] * len(groups) + [0.3, 0.4 * (gene_rows.max() + 1 if len(shown) else 1)]
    heights += [] if table is None else [1.5]
    heights += [] if links is None else [1.0]
    panels = split_axes(ax, heights, gap=0.01)
    colours = dict(zip(groups, cycle(plt.rcParams["axes.prop_cycle"].by_key()["color"])))
    top = float(values.max()) if values.size else 1.0
    centres = ((peaks["start"] + peaks["end"]) / 2).to_numpy()
    for row, (panel, name) in enumerate(zip(panels, groups, strict=False)):
        widths = (peaks["end"] - peaks["start"]).to_numpy()
        panel.bar(centres, values[row], width=widths, color=colours[name], linewidth=0)
        panel.set_ylim(0, top * 1.05 or 1.0)
        _name(panel, name)
        panel.tick_params(labelsize="x-small")
    panels[0].set_title(f"{chrom}:{start:,}-{end:,}" + (f"  ({gene})" if gene else ""))
    panel = panels[len(groups)]
    panel.broken_barh(
        list(zip(peaks["start"], peaks["end"] - peaks["start"], strict=True)),
        (0, 1),
        color="black",
    )
    _name(panel, "peaks")
    _draw_genes(panels[len(groups) + 1], shown, gene_rows, gene, end - start)
    rest = panels[len(groups) + 2 :]
    if table is not None:
        _draw_score_arcs(rest[0], table, genes_var, coords, colours, min_distance, n_arcs)
        label = _SCORE_NAMES[scores] + ("" if method is None else f"\n{method}")
        kept = "" if n_arcs is None else f"top {n_arcs}, "
        label += f"\n({kept}≥ {min_distance:,} bp\nfrom the TSS)"
        _name(rest[0], label)
        rest = rest[1:]
    if links is not None:
        _draw_links(rest[0], links, genes_var, coords)
        _name(rest[0], "links")
    for panel in panels:
        panel.set_xlim(start, end)
        panel.spines[["top", "right"]].set_visible(False)
        if panel is not panels[-1]:
            panel.tick_params(axis="x", labelbottom=False)
    for panel in panels[len(groups) : len(groups) + 2]:
        panel.set_yticks([])
    panels[-1].set_xlabel(f"{chrom} position (bp)")
    panels[-1].ticklabel_format(axis="x", style="plain")


def _name(panel, text: str) -> None:
    """Name a track to its left."""
    panel.set_ylabel(text, rotation=0, ha="right", va="center", fontsize="small")


def _locus(var: pd.DataFrame, gene, region, flank: int) -> tuple[str, int, int]:
    """``(chrom, start, end)`` of ``region``, else ``flank`` around ``gene``'s TSS."""
    if region is not None:
        parsed = parse_peak_names([region]).iloc[0]
        return str(parsed["chrom"]), int(parsed["start"]), int(parsed["end"])
    if gene is None:
        raise ValueError("Give gene= or region= (e.g. 'chr1:100000-300000').")
    if gene not in var.index:
        raise KeyError(f"gene {gene!r} is not in the RNA modality's var_names.")
    tss = int(var.loc[gene, "tss"])
    return str(var.loc[gene, "chrom"]), max(tss - flank, 0), tss + flank


def _scores(pb, scores: str, key, method, genes: pd.Index) -> pd.DataFrame | None:
    """Long table ``group``, ``gene``, ``peak``, ``score`` of the locus's genes.

    ``None`` when ``key`` is left to its default and that run is not stored.
    """
    if key is None:
        key = _SCORES[scores]
        if key not in pb.uns.get(UNS_KEY, {}):
            logger.warning(
                f"tracks: no {scores} result is stored; drawing without the score track "
                f"(run scget.tl.{scores}(pb, model) to add it, or pass scores=None)."
            )
            return None
    if scores == "region_importance":
        table = get.region_importance(pb, key=key)
        table = table.rename(columns={"target": "gene", "source": "peak", "weight": "score"})
    else:
        table = get.enhancer_gene(pb, key=key)
        methods = [c for c in table.columns if c not in ("group", "gene", "peak", "distance")]
        column = methods[0] if method is None else method
        if column not in methods:
            raise ValueError(f"method {column!r} is not in the enhancer-gene table: {methods}.")
        table = table.rename(columns={column: "score"})
    table = table[table["gene"].isin(genes)]
    if table.empty:
        logger.info(f"tracks: no {scores} scores for the genes in the locus.")
    return table[["group", "gene", "peak", "score"]].reset_index(drop=True)


def _arc(panel, x0: float, x1: float, height: float, **style) -> None:
    """A half-ellipse from ``x0`` to ``x1`` reaching ``height``."""
    panel.add_patch(
        Arc(((x0 + x1) / 2, 0), abs(x1 - x0), 2 * height, theta1=0, theta2=180, **style)
    )


def _draw_score_arcs(
    panel, table, genes, coords, colours, min_distance: int, n_arcs: int | None
) -> None:
    """Arcs from each TSS to its scored peaks beyond ``min_distance``, as high as the score."""
    centres = ((coords["start"] + coords["end"]) / 2).loc[table["peak"]].to_numpy()
    tss = genes.loc[table["gene"], "tss"].to_numpy(dtype=float)
    shown = (
        (np.abs(centres - tss) >= min_distance)
        & (table["score"] > 0).to_numpy()
        & table["group"].isin(list(colours)).to_numpy()
    )
    if n_arcs is not None:
        rank = (
            table["score"]
            .where(shown)
            .groupby([table["group"], table["gene"]])
            .rank(ascending=False, method="first")
        )
        shown &= (rank <= n_arcs).to_numpy()
    rows = table[shown].itertuples(index=False)
    for row, x0, x1 in zip(rows, tss[shown], centres[shown], strict=True):
        _arc(panel, x0, x1, float(row.score), color=colours[row.group], alpha=0.8, linewidth=1.2)
    top = float(table.loc[shown, "score"].max()) if shown.any() else 1.0
    panel.set_ylim(0, top * 1.05)
    handles = [panel.plot([], [], color=colour, label=name)[0] for name, colour in colours.items()]
    panel.legend(
        handles=handles,
        fontsize="x-small",
        frameon=False,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
    )


def _draw_links(panel, links: pd.DataFrame, genes: pd.DataFrame, coords) -> None:
    """Arcs of ``links`` (``gene``/``peak`` or ``chrom``/``start``/``end``)."""
    weights = links["weight"] if "weight" in links else pd.Series(1.0, index=links.index)
    if {"gene", "peak"} <= set(links.columns):
        known = links["gene"].isin(genes.index) & links["peak"].isin(coords.index)
        links, weights = links[known], weights[known]
        x0 = genes.loc[links["gene"], "tss"].to_numpy(dtype=float)
        peaks = coords.loc[links["peak"]]
        x1 = ((peaks["start"] + peaks["end"]) / 2).to_numpy()
    else:
        x0, x1 = links["start"].to_numpy(float), links["end"].to_numpy(float)
    for a, b, w in zip(x0, x1, weights.to_numpy(float), strict=True):
        _arc(panel, a, b, w, color="black", linewidth=1.0)
    panel.set_ylim(0, (float(weights.max()) if len(weights) else 1.0) * 1.05)


def _gene_rows(genes: pd.DataFrame, span: float) -> pd.Series:
    """Row of each gene (by TSS) such that no two bodies or names in a row overlap."""
    label = 0.07 * span  # room for a name
    ends: list[float] = []  # right end of each row's last gene
    rows = {}
    for name, row in genes.sort_values("tss").iterrows():
        tss = float(row["tss"])
        left, right = tss - label / 2, tss + label / 2
        if {"gene_start", "gene_end"} <= set(genes.columns):
            left, right = min(float(row["gene_start"]), left), max(float(row["gene_end"]), right)
        level = next((i for i, end in enumerate(ends) if end < left), len(ends))
        if level == len(ends):
            ends.append(right)
        ends[level] = right
        rows[name] = level
    return pd.Series(rows, dtype=int)


def _draw_genes(panel, genes: pd.DataFrame, rows: pd.Series, highlight, span: float) -> None:
    """Gene bodies with an arrow at the TSS (in the direction of transcription) and the name."""
    for name, level in rows.items():
        row = genes.loc[name]
        tss, y = float(row["tss"]), -float(level)
        strand = -1 if row.get("strand", "+") == "-" else 1
        if {"gene_start", "gene_end"} <= set(genes.columns):
            panel.plot([row["gene_start"], row["gene_end"]], [y, y], color="grey", linewidth=2)
        colour = "tab:red" if name == highlight else "black"
        panel.annotate(
            "",
            xy=(tss + strand * 0.02 * span, y),
            xytext=(tss, y),
            arrowprops={"arrowstyle": "-|>", "color": colour, "linewidth": 1.2},
        )
        panel.text(tss, y + 0.2, name, fontsize="x-small", ha="center", color=colour)
    panel.set_ylim(-max(rows.max() if len(rows) else 0, 0) - 0.5, 0.8)
    _name(panel, "genes")
