"""The training loop: AdamW, warm-up + cosine schedule, early stopping, DDP.

The same code runs in one process or under ``torchrun``: when
:mod:`torch.distributed` is initialised, the network is wrapped in
DistributedDataParallel, every global batch is split between the ranks by
:class:`GlobalBatchSampler`, and only rank 0 logs. Losses are divided by the element
count of the whole global batch, so the gradients equal those of one process seeing
the whole batch.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from ..._shared.constants import HISTORY_COLUMNS
from ..._shared.logging import logger, progress
from ._params import TrainingParams
from ._resume import (
    RESUMABLE_CHANGES,
    LoopState,
    check_resumable,
    digest,
    read_state,
    restore,
    save_state,
    state_path,
)


def distributed_info() -> tuple[bool, int, int]:
    """``(distributed, rank, world_size)`` of the current process."""
    if dist.is_available() and dist.is_initialized():
        return True, dist.get_rank(), dist.get_world_size()
    return False, 0, 1


class GlobalBatchSampler:
    """Batches of indices: one global batch order, each rank taking its contiguous part.

    Every epoch the ``n`` indices are permuted with a generator seeded by ``(seed,
    epoch)`` (the same on every rank) and cut into global batches of ``batch_size``;
    rank ``r`` of ``world_size`` takes the ``r``-th of ``world_size`` near-equal parts
    of each. With one process this is ordinary shuffled batching, so a distributed run
    sees the same global batches as a single process. Global batches smaller than
    ``world_size`` (only possibly the last one) are dropped when ``drop_small``, as
    every rank must take part in each step.
    """

    def __init__(
        self,
        n: int,
        batch_size: int,
        *,
        shuffle: bool,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        drop_small: bool = True,
    ) -> None:
        self.n, self.batch_size, self.shuffle, self.seed = n, batch_size, shuffle, seed
        self.rank, self.world_size, self.drop_small = rank, world_size, drop_small
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Use the permutation of ``epoch``."""
        self.epoch = epoch

    def global_batches(self) -> list[np.ndarray]:
        """Return the global batches of the current epoch."""
        order = (
            np.random.default_rng((self.seed, self.epoch)).permutation(self.n)
            if self.shuffle
            else np.arange(self.n)
        )
        batches = [order[i : i + self.batch_size] for i in range(0, self.n, self.batch_size)]
        if self.drop_small:
            batches = [b for b in batches if len(b) >= self.world_size]
        return batches

    def __iter__(self):
        for batch in self.global_batches():
            part = np.array_split(batch, self.world_size)[self.rank]
            if len(part):
                yield part.tolist()

    def __len__(self) -> int:
        return sum(
            len(np.array_split(b, self.world_size)[self.rank]) > 0 for b in self.global_batches()
        )


def _to_device(batch: dict, device) -> dict:
    return {key: value.to(device, non_blocking=True) for key, value in batch.items()}


def _all_reduce_sum(*values: torch.Tensor, device) -> list[torch.Tensor]:
    """Sum scalar tensors over all ranks (identity in a single process)."""
    stacked = torch.stack([v.detach().float().to(device) for v in values])
    if distributed_info()[0]:
        dist.all_reduce(stacked)
    return list(stacked)


def backward_step(module, batch: dict, objective, *, epoch: int, device) -> tuple[float, float]:
    """Forward and backward pass of one (local part of a global) batch.

    The local loss sum is divided by the element count of the global batch and
    multiplied by the number of processes (DDP averages gradients over them), so the
    accumulated gradients are those of the global batch's mean loss.

    Returns
    -------
    The local loss sum and the global element count.
    """
    _, _, world_size = distributed_info()
    batch = _to_device(batch, device)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        loss_sum, count = objective(module, batch, epoch=epoch)
    (global_count,) = _all_reduce_sum(count, device=loss_sum.device)
    (loss_sum * world_size / global_count.clamp(min=1)).backward()
    return float(loss_sum.detach()), float(global_count)


@torch.no_grad()
def evaluate_loss(network, loader, objective, *, device) -> float:
    """Mean loss of ``objective`` over all batches of ``loader`` (and all ranks)."""
    was_training = network.training
    network.eval()
    total = torch.zeros((), device=device)
    count = torch.zeros((), device=device)
    for batch in loader:
        batch = _to_device(batch, device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            loss_sum, n = objective(network, batch, epoch=None)
        total += loss_sum.float()
        count += n.float()
    network.train(was_training)
    total, count = _all_reduce_sum(total, count, device=device)
    return float(total / count.clamp(min=1))


def _optimizer(network, params: TrainingParams) -> torch.optim.Optimizer:
    """AdamW decaying weight matrices only."""
    trainable = [(n, p) for n, p in network.named_parameters() if p.requires_grad]
    if not trainable:
        raise ValueError("The network has no trainable parameters.")
    decay = [p for n, p in trainable if p.ndim >= 2 and "token" not in n]
    no_decay = [p for n, p in trainable if not (p.ndim >= 2 and "token" not in n)]
    groups = [
        {"params": decay, "weight_decay": params.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=params.lr)


def _schedule(optimizer, total_steps: int, params: TrainingParams):
    """Linear warm-up then cosine decay to ``min_lr_ratio * lr``."""
    warmup = max(1, round(params.warmup_fraction * total_steps))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress_ = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return params.min_lr_ratio + (1 - params.min_lr_ratio) * 0.5 * (
            1 + math.cos(math.pi * progress_)
        )

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def process_device(device) -> torch.device:
    """``device``, made rank-local (``cuda:LOCAL_RANK``) in a distributed CUDA run."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None and distributed_info()[0]:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def fit(
    network,
    objective,
    train_set,
    valid_set,
    *,
    params: TrainingParams,
    device,
    desc: str = "training",
    signature: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, int]:
    """Train ``network`` in place on ``train_set``, early-stopping on ``valid_set``.

    The weights of the epoch with the lowest validation loss are restored at the end.
    With ``params.checkpoint_dir`` the training state is written there every
    ``params.checkpoint_every`` epochs and after the last one
    (:mod:`scget.tl._training._resume`), and ``params.resume`` continues from it.

    Parameters
    ----------
    network
        The torch module (its trainable parameters are optimised).
    objective
        Callable ``(network, batch, epoch=...) -> (loss sum, element count)``.
    train_set, valid_set
        Datasets of dict samples.
    params
        Optimisation settings.
    device
        Torch device (made rank-local under torchrun).
    desc
        Label of the progress bar; also names the training state (``{desc}_state.pt``).
    signature
        What a resumed run must share with the interrupted one (settings, data digest);
        the number of processes, the optimisation settings and the initial weights are
        added here.

    Returns
    -------
    The history (one row per epoch: :data:`scget._shared.constants.HISTORY_COLUMNS`) and
    the best epoch.

    Raises
    ------
    FileExistsError
        If ``checkpoint_dir`` holds a training state and ``resume`` is False.
    scget.tl.ResumeError
        If the training state to resume is damaged or belongs to another run.
    """
    if len(train_set) == 0 or len(valid_set) == 0:
        raise ValueError(
            f"{desc}: {len(train_set)} training and {len(valid_set)} validation windows; both "
            "must be non-empty (check the split and the window settings)."
        )
    distributed, rank, world_size = distributed_info()
    state_file = None
    if params.checkpoint_dir is not None:
        state_file = state_path(params.checkpoint_dir, desc)
        check_resumable(state_file, params.resume)
        settings = {k: v for k, v in params.to_dict().items() if k not in RESUMABLE_CHANGES}
        signature = {
            **(signature or {}),
            "training": settings,
            "processes": world_size,
            "initial_weights": digest(*network.state_dict().values()),
        }
    device = process_device(device)
    torch.manual_seed(params.seed + rank)
    network.to(device)
    module = network
    if distributed:
        ids = [device.index] if device.type == "cuda" else None
        module = DistributedDataParallel(network, device_ids=ids, find_unused_parameters=True)

    def loader(dataset, shuffle: bool) -> DataLoader:
        sampler = GlobalBatchSampler(
            len(dataset),
            params.batch_size,
            shuffle=shuffle,
            seed=params.seed,
            rank=rank,
            world_size=world_size,
            drop_small=shuffle,
        )
        return DataLoader(
            dataset,
            batch_sampler=sampler,
            num_workers=params.num_workers,
            pin_memory=device.type == "cuda",
        )

    train_loader, valid_loader = loader(train_set, True), loader(valid_set, False)
    steps_per_epoch = len(train_loader)
    optimizer = _optimizer(network, params)
    scheduler = _schedule(optimizer, steps_per_epoch * params.max_epochs, params)
    trainable = [p for p in network.parameters() if p.requires_grad]
    loop = LoopState()
    if state_file is not None and state_file.is_file():
        state = read_state(state_file, signature)
        loop = restore(state, network=network, optimizer=optimizer, scheduler=scheduler, rank=rank)
        if rank == 0:
            logger.info(f"{desc}: resumed from {state_file} after epoch {loop.epoch}.")
    elif params.resume and rank == 0:
        logger.info(f"{desc}: no training state in {params.checkpoint_dir}; starting afresh.")
    last = loop.epoch if loop.finished else params.max_epochs
    epochs = progress(range(loop.epoch + 1, last + 1), desc=desc, unit="epoch")
    for epoch in epochs:
        train_loader.batch_sampler.set_epoch(epoch)
        network.train()
        loss_sum = count = 0.0
        for batch in train_loader:
            optimizer.zero_grad(set_to_none=True)
            local_sum, global_count = backward_step(
                module, batch, objective, epoch=epoch, device=device
            )
            if params.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(trainable, params.grad_clip)
            optimizer.step()
            scheduler.step()
            loss_sum += local_sum
            count += global_count
        (total,) = _all_reduce_sum(torch.tensor(loss_sum), device=device)
        train_loss = float(total) / max(count, 1.0)
        valid_loss = evaluate_loss(network, valid_loader, objective, device=device)
        lr = optimizer.param_groups[0]["lr"]
        loop.epoch = epoch
        loop.rows.append((epoch, train_loss, valid_loss, lr))
        epochs.set_postfix(train=f"{train_loss:.4f}", valid=f"{valid_loss:.4f}")
        logger.debug(f"{desc} epoch {epoch}: train {train_loss:.4f}, valid {valid_loss:.4f}")
        if valid_loss < loop.best_loss:
            loop.best_loss, loop.best_epoch, loop.waited = valid_loss, epoch, 0
            loop.best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
        else:
            loop.waited += 1
            if params.patience is not None and loop.waited >= params.patience:
                loop.finished = True
                if rank == 0:
                    logger.info(f"{desc}: early stop after epoch {epoch} (patience {loop.waited}).")
        loop.finished = loop.finished or epoch == params.max_epochs
        if state_file is not None and (loop.finished or epoch % params.checkpoint_every == 0):
            save_state(
                state_file,
                signature=signature,
                loop=loop,
                network=network,
                optimizer=optimizer,
                scheduler=scheduler,
                rank=rank,
            )
        if loop.finished:
            break
    if loop.best_state is None:
        raise RuntimeError(
            f"{desc}: the validation loss was never finite (training diverged); lower lr."
        )
    network.load_state_dict(loop.best_state)
    if rank == 0:
        best = f"{loop.best_loss:.4f} at epoch {loop.best_epoch}"
        logger.info(f"{desc}: best validation loss {best}.")
    return pd.DataFrame(loop.rows, columns=list(HISTORY_COLUMNS)), loop.best_epoch
