"""pl.differential_regulation: the volcano and the heatmap draw the stored table."""

from __future__ import annotations

import numpy as np
import pytest
from _replicates import replicate_pb

import scget


@pytest.fixture(scope="module")
def pb():
    pb = replicate_pb()
    scget.tl.differential_regulation(pb, "condition", on="gene_by_motif", n_targets=10)
    return pb


def test_the_volcano_draws_effect_against_pvalue(pb, tmp_path):
    table = scget.get.differential_regulation(pb, group="A")
    fig = scget.pl.differential_regulation(
        pb, group="A", return_fig=True, save=tmp_path / "volcano.png"
    )
    assert (tmp_path / "volcano.png").stat().st_size > 0
    ax = fig.axes[0]
    points = ax.collections[0].get_offsets()
    expected = np.column_stack([table["effect"], -np.log10(table["pvalue"])])
    order = np.lexsort(expected.T[::-1])
    drawn = np.lexsort(np.asarray(points).T[::-1])
    np.testing.assert_allclose(np.asarray(points)[drawn], expected[order], rtol=1e-6)
    called = table[table["padj"] < 0.05]
    labels = [t.get_text() for t in ax.texts]
    assert labels == called.sort_values("padj")["source"].tolist() == ["M0"]
    assert "1 up, 0 down" in ax.get_title()
    assert ax.get_xlabel() == "effect: difference of mean attribution"


def test_the_volcano_says_what_the_effect_is():
    pb = replicate_pb()
    scget.tl.differential_regulation(pb, "condition", n_targets=10)  # target_expression
    fig = scget.pl.differential_regulation(pb, group="A", return_fig=True)
    assert fig.axes[0].get_xlabel() == "effect: targets' log10 fold change beyond all genes"
    scget.tl.differential_regulation(pb, "condition", on="accessibility")
    fig = scget.pl.differential_regulation(pb, group="A", return_fig=True)
    assert fig.axes[0].get_xlabel() == "effect: difference of log2 accessibility deviation"


def test_the_heatmap_shows_the_statistic_of_each_group(pb):
    table = scget.get.differential_regulation(pb)
    fig = scget.pl.differential_regulation(pb, kind="heatmap", n_top=5, return_fig=True)
    ax = fig.axes[0]
    image = ax.images[0].get_array()
    rows = [t.get_text() for t in ax.get_yticklabels()]
    columns = [t.get_text() for t in ax.get_xticklabels()]
    assert columns == ["A", "B"] and rows[0] == "M0" and len(rows) == 5
    stat = table.pivot(index="source", columns="group", values="stat")
    np.testing.assert_allclose(np.asarray(image), stat.loc[rows, columns].to_numpy(), rtol=1e-6)
    assert [t.get_text() for t in ax.texts] == ["*"]  # M0 in A only


def test_the_volcano_needs_one_group():
    pb = replicate_pb()
    scget.tl.differential_regulation(pb, "condition", n_targets=10)
    with pytest.raises(ValueError, match="A volcano shows one group"):
        scget.pl.differential_regulation(pb)
    with pytest.raises(ValueError, match="kind must be"):
        scget.pl.differential_regulation(pb, kind="dots")
