"""The prior's direct map anchored at the linear fit of the training groups."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from _planted import planted_pb, tiny_kwargs

import scget
from scget.nn import GETConfig
from scget.nn._network import PRIOR_SCALE
from scget.tl._core._prior import add_prior
from scget.tl._core._windows import build_inputs
from scget.tl._training._anchor import EXPRESSION_BETA, anchor_prior_head, fit_prior_anchor

TRAIN = ["chr1", "chr2", "chr3"]


def test_the_fit_recovers_a_linear_expression():
    pb = planted_pb()
    inputs = add_prior(pb, build_inputs(pb), groups=["A", "B", "C"], chromosomes=TRAIN)
    planted = np.array([0.9, 0.3, -2.0, 1.5, 2.5])  # own prior, presence, mean acc, motif, acc
    groups = []
    for group in inputs.groups:
        prior, targets = group.prior, np.zeros_like(group.targets)
        for strand in (0, 1):
            columns = [prior[:, strand], prior[:, 2], prior[:, 3], prior[:, 4], group.accessibility]
            targets[:, strand] = np.column_stack(columns) @ planted
        groups.append(dataclasses.replace(group, targets=targets))
    inputs = dataclasses.replace(inputs, groups=groups)
    np.testing.assert_allclose(fit_prior_anchor(inputs, ["A", "B"], TRAIN), planted, atol=1e-5)
    with pytest.raises(ValueError, match="nothing to anchor"):
        fit_prior_anchor(inputs, ["A", "B"], ["chr4"])  # no expression prior off TRAIN


def test_new_groups_train_around_the_fixed_anchor(pb, tmp_path):
    model = scget.tl.finetune(pb, leave_out_groups=["D"], **tiny_kwargs(max_epochs=2))
    assert model.params["anchor_prior"] is True and model.split["valid_groups"] == ["C"]
    assert model.params["prior_weighting"] == "matched"
    inputs = add_prior(
        pb,
        build_inputs(pb),
        groups=["A", "B", "C"],
        chromosomes=model.split["train_chromosomes"],
        weighting="matched",
    )
    expected = fit_prior_anchor(inputs, ["A", "B"], model.split["train_chromosomes"])
    weight = model.network.prior_head.weight.detach()
    np.testing.assert_allclose(weight[0, [0, 2, 3, 4, 5]] * PRIOR_SCALE, expected, rtol=1e-5)
    np.testing.assert_allclose(weight[1, [1, 2, 3, 4, 5]] * PRIOR_SCALE, expected, rtol=1e-5)
    assert weight[0, 1] == weight[1, 0] == 0  # each strand reads its own prior
    assert model.network.prior_head.weight.requires_grad  # trainable again afterwards
    assert model.network.config.expression_beta == EXPRESSION_BETA  # the anchor is not bent
    model.save(tmp_path / "anchored")
    assert scget.tl.GETModel.load(tmp_path / "anchored").config.expression_beta == EXPRESSION_BETA

    free = scget.tl.finetune(
        pb, leave_out_groups=["D"], anchor_prior=False, **tiny_kwargs(max_epochs=2)
    )
    assert free.params["anchor_prior"] is False and free.network.config.expression_beta == 1.0
    anchored = SimpleNamespace(
        prior_head=torch.nn.Linear(6, 2, bias=False), config=GETConfig(n_features=3)
    )
    anchor_prior_head(anchored, expected)
    torch.testing.assert_close(anchored.prior_head.weight, weight)
    assert not torch.allclose(free.network.prior_head.weight, weight, atol=1e-3)


def test_an_anchor_needs_a_prior(pb):
    with pytest.raises(ValueError, match="anchor_prior=True needs an expression prior"):
        scget.tl.finetune(
            pb,
            leave_out_groups=["D"],
            architecture="tss",
            anchor_prior=True,
            **tiny_kwargs(max_epochs=1),
        )
    # without asking, a network without a prior trains for new groups unanchored
    model = scget.tl.finetune(
        pb, leave_out_groups=["D"], architecture="tss", **tiny_kwargs(max_epochs=1)
    )
    assert model.params["anchor_prior"] is False
