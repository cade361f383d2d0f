import dataclasses
import math

import pytest
import torch

from scget.nn import ARCHITECTURES, PRIOR_CHANNELS, DistanceBias, GETConfig, GETNetwork
from scget.nn._distance import BIAS_SCALE, DISTANCE_UNIT, MAX_DISTANCE, N_KNOTS


def _inputs(batch=2, length=9, n_features=12, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, length, n_features, generator=generator)
    tss = (torch.rand(batch, length, 2, generator=generator) < 0.3).float()
    positions = torch.sort(torch.randint(0, 3_000_000, (batch, length), generator=generator))[0]
    return x, tss, positions


def _trained_like(network):
    """Perturb every parameter, as training would, so that zeros are not special."""
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.add_(0.05 * torch.randn(parameter.shape, generator=generator))
    return network


def test_extending_a_trained_network_leaves_its_outputs_unchanged():
    torch.manual_seed(0)
    network = _trained_like(GETNetwork(GETConfig.from_preset("tiny", 12))).eval()
    x, tss, positions = _inputs()
    padding = torch.zeros(x.shape[:2], dtype=torch.bool)
    padding[1, 6:] = True
    before = network(x, padding_mask=padding)
    network.extend(**ARCHITECTURES["tss+distance"])
    assert network.config.tss_input and network.config.distance_bias
    after = network(x, padding_mask=padding, tss=tss, positions=positions)
    for name in ("expression", "accessibility", "reconstruction", "hidden"):
        torch.testing.assert_close(getattr(after, name), getattr(before, name))
    # once trained, the extensions do change the outputs
    with torch.no_grad():
        network.tss_embedding.weight.fill_(0.1)
        network.distance_bias.table.normal_()
    changed = network(x, padding_mask=padding, tss=tss, positions=positions)
    assert not torch.allclose(changed.expression, before.expression, atol=1e-4)


def test_new_networks_start_their_extensions_at_zero():
    network = GETNetwork(GETConfig.from_preset("tiny", 12, tss_input=True, distance_bias=True))
    assert (network.tss_embedding.weight == 0).all()
    assert (network.distance_bias.table == 0).all()
    published = GETNetwork(GETConfig.from_preset("tiny", 12))
    assert published.tss_embedding is None and published.distance_bias is None
    names = set(published.state_dict())
    assert not any("tss" in n or "distance" in n for n in names)


def test_distance_coordinates_match_the_formula():
    positions = torch.tensor([[1_000, 1_000, 21_000, 9_000_000]])
    u = DistanceBias.knot_coordinates(positions)
    scale = N_KNOTS / math.log10(1 + MAX_DISTANCE / DISTANCE_UNIT)
    # query 0 -> key 2: 20 kb downstream
    assert u[0, 0, 2].item() == pytest.approx(N_KNOTS + scale * math.log10(1 + 200), rel=1e-6)
    # key 2 -> query 0 is the same distance upstream
    assert u[0, 2, 0].item() == pytest.approx(N_KNOTS - scale * math.log10(1 + 200), rel=1e-6)
    assert u[0, 0, 1].item() == pytest.approx(N_KNOTS)  # same midpoint
    assert u[0, 0, 3].item() == pytest.approx(2 * N_KNOTS)  # beyond 5 Mb: the last knot
    assert u[0, 3, 0].item() == pytest.approx(0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["compiled", "hats"])
def test_distance_bias_interpolates_its_table(dtype):
    # float32 on a CPU runs the compiled loops, other types the product with hat functions
    bias = DistanceBias(n_layers=2, n_heads=3).to(dtype)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        bias.table.copy_(torch.randn(bias.table.shape, generator=generator))
    positions = torch.tensor([[0, 20_000, 3_000]])
    values = bias(positions, dtype, lead=1)
    assert len(values) == 2 and all(v.shape == (1, 3, 4, 4) for v in values)
    u = DistanceBias.knot_coordinates(positions)
    for layer in range(2):
        assert (values[layer][:, :, 0] == 0).all() and (values[layer][:, :, :, 0] == 0).all()
        for head in range(3):
            curve = bias.table[layer, head].detach().numpy()
            for query in range(3):
                for key in range(3):
                    point = u[0, query, key].item()
                    lower = min(int(point), 2 * N_KNOTS - 1)
                    expected = curve[lower] + (curve[lower + 1] - curve[lower]) * (point - lower)
                    got = values[layer][0, head, query + 1, key + 1].item()
                    assert got == pytest.approx(BIAS_SCALE * expected, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("lead", [0, 1])
@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_compiled_distance_bias_matches_the_hat_product(lead, order):
    # the CPU's compiled loops (float32) against the hat-function product (float64):
    # values and the table's gradient, in windows of sorted and of shuffled regions
    generator = torch.Generator().manual_seed(1)
    compiled = DistanceBias(n_layers=2, n_heads=4)
    with torch.no_grad():
        compiled.table.copy_(torch.randn(compiled.table.shape, generator=generator))
    hats = DistanceBias(n_layers=2, n_heads=4).double()
    hats.load_state_dict(compiled.state_dict())
    positions = torch.randint(0, 3_000_000, (5, 37), generator=generator)
    if order == "sorted":
        positions = positions.sort(dim=1).values
    padding = torch.zeros(positions.shape, dtype=torch.bool)
    padding[1, 30:] = padding[3, 20:] = True
    fast = compiled(positions, lead=lead, padding=padding)
    slow = hats(positions, torch.float64, lead=lead, padding=padding)
    weights = [torch.randn(v.shape, generator=generator, dtype=torch.float64) for v in slow]
    for value, reference in zip(fast, slow, strict=True):
        assert value.dtype == torch.float32
        assert (value[1, :, :, lead + 30 :] == float("-inf")).all()
        assert (value[1, :, :, lead:30] > float("-inf")).all()
        torch.testing.assert_close(value.double(), reference, rtol=1e-6, atol=1e-5)
    (gradient,) = torch.autograd.grad(fast, compiled.table, [w.float() for w in weights])
    (expected,) = torch.autograd.grad(slow, hats.table, weights)
    torch.testing.assert_close(gradient.double(), expected, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["compiled", "hats"])
def test_distance_bias_of_repeated_windows_equals_each_window_alone(dtype):
    bias = DistanceBias(n_layers=2, n_heads=3).to(dtype)
    with torch.no_grad():
        bias.table.normal_(generator=torch.Generator().manual_seed(0))
    positions = torch.tensor([[0, 20_000, 3_000], [500, 900, 70_000]])
    repeated = positions[[1, 0, 1, 1]]  # as a knockout batch: copies of few windows
    values = bias(repeated, dtype)
    assert all(v.shape == (4, 3, 3, 3) for v in values)
    with torch.no_grad():  # inference interpolates each distinct window once
        inferred = bias(repeated, dtype)
        assert all(v.stride(0) == 0 for v in bias(repeated[[0, 0]], dtype))  # views of one
    for row, window in enumerate([1, 0, 1, 1]):
        for value, guess, alone in zip(
            values, inferred, bias(positions[window : window + 1], dtype), strict=True
        ):
            torch.testing.assert_close(value[row], alone[0])
            torch.testing.assert_close(guess[row], alone[0])
    sum(v.sum() for v in values).backward()  # the table still learns through the shared rows
    assert bias.table.grad.abs().sum() > 0


def test_distance_bias_gradient_of_repeated_windows_is_reproducible():
    # training batches repeat a window (one copy per group): the table's gradient must
    # not depend on how threads split its sums (torch's indexing backward did, with 2)
    bias = DistanceBias(n_layers=2, n_heads=4)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        bias.table.normal_(generator=generator)
    positions = torch.randint(0, 2_000_000, (4, 33), generator=generator).sort(dim=1).values
    positions = positions.repeat(4, 1)
    weights = [torch.randn(16, 4, 34, 34, generator=generator) for _ in range(2)]
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        gradients = [
            torch.autograd.grad(bias(positions, lead=1), bias.table, weights)[0] for _ in range(20)
        ]
    finally:
        torch.set_num_threads(threads)
    assert all(torch.equal(gradient, gradients[0]) for gradient in gradients)


def test_padding_stays_invisible_with_a_distance_bias():
    torch.manual_seed(0)
    config = GETConfig.from_preset("tiny", 12, tss_input=True, distance_bias=True)
    network = _trained_like(GETNetwork(config)).eval()
    x, tss, positions = _inputs(batch=1, length=6)
    reference = network(x, tss=tss, positions=positions)
    padded = torch.cat([x, torch.rand(1, 3, 12)], dim=1)
    padding = torch.zeros(1, 9, dtype=torch.bool)
    padding[:, 6:] = True
    out = network(
        padded,
        padding_mask=padding,
        tss=torch.cat([tss, torch.ones(1, 3, 2)], dim=1),
        positions=torch.cat([positions, torch.zeros(1, 3, dtype=positions.dtype)], dim=1),
    )
    torch.testing.assert_close(out.expression[:, :6], reference.expression, atol=1e-6, rtol=1e-5)


def test_missing_context_is_a_clear_error():
    config = GETConfig.from_preset("tiny", 12, tss_input=True, distance_bias=True)
    network = GETNetwork(config)
    x, tss, positions = _inputs()
    with pytest.raises(ValueError, match="TSS indicators"):
        network(x, positions=positions)
    with pytest.raises(ValueError, match="positions"):
        network(x, tss=tss)
    with pytest.raises(ValueError, match="True or False"):
        GETConfig.from_preset("tiny", 12, tss_input=1)


def _prior(batch=2, length=9, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, length, len(PRIOR_CHANNELS), generator=generator)


def test_adding_the_expression_prior_leaves_a_trained_network_unchanged():
    torch.manual_seed(0)
    network = _trained_like(GETNetwork(GETConfig.from_preset("tiny", 12))).eval()
    x, tss, positions = _inputs()
    before = network(x)
    network.extend(**ARCHITECTURES["tss+distance+prior"])
    assert network.config.expression_prior
    assert (network.prior_embedding.weight == 0).all() and (network.prior_head.weight == 0).all()
    after = network(x, tss=tss, positions=positions, prior=_prior())
    for name in ("expression", "accessibility", "reconstruction", "hidden"):
        torch.testing.assert_close(getattr(after, name), getattr(before, name))
    # trained, the prior reaches the expression through the embedding and the head's map
    with torch.no_grad():
        network.prior_head.weight[0, 0] = 1.0
    shifted = network(x, tss=tss, positions=positions, prior=_prior())
    torch.testing.assert_close(shifted.hidden, before.hidden)
    assert not torch.allclose(shifted.expression[..., 0], before.expression[..., 0], atol=1e-4)
    torch.testing.assert_close(shifted.expression[..., 1], before.expression[..., 1])
    with torch.no_grad():
        network.prior_embedding.weight.normal_()  # (a constant would be normalised away)
    embedded = network(x, tss=tss, positions=positions, prior=_prior())
    assert not torch.allclose(embedded.hidden, before.hidden, atol=1e-4)


def test_a_network_with_a_prior_asks_for_it():
    config = GETConfig.from_preset("tiny", 12, tss_input=True, expression_prior=True)
    network = GETNetwork(config)
    x, tss, _ = _inputs()
    with pytest.raises(ValueError, match="expression prior"):
        network(x, tss=tss)
    with pytest.raises(ValueError, match="expression prior"):
        network(x, tss=tss, prior=_prior()[..., :3])
    assert network(x, tss=tss, prior=_prior()).expression.shape == (2, 9, 2)

    published = GETNetwork(GETConfig.from_preset("tiny", 12))
    assert not any("prior" in n for n in published.state_dict())


def test_the_offset_without_a_prior_shifts_only_windows_that_have_none():
    config = GETConfig.from_preset("tiny", 12, tss_input=True, expression_prior=True)
    network = _trained_like(GETNetwork(config)).eval()
    x, tss, _ = _inputs()
    prior = _prior()
    prior[0, :, PRIOR_CHANNELS.index("prior_present")] = 0.0  # window 0: no prior anywhere
    prior[1, :, PRIOR_CHANNELS.index("prior_present")] = 0.0
    prior[1, 4, PRIOR_CHANNELS.index("prior_present")] = 1.0  # window 1: one region has one
    before = network(x, tss=tss, prior=prior).expression
    network.config = dataclasses.replace(network.config, no_prior_offset=0.25)
    after = network(x, tss=tss, prior=prior).expression
    torch.testing.assert_close(after[0], before[0] + 0.25)
    torch.testing.assert_close(after[1], before[1])
    at = torch.tensor([3, 4])  # one region per window reads the same
    torch.testing.assert_close(
        network(x, tss=tss, prior=prior, at=at).expression[:, 0], after[[0, 1], [3, 4]]
    )
    # under autocast (as the engine runs on a GPU) the offset keeps the output's dtype
    without_offset = dataclasses.replace(network.config, no_prior_offset=0.0)
    plain = GETNetwork(without_offset).eval()
    plain.load_state_dict(network.state_dict())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = plain(x, tss=tss, prior=prior).expression.dtype
        assert network(x, tss=tss, prior=prior).expression.dtype == expected
    network.config = dataclasses.replace(network.config, no_prior_offset=-10.0)
    assert (network(x, tss=tss, prior=prior).expression[0] == 0).all()  # clipped at 0


def test_an_offset_without_a_prior_needs_one():
    with pytest.raises(ValueError, match=r"no_prior_offset.*expression_prior=True"):
        GETConfig.from_preset("tiny", 12, no_prior_offset=0.1)
