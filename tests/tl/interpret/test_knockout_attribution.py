"""Knockout attributions of gene_by_motif and region_importance against forward loops."""

from __future__ import annotations

import mudata as md
import numpy as np
import pandas as pd
import pytest
import torch
from test_interpret import _windows

import scget
from scget.tl._core._windows import region_context


def _output(network, item, x, row) -> float:
    context = {key: value[None] for key, value in region_context(item).items()}
    with torch.no_grad():
        out = network(x[None], **context).expression
    return float(out[0, row.offset, row.strand])


def _sparse_motif(pb):
    """M3 scored in 5 peaks only, so that most windows lack it (its knockout is skipped)."""
    scores = pb["atac"].varm["motif_scores"]
    kept = scores["M3"].to_numpy().copy()
    kept[np.flatnonzero(kept)[5:]] = 0
    scores["M3"] = kept
    return pb


def test_motif_knockout_equals_a_forward_loop(pb, trained):
    pb = _sparse_motif(pb)
    groups, genes = ["A", "D"], list(pb["rna"].var_names[:15])
    scget.tl.gene_by_motif(
        pb, trained, genes=genes, groups=groups, method="knockout", device="cpu", batch_size=7
    )
    stored = scget.get.gene_by_motif(pb)
    _, table, dataset = _windows(pb, trained)
    network = trained.network.eval()
    names = pb["rna"].var_names[table["gene"]]
    checked, absent = 0, 0
    for (group, gene), rows in table.groupby([table["group"], names]).groups.items():
        name = pb.obs_names[group]
        if name not in groups or gene not in genes:
            continue
        values = []
        for number in rows:
            row, item = table.loc[number], dataset[int(number)]
            reference = _output(network, item, item["x"], row)
            effects = []
            for feature in range(item["x"].shape[1]):
                x = item["x"].clone()
                x[:, feature] = 0
                effects.append(reference - _output(network, item, x, row))
            values.append(effects)
            absent += int(not item["x"][:, 3].any())
        expected = np.mean(values, axis=0)
        got = stored.loc[(name, gene)].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
        checked += 1
    assert checked >= 12
    assert absent >= 1  # a window without M3: its skipped knockout is the loop's zero
    assert scget.get.params(pb, "gene_by_motif")["method"] == "knockout"


def test_region_knockout_equals_a_forward_loop(pb, trained):
    genes = list(pb["rna"].var_names[:10])
    scget.tl.region_importance(
        pb, trained, genes=genes, groups=["B"], method="knockout", device="cpu", batch_size=9
    )
    importance = scget.get.region_importance(pb)
    inputs, table, dataset = _windows(pb, trained)
    network = trained.network.eval()
    single = table.groupby(["group", "gene"])["peak"].transform("size") == 1
    chosen = table[single & (table["group"] == 1) & table["gene"].isin(range(10))]
    assert len(chosen) >= 5
    for number, row in chosen.iterrows():
        item = dataset[int(number)]
        reference = _output(network, item, item["x"], row)
        effects = []
        for position in range(row.length):
            x = item["x"].clone()
            x[position] = 0
            effects.append(abs(reference - _output(network, item, x, row)))
        effects = np.array(effects)
        gene = pb["rna"].var_names[row.gene]
        rows = importance[importance["target"] == gene]
        peaks = inputs.groups[1].peaks[row.start : row.start + row.length]
        assert list(rows["source"]) == list(pb["atac"].var_names[peaks])
        np.testing.assert_allclose(rows["weight"], effects / effects.max(), rtol=1e-4, atol=1e-5)
    assert scget.get.params(pb, "region_importance")["method"] == "knockout"


def test_knockout_results_survive_h5mu(pb, trained, tmp_path):
    genes = list(pb["rna"].var_names[:6])
    scget.tl.gene_by_motif(
        pb, trained, genes=genes, groups=["C"], method="knockout", with_regions=True, device="cpu"
    )
    pb.write_h5mu(tmp_path / "pb.h5mu")
    back = md.read_h5mu(tmp_path / "pb.h5mu")
    pd.testing.assert_frame_equal(scget.get.gene_by_motif(back), scget.get.gene_by_motif(pb))
    pd.testing.assert_frame_equal(
        scget.get.region_importance(back), scget.get.region_importance(pb)
    )
    for key in ("gene_by_motif", "region_importance"):
        assert scget.get.params(back, key)["method"] == "knockout"
    # the regions of with_regions are those of region_importance's own knockout
    scget.tl.region_importance(
        back, trained, genes=genes, groups=["C"], method="knockout", device="cpu"
    )
    pd.testing.assert_frame_equal(
        scget.get.region_importance(back), scget.get.region_importance(pb), rtol=1e-5
    )


@pytest.mark.parametrize("function", [scget.tl.gene_by_motif, scget.tl.region_importance])
def test_unknown_method_is_rejected_before_any_work(pb, trained, function):
    with pytest.raises(ValueError, match="Unknown method 'shap'"):
        function(pb, trained, method="shap", device="cpu")
    assert "scget" not in pb.uns or not pb.uns["scget"]


def test_enhancer_gene_and_motif_network_take_the_knockout(pb, trained):
    genes, groups = list(pb["rna"].var_names[:8]), ["A"]
    options = {"genes": genes, "groups": groups, "device": "cpu"}
    scget.tl.region_importance(pb, trained, method="knockout", **options)
    weights = scget.get.region_importance(pb)
    scget.tl.enhancer_gene(pb, trained, methods="jacobian", attribution="knockout", **options)
    links = scget.get.enhancer_gene(pb)
    assert scget.get.params(pb, "enhancer_gene")["attribution"] == "knockout"
    score = weights["weight"] * weights["accessibility"]
    expected = score / score.groupby(weights["target"], observed=True).transform("sum")
    np.testing.assert_allclose(links["jacobian"], expected, rtol=1e-5, atol=1e-7)

    scget.tl.gene_by_motif(pb, trained, method="knockout", **{**options, "genes": None})
    scget.tl.motif_network(pb, method="spearman", n_bootstraps=0)
    assert scget.get.params(pb, "motif_network")["attribution"] == "knockout"


def test_motif_knockout_is_minus_knockout_motifs(pb):
    """On a network without the expression prior: interpretation hides a prior, knockout_motifs
    (a prediction of the perturbed expression) gives it."""
    from _planted import tiny_kwargs

    model = scget.tl.finetune(
        pb, leave_out_chromosomes=["chr4"], **tiny_kwargs(max_epochs=2, architecture="tss+distance")
    )
    genes, groups = list(pb["rna"].var_names[:10]), ["B"]
    options = {"genes": genes, "groups": groups, "device": "cpu"}
    scget.tl.gene_by_motif(pb, model, method="knockout", **options)
    attribution = scget.get.gene_by_motif(pb, group="B")["M2"].dropna()
    change = scget.tl.knockout_motifs(pb, model, motifs="M2", **options).loc["B"]
    np.testing.assert_allclose(attribution, -change[attribution.index], rtol=1e-4, atol=1e-6)
