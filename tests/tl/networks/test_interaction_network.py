"""motif_network(method="interaction"): against a forward loop, by hand, stored, refused."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import mudata as md
import numpy as np
import pandas as pd
import pytest
import torch

import scget
from scget.tl._networks._interaction_network import _edges
from scget.tl._networks._motif_network import motif_network

sys.path.insert(0, str(Path(__file__).parents[1] / "interpret"))
from test_interpret import _windows
from test_knockout_attribution import _output

GENES = [f"G{i}" for i in range(12)]


def _zeroed(x: torch.Tensor, *features: int) -> torch.Tensor:
    x = x.clone()
    for feature in features:
        x[:, feature] = 0
    return x


def test_interaction_weights_equal_a_forward_loop(pb, trained):
    groups, k = ["A", "C"], 3
    scget.tl.gene_by_motif(pb, trained, genes=GENES, groups=groups, device="cpu")
    table = motif_network(
        pb, trained, method="interaction", top_motifs=k, n_bootstraps=0, device="cpu", batch_size=5
    )
    attributions = scget.get.gene_by_motif(pb).drop(columns="accessibility")
    _, windows, dataset = _windows(pb, trained)
    network = trained.network.eval()
    names = pb["rna"].var_names[windows["gene"]]
    features = list(attributions.columns)
    for group in groups:
        total, n_windows = {}, 0
        for number in np.flatnonzero((pb.obs_names[windows["group"]] == group) & names.isin(GENES)):
            row, item = windows.loc[number], dataset[int(number)]
            values = attributions.loc[(group, names[number])].to_numpy()
            top = np.argsort(-np.abs(values), kind="stable")[:k]

            def output(*removed, item=item, row=row):
                return _output(network, item, _zeroed(item["x"], *removed), row)

            for a, b in itertools.combinations(top, 2):
                interaction = output() - output(a) - output(b) + output(a, b)
                pair = tuple(sorted((a, b)))
                total[pair] = total.get(pair, 0.0) + interaction
            n_windows += 1
        expected = {
            (features[a], features[b]): value / n_windows for (a, b), value in total.items()
        }
        edges = table[table["group"] == group]
        got = dict(
            zip(zip(edges["source"], edges["target"], strict=True), edges["weight"], strict=True)
        )
        assert set(got) == set(expected)
        np.testing.assert_allclose(
            [got[pair] for pair in expected], list(expected.values()), rtol=1e-3, atol=1e-7
        )
    assert np.abs(table["weight"]).max() > 0  # the model's motifs do interact


def test_edges_merge_both_orders_average_over_windows_and_filter():
    names = pd.Index(["M0", "M1", "M2", "accessibility"])
    interactions = np.array([[0.3, -0.1, 0.2], [0.1, 0.4, 0.05]])
    first = np.array([[0, 0, 1], [2, 2, 1]])  # window 2 lists (M2, M1) for (M1, M2)
    second = np.array([[1, 2, 2], [1, 0, 0]])
    table = _edges(interactions, first, second, names, n_bootstraps=0, min_weight=0.0, seed=0)
    weights = dict(
        zip(zip(table["source"], table["target"], strict=True), table["weight"], strict=True)
    )
    assert weights == pytest.approx(
        {("M0", "M1"): (0.3 + 0.05) / 2, ("M0", "M2"): (-0.1 + 0.4) / 2, ("M1", "M2"): 0.15}
    )
    assert table["frequency"].isna().all()
    kept = _edges(interactions, first, second, names, n_bootstraps=20, min_weight=0.16, seed=0)
    assert list(zip(kept["source"], kept["target"], strict=True)) == [("M0", "M1")]
    assert kept["frequency"].between(0, 1).all()


def test_interaction_network_survives_h5mu_and_is_undirected(pb, trained, tmp_path):
    scget.tl.gene_by_motif(pb, trained, genes=GENES[:6], groups=["B"], device="cpu")
    table = motif_network(pb, trained, top_motifs=2, device="cpu")  # a model: interaction
    path = tmp_path / "pb.h5mu"
    pb.write_h5mu(path)
    back = md.read_h5mu(path)
    pd.testing.assert_frame_equal(scget.get.motif_network(back), table)
    params = scget.get.params(back, "motif_network")
    assert params["method"] == "interaction" and params["top_motifs"] == 2
    assert params["n_models"] == 1 and params["min_weight"] == 0.0
    assert not scget.get.motif_network(back, group="B", graph=True).is_directed()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"method": "interaction"}, r"knocks motifs out through the model: pass the model"),
        ({"method": "spearman", "model": "MODEL"}, r'read by method="interaction" only'),
        ({"method": "interaction", "model": "MODEL", "agnostic": True}, "runs per group"),
        ({"method": "interaction", "model": "MODEL", "top_motifs": 1}, "top_motifs must be"),
    ],
)
def test_a_method_its_arguments_do_not_fit_is_refused(pb, trained, options, message):
    options = {**options, "model": trained} if options.get("model") == "MODEL" else options
    with pytest.raises(ValueError, match=message):
        motif_network(pb, **options)


def test_an_ensemble_averages_its_models_interactions(pb, trained):
    scget.tl.gene_by_motif(pb, trained, genes=GENES[:5], groups=["D"], device="cpu")
    single = motif_network(pb, trained, top_motifs=3, n_bootstraps=0, device="cpu")
    twice = motif_network(pb, [trained, trained], top_motifs=3, n_bootstraps=0, device="cpu")
    np.testing.assert_allclose(twice["weight"], single["weight"], rtol=1e-6)
    assert scget.get.params(pb, "motif_network")["n_models"] == 2
