"""Worker of the sharded insertion test (a light module, as spawned processes import it)."""

from __future__ import annotations

import os


def sharded_insertion(rank: int, world_size: int, port: int, model_dir: str, out: str):
    """insert_elements on this rank's share of the windows; save what it returned."""
    import pandas as pd
    import torch.distributed as dist
    from _planted import planted_pb

    import scget

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        elements = pd.DataFrame({"M0": [1.0, 0.2], "M2": [0.0, 0.9]}, index=["a", "b"])
        table = scget.tl.insert_elements(
            planted_pb(),
            scget.tl.GETModel.load(model_dir),
            elements=elements,
            group="C",
            n_sites=7,
            readout="expression",
            device="cpu",
            batch_size=4,
        )
        table.to_pickle(os.path.join(out, f"insertion{rank}.pkl"))
    finally:
        dist.destroy_process_group()
