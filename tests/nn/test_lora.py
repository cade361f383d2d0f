import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from scget.nn import GETConfig, GETNetwork, LoRALinear, add_lora, lora_state_dict, merge_lora

HEAD_PREFIXES = ("expression_head", "accessibility_head", "reconstruction_head")


def make_network(preset="tiny", n_features=12, **overrides):
    torch.manual_seed(0)
    return GETNetwork(GETConfig.from_preset(preset, n_features, **overrides))


def train_steps(network, parameters, n_steps=5):
    optimizer = torch.optim.AdamW(parameters, lr=1e-2, weight_decay=0.05)
    generator = torch.Generator().manual_seed(3)
    network.train()
    for _ in range(n_steps):
        x = torch.rand(4, 10, 12, generator=generator)
        target = torch.rand(4, 10, 2, generator=generator)
        out = network(x)
        loss = F.poisson_nll_loss(out.expression, target, log_input=False)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    network.eval()


def base_weights(network):
    """Every parameter that is not an adapter and not in a head, under its plain name."""
    return {
        name.replace(".base.", "."): p.detach().clone()
        for name, p in network.named_parameters()
        if not name.endswith((".lora_a", ".lora_b")) and not name.startswith(HEAD_PREFIXES)
    }


def test_wrapped_network_starts_equal_and_wraps_the_expected_layers():
    network = make_network().eval()
    x = torch.rand(2, 10, 12)
    before = network(x).expression
    add_lora(network, rank=4, alpha=2.0)
    wrapped = sorted(n for n, m in network.named_modules() if isinstance(m, LoRALinear))
    n_layers = network.config.n_layers
    expected = ["region_embedding"] + [
        f"blocks.{i}.{name}" for i in range(n_layers) for name in ("fc1", "fc2", "proj", "qkv")
    ]
    assert wrapped == sorted(expected)
    assert network.region_embedding.scaling == 0.5
    assert network.lora == {
        "rank": 4,
        "alpha": 2.0,
        "dropout": 0.0,
        "targets": ["region_embedding", "blocks.*"],
    }
    torch.testing.assert_close(network(x).expression, before)  # B starts at zero


@pytest.mark.parametrize("optimise_all", [False, True])
def test_training_leaves_every_base_weight_bit_identical(optimise_all):
    network = add_lora(make_network(), rank=4)
    frozen_before = base_weights(network)
    heads_before = copy.deepcopy(network.expression_head.state_dict())
    lora_b_before = network.blocks[0].qkv.lora_b.detach().clone()
    parameters = (
        list(network.parameters())
        if optimise_all
        else [p for p in network.parameters() if p.requires_grad]
    )
    train_steps(network, parameters)
    frozen_after = base_weights(network)
    assert frozen_after.keys() == frozen_before.keys()
    assert {"cls_token", "mask_token", "norm.weight", "blocks.0.qkv.weight"} <= set(frozen_after)
    for name, value in frozen_before.items():
        assert torch.equal(frozen_after[name], value), name
    # what is meant to train did train
    assert not torch.equal(network.blocks[0].qkv.lora_b, lora_b_before)
    assert not torch.equal(network.expression_head.weight, heads_before["weight"])


def test_base_preset_trains_under_five_percent():
    with torch.device("meta"):
        network = add_lora(GETNetwork(GETConfig.from_preset("base", 283)), rank=8)
    trainable = sum(p.numel() for p in network.parameters() if p.requires_grad)
    total = sum(p.numel() for p in network.parameters())
    base = total - sum(
        p.numel() for n, p in network.named_parameters() if n.endswith((".lora_a", ".lora_b"))
    )
    assert trainable / base < 0.05
    # hand count: rank 8 on 283->768 and per block 768->2304, 768->768, 768->3072, 3072->768
    per_block = 8 * ((768 + 2304) + (768 + 768) + (768 + 3072) + (3072 + 768))
    adapters = 8 * (283 + 768) + 12 * per_block
    heads = (768 * 2 + 2) + (768 + 1) + (768 * 283 + 283)
    assert trainable == adapters + heads


def test_merge_reproduces_the_adapted_predictions():
    network = add_lora(make_network(), rank=4, alpha=4.0)
    train_steps(network, [p for p in network.parameters() if p.requires_grad])
    x = torch.rand(3, 10, 12)
    adapted = network(x)
    merge_lora(network)
    assert not any(isinstance(m, LoRALinear) for m in network.modules())
    assert type(network.blocks[0].qkv) is nn.Linear
    assert all(p.requires_grad for p in network.parameters())
    assert not hasattr(network, "lora")
    merged = network(x)
    for name in ("expression", "accessibility", "reconstruction", "hidden"):
        torch.testing.assert_close(getattr(merged, name), getattr(adapted, name), atol=1e-5, rtol=0)
    # the merged state dict loads into a fresh plain network
    fresh = GETNetwork(network.config).eval()
    fresh.load_state_dict(network.state_dict(), strict=True)
    torch.testing.assert_close(fresh(x).expression, adapted.expression, atol=1e-5, rtol=0)


def test_lora_state_dict_restores_the_adapted_network():
    base = make_network().eval()
    base_state = copy.deepcopy(base.state_dict())
    adapted = add_lora(base, rank=4)
    train_steps(adapted, [p for p in adapted.parameters() if p.requires_grad], n_steps=2)
    adapter = lora_state_dict(adapted)
    assert all(n.endswith((".lora_a", ".lora_b")) or n.startswith(HEAD_PREFIXES) for n in adapter)

    restored = make_network().eval()
    restored.load_state_dict(base_state)
    add_lora(restored, rank=4)
    result = restored.load_state_dict(adapter, strict=False)
    assert not result.unexpected_keys
    assert set(result.missing_keys) == {n for n, _ in restored.named_parameters()} - set(adapter)
    x = torch.rand(2, 10, 12)
    torch.testing.assert_close(restored(x).expression, adapted(x).expression)


def test_custom_targets_and_errors():
    network = add_lora(make_network(), rank=2, targets="blocks.*.qkv")
    wrapped = [n for n, m in network.named_modules() if isinstance(m, LoRALinear)]
    assert wrapped == ["blocks.0.qkv", "blocks.1.qkv"]
    assert not network.region_embedding.weight.requires_grad
    with pytest.raises(ValueError, match="already has LoRA adapters"):
        add_lora(network)
    with pytest.raises(ValueError, match="matches no Linear layer"):
        add_lora(make_network(), targets=["expression_head"])
    with pytest.raises(ValueError, match="rank must be a positive integer"):
        add_lora(make_network(), rank=0)
    with pytest.raises(ValueError, match="no LoRA adapters to merge"):
        merge_lora(make_network())


def test_extensions_added_to_a_trained_network_are_trained_in_full():
    torch.manual_seed(0)
    network = GETNetwork(GETConfig.from_preset("tiny", 12)).extend(
        tss_input=True, distance_bias=True
    )
    add_lora(network, rank=2)
    trainable = {name for name, p in network.named_parameters() if p.requires_grad}
    assert {"tss_embedding.weight", "distance_bias.table"} <= trainable
    assert "region_embedding.base.weight" not in trainable
    assert not any(
        name.startswith(("tss_embedding", "distance_bias")) and "lora" in name for name in trainable
    )
    assert {"tss_embedding.weight", "distance_bias.table"} <= set(lora_state_dict(network))


def test_motif_weight_norms_read_the_adapted_weight():
    """Under LoRA the motif group lasso sees (and trains) W + scaling * B @ A."""
    network = add_lora(make_network(), rank=4, alpha=4.0)
    train_steps(network, [p for p in network.parameters() if p.requires_grad])
    layer = network.region_embedding
    effective = layer.base.weight + layer.scaling * layer.lora_b @ layer.lora_a
    torch.testing.assert_close(network.motif_weight_norms(), effective[:, :-1].norm(dim=0))
    network.motif_weight_norms().sum().backward()
    assert layer.lora_a.grad is not None and layer.base.weight.grad is None
    torch.testing.assert_close(
        network.motif_weight_norms().detach(), merge_lora(network).motif_weight_norms().detach()
    )
