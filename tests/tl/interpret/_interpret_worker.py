"""Worker of the sharded interpretation test (a light module, as spawned processes import it)."""

from __future__ import annotations

import os


def sharded_gene_by_motif(rank: int, world_size: int, port: int, model_dir: str, out: str):
    """gene_by_motif with region importance on this rank's share; save what it stored."""
    import torch.distributed as dist
    from _planted import planted_pb

    import scget

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        pb = planted_pb()
        model = scget.tl.GETModel.load(model_dir)
        scget.tl.gene_by_motif(pb, model, device="cpu", batch_size=8, with_regions=True)
        scget.get.gene_by_motif(pb).to_pickle(os.path.join(out, f"motifs{rank}.pkl"))
        scget.get.region_importance(pb).to_pickle(os.path.join(out, f"regions{rank}.pkl"))
        genes = list(pb["rna"].var_names[:6])
        scget.tl.gene_by_motif(pb, model, genes=genes, method="knockout", device="cpu")
        scget.get.gene_by_motif(pb).to_pickle(os.path.join(out, f"knockout{rank}.pkl"))
    finally:
        dist.destroy_process_group()
