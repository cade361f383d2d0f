import pytest
import torch

from scget.nn import ARCHITECTURES, PRIOR_CHANNELS, GETConfig, GETNetwork, GETOutput


@pytest.fixture
def network():
    torch.manual_seed(0)
    return GETNetwork(GETConfig.from_preset("tiny", 12)).eval()


def expected_parameter_count(n_features, hidden, n_layers, ffn, n_outputs=2):
    block = (
        (3 * hidden * hidden + 3 * hidden)  # qkv
        + (hidden * hidden + hidden)  # attention projection
        + (hidden * ffn + ffn)  # fc1
        + (ffn * hidden + hidden)  # fc2
        + 4 * hidden  # two LayerNorms
    )
    return (
        (n_features * hidden + hidden)  # region embedding
        + 2 * hidden  # CLS and MASK tokens
        + n_layers * block
        + 2 * hidden  # final LayerNorm
        + (hidden * n_outputs + n_outputs)
        + (hidden + 1)
        + (hidden * n_features + n_features)
    )


@pytest.mark.parametrize("preset", ["tiny", "small", "base"])
def test_parameter_count_matches_the_architecture(preset):
    config = GETConfig.from_preset(preset, 283)
    with torch.device("meta"):  # shapes only, no memory or initialisation cost
        network = GETNetwork(config)
    count = sum(p.numel() for p in network.parameters())
    assert count == expected_parameter_count(
        283, config.hidden_dim, config.n_layers, config.ffn_dim
    )
    if preset == "base":
        assert 85e6 < count < 86e6  # "about 85 M parameters" (published code)


def test_output_shapes_and_softplus(network):
    x = torch.rand(3, 7, 12)
    out = network(x)
    assert isinstance(out, GETOutput)
    assert out.expression.shape == (3, 7, 2)
    assert out.accessibility.shape == (3, 7, 1)
    assert out.reconstruction.shape == (3, 7, 12)
    assert out.hidden.shape == (3, 7, 64)
    assert out.region_embedding.shape == (3, 7, 64)
    assert (out.expression > 0).all() and (out.accessibility > 0).all()
    linear = network.region_embedding
    torch.testing.assert_close(out.region_embedding, x @ linear.weight.T + linear.bias)


def test_expression_beta_sharpens_the_expression_softplus_only():
    torch.manual_seed(0)
    published = GETNetwork(GETConfig.from_preset("tiny", 12)).eval()
    sharp = GETNetwork(GETConfig.from_preset("tiny", 12, expression_beta=10.0)).eval()
    sharp.load_state_dict(published.state_dict())
    x = torch.rand(1, 5, 12)
    out = {}
    for name, net in (("published", published), ("sharp", sharp)):
        with torch.no_grad():  # the expression logits are the head's bias: 0 and 1.1
            net.expression_head.weight.zero_()
            net.expression_head.bias.copy_(torch.tensor([0.0, 1.1]))
        out[name] = net(x)
    # log(1 + exp(beta x)) / beta, by hand
    expected = {"published": [0.6931472, 1.3873353], "sharp": [0.0693147, 1.1000017]}
    for name, values in expected.items():
        torch.testing.assert_close(out[name].expression[0], torch.tensor([values] * 5))
    torch.testing.assert_close(out["published"].accessibility, out["sharp"].accessibility)


def test_padding_does_not_change_real_positions(network):
    torch.manual_seed(1)
    x = torch.rand(2, 9, 12)
    reference = network(x)
    # append 4 padded regions of random content to both windows
    padded = torch.cat([x, 10 * torch.rand(2, 4, 12)], dim=1)
    padding_mask = torch.zeros(2, 13, dtype=torch.bool)
    padding_mask[:, 9:] = True
    out = network(padded, padding_mask=padding_mask)
    for name in GETOutput._fields:
        torch.testing.assert_close(
            getattr(out, name)[:, :9], getattr(reference, name), atol=1e-6, rtol=1e-5
        )
    # without the padding mask the appended regions do change the outputs
    unmasked = network(padded)
    assert not torch.allclose(unmasked.expression[:, :9], reference.expression, atol=1e-4)


def test_padding_of_different_lengths_in_one_batch(network):
    torch.manual_seed(2)
    a, b = torch.rand(1, 5, 12), torch.rand(1, 8, 12)
    batch = torch.cat([torch.cat([a, torch.zeros(1, 3, 12)], dim=1), b])
    padding_mask = torch.zeros(2, 8, dtype=torch.bool)
    padding_mask[0, 5:] = True
    out = network(batch, padding_mask=padding_mask)
    torch.testing.assert_close(out.expression[0, :5], network(a).expression[0], atol=1e-6, rtol=0)
    torch.testing.assert_close(out.expression[1], network(b).expression[0], atol=1e-6, rtol=0)


def test_no_positional_encoding_means_permutation_equivariance(network):
    x = torch.rand(2, 10, 12)
    order = torch.randperm(10)
    out = network(x)
    permuted = network(x[:, order])
    torch.testing.assert_close(permuted.expression, out.expression[:, order], atol=1e-6, rtol=1e-5)


def test_masked_regions_ignore_their_features(network):
    x = torch.rand(2, 6, 12)
    mask = torch.zeros(2, 6, dtype=torch.bool)
    mask[:, [1, 4]] = True
    out = network(x, mask=mask)
    changed = x.clone()
    changed[:, [1, 4]] = torch.rand(2, 2, 12)
    out_changed = network(changed, mask=mask)
    torch.testing.assert_close(out_changed.expression, out.expression)
    torch.testing.assert_close(out_changed.reconstruction, out.reconstruction)
    # the same change without masking is seen by every region
    assert not torch.allclose(network(changed).expression, network(x).expression)


def test_jacobian_through_region_embedding(network):
    x = torch.rand(1, 6, 12)
    out = network(x)
    (grad,) = torch.autograd.grad(out.expression[0, 2, 0], out.region_embedding)
    assert grad.shape == (1, 6, 64)
    assert (grad.norm(dim=-1) > 0).all()


def test_drop_path_rises_linearly_and_train_mode_is_stochastic():
    config = GETConfig.from_preset("tiny", 12, n_layers=5, drop_path=0.2)
    network = GETNetwork(config)
    rates = [block.drop_path_rate for block in network.blocks]
    assert rates == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2])
    x = torch.rand(4, 6, 12)
    network.train()
    assert not torch.equal(network(x).expression, network(x).expression)
    network.eval()
    assert torch.equal(network(x).expression, network(x).expression)


def test_initialisation():
    torch.manual_seed(0)
    network = GETNetwork(GETConfig.from_preset("small", 283))
    weight = network.blocks[0].fc1.weight
    assert weight.std().item() == pytest.approx(0.02 * 0.88, rel=0.05)  # truncated at 2 std
    assert weight.abs().max().item() <= 0.04
    assert torch.count_nonzero(network.blocks[0].fc1.bias) == 0
    assert torch.equal(network.norm.weight, torch.ones(256))


def test_bad_shapes_raise(network):
    with pytest.raises(ValueError, match=r"x must have shape \(batch, regions, 12\)"):
        network(torch.rand(2, 5, 11))
    with pytest.raises(ValueError, match="padding_mask must have shape"):
        network(torch.rand(2, 5, 12), padding_mask=torch.zeros(2, 4, dtype=torch.bool))


def test_bf16_autocast_with_masks_and_backward(network):
    # the mixed-precision path used on GPUs, here on the CPU
    x = torch.rand(2, 8, 12)
    mask = torch.zeros(2, 8, dtype=torch.bool)
    mask[:, 3] = True
    padding_mask = torch.zeros(2, 8, dtype=torch.bool)
    padding_mask[1, 6:] = True
    network.train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = network(x, mask=mask, padding_mask=padding_mask)
    assert torch.isfinite(out.expression.float()).all()
    out.expression.float().sum().backward()
    assert torch.isfinite(network.region_embedding.weight.grad).all()
    network.eval()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = network(x).expression.float()
    torch.testing.assert_close(low, network(x).expression, atol=0.05, rtol=0.05)


def test_layer_states_are_the_blocks_outputs(network):
    x = torch.rand(2, 7, 12)
    states = network.layer_states(x)
    assert len(states) == network.config.n_layers
    assert all(state.shape == (2, 7, 64) for state in states)
    torch.testing.assert_close(network.norm(states[-1]), network(x).hidden)
    # the first block sees [CLS] + embeddings: recompute it by hand
    tokens = torch.cat([network.cls_token.expand(2, -1, -1), network.region_embedding(x)], dim=1)
    torch.testing.assert_close(states[0], network.blocks[0](tokens)[:, 1:])
    assert not torch.allclose(states[0], states[1])


@pytest.mark.parametrize("architecture", ["published", "tss+distance+prior"])
def test_outputs_at_one_region_equal_the_whole_windows(architecture):
    # the last block computes the chosen region's token only: same outputs and gradients
    torch.manual_seed(0)
    network = GETNetwork(GETConfig.from_preset("tiny", 12, **ARCHITECTURES[architecture]))
    with torch.no_grad():  # trained-like: the extensions' zero initialisation made non-zero
        for parameter in network.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
    network.eval()
    batch, length = 5, 20
    x = torch.rand(batch, length, 12, requires_grad=True)
    padding = torch.zeros(batch, length, dtype=torch.bool)
    padding[1, 15:] = True
    context = {
        "padding_mask": padding,
        "tss": torch.rand(batch, length, 2),
        "positions": torch.randint(0, 10**6, (batch, length)).sort(dim=1).values,
        "prior": torch.rand(batch, length, len(PRIOR_CHANNELS)),
    }
    context = {
        k: v for k, v in context.items() if k == "padding_mask" or architecture != "published"
    }
    at = torch.tensor([3, 0, 14, 19, 19])
    rows = torch.arange(batch)
    whole, chosen = network(x, **context), network(x, **context, at=at)
    for name in ("expression", "accessibility", "reconstruction", "hidden"):
        assert getattr(chosen, name).shape[1] == 1
        torch.testing.assert_close(getattr(chosen, name)[:, 0], getattr(whole, name)[rows, at])
    torch.testing.assert_close(chosen.region_embedding, whole.region_embedding)
    (expected,) = torch.autograd.grad(whole.expression[rows, at, 1].sum(), x)
    (gradient,) = torch.autograd.grad(chosen.expression[:, 0, 1].sum(), x)
    torch.testing.assert_close(gradient, expected)
    with pytest.raises(ValueError, match=r"one region per window\), got \(2,\)"):
        network(x, **context, at=at[:2])
