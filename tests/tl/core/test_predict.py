from __future__ import annotations

import mudata as md
import numpy as np
import pytest
import torch
from _planted import tiny_kwargs

import scget
from scget.tl._core._prior import model_inputs
from scget.tl._core._windows import (
    WindowDataset,
    build_inputs,
    centred_windows,
    region_context,
    window_starts,
)


def _context(item: dict) -> dict:
    """The network's keyword inputs of one dataset item, as a batch of one."""
    return {key: value[None] for key, value in region_context(item).items()}


def test_predict_writes_region_and_gene_layers(pb, trained):
    scget.tl.predict(pb, trained, device="cpu")
    atac, rna = pb["atac"], pb["rna"]
    closed = atac.layers["counts"] == 0
    for key in ("get_plus", "get_minus"):
        layer = atac.layers[key]
        assert layer.shape == atac.shape and layer.dtype == np.float32
        assert np.array_equal(np.isnan(layer), closed)
        assert (layer[~closed] >= 0).all()
    genes = rna.layers["get_pred"]
    assert genes.shape == rna.shape
    # gene-level = mean over the gene's accessible TSS peaks of its strand's prediction
    for g in range(pb.n_obs):
        for gene in range(0, rna.n_vars, 17):
            peak = atac.var_names.get_loc(rna.var["tss_peaks"].iloc[gene])
            layer = "get_plus" if rna.var["strand"].iloc[gene] == "+" else "get_minus"
            if atac.X[g, peak] >= 0.05:
                assert genes[g, gene] == pytest.approx(atac.layers[layer][g, peak])
            else:
                assert np.isnan(genes[g, gene])
    assert scget.get.result(pb, "predict")["n_regions"] == int((~closed).sum())


def test_predict_records_the_windows_it_ran(pb, trained):
    # tiled: the windows tiling each group's accessible regions with half-overlap
    size = trained.window_size
    tiles = [
        sum(len(window_starts(lo, hi, size, size // 2)) for _, lo, hi in group.segments)
        for group in model_inputs(pb, trained).groups
    ]
    scget.tl.predict(pb, trained, device="cpu")
    assert scget.get.result(pb, "predict")["n_windows"] == sum(tiles) > 0
    # one group: its windows only; centred, a window of its own for each TSS region
    first = [str(pb.obs_names[0])]
    scget.tl.predict(pb, trained, device="cpu", groups=first)
    assert scget.get.result(pb, "predict")["n_windows"] == tiles[0]
    scget.tl.predict(pb, trained, device="cpu", groups=first, tss_windows="centred")
    assert scget.get.result(pb, "predict")["n_windows"] > tiles[0]


def test_tss_regions_are_predicted_with_their_own_centred_window(pb, trained):
    scget.tl.predict(pb, trained, device="cpu", tss_windows="centred")
    inputs = model_inputs(pb, trained)
    group = inputs.groups[1]
    tss_peak = pb["atac"].var_names.get_loc(pb["rna"].var["tss_peaks"].iloc[40])
    position = int(np.flatnonzero(group.peaks == tss_peak)[0])
    starts, lengths, offsets = centred_windows(group, np.array([position]), trained.window_size)
    item = WindowDataset(inputs, np.array([[1, starts[0], lengths[0]]]), trained.window_size)[0]
    with torch.no_grad():
        out = trained.network.eval()(item["x"][None], **_context(item))
    expected = out.expression[0, offsets[0]].numpy()
    np.testing.assert_allclose(pb["atac"].layers["get_plus"][1, tss_peak], expected[0], rtol=1e-5)
    np.testing.assert_allclose(pb["atac"].layers["get_minus"][1, tss_peak], expected[1], rtol=1e-5)


def test_rerun_overwrites_and_results_survive_h5mu(pb, trained, tmp_path):
    scget.tl.predict(pb, trained, device="cpu")
    first = pb["rna"].layers["get_pred"].copy()
    layers = (list(pb["atac"].layers), list(pb["rna"].layers), list(pb.uns["scget"]))
    scget.tl.predict(pb, trained, device="cpu")
    assert (list(pb["atac"].layers), list(pb["rna"].layers), list(pb.uns["scget"])) == layers
    np.testing.assert_array_equal(pb["rna"].layers["get_pred"], first)

    pb.write_h5mu(tmp_path / "pb.h5mu")
    back = md.read_h5mu(tmp_path / "pb.h5mu")
    np.testing.assert_array_equal(back["rna"].layers["get_pred"], first)
    np.testing.assert_array_equal(back["atac"].layers["get_plus"], pb["atac"].layers["get_plus"])


def test_copy_leaves_the_input_untouched(pb, trained):
    result = scget.tl.predict(pb, trained, device="cpu", copy=True)
    assert "get_plus" not in pb["atac"].layers and "get_pred" not in pb["rna"].layers
    assert "get_pred" in result["rna"].layers


def test_predict_needs_gene_annotation(pb, trained):
    del pb["rna"].var["strand"]
    with pytest.raises(KeyError, match="annotate_tss"):
        scget.tl.predict(pb, trained)


def test_motif_key_reads_scores_stored_under_another_key(pb, trained):
    scget.tl.predict(pb, trained, device="cpu")
    expected = pb["rna"].layers["get_pred"].copy()
    pb["atac"].varm["jaspar"] = pb["atac"].varm["motif_scores"]
    del pb["atac"].varm["motif_scores"]
    with pytest.raises(KeyError, match="motif_key="):
        scget.tl.predict(pb, trained)
    scget.tl.predict(pb, trained, device="cpu", motif_key="jaspar")
    np.testing.assert_array_equal(pb["rna"].layers["get_pred"], expected)


def test_predict_refuses_a_model_that_was_only_pretrained(pb, tmp_path):
    pretrained = scget.tl.pretrain(
        pb, preset="tiny", window_size=32, device="cpu", batch_size=16, max_epochs=1
    )
    pretrained.save(tmp_path / "pretrained")
    for model in (pretrained, scget.tl.GETModel.load(tmp_path / "pretrained")):
        with pytest.raises(ValueError, match=r"only pretrained.*scget\.tl\.finetune"):
            scget.tl.predict(pb, model, device="cpu")
    assert "get_plus" not in pb["atac"].layers


def test_tiled_tss_regions_lie_in_the_central_half_of_their_window(pb, trained):
    from scget.tl._core._predict import _region_windows, _tss_peaks

    size = 32
    inputs = build_inputs(pb, with_targets=False)
    _, is_tss = _tss_peaks(pb, rna="rna", atac="atac")
    group = inputs.groups[0]
    starts, lengths = _region_windows(group, is_tss, size, "tiled")
    tiles, _ = _region_windows(group, np.zeros_like(is_tss), size, "centred")
    np.testing.assert_array_equal(starts, tiles)  # TSS regions take the tiling windows
    offset = np.arange(len(group.peaks)) - starts
    inner = np.zeros(len(starts), bool)  # regions half a window or more from an end
    for _, lo, hi in group.segments:
        inner[lo + size // 2 : hi - size // 2] = True
    assert inner.sum() > 100
    assert (offset[inner] >= size // 4 - 1).all() and (offset[inner] <= 3 * size // 4).all()
    assert (offset >= 0).all() and (offset < lengths).all()
    n_windows = len(np.unique(np.column_stack([starts, lengths]), axis=0))
    assert n_windows < int(is_tss[group.peaks].sum())  # fewer windows than TSS regions


def test_predict_rejects_unknown_tss_windows(pb, trained):
    with pytest.raises(ValueError, match="tss_windows must be one of"):
        scget.tl.predict(pb, trained, device="cpu", tss_windows="centered")
    assert "get_plus" not in pb["atac"].layers


def test_groups_replace_only_their_rows_and_genes_follow(pb, trained):
    scget.tl.predict(pb, trained, device="cpu")
    full = {key: pb["atac"].layers[key].copy() for key in ("get_plus", "get_minus")}
    first, second = pb.obs_names[:2]
    for key in full:  # mark both groups' rows, to see which one is replaced
        pb["atac"].layers[key][:2] += 1.0
    scget.tl.predict(pb, trained, device="cpu", groups=[second])
    for key, values in full.items():
        np.testing.assert_array_equal(pb["atac"].layers[key][0], values[0] + 1.0)  # kept
        np.testing.assert_array_equal(pb["atac"].layers[key][1], values[1])  # predicted again
        np.testing.assert_array_equal(pb["atac"].layers[key][2:], values[2:])
    genes = pb["rna"].layers["get_pred"]
    gene = int(np.flatnonzero(np.isfinite(genes[0]))[0])
    peak = pb["atac"].var_names.get_loc(pb["rna"].var["tss_peaks"].iloc[gene])
    layer = "get_plus" if pb["rna"].var["strand"].iloc[gene] == "+" else "get_minus"
    assert genes[0, gene] == pytest.approx(full[layer][0, peak] + 1.0)  # from the kept row
    assert scget.get.params(pb, "predict")["groups"] == [second]
    assert first != second


def test_groups_alone_leave_the_other_rows_empty(pb, trained):
    scget.tl.predict(pb, trained, device="cpu", groups=pb.obs_names[1])
    plus = pb["atac"].layers["get_plus"]
    assert np.isnan(plus[[0, 2, 3]]).all()
    assert np.isfinite(plus[1]).sum() == (pb["atac"].layers["counts"][1] > 0).sum()


def test_unknown_groups_are_refused_before_any_work(pb, trained):
    with pytest.raises(KeyError, match=r"Unknown groups \['nope'\].*pb.obs_names"):
        scget.tl.predict(pb, trained, device="cpu", groups=["nope"])
    assert "get_plus" not in pb["atac"].layers and "scget" not in pb.uns


def test_one_accessibility_model_per_group_keeps_the_expression_layers(pb, trained, tmp_path):
    scget.tl.predict(pb, trained, device="cpu")
    expression = pb["rna"].layers["get_pred"].copy()
    groups = list(pb.obs_names)
    for group in groups[:2]:
        model = scget.tl.finetune(
            pb,
            objective="accessibility",
            leave_out_chromosomes=["chr4"],
            leave_out_groups=[other for other in groups if other != group],
            **tiny_kwargs(max_epochs=1),
        )
        scget.tl.predict(pb, model, device="cpu", groups=[group])
    accessibility = pb["atac"].layers["get_accessibility"]
    open_ = pb["atac"].layers["counts"] > 0
    assert np.isfinite(accessibility[:2][open_[:2]]).all() and np.isnan(accessibility[2:]).all()
    both = open_[0] & open_[1]
    assert not np.allclose(accessibility[0][both], accessibility[1][both])  # two models
    np.testing.assert_array_equal(pb["rna"].layers["get_pred"], expression)
    pb.write_h5mu(tmp_path / "pb.h5mu")
    back = md.read_h5mu(tmp_path / "pb.h5mu")
    np.testing.assert_array_equal(
        scget.get.predictions(back, level="accessibility").to_numpy(),
        scget.get.predictions(pb, level="accessibility").to_numpy(),
    )
    scget.tl.predict(back, trained, device="cpu")  # all groups: the stale layer goes
    assert "get_accessibility" not in back["atac"].layers
