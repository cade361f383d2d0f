from __future__ import annotations

import numpy as np
import pytest
import torch
from _ddp_worker import N_FEATURES, ddp_gradients
from _ddp_worker import network as _network
from _planted import planted_pb
from _ports import free_port

from scget.tl._core._windows import WindowDataset, build_inputs, make_windows
from scget.tl._training._losses import FinetuneObjective, MaskedObjective
from scget.tl._training._params import TrainingParams
from scget.tl._training._trainer import (
    GlobalBatchSampler,
    _schedule,
    backward_step,
    evaluate_loss,
    fit,
)


def _batch(n: int = 6, length: int = 12) -> dict:
    """A batch whose samples have different padding, so their element counts differ."""
    generator = torch.Generator().manual_seed(1)
    padding = torch.arange(length)[None, :] >= torch.tensor([12, 3, 9, 12, 5, 7])[:n, None]
    return {
        "x": torch.rand(n, length, N_FEATURES, generator=generator),
        "target": torch.rand(n, length, 2, generator=generator) * 2,
        "padding_mask": padding,
        "index": torch.arange(n),
    }


def test_ddp_gradients_equal_single_process_gradients(tmp_path):
    import torch.multiprocessing as mp

    network = _network()
    batch = _batch()
    backward_step(network, batch, FinetuneObjective("poisson"), epoch=1, device=torch.device("cpu"))
    single = {n: p.grad.clone() for n, p in network.named_parameters() if p.grad is not None}
    state = {k: v.clone() for k, v in _network().state_dict().items()}

    mp.spawn(ddp_gradients, args=(2, free_port(), state, batch, str(tmp_path)), nprocs=2)

    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    assert set(ranks[0]) == set(single) == set(ranks[1])
    for name, grad in single.items():
        assert grad.abs().sum() > 0
        torch.testing.assert_close(ranks[0][name], ranks[1][name], rtol=0, atol=0)
        torch.testing.assert_close(ranks[0][name], grad, rtol=1e-5, atol=1e-7)


def test_global_batch_sampler_splits_the_single_process_batches():
    single = GlobalBatchSampler(23, 8, shuffle=True, seed=3)
    single.set_epoch(2)
    parts = []
    for rank in range(3):
        sampler = GlobalBatchSampler(23, 8, shuffle=True, seed=3, rank=rank, world_size=3)
        sampler.set_epoch(2)
        parts.append(list(sampler))
        assert len(sampler) == 3
    for step, batch in enumerate(single):
        assert sorted(batch) == sorted(i for p in parts for i in p[step])
    assert sorted(i for batch in single for i in batch) == list(range(23))
    other = GlobalBatchSampler(23, 8, shuffle=True, seed=3)
    other.set_epoch(3)
    assert list(other) != list(single)


def test_schedule_warms_up_then_decays():
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    params = TrainingParams(warmup_fraction=0.1, min_lr_ratio=0.01)
    scheduler = _schedule(optimizer, 100, params)
    lrs = []
    for _ in range(100):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs[0] == pytest.approx(0.1)
    assert np.all(np.diff(lrs[:10]) > 0) and lrs[9] == pytest.approx(1.0)
    assert np.all(np.diff(lrs[10:]) <= 0) and lrs[-1] == pytest.approx(0.01, abs=1e-3)


def test_training_params_reject_bad_values():
    with pytest.raises(ValueError, match="patience"):
        TrainingParams(patience=0)
    with pytest.raises(ValueError, match="warmup"):
        TrainingParams(warmup_fraction=1.5)


def test_small_model_overfits_a_tiny_dataset():
    pb = planted_pb(n_chromosomes=2, peaks_per_chromosome=70, plus_fraction=1.0)
    inputs = build_inputs(pb)
    dataset = WindowDataset(inputs, make_windows(inputs, window_size=32, stride=32)[:4], 32)
    params = TrainingParams(max_epochs=300, batch_size=4, lr=1e-2, weight_decay=0.0, patience=None)
    history, _ = fit(
        _network(), FinetuneObjective("mse"), dataset, dataset, params=params, device="cpu"
    )
    first, last = history["train_loss"].iloc[0], history["train_loss"].iloc[-1]
    assert last < 0.1 * first, (first, last)


def test_early_stopping_restores_the_best_weights():
    inputs = build_inputs(planted_pb(n_chromosomes=2, peaks_per_chromosome=70))
    train = WindowDataset(
        inputs, make_windows(inputs, window_size=32, stride=32, chromosomes=["chr1"]), 32
    )
    valid = WindowDataset(
        inputs, make_windows(inputs, window_size=32, stride=32, chromosomes=["chr2"]), 32
    )
    network = _network()
    params = TrainingParams(max_epochs=40, batch_size=4, lr=1e-2, weight_decay=0.0, patience=3)
    history, best_epoch = fit(
        network, FinetuneObjective("mse"), train, valid, params=params, device="cpu"
    )
    assert history["valid_loss"].idxmin() + 1 == best_epoch
    loader = torch.utils.data.DataLoader(valid, batch_size=8)
    restored = evaluate_loss(network, loader, FinetuneObjective("mse"), device=torch.device("cpu"))
    assert restored == pytest.approx(history["valid_loss"].min(), rel=1e-5)
    if len(history) < params.max_epochs:
        assert len(history) - best_epoch == params.patience


def test_masked_objective_masks_half_of_the_real_regions_reproducibly():
    objective = MaskedObjective(0.5, seed=4)
    batch = _batch()
    masks = objective.masks(batch, epoch=1)
    assert not (masks & batch["padding_mask"]).any()
    share = masks.sum() / (~batch["padding_mask"]).sum()
    assert 0.3 < share < 0.7
    assert torch.equal(masks, objective.masks(batch, epoch=1))
    assert not torch.equal(masks, objective.masks(batch, epoch=2))
    single = objective.masks({k: v[2:3] for k, v in batch.items()}, epoch=1)
    assert torch.equal(single[0], masks[2])


def test_objectives_ignore_padding():
    network = _network().eval()
    batch = _batch()
    changed = {**batch, "x": batch["x"].clone(), "target": batch["target"].clone()}
    changed["x"][batch["padding_mask"]] = 5.0
    changed["target"][batch["padding_mask"]] = 7.0
    for objective in (FinetuneObjective("poisson"), MaskedObjective(0.5)):
        total, count = objective(network, batch, epoch=1)
        total_changed, count_changed = objective(network, changed, epoch=1)
        torch.testing.assert_close(total, total_changed)
        assert count == count_changed
    assert FinetuneObjective()(network, batch)[1] == 2 * (~batch["padding_mask"]).sum()
