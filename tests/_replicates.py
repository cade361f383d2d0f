"""Pseudobulks of samples x cell types with gene-by-motif attributions and ATAC counts.

Written without a model: attributions are noise, except that motif ``M0`` rises by
``shift`` on its 10 target genes in the treated samples of cell type ``A``, where those
genes' expression (log10 TPM, around 2) rises by ``shift / 2``; ATAC counts are Poisson,
with the peaks of motif ``M1`` twice as open in the treated samples of ``B``.
"""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd

from scget._shared.constants import GENE_BY_MOTIF_KEY, PSEUDOBULK_KEY, group_slot
from scget._shared.storage import write_result

MOTIFS = [f"M{i}" for i in range(8)]
N_GENES, N_PEAKS = 60, 200


def replicate_pb(
    *, n_samples: int = 3, shift: float = 1.0, cell_types=("A", "B"), seed: int = 0
) -> md.MuData:
    """Pseudobulks of ``n_samples`` control and treated samples per cell type."""
    rng = np.random.default_rng(seed)
    samples = [f"ctrl{i + 1}" for i in range(n_samples)] + [f"trt{i + 1}" for i in range(n_samples)]
    condition = ["control"] * n_samples + ["treated"] * n_samples
    batch = ["b1", "b2"] * n_samples
    rows = [
        (cell_type, sample, cond, b)
        for cell_type in cell_types
        for sample, cond, b in zip(samples, condition, batch, strict=True)
    ]
    obs = pd.DataFrame(rows, columns=["cell_type", "sample", "condition", "batch"])
    obs.index = obs["cell_type"] + "_" + obs["sample"]
    for column in obs.columns:
        obs[column] = obs[column].astype("category")
    obs["n_cells"] = rng.integers(100, 400, len(obs))
    genes = pd.Index([f"g{i:02d}" for i in range(N_GENES)])
    peaks = pd.Index([f"chr1:{1000 * i}-{1000 * i + 500}" for i in range(N_PEAKS)])
    expression = np.random.default_rng(seed + 1).normal(2.0, 0.05, (len(obs), N_GENES))
    treated_a = ((obs["cell_type"] == "A") & (obs["condition"] == "treated")).to_numpy()
    expression[np.ix_(treated_a, range(10))] += shift / 2
    rna = ad.AnnData(
        expression.astype(np.float32),
        obs=pd.DataFrame(index=obs.index),
        var=pd.DataFrame(index=genes),
    )
    features = [*MOTIFS, "accessibility"]
    for name, row in obs.iterrows():
        values = rng.normal(0.0, 0.1, (N_GENES, len(features)))
        values[:10, 0] += 2.0  # M0's targets
        if row["cell_type"] == "A" and row["condition"] == "treated":
            values[:10, 0] += shift
        rna.varm[group_slot(GENE_BY_MOTIF_KEY, name)] = pd.DataFrame(
            values.astype(np.float32), index=genes, columns=features
        )
    scores = pd.DataFrame(
        rng.uniform(0, 1, (N_PEAKS, len(MOTIFS))) * (rng.random((N_PEAKS, len(MOTIFS))) < 0.2),
        index=peaks,
        columns=MOTIFS,
    )
    rate = np.full((len(obs), N_PEAKS), 50.0)
    opened = ((obs["cell_type"] == "B") & (obs["condition"] == "treated")).to_numpy()
    rate[np.ix_(opened, scores["M1"].to_numpy() > 0)] *= 2.0
    atac = ad.AnnData(
        np.zeros((len(obs), N_PEAKS), dtype=np.float32),
        obs=pd.DataFrame(index=obs.index),
        var=pd.DataFrame(index=peaks),
    )
    atac.layers["counts"] = rng.poisson(rate).astype(np.float32)
    atac.varm["motif_scores"] = scores
    pb = md.MuData({"rna": rna, "atac": atac})
    pb.obs = obs
    write_result(
        pb,
        PSEUDOBULK_KEY,
        obs,
        {"groupby": ["cell_type"], "sample": "sample", "covariates": ["condition", "batch"]},
    )
    summary = pd.DataFrame(
        {
            "group": list(obs.index),
            "varm_key": [group_slot(GENE_BY_MOTIF_KEY, g) for g in obs.index],
            "n_genes": N_GENES,
        }
    )
    write_result(pb, GENE_BY_MOTIF_KEY, summary, {"rna": "rna", "atac": "atac"})
    return pb
