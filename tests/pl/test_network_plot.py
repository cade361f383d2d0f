import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import FancyArrowPatch

import scget
from scget._shared.storage import write_result


@pytest.fixture
def networked(pb):
    scget.tl.motif_network(pb, method="spearman", n_bootstraps=2)
    return pb


def _edges(ax):
    return [p for p in ax.patches if isinstance(p, FancyArrowPatch)]


def test_motif_network_draws_the_filtered_edges_coloured_by_sign(networked):
    fig = scget.pl.motif_network(networked, group="A", top=5, return_fig=True)
    ax = fig.axes[0]
    table = scget.get.motif_network(networked, group="A")
    top = table.loc[table["weight"].abs().nlargest(5).index]
    edges = _edges(ax)
    assert len(edges) == 5
    widths = sorted(e.get_linewidth() for e in edges)
    expected = 0.3 + 2.2 * np.abs(top["weight"]) / np.abs(top["weight"]).max()
    np.testing.assert_allclose(widths, sorted(expected), rtol=1e-6)
    # red (positive) against blue (negative) in RdBu_r
    reds = sum(e.get_edgecolor()[0] > e.get_edgecolor()[2] for e in edges)
    assert reds == (top["weight"] > 0).sum()
    nodes = ax.collections[0]
    assert len(nodes.get_offsets()) == len(set(top["source"]) | set(top["target"]))
    assert len(fig.axes) == 2  # the colour bar
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "TF log10(TPM + 1)"  # node sizes explained
    assert len(legend.legend_handles) >= 2


def test_motif_network_node_size_is_tf_expression(networked):
    fig = scget.pl.motif_network(networked, group="A", return_fig=True)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.texts]
    sizes = dict(zip(labels, ax.collections[0].get_sizes(), strict=True))
    rna = networked["rna"]
    level = dict(zip(rna.var_names, rna.X[0], strict=True))
    # M0: TFA; M3: ZZZ is not measured (smallest size); M4: TFA or TFF
    assert sizes["M3"] == min(sizes.values())
    assert (sizes["M4"] >= sizes["M0"]) == (max(level["TFA"], level["TFF"]) >= level["TFA"])
    positions = ax.collections[0].get_offsets()
    again = scget.pl.motif_network(networked, group="A", return_fig=True)
    np.testing.assert_allclose(again.axes[0].collections[0].get_offsets(), positions)


def test_motif_network_neighbourhood_and_errors(networked):
    fig = scget.pl.motif_network(
        networked, group="B", neighbourhood="both", motif="M2", layout="circular", return_fig=True
    )
    table = scget.get.motif_network(networked, group="B")
    touching = ((table["source"] == "M2") | (table["target"] == "M2")).sum()
    assert len(_edges(fig.axes[0])) == touching
    with pytest.raises(ValueError, match="needs motif"):
        scget.pl.motif_network(networked, group="A", neighbourhood="parents")
    with pytest.raises(ValueError, match="No edge"):
        scget.pl.motif_network(networked, group="A", min_weight=2.0)
    del networked.uns["scget"]["motif_network"]
    with pytest.raises(KeyError, match=r"scget\.tl\.motif_network"):
        scget.pl.motif_network(networked, group="A")


@pytest.mark.parametrize(
    ("neighbourhood", "expected"),
    [("parents", {("M0", "M1"), ("M2", "M1")}), ("children", {("M1", "M3")})],
)
def test_motif_network_directed_parents_and_children(pb, neighbourhood, expected):
    table = pd.DataFrame(
        {
            "group": "A",
            "source": ["M0", "M2", "M1", "M4"],
            "target": ["M1", "M1", "M3", "M5"],
            "weight": [0.5, -0.3, 0.4, 0.9],
            "frequency": 1.0,
        }
    )
    params = {"method": "lingam", "groups": ["A"], "key": "gene_by_motif"}
    write_result(pb, "motif_network", table, params)
    fig = scget.pl.motif_network(
        pb, group="A", neighbourhood=neighbourhood, motif="M1", return_fig=True
    )
    ax = fig.axes[0]
    edges = _edges(ax)
    assert len(edges) == len(expected)
    assert all(e.get_arrowstyle().__class__.__name__ == "CurveFilledB" for e in edges)
    assert "LiNGAM" in ax.get_title()
    nodes = {t.get_text() for t in ax.texts}
    assert nodes == {n for edge in expected for n in edge}


def test_motif_network_title_names_the_method(networked):
    from scget.pl._motif_network import _KIND
    from scget.tl._networks._motif_network import METHODS

    assert set(_KIND) == set(METHODS)
    fig = scget.pl.motif_network(networked, group="A", return_fig=True)
    assert fig.axes[0].get_title().endswith("edges (Spearman)")
