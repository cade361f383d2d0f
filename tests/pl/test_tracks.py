import numpy as np
import pandas as pd
import pytest
from conftest import GROUPS
from matplotlib.patches import Arc

import scget


def _arcs(panel):
    return [p for p in panel.patches if isinstance(p, Arc)]


def test_tracks_bars_are_the_accessibility_of_the_locus_peaks(pb):
    fig = scget.pl.tracks(pb, region="chr1:100000-160000", scores=None, return_fig=True)
    panels = fig.axes[0].child_axes
    assert len(panels) == len(GROUPS) + 2  # accessibility rows, peaks, genes
    atac = pb["atac"]
    inside = (atac.var["end"] > 100_000) & (atac.var["start"] < 160_000)
    for row, panel in enumerate(panels[: len(GROUPS)]):
        heights = [bar.get_height() for bar in panel.patches]
        np.testing.assert_allclose(heights, atac.X[row, inside.to_numpy()])
        centres = [bar.get_x() + bar.get_width() / 2 for bar in panel.patches]
        np.testing.assert_allclose(centres, atac.var.loc[inside, "start"] + 250)
        assert panel.get_ylim() == panels[0].get_ylim()  # one y scale
    genes = [t.get_text() for t in panels[-1].texts if t.get_text()]  # not the arrows
    tss = pb["rna"].var["tss"]
    assert sorted(genes) == sorted(tss.index[(tss >= 100_000) & (tss < 160_000)])


def test_tracks_arcs_are_the_gene_region_importance(pb):
    fig = scget.pl.tracks(pb, gene="G5", flank=40_000, groups=["A", "C"], return_fig=True)
    panels = fig.axes[0].child_axes
    table = scget.get.region_importance(pb, gene="G5")
    table = table[table["group"].isin(["A", "C"])]
    arcs = _arcs(panels[-1])
    assert len(arcs) == len(table)
    np.testing.assert_allclose(sorted(a.height / 2 for a in arcs), sorted(table["weight"]))
    tss = pb["rna"].var.loc["G5", "tss"]
    peaks = pb["atac"].var.loc[table["source"]]
    spans = np.abs((peaks["start"] + peaks["end"]) / 2 - tss)
    np.testing.assert_allclose(sorted(a.width for a in arcs), sorted(spans))
    colours = {tuple(a.get_edgecolor()[:3]) for a in arcs}
    assert len(colours) == 2  # one per group
    two = scget.pl.tracks(pb, gene="G5", groups=["A"], n_arcs=2, return_fig=True)
    weights = table.loc[table["group"] == "A", "weight"]
    drawn = sorted(a.height / 2 for a in _arcs(two.axes[0].child_axes[-1]))
    np.testing.assert_allclose(drawn, sorted(weights.nlargest(2)))
    # the promoter is left out: none of G5's arcs when only regions beyond 20 kb are drawn
    far = scget.pl.tracks(pb, gene="G5", groups=["A"], min_distance=20_000, return_fig=True)
    near = spans[table["group"].to_numpy() == "A"]
    assert len(_arcs(far.axes[0].child_axes[-1])) == (near >= 20_000).sum() > 0


def test_tracks_enhancer_gene_column_and_links(pb):
    links = pd.DataFrame(
        {"gene": ["G6", "G6"], "peak": ["chr1:175000-175500", "chr1:180000-180500"]}
    )
    links["weight"] = [0.5, 2.0]
    fig = scget.pl.tracks(
        pb, gene="G6", scores="enhancer_gene", method="ABC", links=links, return_fig=True
    )
    panels = fig.axes[0].child_axes
    scores, drawn = panels[-2], panels[-1]
    expected = scget.get.enhancer_gene(pb, gene="G6")["ABC"]
    np.testing.assert_allclose(sorted(a.height / 2 for a in _arcs(scores)), sorted(expected))
    assert sorted(a.height / 2 for a in _arcs(drawn)) == [0.5, 2.0]
    with pytest.raises(ValueError, match="method 'nope'"):
        scget.pl.tracks(pb, gene="G6", scores="enhancer_gene", method="nope")


def test_tracks_errors(pb):
    with pytest.raises(ValueError, match="gene= or region="):
        scget.pl.tracks(pb)
    with pytest.raises(KeyError, match="nope"):
        scget.pl.tracks(pb, gene="nope")
    with pytest.raises(KeyError, match="elsewhere"):
        scget.pl.tracks(pb, gene="G5", key="elsewhere")  # a run named explicitly must exist


def test_tracks_without_a_stored_default_run_draws_no_scores_and_says_so(pb, caplog):
    pb = pb.copy()
    del pb.uns["scget"]["region_importance"]
    with caplog.at_level("WARNING", logger="scget"):
        fig = scget.pl.tracks(pb, gene="G5", return_fig=True)
    assert len(fig.axes[0].child_axes) == len(GROUPS) + 2  # accessibility, peaks, genes
    assert "scget.tl.region_importance(pb, model)" in caplog.text


def test_tracks_take_one_group_as_a_string(pb):
    one = GROUPS[0]
    fig = scget.pl.tracks(pb, gene="G5", groups=one, scores=None, return_fig=True)
    assert len(fig.axes[0].child_axes) == 1 + 2
