"""A tiny pseudobulk MuData satisfying the evaluation contract, built directly (no pp code).

Shared by tests/tl/test_evaluate.py and tests/pl/test_prediction.py (``tests/`` is on
``sys.path`` through its conftest).
"""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd

GROUPS = ["A", "B", "C", "D"]
CHROMS = ["chr1", "chr2", "chr3"]
PEAKS_PER_CHROM = 8
GENES_PER_CHROM = 6
N_MOTIFS = 5
#: (group, chromosome, gene index on it) whose TSS peak has zero counts.
CLOSED_TSS = ("A", "chr3", 0)


def make_evaluation_pb(seed: int = 0, noise: float = 0.05) -> md.MuData:
    """Four groups, three chromosomes, six TSS genes per chromosome + two without TSS peak.

    Gene ``gK_i`` (chromosome K, index i) has its TSS in peak i of its chromosome, strand
    "+" for even i and "-" for odd i. Group A's TSS peak of gene g3_0 has no counts.
    ``["rna"].layers["get_pred"]`` = observed + N(0, noise) at accessible TSS genes, NaN
    elsewhere.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for chrom in CHROMS:
        for i in range(PEAKS_PER_CHROM):
            start = 10_000 * (i + 1)
            rows.append((chrom, start, start + 500))
    peaks = pd.DataFrame(rows, columns=["chrom", "start", "end"])
    peaks.index = [f"{c}:{s}-{e}" for c, s, e in rows]

    counts = rng.integers(5, 50, size=(len(GROUPS), len(peaks))).astype(np.float32)
    group, chrom, gene = CLOSED_TSS
    counts[GROUPS.index(group), CHROMS.index(chrom) * PEAKS_PER_CHROM + gene] = 0
    score = np.log10(counts / counts.sum(1, keepdims=True) * 1e5 + 1)
    score = (score / score.max(1, keepdims=True)).astype(np.float32)

    genes = []
    for c, chrom in enumerate(CHROMS):
        for i in range(GENES_PER_CHROM):
            peak = peaks.index[c * PEAKS_PER_CHROM + i]
            tss = int(peaks["start"].iloc[c * PEAKS_PER_CHROM + i]) + 250
            strand = "+" if i % 2 == 0 else "-"
            body = (tss, tss + 3000) if strand == "+" else (tss - 2999, tss + 1)
            genes.append((f"g{c + 1}_{i}", chrom, strand, tss, *body, peak))
    genes.append(("no_tss", "chr3", "+", 500_000, 500_000, 503_000, ""))
    genes.append(("unannotated", "", "", -1, -1, -1, ""))
    var = pd.DataFrame(
        genes, columns=["name", "chrom", "strand", "tss", "gene_start", "gene_end", "tss_peaks"]
    ).set_index("name")

    base = rng.uniform(0, 3, size=len(var))
    expression = np.clip(base + rng.normal(0, 0.3, size=(len(GROUPS), len(var))), 0, None)
    expression = expression.astype(np.float32)

    peak_pos = peaks.index.get_indexer(var["tss_peaks"])
    targets = {s: np.zeros_like(score) for s in "+-"}
    for j, p in enumerate(peak_pos):
        if p >= 0:
            targets[var["strand"].iloc[j]][:, p] = expression[:, j] * (score[:, p] >= 0.05)
    accessible = np.zeros(expression.shape, dtype=bool)
    for j, p in enumerate(peak_pos):
        if p >= 0:
            accessible[:, j] = score[:, p] >= 0.05
    get_pred = np.where(accessible, expression + rng.normal(0, noise, expression.shape), np.nan)

    obs = pd.DataFrame(index=GROUPS)
    atac = ad.AnnData(score, obs=obs.copy(), var=peaks.copy())
    atac.layers["counts"] = counts
    atac.layers["target_plus"] = targets["+"]
    atac.layers["target_minus"] = targets["-"]
    atac.varm["motif_scores"] = pd.DataFrame(
        rng.uniform(0, 1, size=(len(peaks), N_MOTIFS)).astype(np.float32),
        index=peaks.index,
        columns=[f"motif{k}" for k in range(N_MOTIFS)],
    )
    rna = ad.AnnData(expression, obs=obs.copy(), var=var)
    rna.layers["counts"] = np.round(10**expression)
    rna.layers["get_pred"] = get_pred.astype(np.float32)
    return md.MuData({"rna": rna, "atac": atac})
