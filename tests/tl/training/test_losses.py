"""Training objectives: motif-feature dropout and the motif group lasso."""

from __future__ import annotations

import pytest
import torch

from scget.nn import PRIOR_CHANNELS, GETConfig, GETNetwork
from scget.tl._training._losses import (
    FinetuneObjective,
    drop_motif_features,
    drop_prior,
    sample_draws,
)


def test_feature_dropout_spares_accessibility_and_keeps_the_mean():
    torch.manual_seed(0)
    x = torch.rand(8, 50, 21) + 0.5
    dropped = drop_motif_features(x, 0.5, sample_draws(torch.arange(8), 0, 1, x.shape[1:]))
    assert torch.equal(dropped[..., -1], x[..., -1])
    motifs, kept = dropped[..., :-1], dropped[..., :-1] != 0
    assert 0.45 < kept.float().mean() < 0.55
    assert torch.allclose(motifs[kept], x[..., :-1][kept] * 2)


def _batch(n_features=6):
    torch.manual_seed(1)
    return {
        "x": torch.rand(2, 10, n_features),
        "padding_mask": torch.zeros(2, 10, dtype=torch.bool),
        "target": torch.rand(2, 10, 2),
        "index": torch.tensor([0, 1]),
    }


def test_feature_dropout_acts_in_training_only():
    network = GETNetwork(GETConfig.from_preset("tiny", 6, dropout=0.0))
    batch = _batch()
    plain, with_dropout = FinetuneObjective("mse"), FinetuneObjective("mse", 0.9)
    network.eval()
    assert torch.equal(plain(network, batch)[0], with_dropout(network, batch)[0])
    network.train()
    torch.manual_seed(2)
    assert not torch.equal(plain(network, batch)[0], with_dropout(network, batch)[0])


@pytest.mark.parametrize("bad", [-0.1, 1.0])
def test_feature_dropout_is_checked(bad):
    with pytest.raises(ValueError, match="feature_dropout"):
        FinetuneObjective("mse", bad)


def test_hidden_scores_depend_on_the_sample_not_the_batch():
    """A sample's hidden motif scores are the same alone or in a batch (as under DDP)."""
    batch = {key: value.clone() for key, value in _batch().items()}
    batch["x"][:, :, -1] = 0.5
    draws = sample_draws(batch["index"], 3, 4, batch["x"].shape[1:], stream=1)
    alone = sample_draws(batch["index"][1:], 3, 4, batch["x"].shape[1:], stream=1)
    torch.testing.assert_close(draws[1:], alone)
    dropped = drop_motif_features(batch["x"], 0.5, draws)
    hidden = draws[..., :-1] < 0.5
    assert (dropped[..., :-1][hidden] == 0).all()
    torch.testing.assert_close(dropped[..., :-1][~hidden], 2 * batch["x"][..., :-1][~hidden])
    torch.testing.assert_close(dropped[..., -1], batch["x"][..., -1])  # accessibility kept
    other_epoch = sample_draws(batch["index"], 3, 5, batch["x"].shape[1:], stream=1)
    assert not torch.equal(draws, other_epoch)


def _atac_batch():
    batch = _batch()
    batch["padding_mask"][1, 7:] = True
    batch["atac_target"] = torch.rand(2, 10)
    return batch


def _calls(network):
    """A list that records each forward call of ``network``."""
    calls = []
    network.register_forward_hook(lambda module, args, result: calls.append(args))
    return calls


def test_accessibility_and_joint_losses_by_hand():
    torch.manual_seed(0)
    network = GETNetwork(GETConfig.from_preset("tiny", 6, dropout=0.0)).eval()
    batch = _atac_batch()
    real = ~batch["padding_mask"]
    hidden = batch["x"].clone()
    hidden[..., -1] = 1
    with torch.no_grad():
        plain = network(batch["x"], padding_mask=batch["padding_mask"])
        blind = network(hidden, padding_mask=batch["padding_mask"])
        atac_mean = ((blind.accessibility[..., 0] - batch["atac_target"])[real] ** 2).mean()
        expr_mean = ((plain.expression - batch["target"])[real] ** 2).mean()
        total, count = FinetuneObjective("mse", objective="accessibility")(network, batch)
        assert count == real.sum()
        torch.testing.assert_close(total / count, atac_mean)
        joint = FinetuneObjective("mse", objective="joint", accessibility_weight=0.3)
        total, count = joint(network, batch)
        assert count == 2 * real.sum()
        torch.testing.assert_close(total / count, expr_mean + 0.3 * atac_mean)


def test_partly_hidden_accessibility_is_scored_on_the_hidden_regions_only():
    """With ``accessibility_hidden`` < 1 a seeded share of the real regions is hidden (set
    to 1) and scored; the other regions keep their accessibility as context."""
    torch.manual_seed(0)
    network = GETNetwork(GETConfig.from_preset("tiny", 6, dropout=0.0)).eval()
    batch = _atac_batch()
    real = ~batch["padding_mask"]
    draws = sample_draws(batch["index"], 7, None, (10,), stream=2)
    scored = real & (draws < 0.4)
    assert 0 < scored.sum() < real.sum()
    hidden = batch["x"].clone()
    hidden[..., -1] = torch.where(scored, 1.0, hidden[..., -1])
    objective = FinetuneObjective(
        "mse", seed=7, objective="accessibility", accessibility_hidden=0.4
    )
    with torch.no_grad():
        out = network(hidden, padding_mask=batch["padding_mask"]).accessibility[..., 0]
        by_hand = ((out - batch["atac_target"])[scored] ** 2).mean()
        total, count = objective(network, batch)
        assert count == scored.sum()
        torch.testing.assert_close(total / count, by_hand)
        batch["x"][..., -1] = torch.where(scored, batch["atac_target"], batch["x"][..., -1])
        torch.testing.assert_close(objective(network, batch)[0], total)  # own target unread
        batch["x"][..., -1] = torch.where(scored, batch["x"][..., -1], 0.9)
        assert not torch.equal(objective(network, batch)[0], total)  # the context is read


def test_accessibility_head_cannot_read_its_target():
    """The accessibility loss does not change with the accessibility input column."""
    network = GETNetwork(GETConfig.from_preset("tiny", 6, dropout=0.0)).eval()
    batch = _atac_batch()
    objective = FinetuneObjective("poisson", objective="accessibility")
    with torch.no_grad():
        before = objective(network, batch)[0]
        batch["x"][..., -1] = batch["atac_target"]
        torch.testing.assert_close(objective(network, batch)[0], before)


def test_joint_takes_one_pass_on_binary_input_and_two_on_quantitative():
    network = GETNetwork(GETConfig.from_preset("tiny", 6, dropout=0.0)).eval()
    calls = _calls(network)
    batch = _atac_batch()
    joint = FinetuneObjective("mse", objective="joint")
    with torch.no_grad():
        joint(network, batch)
        assert len(calls) == 2
        batch["x"][..., -1] = torch.where(batch["padding_mask"], 0.0, 1.0)  # binary
        joint(network, batch)
        assert len(calls) == 3


@pytest.mark.parametrize(
    ("objective", "weight", "hidden", "message"),
    [
        ("atac", 1.0, 1.0, "objective must be one of"),
        ("joint", 0.0, 1.0, "accessibility_weight"),
        ("joint", 1.0, 0.0, "accessibility_hidden"),
        ("accessibility", 1.0, 1.5, "accessibility_hidden"),
    ],
)
def test_objective_is_checked(objective, weight, hidden, message):
    with pytest.raises(ValueError, match=message):
        FinetuneObjective(
            objective=objective, accessibility_weight=weight, accessibility_hidden=hidden
        )


def test_motif_sparsity_adds_the_group_lasso_of_the_motif_columns_in_training():
    """The penalty is weight x the sum of the motif columns' L2 norms, per element."""
    network = GETNetwork(GETConfig.from_preset("tiny", 6, dropout=0.0))
    batch = _batch()
    plain, sparse = FinetuneObjective("mse"), FinetuneObjective("mse", motif_sparsity=0.01)
    weight = network.region_embedding.weight.detach()
    by_hand = sum(float(weight[:, j].pow(2).sum().sqrt()) for j in range(5))  # not column 6
    network.train()
    (loss, count), (penalised, same_count) = plain(network, batch), sparse(network, batch)
    assert float(count) == float(same_count) == 40
    penalty = float((penalised - loss).detach()) / float(count)
    assert penalty == pytest.approx(0.01 * by_hand, rel=1e-5)
    network.eval()  # validation losses leave it out
    assert torch.equal(plain(network, batch)[0], sparse(network, batch)[0])


def test_motif_sparsity_shrinks_unused_motifs_and_spares_accessibility():
    """Gradient steps on the penalty alone shrink every motif column, not accessibility."""
    network = GETNetwork(GETConfig.from_preset("tiny", 6, dropout=0.0)).train()
    before = network.region_embedding.weight.detach().clone()
    loss = network.motif_weight_norms().sum()
    loss.backward()
    with torch.no_grad():
        network.region_embedding.weight -= 0.01 * network.region_embedding.weight.grad
    after = network.region_embedding.weight.detach()
    assert (after[:, :-1].norm(dim=0) < before[:, :-1].norm(dim=0)).all()
    torch.testing.assert_close(after[:, -1], before[:, -1])


@pytest.mark.parametrize("bad", [-1e-3, float("nan")])
def test_motif_sparsity_is_checked(bad):
    with pytest.raises(ValueError, match="motif_sparsity"):
        FinetuneObjective("mse", motif_sparsity=bad)


def test_prior_dropout_hides_the_expression_of_the_prior_only():
    prior = torch.rand(2, 10, len(PRIOR_CHANNELS)) + 0.5
    hidden = torch.zeros(2, 10, dtype=torch.bool)
    hidden[0, :3] = True
    dropped = drop_prior(prior, hidden)
    assert (dropped[0, :3, :3] == 0).all()
    assert torch.equal(dropped[0, :3, 3:], prior[0, :3, 3:])  # the accessibility stays
    assert torch.equal(dropped[0, 3:], prior[0, 3:]) and torch.equal(dropped[1], prior[1])


def test_prior_dropout_acts_in_training_only():
    config = GETConfig.from_preset("tiny", 6, dropout=0.0, tss_input=True, expression_prior=True)
    network = GETNetwork(config)
    with torch.no_grad():
        network.prior_head.weight.normal_()
    prior = torch.rand(2, 10, len(PRIOR_CHANNELS))
    batch = {**_batch(), "prior": prior, "tss": torch.ones(2, 10, 2)}
    plain, dropping = FinetuneObjective("mse"), FinetuneObjective("mse", prior_dropout=0.5)
    network.eval()
    assert torch.equal(plain(network, batch)[0], dropping(network, batch)[0])
    network.train()
    assert not torch.equal(plain(network, batch)[0], dropping(network, batch, epoch=1)[0])
    with pytest.raises(ValueError, match="prior_dropout"):
        FinetuneObjective("mse", prior_dropout=1.5)
