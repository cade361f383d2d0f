"""Training objectives: motif-feature dropout."""

from __future__ import annotations

import pytest
import torch

from scget.nn import GETConfig, GETNetwork
from scget.tl._training._losses import ExpressionObjective, drop_motif_features


def test_feature_dropout_spares_accessibility_and_keeps_the_mean():
    torch.manual_seed(0)
    x = torch.rand(8, 50, 21) + 0.5
    dropped = drop_motif_features(x, 0.5)
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
