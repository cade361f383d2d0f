"""A small pseudobulk MuData with a planted regulatory rule, built directly (no pp code).

Imported by the tests of tests/tl (their folder is on ``sys.path``).
"""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd

from scget._shared.constants import MIN_ACCESSIBILITY

GROUPS = ["A", "B", "C", "D"]
N_MOTIFS = 8


def planted_pb(
    *,
    n_chromosomes: int = 4,
    peaks_per_chromosome: int = 120,
    tss_fraction: float = 0.4,
    plus_fraction: float = 0.5,
    seed: int = 0,
) -> md.MuData:
    """Pseudobulks of 4 groups whose expression follows a rule on motifs and accessibility.

    Motif scores are sparse uniforms in [0, 1] (8 clusters, shared by groups); the last
    cluster marks promoters (0.6-1 at TSS peaks, 0-0.3 elsewhere), as promoter motifs
    do in real data, so that the model can tell TSS regions from others. Counts
    per group and peak are Poisson with a peak- and group-specific rate, so some peaks
    are closed (0 counts) in some groups. Every TSS peak holds one gene, on the + strand
    with probability ``plus_fraction``; a gene's log10(TPM + 1) in group g is

        0.6 * acc_g(p) * (1 + 2 m_p[0] - m_p[1]) + 0.4 * sum_{q = p±1, p±2} acc_g(q) m_q[2],

    so it depends on the promoter's motifs and accessibility and on its neighbours'
    (a distal enhancer motif), making context matter. Targets follow the contract (zero
    without TSS or below the accessibility cut-off).
    """
    rng = np.random.default_rng(seed)
    chroms = [f"chr{i + 1}" for i in range(n_chromosomes)]
    rows = [
        (c, 5_000 * (i + 1), 5_000 * (i + 1) + 500)
        for c in chroms
        for i in range(peaks_per_chromosome)
    ]
    var = pd.DataFrame(rows, columns=["chrom", "start", "end"])
    var.index = [f"{c}:{s}-{e}" for c, s, e in rows]
    n_peaks = len(var)

    motifs = rng.uniform(0, 1, (n_peaks, N_MOTIFS)) * (rng.uniform(size=(n_peaks, N_MOTIFS)) < 0.4)
    motifs = (motifs / motifs.max(axis=0)).astype(np.float32)
    tss_peaks = np.flatnonzero(rng.uniform(size=n_peaks) < tss_fraction)
    promoter_motif = rng.uniform(0, 0.3, n_peaks)
    promoter_motif[tss_peaks] = rng.uniform(0.6, 1.0, len(tss_peaks))
    motifs[:, -1] = promoter_motif
    rate = rng.gamma(2.0, 10.0, n_peaks)[None, :] * rng.gamma(2.0, 0.5, (len(GROUPS), n_peaks))
    counts = rng.poisson(rate).astype(np.float32)
    score = np.log10(counts / counts.sum(1, keepdims=True) * 1e5 + 1)
    score = (score / score.max(1, keepdims=True)).astype(np.float32)

    promoter = 1 + 2 * motifs[:, 0] - motifs[:, 1]
    enhancer = score * motifs[:, 2]
    chrom_of = var["chrom"].to_numpy()
    neighbours = np.zeros_like(score)
    for shift in (-2, -1, 1, 2):
        moved = np.roll(enhancer, shift, axis=1)
        same = np.roll(chrom_of, shift) == chrom_of
        neighbours += np.where(same[None, :], moved, 0.0)
    activity = 0.6 * score * promoter + 0.4 * neighbours

    strands = np.where(rng.uniform(size=len(tss_peaks)) < plus_fraction, "+", "-")
    gene_names = [f"G{i}" for i in range(len(tss_peaks))]
    expression = activity[:, tss_peaks].astype(np.float32)
    plus = np.zeros((len(GROUPS), n_peaks), np.float32)
    minus = np.zeros((len(GROUPS), n_peaks), np.float32)
    var["tss_genes_plus"] = ""
    var["tss_genes_minus"] = ""
    for gene, (peak, strand) in enumerate(zip(tss_peaks, strands, strict=True)):
        layer, column = (plus, "tss_genes_plus") if strand == "+" else (minus, "tss_genes_minus")
        layer[:, peak] = expression[:, gene]
        var.iloc[peak, var.columns.get_loc(column)] = gene_names[gene]
    closed = score < MIN_ACCESSIBILITY
    plus[closed] = 0
    minus[closed] = 0

    obs = pd.DataFrame(index=GROUPS)
    atac = ad.AnnData(X=score, obs=obs.copy(), var=var)
    atac.layers["counts"] = counts
    atac.layers["target_plus"] = plus
    atac.layers["target_minus"] = minus
    atac.varm["motif_scores"] = pd.DataFrame(
        motifs, index=var.index, columns=[f"M{i}" for i in range(N_MOTIFS)]
    )
    gene_var = pd.DataFrame(
        {
            "chrom": chrom_of[tss_peaks],
            "strand": strands,
            "tss": var["start"].to_numpy()[tss_peaks] + 250,
            "tss_peaks": var.index[tss_peaks],
        },
        index=gene_names,
    )
    rna = ad.AnnData(X=expression, obs=obs.copy(), var=gene_var)
    rna.layers["counts"] = np.round(10**expression - 1).astype(np.float32)
    pb = md.MuData({"rna": rna, "atac": atac})
    pb.obs["n_cells"] = 200
    return pb


def tiny_kwargs(**overrides) -> dict:
    """Fast training settings for the tests (tiny network, 32-region windows)."""
    return {
        "preset": "tiny",
        "window_size": 32,
        "stride": 16,
        "device": "cpu",
        "batch_size": 16,
        "lr": 3e-3,
        **overrides,
    }
