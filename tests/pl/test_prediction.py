import matplotlib.pyplot as plt
import numpy as np
import pytest
from _evaluation_pb import make_evaluation_pb

import scget

SPLIT = {"test_chromosomes": ["chr3"], "leave_out_groups": ["D"]}
METHODS = ["GET", "TSS accessibility", "random forest"]


@pytest.fixture(scope="module")
def pb():
    pb = make_evaluation_pb()
    scget.tl.evaluate(pb, split=SPLIT, methods=METHODS)
    return pb


@pytest.mark.parametrize(("group", "method"), [("B", "GET"), ("D", "random forest")])
def test_prediction_scatter_matches_the_evaluation_table(pb, group, method, tmp_path):
    fig = scget.pl.prediction(
        pb, group=group, method=method, return_fig=True, save=tmp_path / "p.png"
    )
    ax = fig.axes[0]
    table = scget.get.result(pb, "evaluation")
    row = table[(table["group"] == group) & (table["method"] == method)].iloc[0]
    points = ax.collections[0].get_offsets()
    assert len(points) == row["n_genes"]
    assert f"r = {row['pearson']:.3f}" in ax.get_title()
    diagonal = ax.get_lines()[0]  # y = x across the points, for calibration
    assert diagonal.get_label() == "y = x"
    np.testing.assert_allclose(diagonal.get_xdata(), diagonal.get_ydata())
    assert diagonal.get_xdata()[0] <= points.min() and diagonal.get_xdata()[1] >= points.max()
    assert (tmp_path / "p.png").stat().st_size > 0
    plt.close(fig)


def test_prediction_pools_groups_with_one_colour_each(pb):
    fig, ax = plt.subplots()
    assert scget.pl.prediction(pb, setting="held-out chromosome", ax=ax) is None
    table = scget.get.result(pb, "evaluation")
    get = table[(table["method"] == "GET") & (table["setting"] == "held-out chromosome")]
    assert len(get) == 3
    assert len(ax.collections) == len(get)
    assert sum(len(c.get_offsets()) for c in ax.collections) == get["n_genes"].sum()
    observed = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections])
    predicted = np.concatenate([c.get_offsets()[:, 0] for c in ax.collections])
    assert f"r = {np.corrcoef(observed, predicted)[0, 1]:.3f}" in ax.get_title()
    plt.close(fig)


def test_prediction_errors():
    fresh = make_evaluation_pb()
    with pytest.raises(KeyError, match=r"scget\.tl\.evaluate"):
        scget.pl.prediction(fresh)
    scget.tl.evaluate(fresh, split=SPLIT, methods=["GET"])
    with pytest.raises(ValueError, match="not evaluated"):
        scget.pl.prediction(fresh, method="MLP")
    with pytest.raises(ValueError, match="no 'GET' evaluation"):
        scget.pl.prediction(fresh, group="Z")


def test_prediction_after_h5mu_round_trip(pb, tmp_path):
    import mudata as md

    pb.write_h5mu(tmp_path / "pb.h5mu")
    back = md.read_h5mu(tmp_path / "pb.h5mu")
    fig = scget.pl.prediction(back, group="D", method="TSS accessibility", return_fig=True)
    table = scget.get.result(pb, "evaluation")
    row = table[(table["group"] == "D") & (table["method"] == "TSS accessibility")].iloc[0]
    assert f"r = {row['pearson']:.3f}" in fig.axes[0].get_title()
    plt.close(fig)
