"""The expression prior: the other training groups (mean or matched mixture), never the group."""

from __future__ import annotations

import numpy as np
import pytest
from _planted import planted_pb, tiny_kwargs

import scget
from scget._shared.genomic import peak_coordinates
from scget.nn import PRIOR_CHANNELS
from scget.tl._core._genes import tss_peak_matrix
from scget.tl._core._prior import add_prior, motif_accessibility_change
from scget.tl._core._windows import build_inputs

TRAIN_CHROMOSOMES = ["chr1", "chr2", "chr3"]


def _prior(pb, groups, chromosomes=TRAIN_CHROMOSOMES, weighting="mean") -> np.ndarray:
    """Groups x peaks x channels, NaN where a peak is not accessible in a group."""
    inputs = add_prior(
        pb, build_inputs(pb), groups=groups, chromosomes=chromosomes, weighting=weighting
    )
    full = np.full((len(inputs.groups), pb["atac"].n_vars, len(PRIOR_CHANNELS)), np.nan)
    for number, group in enumerate(inputs.groups):
        full[number, group.peaks] = group.prior
    return full


def test_matched_prior_of_a_group_with_anothers_chromatin_is_that_groups_expression():
    pb = planted_pb()
    pb["atac"].X = np.asarray(pb["atac"].X, dtype=np.float32).copy()
    pb["atac"].X[3] = pb["atac"].X[1]  # the new group D has B's accessibility
    prior = _prior(pb, ["A", "B", "C"], weighting="matched")
    expression = np.asarray(pb["rna"].X, dtype=float)
    tss = tss_peak_matrix(pb["rna"].var, pb["atac"].var_names).tocoo()
    strand = pb["rna"].var["strand"].to_numpy()
    chrom = peak_coordinates(pb["atac"])["chrom"].to_numpy()
    on_train = chrom[tss.col] != "chr4"
    genes, peaks = tss.row[on_train], tss.col[on_train]
    column = np.where(strand[genes] == "+", 0, 1)
    seen = ~np.isnan(prior[3, peaks, 0])  # the regions accessible in D
    assert seen.sum() > 50
    np.testing.assert_allclose(
        prior[3, peaks[seen], column[seen]], expression[1, genes[seen]], rtol=1e-4
    )
    regions = ~np.isnan(prior[3, :, 3])
    np.testing.assert_allclose(prior[3, regions, 3], pb["atac"].X[1, regions], rtol=1e-4)
    np.testing.assert_allclose(prior[3, regions, 4], 0.0, atol=1e-4)  # no change from B
    with pytest.raises(ValueError, match="weighting must be one of"):
        _prior(pb, ["A", "B", "C"], weighting="nearest")


def test_prior_is_the_mean_of_the_other_groups_at_each_tss():
    pb = planted_pb()
    prior = _prior(pb, ["A", "B", "C"])
    expression = np.asarray(pb["rna"].X, dtype=float)
    tss = tss_peak_matrix(pb["rna"].var, pb["atac"].var_names).tocoo()
    strand = pb["rna"].var["strand"].to_numpy()
    chrom = peak_coordinates(pb["atac"])["chrom"].to_numpy()
    others = {0: [1, 2], 1: [0, 2], 2: [0, 1], 3: [0, 1, 2]}  # D is no prior group
    checked = 0
    for gene, peak in zip(tss.row, tss.col, strict=True):
        column = 0 if strand[gene] == "+" else 1
        for group, mean_of in others.items():
            if np.isnan(prior[group, peak, 0]):
                continue  # not accessible in this group
            expected = expression[mean_of, gene].mean() if chrom[peak] != "chr4" else 0.0
            assert prior[group, peak, column] == pytest.approx(expected, rel=1e-5, abs=1e-6)
            assert prior[group, peak, 1 - column] == 0.0
            assert prior[group, peak, 2] == (chrom[peak] != "chr4")
            access = np.asarray(pb["atac"].X)[mean_of, peak].mean()
            assert prior[group, peak, 3] == pytest.approx(access, rel=1e-5)
            checked += 1
    assert checked > 100


@pytest.mark.parametrize("block", [64, 65_536])
def test_motif_channel_is_a_ridge_fit_of_the_accessibility_change(block, monkeypatch):
    from sklearn.linear_model import Ridge

    monkeypatch.setattr("scget.tl._core._prior._BLOCK", block)  # sums over blocks of peaks

    rng = np.random.default_rng(0)
    motifs = rng.random((300, 6)) * rng.integers(0, 2, (300, 6))
    motifs[:, 5] = 0.7  # a constant column predicts nothing
    change = rng.normal(size=(3, 300)) + (motifs[:, :5] @ rng.normal(size=(5, 3))).T
    fitted = motif_accessibility_change(motifs.astype(np.float32), change, ridge=0.1)
    standard = (motifs[:, :5] - motifs[:, :5].mean(0)) / motifs[:, :5].std(0)
    for group in range(3):
        ridge = Ridge(alpha=0.1 * 300).fit(standard, change[group])
        expected = ridge.predict(standard) - ridge.intercept_
        np.testing.assert_allclose(fitted[group], expected, rtol=1e-4)


def test_a_new_groups_accessibility_reaches_its_motif_channel():
    """The motif channel reads the group's own accessibility, as the network input does."""
    pb = planted_pb()
    before = _prior(pb, ["A", "B", "C"])
    pb["atac"].X = np.asarray(pb["atac"].X, dtype=np.float32).copy()
    scores = np.asarray(pb["atac"].varm["motif_scores"])
    pb["atac"].X[3] += 0.5 * scores[:, 0]  # group D opens the sites of the first motif
    after = _prior(pb, ["A", "B", "C"])
    np.testing.assert_array_equal(after[3, :, :4], before[3, :, :4])  # D is no prior group
    shift = after[3, :, 4] - before[3, :, 4]
    accessible = ~np.isnan(shift)
    assert np.corrcoef(shift[accessible], scores[accessible, 0])[0, 1] > 0.9


def test_the_target_groups_expression_never_reaches_its_prior():
    """Leakage: changing a group's expression changes every prior but its own."""
    pb = planted_pb()
    before = _prior(pb, ["A", "B", "C"])
    pb["rna"].X = np.asarray(pb["rna"].X).copy()
    pb["rna"].X[1] += 5.0  # group B's expression
    after = _prior(pb, ["A", "B", "C"])
    np.testing.assert_array_equal(after[1], before[1])  # B, trained on: the others' mean
    for group in (0, 2, 3):  # A and C (B is one of their others) and D, a new group
        assert np.nanmax(np.abs(after[group, :, :2] - before[group, :, :2])) > 1.0
    pb["rna"].X[3] += 5.0  # group D, not a prior group: reaches no prior at all
    np.testing.assert_array_equal(_prior(pb, ["A", "B", "C"]), after)


@pytest.mark.parametrize("target", ["new genes", "new groups"])
def test_a_held_out_groups_expression_changes_no_prediction(target):
    """Leakage, end to end: train and predict with the held-out group's RNA changed.

    For new groups the prior's direct map is anchored at a fit of the training groups.
    """
    kwargs = tiny_kwargs(
        max_epochs=2, leave_out_groups=["D"], leave_out_chromosomes=["chr4"], target=target
    )

    def predictions(change: dict[int, float]):
        pb = planted_pb()
        pb["rna"].X = np.asarray(pb["rna"].X).copy()
        for group, shift in change.items():
            pb["rna"].X[group] += shift
            for layer in ("target_plus", "target_minus"):
                pb["atac"].layers[layer][group] *= 1 + shift
        model = scget.tl.finetune(pb, **kwargs)
        scget.tl.predict(pb, model, device="cpu")
        return pb["atac"].layers["get_plus"].copy()

    reference = predictions({})
    np.testing.assert_array_equal(predictions({3: 2.0}), reference)
    # the test can fail: a training group's expression does change the predictions
    assert not np.allclose(predictions({1: 2.0}), reference, equal_nan=True)


def test_predict_gives_a_new_group_the_prior_of_the_groups_trained_on(pb):
    from scget.tl._core._prior import model_inputs

    model = scget.tl.finetune(
        pb, leave_out_groups=["D"], leave_out_chromosomes=["chr4"], **tiny_kwargs(max_epochs=1)
    )
    assert model.params["prior_groups"] == ["A", "B", "C"]
    assert model.params["prior_weighting"] == "mean"  # the protocol for new genes
    train = model.split["train_chromosomes"]
    for weighting in ("matched", "mean"):
        model.params["prior_weighting"] = weighting
        inputs = model_inputs(pb, model)
        expected = _prior(pb, ["A", "B", "C"], train, weighting=weighting)
        for number, group in enumerate(inputs.groups):
            np.testing.assert_allclose(group.prior, expected[number, group.peaks], rtol=1e-6)
    # no expression prior on the test chromosome: those genes are new
    chrom = inputs.chrom[inputs.groups[3].peaks]
    assert (inputs.groups[3].prior[chrom == "chr4", :3] == 0).all()
    # a model saved before the option existed formed its prior as the plain mean
    del model.params["prior_weighting"]
    old = model_inputs(pb, model)
    for new, group in zip(inputs.groups, old.groups, strict=True):
        np.testing.assert_array_equal(new.prior, group.prior)


def test_an_unknown_prior_weighting_is_refused_before_training(pb):
    with pytest.raises(ValueError, match="prior_weighting must be one of"):
        scget.tl.finetune(pb, leave_out_groups=["D"], prior_weighting="nearest")


def test_unknown_prior_groups_are_a_clear_error(pb):
    with pytest.raises(KeyError, match="Prior groups"):
        add_prior(pb, build_inputs(pb), groups=["Z"], chromosomes=TRAIN_CHROMOSOMES)


def test_interpretation_explains_without_the_prior(pb):
    """gene_by_motif reads the prior channels as absent: it explains sequence and accessibility."""
    import torch

    from scget.tl._core._prior import model_inputs

    model = scget.tl.finetune(
        pb, leave_out_groups=["D"], leave_out_chromosomes=["chr4"], **tiny_kwargs(max_epochs=1)
    )
    with torch.no_grad():  # make the prior matter, so that the two paths differ
        for parameter in model.network.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    without = model_inputs(pb, model, prior=False)
    assert all((group.prior == 0).all() for group in without.groups)
    assert any((group.prior != 0).any() for group in model_inputs(pb, model).groups)
    table = scget.tl.gene_by_motif(pb, model, groups="A", device="cpu", copy=True)
    stored = scget.get.gene_by_motif(table, group="A")
    assert scget.get.params(table, "gene_by_motif")["expression_prior"] is False

    from scget.tl._core import _promoters

    seen = _promoters.promoters
    with pytest.MonkeyPatch.context() as patch:  # the same run, given the prior
        patch.setattr(
            "scget.tl._core._ensemble.promoters",
            lambda *args, **kwargs: seen(*args, **{**kwargs, "prior": True}),
        )
        with_prior = scget.get.gene_by_motif(
            scget.tl.gene_by_motif(pb, model, groups="A", device="cpu", copy=True), group="A"
        )
    assert not np.allclose(stored.to_numpy(), with_prior.to_numpy())
