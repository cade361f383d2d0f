"""Worker of the engine sharding test (a light module, as spawned processes import it)."""

from __future__ import annotations

import os

import numpy as np
import torch


def sharded_forward(rank: int, world_size: int, port: int, model_dir: str, out: str):
    """Predict every window of group 0 on this rank's shard; save the gathered outputs."""
    import torch.distributed as dist
    from _planted import planted_pb

    from scget.tl import GETModel
    from scget.tl._core._engine import forward, on_device
    from scget.tl._core._prior import model_inputs
    from scget.tl._core._windows import make_windows

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        model = GETModel.load(model_dir)
        inputs = model_inputs(planted_pb(), model)
        windows = make_windows(inputs, window_size=model.window_size, stride=37)
        with on_device(model.network, torch.device("cpu")) as network:
            outputs = forward(
                network,
                inputs,
                windows,
                window_size=model.window_size,
                batch_size=4,
                device=torch.device("cpu"),
            )
        np.save(os.path.join(out, f"rank{rank}.npy"), outputs)
    finally:
        dist.destroy_process_group()
