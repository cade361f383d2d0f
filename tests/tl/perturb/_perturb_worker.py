"""Worker of the sharded perturbation test (a light module, as spawned processes import it)."""

from __future__ import annotations

import os


def sharded_knockout(rank: int, world_size: int, port: int, model_dir: str, out: str):
    """knockout_motifs and delete_regions on this rank's share; save what they returned."""
    import torch.distributed as dist
    from _planted import planted_pb

    import scget

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        pb = planted_pb()
        model = scget.tl.GETModel.load(model_dir)
        knockout = scget.tl.knockout_motifs(pb, model, motifs="M2", device="cpu", batch_size=8)
        knockout.to_pickle(os.path.join(out, f"knockout{rank}.pkl"))
        peaks = list(pb["atac"].var_names[[3, 50]])
        deletion = scget.tl.delete_regions(pb, model, regions=peaks, device="cpu", batch_size=8)
        deletion.to_pickle(os.path.join(out, f"deletion{rank}.pkl"))
    finally:
        dist.destroy_process_group()
