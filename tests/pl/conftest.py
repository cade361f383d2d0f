"""A small pseudobulk holding every stored result the plots read, written without a model."""

from __future__ import annotations

from collections.abc import Sequence

import anndata as ad
import matplotlib.pyplot as plt
import mudata as md
import numpy as np
import pandas as pd
import pytest

from scget._shared.constants import (
    EMBEDDING_PREDICTED,
    ENHANCER_GENE_KEY,
    ENRICHMENT_KEY,
    EVALUATION_KEY,
    GENE_BY_MOTIF_KEY,
    KNOCKOUT_MOTIFS_KEY,
    MOTIFS_KEY,
    REGION_IMPORTANCE_KEY,
    REGULATORY_EMBEDDING_KEY,
    group_slot,
)
from scget._shared.storage import write_result

GROUPS = ["A", "B", "C"]
MOTIFS = ["M0", "M1", "M2", "M3", "M4", "M5"]
#: TFs of each motif cluster, as scan_motifs stores them (dimers as A::B).
TF_NAMES = ["TFA", "TFB;Tfc", "TFD::TFE", "ZZZ", "TFA;TFF", "TFG"]
TFS = ["TFA", "TFB", "TFC", "TFD", "TFE", "TFF", "TFG"]
N_GENES = 40


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def plotted_pb(groups: Sequence[str] = tuple(GROUPS)) -> md.MuData:
    """Three groups, 40 genes (7 of them TFs) on chr1 and 80 peaks, with stored results.

    ``groups`` names the three groups (``GROUPS`` by default).
    """
    rng = np.random.default_rng(0)
    genes = TFS + [f"G{i}" for i in range(N_GENES - len(TFS))]
    tss = 20_000 + 10_000 * np.arange(N_GENES)
    strand = np.where(np.arange(N_GENES) % 2 == 0, "+", "-")
    gene_var = pd.DataFrame(
        {
            "chrom": "chr1",
            "tss": tss,
            "strand": strand,
            "gene_start": np.where(strand == "+", tss, tss - 4_000),
            "gene_end": np.where(strand == "+", tss + 4_000, tss),
        },
        index=genes,
    )
    expression = rng.uniform(0, 2, (len(groups), N_GENES)).astype(np.float32)
    expression[0, genes.index("TFB")] = 0.1  # below log10(2): not expressed in A
    rna = ad.AnnData(X=expression, obs=pd.DataFrame(index=list(groups)), var=gene_var)
    starts = 5_000 * np.arange(1, 81)
    peak_var = pd.DataFrame({"chrom": "chr1", "start": starts, "end": starts + 500})
    peak_var.index = [f"chr1:{s}-{s + 500}" for s in starts]
    atac = ad.AnnData(
        X=rng.uniform(0, 1, (len(groups), len(peak_var))).astype(np.float32),
        obs=pd.DataFrame(index=list(groups)),
        var=peak_var,
    )
    atac.layers["counts"] = np.round(atac.X * 50)
    pb = md.MuData({"rna": rna, "atac": atac})
    motif_table = pd.DataFrame(
        {"n_motifs": 1, "motifs": [f"MA000{i}.1" for i in range(6)], "tf_names": TF_NAMES},
        index=pd.Index(MOTIFS, name="cluster"),
    )
    write_result(pb, MOTIFS_KEY, motif_table, {"key_added": "motif_scores"})
    _gene_by_motif(pb, rng)
    _regions(pb, rng)
    _embedding(pb, rng)
    _perturbation(pb, rng)
    _evaluation(pb, rng)
    _enrichment(pb)
    return pb


def _gene_by_motif(pb, rng) -> None:
    groups = list(pb["rna"].obs_names)
    rna = pb["rna"]
    for group in groups:
        values = rng.normal(size=(rna.n_vars, len(MOTIFS) + 1)) * np.linspace(2, 0.2, 7)
        frame = pd.DataFrame(values, index=rna.var_names, columns=[*MOTIFS, "accessibility"])
        rna.varm[group_slot(GENE_BY_MOTIF_KEY, group)] = frame.astype(np.float32)
    summary = pd.DataFrame(
        {"group": groups, "varm_key": [group_slot(GENE_BY_MOTIF_KEY, g) for g in groups]}
    )
    write_result(pb, GENE_BY_MOTIF_KEY, summary, {"rna": "rna", "atac": "atac"})


def _regions(pb, rng) -> None:
    """Region importance and enhancer-gene scores of G5 and G6 over 6 peaks each."""
    groups = list(pb["rna"].obs_names)
    peaks = pb["atac"].var_names
    rows = []
    for group in groups:
        for gene, first in (("G5", 30), ("G6", 34)):
            for peak in peaks[first : first + 6]:
                rows.append((group, peak, gene, rng.uniform(), 1_000, 0.5))
    table = pd.DataFrame(
        rows, columns=["group", "source", "target", "weight", "distance", "accessibility"]
    )
    write_result(pb, REGION_IMPORTANCE_KEY, table, {"rna": "rna"})
    scores = table.rename(columns={"source": "peak", "target": "gene", "weight": "GET"})
    scores["ABC"] = 1 - scores["GET"]
    scores = scores[["group", "gene", "peak", "distance", "GET", "ABC"]]
    write_result(pb, ENHANCER_GENE_KEY, scores, {"rna": "rna"})


def _embedding(pb, rng) -> None:
    groups = list(pb["rna"].obs_names)
    rna = pb["rna"]
    predicted = np.full((len(groups), rna.n_vars), np.nan, dtype=np.float32)
    predicted[:, :30] = rng.uniform(size=(len(groups), 30))
    rna.layers[group_slot(REGULATORY_EMBEDDING_KEY, EMBEDDING_PREDICTED)] = predicted
    for i, group in enumerate(groups):
        rna.varm[group_slot(REGULATORY_EMBEDDING_KEY, group)] = rng.normal(
            i, 1, (rna.n_vars, 8)
        ).astype(np.float32)
    write_result(pb, REGULATORY_EMBEDDING_KEY, pd.DataFrame({"group": groups}), {"rna": "rna"})


def _perturbation(pb, rng) -> None:
    groups = list(pb["rna"].obs_names)
    change = rng.normal(0, 0.1, (len(groups), pb["rna"].n_vars)).astype(np.float32)
    change[:, -5:] = np.nan  # no window of these genes was changed
    pb["rna"].layers[KNOCKOUT_MOTIFS_KEY] = change
    write_result(pb, KNOCKOUT_MOTIFS_KEY, pd.DataFrame(), {"rna": "rna", "motifs": ["M0"]})


def _evaluation(pb, rng) -> None:
    groups = list(pb["rna"].obs_names)
    rows = [
        (group, setting, method, rng.uniform(0.2, 0.9))
        for setting in ("held-out group", "held-out chromosome")
        for group in groups
        for method in ("GET", "TSS accessibility")
    ]
    table = pd.DataFrame(rows, columns=["group", "setting", "method", "pearson"])
    write_result(pb, EVALUATION_KEY, table, {"rna": "rna", "methods": ["GET"]})


def _enrichment(pb) -> None:
    """A table as scget.tl.enrichment writes it: 8 terms for M0 in A, 4 for M1 in B."""
    groups = list(pb["rna"].obs_names)
    rows = []
    for motif, group, n_terms, size in (("M0", groups[0], 8, 40), ("M1", groups[1], 4, 25)):
        for i in range(n_terms):
            k, total = 2 + i, 50 + 10 * i
            rows.append(
                {
                    "motif": motif,
                    "group": group,
                    "term": f"term {motif}-{i}",
                    "overlap": f"{k}/{total}",
                    "n_genes": k,
                    "set_size": total,
                    "gene_ratio": k / size,
                    "pvalue": 10.0 ** -(i + 2),
                    "padj": 10.0 ** -(i + 1),
                    "odds_ratio": 2.0 + i,
                    "genes": ";".join(f"G{j}" for j in range(k)),
                }
            )
    write_result(pb, ENRICHMENT_KEY, pd.DataFrame(rows), {"rna": "rna"})


@pytest.fixture
def pb() -> md.MuData:
    return plotted_pb()
