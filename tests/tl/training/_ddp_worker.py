"""Worker of the DDP gradient test (a light module, as spawned processes import it)."""

from __future__ import annotations

import os

import torch

from scget.nn import GETConfig, GETNetwork
from scget.tl._training._losses import FinetuneObjective
from scget.tl._training._trainer import GlobalBatchSampler, backward_step

N_FEATURES = 9


def network(seed: int = 0) -> GETNetwork:
    """A tiny network without dropout, so that gradients are deterministic."""
    torch.manual_seed(seed)
    config = GETConfig.from_preset(
        "tiny", N_FEATURES, dropout=0.0, attention_dropout=0.0, drop_path=0.0
    )
    return GETNetwork(config)


def ddp_gradients(rank: int, world_size: int, port: int, state: dict, batch: dict, out: str):
    """Gradients of this rank's part of ``batch`` under DDP (gloo), saved to ``out``."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        network_ = network()
        network_.load_state_dict(state)
        module = DistributedDataParallel(network_, find_unused_parameters=True)
        sampler = GlobalBatchSampler(
            len(batch["x"]), len(batch["x"]), shuffle=False, rank=rank, world_size=world_size
        )
        (part,) = list(sampler)
        local = {key: value[part] for key, value in batch.items()}
        backward_step(
            module, local, FinetuneObjective("poisson"), epoch=1, device=torch.device("cpu")
        )
        grads = {n: p.grad.clone() for n, p in network_.named_parameters() if p.grad is not None}
        torch.save(grads, os.path.join(out, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()
