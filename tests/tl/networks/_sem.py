"""Gene-by-motif attributions drawn from known linear non-Gaussian structural models."""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd

from scget._shared.constants import GENE_BY_MOTIF_KEY, group_slot
from scget._shared.storage import write_result


def sem_sample(n_samples: int, n_variables: int, seed: int, noise: str = "uniform"):
    """Samples of a random linear non-Gaussian acyclic model and its ``B[i, j]`` (j -> i)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_variables)
    B = np.zeros((n_variables, n_variables))
    for position in range(1, n_variables):
        parents = rng.choice(position, size=min(position, rng.poisson(1.2)), replace=False)
        effects = rng.uniform(0.5, 1.5, len(parents)) * rng.choice([-1, 1], len(parents))
        B[order[position], order[parents]] = effects
    draw = rng.uniform if noise == "uniform" else rng.laplace
    errors = draw(size=(n_samples, n_variables))
    return np.linalg.solve(np.eye(n_variables) - B, errors.T).T, B


def attributed_pb(blocks: dict[str, pd.DataFrame]) -> md.MuData:
    """A pseudobulk whose gene-by-motif record holds ``blocks`` (genes x features per group)."""
    genes = pd.Index(sorted(set().union(*(block.index for block in blocks.values()))))
    features = list(next(iter(blocks.values())).columns)
    rna = ad.AnnData(
        X=np.zeros((len(blocks), len(genes)), dtype=np.float32),
        obs=pd.DataFrame(index=list(blocks)),
        var=pd.DataFrame(index=genes),
    )
    for group, block in blocks.items():
        rna.varm[group_slot(GENE_BY_MOTIF_KEY, group)] = block.reindex(genes)[features].astype(
            np.float32
        )
    atac = ad.AnnData(X=np.zeros((len(blocks), 1), dtype=np.float32), obs=rna.obs.copy())
    pb = md.MuData({"rna": rna, "atac": atac})
    summary = pd.DataFrame(
        {
            "group": list(blocks),
            "varm_key": [group_slot(GENE_BY_MOTIF_KEY, g) for g in blocks],
            "n_genes": [len(b) for b in blocks.values()],
        }
    )
    write_result(pb, GENE_BY_MOTIF_KEY, summary, {"rna": "rna", "atac": "atac"})
    return pb
