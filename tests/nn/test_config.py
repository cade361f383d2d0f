import json

import pytest

from scget.nn import PRESETS, GETConfig


def test_from_preset_base_is_the_published_size():
    config = GETConfig.from_preset("base", 283)
    assert (config.hidden_dim, config.n_layers, config.n_heads, config.ffn_dim) == (
        768,
        12,
        12,
        3072,
    )
    assert config.drop_path == 0.1
    assert config.n_features == 283
    assert config.n_outputs == 2


def test_from_preset_overrides_and_round_trip():
    config = GETConfig.from_preset("tiny", 10, dropout=0.0, n_outputs=3)
    assert config.dropout == 0.0
    assert config.n_outputs == 3
    assert config.hidden_dim == PRESETS["tiny"]["hidden_dim"]
    restored = GETConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert restored == config


def test_unknown_preset_names_the_choices():
    with pytest.raises(ValueError, match=r"Unknown preset 'huge'.*base.*small.*tiny"):
        GETConfig.from_preset("huge", 283)


def test_unknown_field_is_rejected():
    with pytest.raises(ValueError, match="Unknown GETConfig fields"):
        GETConfig.from_preset("tiny", 283, width=3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hidden_dim": 30, "n_heads": 4}, "not divisible"),
        ({"n_layers": 0}, "n_layers must be a positive integer"),
        ({"dropout": 1.0}, r"dropout must lie in \[0, 1\)"),
        ({"drop_path": -0.1}, "drop_path must lie"),
        ({"expression_beta": 0.0}, "expression_beta must be a positive number"),
        ({"expression_beta": True}, "expression_beta must be a positive number"),
    ],
)
def test_invalid_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GETConfig(n_features=5, **kwargs)


def test_a_configuration_saved_before_expression_beta_loads_as_published():
    saved = GETConfig(n_features=5).to_dict()
    del saved["expression_beta"]
    assert GETConfig.from_dict(saved).expression_beta == 1.0
