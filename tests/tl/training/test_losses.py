"""Training objectives: motif-feature dropout."""

from __future__ import annotations

import pytest
import torch

from scget.nn import GETConfig, GETNetwork
from scget.tl._training._losses import ExpressionObjective, drop_motif_features, sample_draws


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
    plain, with_dropout = ExpressionObjective("mse"), ExpressionObjective("mse", 0.9)
    network.eval()
    assert torch.equal(plain(network, batch)[0], with_dropout(network, batch)[0])
    network.train()
    torch.manual_seed(2)
    assert not torch.equal(plain(network, batch)[0], with_dropout(network, batch)[0])


@pytest.mark.parametrize("bad", [-0.1, 1.0])
def test_feature_dropout_is_checked(bad):
    with pytest.raises(ValueError, match="feature_dropout"):
        ExpressionObjective("mse", bad)


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
