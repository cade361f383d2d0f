from __future__ import annotations

import mudata as md
import numpy as np
import pandas as pd
import pytest
import torch
from _planted import planted_pb, tiny_kwargs
from scipy.stats import pearsonr

import scget
from scget.tl._training import _train


@pytest.fixture
def seen(monkeypatch):
    """Record the (chromosome, group) pairs of the windows each training run sees."""
    record = {}
    real_fit = _train.fit

    def recording_fit(network, objective, train_set, valid_set, **kwargs):
        for name, dataset in (("train", train_set), ("valid", valid_set)):
            inputs = dataset.inputs
            record[name] = {
                (inputs.chrom[inputs.groups[g].peaks[s]], inputs.groups[g].name)
                for g, s, _ in dataset.windows
            }
        return real_fit(network, objective, train_set, valid_set, **kwargs)

    monkeypatch.setattr(_train, "fit", recording_fit)
    return record


def test_test_data_is_never_trained_or_validated_on(pb, seen, tmp_path):
    model = scget.tl.finetune(
        pb, leave_out_chromosomes=["chr4"], leave_out_groups=["B"], **tiny_kwargs(max_epochs=2)
    )
    split = model.split
    assert split["test_chromosomes"] == ["chr4"] and split["leave_out_groups"] == ["B"]
    (valid,) = split["valid_chromosomes"]
    assert {c for c, _ in seen["train"]} == set(split["train_chromosomes"])
    assert {c for c, _ in seen["valid"]} == {valid}
    assert {g for _, g in seen["train"] | seen["valid"]} == {"A", "C", "D"}
    assert valid not in split["train_chromosomes"]

    assert scget.get.params(pb, "finetune")["split"] == split
    pd.testing.assert_frame_equal(scget.get.history(pb), model.history)
    pb.write_h5mu(tmp_path / "pb.h5mu")
    back = md.read_h5mu(tmp_path / "pb.h5mu")
    params = scget.get.params(back, "finetune")
    assert params["split"] == split
    assert params["loss"] == "poisson" and params["preset"] == "tiny" and params["lora"] is None
    assert params["training"] == scget.get.params(pb, "finetune")["training"]


def test_training_is_reproducible_with_a_seed(pb):
    a = scget.tl.finetune(pb, **tiny_kwargs(max_epochs=2, seed=3))
    b = scget.tl.finetune(pb, **tiny_kwargs(max_epochs=2, seed=3))
    c = scget.tl.finetune(pb, **tiny_kwargs(max_epochs=2, seed=4))
    assert a.history.equals(b.history)
    for (name, x), y in zip(
        a.network.state_dict().items(), b.network.state_dict().values(), strict=True
    ):
        assert torch.equal(x, y), name
    assert not a.history.equals(c.history)


def test_pretrain_then_finetune_continues_from_the_pretrained_weights(pb):
    pretrained = scget.tl.pretrain(
        pb,
        binary=True,
        preset="tiny",
        window_size=32,
        device="cpu",
        max_epochs=6,
        patience=None,
        lr=3e-3,
    )
    history = pretrained.history
    assert history["train_loss"].iloc[-1] < 0.7 * history["train_loss"].iloc[0]
    assert pretrained.params["stage"] == "pretrain" and pretrained.binary
    assert "pretrain" in pb.uns["scget"]
    before = {k: v.clone() for k, v in pretrained.network.state_dict().items()}
    model = scget.tl.finetune(pb, model=pretrained, **tiny_kwargs(max_epochs=1))
    assert model.binary and model.params["pretrained"]
    with pytest.raises(
        ValueError, match=r"has \['expression_prior'\], which architecture 'tss\+distance' lacks"
    ):
        scget.tl.finetune(pb, model=pretrained, architecture="tss+distance", max_epochs=1)
    for name, value in pretrained.network.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_bad_settings_raise_before_training(pb):
    with pytest.raises(ValueError, match="pass model"):
        scget.tl.finetune(pb, lora=True)
    with pytest.raises(ValueError, match="loss"):
        scget.tl.finetune(pb, loss="huber")
    with pytest.raises(ValueError, match="chr9"):
        scget.tl.finetune(pb, leave_out_chromosomes=["chr9"])
    with pytest.raises(ValueError, match="preset"):
        scget.tl.finetune(pb, preset="huge", max_epochs=1)
    del pb["atac"].layers["target_minus"]
    with pytest.raises(KeyError, match="annotate_tss"):
        scget.tl.finetune(pb)


@pytest.mark.slow
def test_held_out_chromosome_predictions_recover_the_planted_rule():
    pb = planted_pb(n_chromosomes=5, peaks_per_chromosome=200)
    model = scget.tl.finetune(
        pb, leave_out_chromosomes=["chr5"], **tiny_kwargs(max_epochs=40, patience=8)
    )
    scget.tl.predict(pb, model, device="cpu")
    observed, predicted = pb["rna"].X, pb["rna"].layers["get_pred"]
    test = (pb["rna"].var["chrom"] == "chr5").to_numpy()
    for g in range(pb.n_obs):
        keep = test & np.isfinite(predicted[g])
        r = pearsonr(observed[g, keep], predicted[g, keep])[0]
        tss_access = pb["atac"].X[g, pb["atac"].var_names.get_indexer(pb["rna"].var["tss_peaks"])]
        baseline = pearsonr(observed[g, keep], tss_access[keep])[0]
        print(
            f"group {pb.obs_names[g]}: held-out r = {r:.3f}, TSS accessibility r = {baseline:.3f}"
        )
        assert r > 0.5


def test_objective_is_recorded_and_decides_what_predict_writes():
    pb = planted_pb()
    joint = scget.tl.finetune(
        pb,
        objective="joint",
        accessibility_weight=0.5,
        leave_out_chromosomes=["chr4"],
        **tiny_kwargs(max_epochs=1),
    )
    assert joint.params["objective"] == "joint" and joint.params["accessibility_weight"] == 0.5
    assert joint.predicts_accessibility
    scget.tl.predict(pb, joint, device="cpu")
    accessibility = scget.get.predictions(pb, level="accessibility").to_numpy()
    accessible = np.asarray(pb["atac"].layers["counts"]) > 0
    assert np.isfinite(accessibility[accessible]).all() and (accessibility[accessible] > 0).all()
    assert np.isnan(accessibility[~accessible]).all()
    only = scget.tl.finetune(
        pb, objective="accessibility", leave_out_chromosomes=["chr4"], **tiny_kwargs(max_epochs=1)
    )
    assert only.predicts_accessibility and only.objective == "accessibility"
    # the regularisers chosen for expression stay off for accessibility unless given
    assert (only.params["feature_dropout"], only.params["motif_sparsity"]) == (0.0, 0.0)
    assert (joint.params["feature_dropout"], joint.params["motif_sparsity"]) == (0.5, 3e-4)
    scget.tl.predict(pb, only, device="cpu")
    assert "get_accessibility" in pb["atac"].layers and "get_plus" not in pb["atac"].layers
    with pytest.raises(KeyError, match="does not predict expression"):
        scget.get.predictions(pb, level="plus")
    with pytest.raises(ValueError, match='objective="accessibility"'):
        only.check_finetuned("scget.tl.gene_by_motif")
    expression = scget.tl.finetune(pb, leave_out_chromosomes=["chr4"], **tiny_kwargs(max_epochs=1))
    assert expression.objective == "expression" and not expression.predicts_accessibility
    assert (expression.params["feature_dropout"], expression.params["motif_sparsity"]) == (
        0.5,
        3e-4,
    )
    scget.tl.predict(pb, expression, device="cpu")
    assert "get_accessibility" not in pb["atac"].layers  # the stale layer is removed


def test_the_split_chooses_the_target_and_its_protocol(pb, seen):
    model = scget.tl.finetune(pb, leave_out_groups=["D"], **tiny_kwargs(max_epochs=1))
    params, split = model.params, model.split
    assert params["target"] == "new groups"
    assert params["feature_dropout"] == 0.5 and params["motif_sparsity"] == 3e-4
    assert params["anchor_prior"] is True
    # validation on the last training group, on every chromosome; never on the test group
    assert split["valid_groups"] == ["C"] and split["valid_chromosomes"] == []
    assert {g for _, g in seen["valid"]} == {"C"} and {g for _, g in seen["train"]} == {"A", "B"}
    assert (
        {c for c, _ in seen["valid"]}
        == {c for c, _ in seen["train"]}
        == {f"chr{i}" for i in (1, 2, 3, 4)}
    )
    assert params["prior_groups"] == ["A", "B", "C"]

    model = scget.tl.finetune(pb, leave_out_chromosomes=["chr4"], **tiny_kwargs(max_epochs=1))
    assert model.params["target"] == "new genes" and model.params["feature_dropout"] == 0.5
    assert model.params["anchor_prior"] is False
    assert model.split["valid_groups"] == [] and len(model.split["valid_chromosomes"]) == 1

    model = scget.tl.finetune(
        pb, leave_out_groups=["D"], target="new genes", **tiny_kwargs(max_epochs=1)
    )
    assert model.split["valid_groups"] == [] and model.params["motif_sparsity"] == 3e-4
    with pytest.raises(ValueError, match="target must be one of"):
        scget.tl.finetune(pb, target="new cells", **tiny_kwargs(max_epochs=1))


def test_copy_trains_on_the_data_and_writes_only_into_the_copy():
    pb = planted_pb()
    before = pb.copy()
    settings = {k: v for k, v in tiny_kwargs(max_epochs=1).items() if k != "stride"}
    model, copied = scget.tl.pretrain(pb, copy=True, **settings)
    assert isinstance(model, scget.tl.GETModel) and copied is not pb
    assert "scget" not in pb.uns and set(pb["atac"].layers) == set(before["atac"].layers)
    np.testing.assert_array_equal(pb["atac"].X, before["atac"].X)
    assert scget.get.params(copied, "pretrain")["stage"] == "pretrain"
    model, copied = scget.tl.finetune(
        pb, leave_out_chromosomes=["chr4"], copy=True, **tiny_kwargs(max_epochs=1)
    )
    assert "scget" not in pb.uns
    history = scget.get.result(copied, "finetune")
    pd.testing.assert_frame_equal(history, model.history)
    assert scget.tl.finetune(pb, **tiny_kwargs(max_epochs=1)) is not None  # copy=False
    assert "finetune" in pb.uns["scget"]


@pytest.mark.parametrize(("split", "epochs"), [({"leave_out_groups": ["D"]}, 15), ({}, 20)])
def test_fine_tuning_takes_its_targets_epochs_unless_given(pb, monkeypatch, split, epochs):
    bounds = []

    def stop(network, objective, train_set, valid_set, *, params, **kwargs):
        bounds.append(params.max_epochs)
        raise InterruptedError

    monkeypatch.setattr(_train, "fit", stop)
    settings = tiny_kwargs()
    for given in ({}, {"max_epochs": 3}):
        with pytest.raises(InterruptedError):
            scget.tl.finetune(pb, **split, **settings, **given)
    assert bounds == [epochs, 3]
