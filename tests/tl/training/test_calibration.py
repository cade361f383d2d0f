"""The offset of windows without an expression prior, measured on the validation chromosomes."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
from _planted import tiny_kwargs

import scget
from scget._shared.genomic import peak_coordinates
from scget._shared.utils import to_dense
from scget.tl._core._windows import build_inputs


def _predicted(pb, model, offset: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """get_plus and get_minus of ``model`` (with its offset, or with it set to 0) on a copy
    of ``pb``."""
    if not offset:
        model = copy.deepcopy(model)
        model.network.config = dataclasses.replace(model.config, no_prior_offset=0.0)
    work = pb.copy()
    scget.tl.predict(work, model, device="cpu")
    return work["atac"].layers["get_plus"], work["atac"].layers["get_minus"]


def _on(pb, model, part: str) -> np.ndarray:
    return peak_coordinates(pb["atac"])["chrom"].isin(model.split[part]).to_numpy()


def _validation_residual(pb, model) -> tuple[float, int]:
    """By hand: mean target - prediction without the offset over the accessible TSS
    regions (each strand of a TSS) of the validation chromosomes, in the training groups."""
    atac = pb["atac"]
    cells = (to_dense(atac.X) >= 0.05) & _on(pb, model, "valid_chromosomes")
    cells[~atac.obs_names.isin(model.params["prior_groups"])] = False
    tss = build_inputs(pb).tss
    predicted = _predicted(pb, model, offset=False)
    residuals = [
        atac.layers[target][cells & (tss[:, strand] > 0)]
        - predicted[strand][cells & (tss[:, strand] > 0)]
        for strand, target in enumerate(["target_plus", "target_minus"])
    ]
    residuals = np.concatenate(residuals)
    return residuals.mean(), len(residuals)


def test_new_genes_are_offset_by_the_validation_chromosomes_mean_residual(pb, trained, tmp_path):
    offset = trained.config.no_prior_offset
    assert offset != 0 and trained.params["no_prior_offset"] == pytest.approx(offset)
    residual, n = _validation_residual(pb, trained)
    assert n > 20
    assert offset == pytest.approx(residual, rel=1e-4, abs=1e-6)
    # the held-out chromosome's predictions move by the offset (clipped at 0); the
    # training chromosomes' (whose windows read a prior) do not
    plain, shifted = _predicted(pb, trained, offset=False)[0], _predicted(pb, trained)[0]
    known = ~np.isnan(plain)
    on_test = known & _on(pb, trained, "test_chromosomes")
    expected = np.maximum(plain + offset, 0.0) - plain
    np.testing.assert_allclose((shifted - plain)[on_test], expected[on_test], atol=1e-6)
    on_train = known & _on(pb, trained, "train_chromosomes")
    np.testing.assert_allclose(shifted[on_train], plain[on_train], atol=1e-6)

    trained.save(tmp_path / "model")
    assert scget.tl.GETModel.load(tmp_path / "model").config.no_prior_offset == offset


def test_fine_tuning_again_measures_the_offset_afresh(pb, trained):
    # trained from an offset of 0, not the given model's: else training and the
    # measurement would read the old offset on the validation windows
    again = scget.tl.finetune(
        pb, model=trained, leave_out_chromosomes=["chr4"], **tiny_kwargs(max_epochs=1)
    )
    residual, _ = _validation_residual(pb, again)
    assert again.config.no_prior_offset == pytest.approx(residual, rel=1e-4, abs=1e-6)


def test_without_a_validation_chromosome_nothing_is_offset(pb):
    model = scget.tl.finetune(pb, leave_out_groups=["D"], **tiny_kwargs(max_epochs=1))
    assert model.split["valid_chromosomes"] == []
    assert model.config.no_prior_offset == 0.0 and model.params["no_prior_offset"] is None
