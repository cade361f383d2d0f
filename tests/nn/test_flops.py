import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from scget.nn import GETConfig, GETNetwork, forward_flops


@pytest.mark.parametrize(("preset", "n_regions"), [("tiny", 200), ("small", 37)])
def test_forward_flops_match_torch_flop_counter(preset, n_regions):
    config = GETConfig.from_preset(preset, 283)
    network = GETNetwork(config).eval()
    x = torch.rand(2, n_regions, 283)
    # the math backend decomposes attention into matmuls that torch counts
    with FlopCounterMode(display=False) as counter, sdpa_kernel(SDPBackend.MATH):
        network(x)
    assert counter.get_total_flops() == 2 * forward_flops(config, n_regions)


def test_forward_flops_by_hand():
    config = GETConfig(n_features=3, hidden_dim=4, n_layers=1, n_heads=1, ffn_dim=8, n_outputs=2)
    # L = 2 regions, T = 3 tokens
    embedding = 2 * 2 * 3 * 4
    block = 2 * 3 * 4 * 12 + 4 * 9 * 4 + 2 * 3 * 4 * 4 + 4 * 3 * 4 * 8
    heads = 2 * 2 * 4 * (2 + 1 + 3)
    assert forward_flops(config, 2) == embedding + block + heads
