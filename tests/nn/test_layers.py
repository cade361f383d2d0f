import pytest
import torch
import torch.nn.functional as F

from scget.nn._layers import EncoderBlock, biased_attention


@pytest.mark.parametrize("shape", [(3, 4, 21, 16), (2, 2, 9, 24)])
def test_biased_attention_is_torchs_math_kernel_bit_for_bit(shape):
    generator = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(shape, generator=generator, requires_grad=True) for _ in range(3))
    batch, heads, tokens, _ = shape
    bias = 3 * torch.randn(batch, heads, tokens, tokens, generator=generator)
    bias[..., 5] = float("-inf")  # padding: a key no query may attend to
    bias.requires_grad_(True)
    upstream = torch.randn(shape, generator=generator)
    results = []
    for attend in (
        lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=bias),
        lambda: biased_attention(q, k, v, bias),
    ):
        out = attend()
        results.append((out, *torch.autograd.grad(out, (q, k, v, bias), upstream)))
    for expected, got in zip(*results, strict=True):
        assert torch.equal(expected, got)


def test_the_block_takes_the_biased_path_only_for_a_learned_bias(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "scget.nn._layers.biased_attention", lambda *args: calls.append(1) or args[2]
    )
    block = EncoderBlock(8, 2, 16, dropout=0.0, attention_dropout=0.0, drop_path_rate=0.0)
    x = torch.randn(2, 5, 8)
    block(x, torch.zeros(2, 2, 5, 5))  # a fixed mask: torch's kernels
    assert calls == []
    learned = torch.zeros(2, 2, 5, 5, requires_grad=True)
    block(x, 2 * learned)
    assert calls == [1]
    with torch.no_grad():  # inference: no gradient, the fused kernel
        block(x, 2 * learned)
    assert calls == [1]
    block.to("meta")  # not a CPU: torch's kernels (fused where the device has them)
    block(x.to("meta"), (2 * learned).to("meta"))
    assert calls == [1]
