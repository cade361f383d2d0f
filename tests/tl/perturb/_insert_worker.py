"""Worker of the sharded insertion test (a light module, as spawned processes import it)."""

from __future__ import annotations

import os


def insert_two_elements(model):
    """The insertion that the sharded test runs on every rank and in one process."""
    import pandas as pd
    from _planted import planted_pb

    import scget

    elements = pd.DataFrame({"M0": [1.0, 0.2], "M2": [0.0, 0.9]}, index=["a", "b"])
    return scget.tl.insert_elements(
        planted_pb(),
        model,
        elements=elements,
        group="C",
        n_sites=7,
        readout="expression",
        device="cpu",
        batch_size=4,
    )


def sharded_insertion(rank: int, world_size: int, port: int, model_dir: str, out: str):
    """insert_elements on this rank's share of the windows; save what it returned."""
    import torch.distributed as dist

    import scget

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        table = insert_two_elements(scget.tl.GETModel.load(model_dir))
        table.to_pickle(os.path.join(out, f"insertion{rank}.pkl"))
    finally:
        dist.destroy_process_group()
