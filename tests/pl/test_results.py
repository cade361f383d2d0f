"""Plots of the regulatory embedding, perturbation and evaluation."""

import numpy as np
import pandas as pd
import pytest
from _evaluation_pb import make_evaluation_pb
from conftest import GROUPS
from matplotlib.collections import PathCollection
from matplotlib.patches import Rectangle

import scget


def _bars(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle)]  # not adjustText's arrows


def test_regulatory_embedding_one_dot_per_group_gene_coloured_by_group(pb):
    fig = scget.pl.regulatory_embedding(pb, n_neighbors=10, return_fig=True)
    ax = fig.axes[0]
    adata = scget.get.regulatory_embedding(pb)
    dots = ax.collections[0]
    assert len(dots.get_offsets()) == adata.n_obs == 3 * 30
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == GROUPS


def test_regulatory_embedding_coloured_by_a_motif_importance(pb):
    fig = scget.pl.regulatory_embedding(pb, color="M1", n_neighbors=10, return_fig=True)
    ax = fig.axes[0]
    adata = scget.get.regulatory_embedding(pb)
    table = scget.get.gene_by_motif(pb)
    pairs = list(zip(adata.obs["group"].astype(str), adata.obs["gene"], strict=True))
    np.testing.assert_allclose(
        ax.collections[0].get_array(), table["M1"].reindex(pairs).to_numpy(), rtol=1e-6
    )
    assert ax.get_title() == "M1 importance"
    with pytest.raises(KeyError, match="neither an obs column"):
        scget.pl.regulatory_embedding(pb, color="nope")


def test_perturbation_bars_are_the_ranked_change(pb):
    fig = scget.pl.perturbation(pb, "knockout_motifs", group="B", n_top=3, return_fig=True)
    ax = fig.axes[0]
    change = scget.get.perturbation(pb, "knockout_motifs").loc["B"].dropna()
    heights = [bar.get_height() for bar in _bars(ax)]
    np.testing.assert_allclose(heights, change.sort_values(ascending=False), rtol=1e-6)
    named = {t.get_text() for t in ax.texts}
    assert named == set(change.abs().nlargest(3).index)
    ranked = change.sort_values(ascending=False)
    for label in ax.texts:  # each label points at its gene's bar
        assert label.xy == pytest.approx(
            (ranked.index.get_loc(label.get_text()), ranked[label.get_text()])
        )


def test_perturbation_mean_over_groups_and_measured_scatter(pb):
    change = scget.get.perturbation(pb, "knockout_motifs").mean(axis=0).dropna()
    measured = pd.Series(np.arange(10.0), index=change.index[:10])
    fig = scget.pl.perturbation(pb, "knockout_motifs", measured=measured, return_fig=True)
    bars, scatter = fig.axes[0].child_axes
    np.testing.assert_allclose(
        sorted(bar.get_height() for bar in _bars(bars)), sorted(change), rtol=1e-5
    )
    points = scatter.collections[0].get_offsets()
    order = np.argsort(points[:, 0])
    np.testing.assert_allclose(points[order, 0], measured)
    np.testing.assert_allclose(points[order, 1], change[:10], rtol=1e-5)
    r = np.corrcoef(measured, change[:10])[0, 1]
    assert f"r = {r:.3f}" in scatter.get_title()
    assert "mean of 3 groups" in bars.get_title()
    with pytest.raises(ValueError, match="shares 0 gene"):
        scget.pl.perturbation(pb, "knockout_motifs", measured=pd.Series({"x": 1.0}))
    with pytest.raises(KeyError, match="group 'Z'"):
        scget.pl.perturbation(pb, "knockout_motifs", group="Z")


def test_evaluation_bars_are_mean_pearson_per_setting_and_method(pb):
    fig = scget.pl.evaluation(pb, reference=True, return_fig=True)
    ax = fig.axes[0]
    table = scget.get.evaluation(pb)
    means = table.groupby(["method", "setting"])["pearson"].mean()
    heights = [bar.get_height() for bar in _bars(ax)]
    expected = [
        means[(m, s)]
        for m in ("GET", "TSS accessibility")
        for s in ("held-out group", "held-out chromosome")
    ]
    np.testing.assert_allclose(heights, expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["held-out group", "held-out chromosome"]
    marks = next(c for c in ax.collections if isinstance(c, PathCollection)).get_offsets()
    # GET's reference: 0.94 and 0.78
    np.testing.assert_allclose(marks[:, 1], [0.94, 0.78])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Fu et al. 2025" in legend


def test_evaluation_bars_of_the_centred_score():
    pb = make_evaluation_pb()
    methods = ["GET", "mean training expression", "mean + TSS accessibility change"]
    split = {"test_chromosomes": ["chr3"], "leave_out_groups": ["D"]}
    scget.tl.evaluate(pb, split=split, methods=methods)
    ax = scget.pl.evaluation(pb, metric="centred_r", return_fig=True).axes[0]
    table = scget.get.evaluation(pb)
    means = table.groupby(["method", "setting"])["centred_r"].mean()
    settings = ["held-out group", "held-out chromosome", "held-out both"]
    # the mean training expression has no deviation of its own: no bar, no legend entry
    drawn = ["GET", "mean + TSS accessibility change"]
    expected = [means.get((m, s), np.nan) for m in drawn for s in settings]
    np.testing.assert_allclose([bar.get_height() for bar in _bars(ax)], expected)
    assert np.isfinite(expected).sum() == 5  # the baseline: not on held-out chromosomes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == drawn
    assert ax.get_ylabel().startswith("mean centred r")
    with pytest.raises(ValueError, match="metric must be one of"):
        scget.pl.evaluation(pb, metric="slope")
    with pytest.raises(ValueError, match="use metric='pearson'"):
        scget.pl.evaluation(pb, metric="centred_r", reference=True)


def test_evaluation_of_a_table_without_the_metric_is_a_clear_error(pb):
    with pytest.raises(KeyError, match=r"run scget\.tl\.evaluate again"):
        scget.pl.evaluation(pb, metric="centred_r")
