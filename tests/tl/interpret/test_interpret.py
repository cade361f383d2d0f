"""gene_by_motif, region_importance and embed_regulatory: exactness, storage, errors."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import mudata as md
import numpy as np
import pandas as pd
import pytest
import torch
from _engine_contract import assert_same_across_layouts, outputs_at
from _ports import free_port
from _written import written_slots
from torch import nn

import scget
from scget.tl._core._engine import promoter_windows
from scget.tl._core._prior import model_inputs
from scget.tl._core._promoters import promoters
from scget.tl._core._windows import (
    WindowDataset,
    motif_feature_names,
    region_context,
)
from scget.tl._interpret._region_importance import importance, importance_table

WINDOW = 16
HIDDEN = 5


class _Double(nn.Module):
    def forward(self, tokens, mask=None):
        return 2 * tokens


class Quadratic(nn.Module):
    """out[i, s] = sum_j M[i, j] (e_j . u_s)^2 / 2 with e = x W: Jacobians in closed form."""

    def __init__(self, n_features: int, seed: int = 0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.config = SimpleNamespace(
            n_features=n_features,
            hidden_dim=HIDDEN,
            n_layers=1,
            tss_input=False,
            distance_bias=False,
            expression_prior=False,
        )
        self.W = rng.normal(size=(n_features, HIDDEN))
        self.M = rng.normal(size=(WINDOW, WINDOW))
        self.U = rng.normal(size=(2, HIDDEN))
        self.region_embedding = nn.Linear(n_features, HIDDEN, bias=False)
        self.region_embedding.weight.data = torch.tensor(self.W.T, dtype=torch.float32)
        self.blocks = nn.ModuleList([_Double()])
        self.u = torch.tensor(self.U, dtype=torch.float32)
        self.m = torch.tensor(self.M, dtype=torch.float32)

    def forward(self, x, *, padding_mask=None, tss=None, positions=None, at=None):
        embedding = self.region_embedding(x)
        projected = self.blocks[0](embedding) @ self.u.T / 2  # e . u_s
        expression = torch.einsum("ij,bjs->bis", self.m, projected**2) / 2
        return SimpleNamespace(expression=outputs_at(expression, at), region_embedding=embedding)


def _model(pb, *, binary: bool = False):
    features = motif_feature_names(pb)
    network = Quadratic(len(features))
    params = {"window_size": WINDOW, "binary": binary}
    return scget.tl.GETModel(network, feature_names=features, params=params)


def _windows(pb, model):
    """The promoter windows as interpretation reads them (an expression prior hidden)."""
    inputs = model_inputs(pb, model, prior=False)
    table = promoter_windows(
        inputs,
        pb["rna"].var,
        pb["atac"].var_names,
        accessibility=np.asarray(pb["atac"].X),
        window_size=model.window_size,
    )
    windows = table[["group", "start", "length"]].to_numpy()
    return inputs, table, WindowDataset(inputs, windows, model.window_size)


def _two_tss_peaks(pb):
    """Give gene G0 a second TSS peak (G1's), so that its results average two windows."""
    var = pb["rna"].var
    var.loc["G0", "tss_peaks"] = var.loc["G0", "tss_peaks"] + ";" + var.loc["G1", "tss_peaks"]
    return pb


def _per_gene(table, values):
    frame = pd.DataFrame({"group": table["group"], "gene": table["gene"]})
    return pd.concat([frame, pd.DataFrame(np.stack(values))], axis=1).groupby(["group", "gene"])


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("quantitative", [True, False])
def test_jacobian_results_equal_the_closed_form(pb, binary, quantitative):
    pb = _two_tss_peaks(pb)
    model = _model(pb, binary=binary)
    net = model.network
    scget.tl.gene_by_motif(
        pb, model, device="cpu", batch_size=5, quantitative=quantitative, with_regions=True
    )
    inputs, table, dataset = _windows(pb, model)
    assert (table["gene"] == 0).sum() > pb.n_obs  # G0 is read in two windows in a group
    score = np.asarray(pb["atac"].X)
    motifs, norms = [], []
    for row, item in zip(table.itertuples(), dataset, strict=True):
        x = item["x"].numpy().astype(np.float64)
        u = net.U[row.strand]
        projected = x @ net.W @ u
        weight = net.M[row.offset] * projected  # d out / d (e_j . u)
        multiplier = x.copy()
        if binary and quantitative:
            peaks = inputs.groups[row.group].peaks[row.start : row.start + row.length]
            multiplier[: row.length, -1] = score[row.group, peaks]
        motifs.append((weight[:, None] * (net.W @ u)[None] * multiplier).sum(0) / row.length)
        norms.append(np.abs(weight) * np.linalg.norm(u))
    expected = _per_gene(table, motifs).mean()
    for (group, gene), values in expected.iterrows():
        name = pb.obs_names[group]
        stored = scget.get.gene_by_motif(pb, group=name).loc[pb["rna"].var_names[gene]]
        np.testing.assert_allclose(stored.to_numpy(), values.to_numpy(), rtol=1e-4, atol=1e-7)
    importance = scget.get.region_importance(pb)
    single = table.groupby(["group", "gene"])["peak"].transform("size").to_numpy() == 1
    first = int(np.flatnonzero(single & (table["group"] == 0).to_numpy())[0])
    one = table.iloc[first]  # a single-window gene: importance = norm / max over the window
    gene = pb["rna"].var_names[one["gene"]]
    rows = importance[(importance["target"] == gene) & (importance["group"] == pb.obs_names[0])]
    norm = norms[first][: one["length"]]
    np.testing.assert_allclose(rows["weight"], norm / norm.max(), rtol=1e-4, atol=1e-6)
    peaks = inputs.groups[0].peaks[one["start"] : one["start"] + one["length"]]
    assert list(rows["source"]) == list(pb["atac"].var_names[peaks])
    midpoints = (pb["atac"].var["start"] + pb["atac"].var["end"]).to_numpy()[peaks] // 2
    sign = -1 if pb["rna"].var["strand"].iloc[one["gene"]] == "-" else 1
    tss = pb["rna"].var["tss"].iloc[one["gene"]]
    np.testing.assert_array_equal(rows["distance"], sign * (midpoints - tss))
    np.testing.assert_allclose(rows["accessibility"], score[0, peaks])


def test_embedding_is_the_promoter_state_after_the_block(pb):
    pb = _two_tss_peaks(pb)
    model = _model(pb)
    embedding = scget.tl.embed_regulatory(pb, model, device="cpu", batch_size=7)
    _, table, dataset = _windows(pb, model)
    net = model.network
    states, outputs = [], []
    for row, item in zip(table.itertuples(), dataset, strict=True):
        x = item["x"].numpy().astype(np.float64)
        embedded = x @ net.W
        states.append(2 * embedded[row.offset])
        projected = embedded @ net.U[row.strand]
        outputs.append([(net.M[row.offset] * projected**2).sum() / 2])
    expected = _per_gene(table, states).mean()
    predicted = _per_gene(table, outputs).mean()
    assert embedding.n_obs == len(expected)
    names = [f"{pb.obs_names[g]}:{pb['rna'].var_names[n]}" for g, n in expected.index]
    np.testing.assert_allclose(embedding[names].X, expected.to_numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        embedding[names].obs["predicted"], predicted[0].to_numpy(), rtol=1e-4, atol=1e-6
    )
    observed = [pb["rna"].X[g, n] for g, n in expected.index]
    np.testing.assert_allclose(embedding[names].obs["observed"], observed)


def test_gene_by_motif_equals_a_per_gene_autograd_loop(pb, trained):
    groups, genes = ["A", "D"], list(pb["rna"].var_names[:12])
    scget.tl.gene_by_motif(pb, trained, genes=genes, groups=groups, device="cpu", batch_size=8)
    stored = scget.get.gene_by_motif(pb)
    _, table, dataset = _windows(pb, trained)
    network = trained.network.eval()
    checked = 0
    for group in groups:
        number = list(pb.obs_names).index(group)
        for gene in genes:
            rows = np.flatnonzero(
                (table["group"] == number) & (pb["rna"].var_names[table["gene"]] == gene)
            )
            if len(rows) == 0:
                assert (group, gene) not in stored.index
                continue
            values = []
            for row in rows:
                item = dataset[int(row)]
                x = item["x"][None].clone().requires_grad_(True)
                context = {k: v[None] for k, v in region_context(item).items()}
                out = network(x, **context).expression
                out[0, table["offset"][row], table["strand"][row]].backward()
                length = table["length"][row]
                values.append(((x.grad * x)[0].sum(0) / length).detach().numpy())
            expected = np.mean(values, axis=0)
            got = stored.loc[(group, gene)].to_numpy()
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
            checked += 1
    assert checked >= 10


def test_embed_regulatory_copy_returns_the_copy_and_leaves_pb_untouched(pb, trained):
    before = written_slots(pb)
    copied = scget.tl.embed_regulatory(pb, trained, groups="A", copy=True, device="cpu")
    assert isinstance(copied, md.MuData) and copied is not pb
    assert written_slots(pb) == before
    embedding = scget.get.regulatory_embedding(copied)
    assert set(embedding.obs["group"]) == {"A"}  # one group, given as a string


def test_results_survive_h5mu_and_reruns_replace(pb, trained, tmp_path):
    scget.tl.gene_by_motif(pb, trained, groups=["A", "B"], device="cpu", with_regions=True)
    scget.tl.embed_regulatory(pb, trained, layer=0, groups=["A", "C"], device="cpu")
    pb.write_h5mu(tmp_path / "pb.h5mu")
    back = md.read_h5mu(tmp_path / "pb.h5mu")
    pd.testing.assert_frame_equal(scget.get.gene_by_motif(back), scget.get.gene_by_motif(pb))
    pd.testing.assert_frame_equal(
        scget.get.region_importance(back), scget.get.region_importance(pb)
    )
    before, after = scget.get.regulatory_embedding(pb), scget.get.regulatory_embedding(back)
    np.testing.assert_array_equal(after.X, before.X)
    pd.testing.assert_frame_equal(after.obs, before.obs)
    assert scget.get.params(back, "regulatory_embedding")["layer"] == 0

    genes = list(pb["rna"].var_names[:5])
    scget.tl.gene_by_motif(back, trained, groups=["C"], genes=genes, device="cpu")
    scget.tl.region_importance(back, trained, groups=["C"], genes=genes, device="cpu")
    scget.tl.embed_regulatory(back, trained, groups=["D"], device="cpu")
    varm = set(back["rna"].varm)
    assert {k for k in varm if k.startswith("gene_by_motif")} == {"gene_by_motif:C"}
    assert {k for k in varm if k.startswith("regulatory")} == {"regulatory_embedding:D"}
    motifs = scget.get.gene_by_motif(back)
    assert set(motifs.index.get_level_values("group")) == {"C"}
    assert set(motifs.index.get_level_values("gene")) <= set(genes)
    table = scget.get.region_importance(back, group="C")
    assert len(table) == len(scget.get.region_importance(back))
    assert set(table["target"]) <= set(genes)
    assert table.groupby("target", observed=True)["weight"].max().eq(1).all()
    assert set(scget.get.regulatory_embedding(back).obs["group"]) == {"D"}
    with pytest.raises(ValueError, match="not in result"):
        scget.get.gene_by_motif(back, group="A")


def test_with_regions_equals_region_importance(pb, trained):
    scget.tl.gene_by_motif(pb, trained, groups=["B"], device="cpu", with_regions=True)
    together = scget.get.region_importance(pb)
    scget.tl.region_importance(pb, trained, groups=["B"], device="cpu", batch_size=5)
    pd.testing.assert_frame_equal(together, scget.get.region_importance(pb), rtol=1e-5)


@pytest.mark.parametrize(
    "function", [scget.tl.gene_by_motif, scget.tl.region_importance, scget.tl.embed_regulatory]
)
def test_bad_input_is_rejected_before_any_work(pb, trained, function):
    with pytest.raises(KeyError, match="Unknown genes"):
        function(pb, trained, genes=["G0", "nope"], device="cpu")
    with pytest.raises(KeyError, match="Unknown groups"):
        function(pb, trained, groups=["Z"], device="cpu")
    renamed = pb.copy()
    scores = renamed["atac"].varm["motif_scores"]
    renamed["atac"].varm["motif_scores"] = scores.rename(columns={"M0": "other"})
    with pytest.raises(ValueError, match="motif features"):
        function(renamed, trained, device="cpu")
    assert "scget" not in pb.uns or not pb.uns["scget"]


def test_embedding_layer_out_of_range(pb, trained):
    with pytest.raises(IndexError, match="out of range"):
        scget.tl.embed_regulatory(pb, trained, layer=trained.config.n_layers, device="cpu")


def test_embedding_is_ready_for_scanpy(pb, trained):
    sc = pytest.importorskip("scanpy")
    embedding = scget.tl.embed_regulatory(pb, trained, device="cpu")
    sc.pp.neighbors(embedding, use_rep="X", n_neighbors=10)
    sc.tl.umap(embedding)
    assert embedding.obsm["X_umap"].shape == (embedding.n_obs, 2)


def test_sharded_over_ranks_equals_one_process(pb, trained, tmp_path):
    import torch.multiprocessing as mp
    from _interpret_worker import sharded_gene_by_motif

    port = free_port()
    trained.save(tmp_path / "model")
    mp.spawn(
        sharded_gene_by_motif, args=(2, port, str(tmp_path / "model"), str(tmp_path)), nprocs=2
    )
    scget.tl.gene_by_motif(pb, trained, device="cpu", batch_size=8, with_regions=True)
    for rank in range(2):
        motifs = pd.read_pickle(tmp_path / f"motifs{rank}.pkl")
        assert_same_across_layouts(motifs, scget.get.gene_by_motif(pb))
        regions = pd.read_pickle(tmp_path / f"regions{rank}.pkl")
        assert_same_across_layouts(regions, scget.get.region_importance(pb))
    genes = list(pb["rna"].var_names[:6])
    scget.tl.gene_by_motif(pb, trained, genes=genes, method="knockout", device="cpu")
    for rank in range(2):
        knockout = pd.read_pickle(tmp_path / f"knockout{rank}.pkl")
        assert_same_across_layouts(knockout, scget.get.gene_by_motif(pb))


def test_region_importance_of_a_frozen_network(pb, trained):
    scget.tl.region_importance(pb, trained, groups=["A"], device="cpu")
    expected = scget.get.region_importance(pb)
    for parameter in trained.network.parameters():
        parameter.requires_grad_(False)
    try:
        scget.tl.region_importance(pb, trained, groups=["A"], device="cpu")
    finally:
        for parameter in trained.network.parameters():
            parameter.requires_grad_(True)
    pd.testing.assert_frame_equal(scget.get.region_importance(pb), expected)


@pytest.fixture(scope="module")
def ensemble(trained):
    """The trained model and a copy with perturbed weights: two models, one input."""
    other = copy.deepcopy(trained)
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for parameter in other.network.parameters():
            parameter.add_(0.05 * torch.randn(parameter.shape, generator=generator))
    return [trained, other]


@pytest.mark.parametrize("method", ["gradient", "knockout"])
def test_an_ensemble_attributes_the_mean_of_its_models(pb, ensemble, method):
    options = {"groups": ["A"], "genes": list(pb["rna"].var_names[:8]), "device": "cpu"}
    singles = []
    for member in ensemble:
        scget.tl.gene_by_motif(pb, member, method=method, **options)
        singles.append(scget.get.gene_by_motif(pb))
    assert not np.allclose(singles[0], singles[1])
    scget.tl.gene_by_motif(pb, ensemble, method=method, **options)
    mean = (singles[0].astype(np.float64) + singles[1]) / 2
    np.testing.assert_allclose(scget.get.gene_by_motif(pb), mean, rtol=1e-5, atol=1e-7)
    assert scget.get.params(pb, "gene_by_motif")["n_models"] == 2


def test_each_pass_of_an_ensemble_is_labelled_with_its_model(pb, ensemble, monkeypatch):
    """Knockout with regions: the motif and the region passes of each model say which model."""
    from scget.tl._interpret import _region_importance

    labels = []
    real = _region_importance.knockout

    def spy(*args, desc, **kwargs):
        labels.append(desc)
        return real(*args, desc=desc, **kwargs)

    monkeypatch.setattr("scget.tl._interpret._gene_by_motif.knockout", spy)
    monkeypatch.setattr("scget.tl._interpret._region_importance.knockout", spy)
    options = {"groups": ["A"], "genes": list(pb["rna"].var_names[:2]), "device": "cpu"}
    scget.tl.gene_by_motif(pb, ensemble, method="knockout", with_regions=True, **options)
    assert labels == [
        "gene_by_motif (model 1/2)",
        "gene_by_motif (model 1/2), regions (knockout)",
        "gene_by_motif (model 2/2)",
        "gene_by_motif (model 2/2), regions (knockout)",
    ]


def test_an_ensemble_region_importance_normalises_the_mean_norms(pb, ensemble):
    options = {"groups": ["B"], "genes": list(pb["rna"].var_names[:6])}
    scget.tl.region_importance(pb, ensemble, device="cpu", **options)
    chosen = promoters(
        pb, ensemble[0], rna="rna", atac="atac", motif_key="motif_scores", prior=False, **options
    )
    norms = [importance(chosen, m, "gradient", batch_size=8, device="cpu") for m in ensemble]
    expected = importance_table(pb, (norms[0] + norms[1]) / 2, chosen, rna="rna", atac="atac")
    pd.testing.assert_frame_equal(scget.get.region_importance(pb), expected, rtol=1e-5)
    assert scget.get.params(pb, "region_importance")["n_models"] == 2


def test_ensembles_of_unlike_models_are_refused(pb, trained):
    with pytest.raises(ValueError, match="empty sequence"):
        scget.tl.gene_by_motif(pb, [], device="cpu")
    with pytest.raises(TypeError, match="model must be a GETModel"):
        scget.tl.gene_by_motif(pb, [trained, "model.pt"], device="cpu")
    renamed = copy.copy(trained)
    renamed.feature_names = [*trained.feature_names[:-2], "other", trained.feature_names[-1]]
    with pytest.raises(ValueError, match="model 1 has another feature_names"):
        scget.tl.region_importance(pb, [trained, renamed], device="cpu")
    assert "scget" not in pb.uns or not pb.uns["scget"]
