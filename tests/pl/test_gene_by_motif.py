import numpy as np
import pandas as pd
import pytest
from conftest import GROUPS, MOTIFS

import scget
from scget.motifs import MotifCollection


def test_gene_by_motif_heatmap_holds_the_group_means(pb):
    fig = scget.pl.gene_by_motif(pb, n_top=4, return_fig=True)
    ax = fig.axes[0]
    image = ax.images[0].get_array()
    rows = [t.get_text() for t in ax.get_yticklabels()]
    columns = [t.get_text() for t in ax.get_xticklabels()]
    table = scget.get.gene_by_motif(pb).drop(columns="accessibility")
    means = table.groupby(level="group").mean().T
    assert sorted(columns) == GROUPS
    assert set(rows) == set(means.abs().mean(axis=1).nlargest(4).index)
    np.testing.assert_allclose(image, means.loc[rows, columns].to_numpy(), rtol=1e-5)
    limit = np.abs(image).max()
    assert ax.images[0].get_clim() == pytest.approx((-limit, limit))
    assert len(fig.axes) == 2  # the colour bar


def test_gene_by_motif_genes_as_columns_averaged_over_groups(pb):
    fig = scget.pl.gene_by_motif(pb, genes=["G1", "G2", "G3"], groups=["A", "B"], return_fig=True)
    ax = fig.axes[0]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    columns = [t.get_text() for t in ax.get_xticklabels()]
    assert sorted(columns) == ["G1", "G2", "G3"] and sorted(rows) == MOTIFS
    table = scget.get.gene_by_motif(pb)
    expected = (table.loc["A"] + table.loc["B"]) / 2
    np.testing.assert_allclose(
        ax.images[0].get_array(), expected.loc[columns, rows].T.to_numpy(), rtol=1e-5
    )
    with pytest.raises(ValueError, match="nope"):
        scget.pl.gene_by_motif(pb, genes=["nope"])


def test_motif_importance_bars_are_the_top_signed_motifs_with_expressed_tfs(pb, scget_log):
    fig = scget.pl.motif_importance(pb, "G3", group="A", n_top=4, return_fig=True)
    ax = fig.axes[0]
    scores = scget.get.gene_by_motif(pb, group="A").loc["G3", MOTIFS]
    top = scores.loc[scores.abs().nlargest(4).index][::-1]
    heights = [bar.get_width() for bar in ax.patches]
    np.testing.assert_allclose(heights, top.to_numpy(), rtol=1e-6)
    labels = {t.get_text().split(" ")[0]: t.get_text() for t in ax.get_yticklabels()}
    assert list(labels) == list(top.index)
    expression = pd.Series(pb["rna"].X[0], index=pb["rna"].var_names)
    expected = {
        "M0": ["TFA"],
        "M1": ["TFC"] if expression["TFC"] >= np.log10(2) else [],  # TFB is off in A
        "M2": [tf for tf in ("TFD", "TFE") if expression[tf] >= np.log10(2)],
        "M3": [],  # ZZZ is not measured
    }
    for motif, tfs in expected.items():
        if motif in labels:
            for tf in tfs:
                assert tf in labels[motif]
            assert "TFB" not in labels[motif]
    assert "no logos" in scget_log.text


def test_motif_importance_draws_a_logo_per_bar_from_a_collection(pb):
    matrices = {f"MA000{i}.1": np.eye(4)[[i % 4, (i + 1) % 4, 2]] for i in range(6)}
    collection = MotifCollection(matrices)
    fig = scget.pl.motif_importance(
        pb, "G3", group="B", n_top=3, motifs=collection, return_fig=True
    )
    bars, logos = fig.axes[0].child_axes
    assert len(bars.patches) == 3
    panels = logos.child_axes
    assert len(panels) == 3
    # one letter per position, each of full information (2 bits) for a one-hot matrix
    assert all(len(panel.patches) >= 3 for panel in panels)


def test_motif_importance_errors(pb):
    with pytest.raises(KeyError, match="nope"):
        scget.pl.motif_importance(pb, "nope", group="A")
    with pytest.raises(ValueError, match="group 'Z'"):
        scget.pl.motif_importance(pb, "G1", group="Z")
    motifs = pb.uns["scget"].pop("motifs")
    with pytest.raises(KeyError, match=r"scget\.pp\.scan_motifs"):
        scget.pl.motif_importance(pb, "G1", group="A")
    pb.uns["scget"]["motifs"] = motifs
    del pb.uns["scget"]["gene_by_motif"]
    with pytest.raises(KeyError, match=r"scget\.tl\.gene_by_motif"):
        scget.pl.gene_by_motif(pb)


def test_gene_by_motif_center_subtracts_each_motif_mean(pb):
    fig = scget.pl.gene_by_motif(pb, n_top=3, center=True, return_fig=True)
    ax = fig.axes[0]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    columns = [t.get_text() for t in ax.get_xticklabels()]
    means = scget.get.gene_by_motif(pb).groupby(level="group").mean().T.loc[rows, columns]
    expected = means.sub(means.mean(axis=1), axis=0)
    np.testing.assert_allclose(ax.images[0].get_array(), expected.to_numpy(), atol=1e-6)
    assert "motif mean" in fig.axes[1].get_ylabel()


def test_gene_by_motif_takes_one_group_as_a_string(pb):
    one = GROUPS[0]
    as_string = scget.pl.gene_by_motif(pb, groups=one, return_fig=True)
    as_list = scget.pl.gene_by_motif(pb, groups=[one], return_fig=True)
    assert as_string.axes[0].get_xticklabels()[0].get_text() == one
    assert [t.get_text() for t in as_string.axes[0].get_yticklabels()] == [
        t.get_text() for t in as_list.axes[0].get_yticklabels()
    ]


def test_a_reader_of_one_group_takes_a_list_of_one_and_refuses_more(pb):
    one = GROUPS[0]
    expected = scget.get.gene_by_motif(pb, group=one)
    pd.testing.assert_frame_equal(scget.get.gene_by_motif(pb, group=[one]), expected)
    with pytest.raises(ValueError, match="group takes exactly one name, got 2"):
        scget.get.gene_by_motif(pb, group=GROUPS[:2])


def test_gene_by_motif_heatmap_of_small_values_puts_their_scale_in_the_label(pb):
    small = pb.copy()
    for group in GROUPS:
        slot = f"gene_by_motif:{group}"
        small["rna"].varm[slot] = small["rna"].varm[slot] * 1e-6
    fig = scget.pl.gene_by_motif(small, n_top=4, return_fig=True)
    image = fig.axes[0].images[0].get_array()
    means = scget.get.gene_by_motif(small).drop(columns="accessibility").groupby("group").mean()
    power = int(np.floor(np.log10(means.abs().to_numpy().max())))
    assert power in (-7, -6)
    np.testing.assert_allclose(np.abs(image).max(), means.abs().to_numpy().max() / 10.0**power)
    label = fig.axes[1].get_ylabel()
    assert label.startswith("motif importance") and label.endswith(f" (x 1e{power})")
    assert not fig.axes[1].yaxis.get_offset_text().get_text()  # no offset over the bar
