"""scget.pp.annotate_tss: hand-computed targets, naming problems, errors, round trips."""

from __future__ import annotations

import math

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest

import scget

PEAKS = [
    "chr1:900-1300",  # TSSs of G1 (two transcripts) and G2, plus strand
    "chr1:7700-7900",  # reached by G3's minus-strand TSS (8099) only through the extension
    "chr1:19900-20100",  # G4's TSS; barely accessible in group A
    "chr1:50000-50500",  # no TSS
    "chr2:3000-3400",  # TSS of GX, a gene absent from the RNA data
]
GENES = ["G1", "G2", "G3", "G4", "G5"]  # G5 is not in the annotation
ATAC_COUNTS = {"A": [50, 20, 1, 199_929, 20], "B": [30, 0, 40, 100, 10]}
RNA_COUNTS = {"A": [10, 20, 30, 40, 0], "B": [0, 5, 15, 25, 55]}

# 1-based GTF, chromosomes without "chr"; G3 also has a second locus on Y (as PAR genes do).
GTF_ROWS = [
    ("1", "gene", 1001, 3000, "+", "ENSG1", "G1", None),
    ("1", "transcript", 1001, 3000, "+", "ENSG1", "G1", "T1a"),
    ("1", "transcript", 1201, 3000, "+", "ENSG1", "G1", "T1b"),
    ("1", "exon", 1001, 1500, "+", "ENSG1", "G1", "T1a"),
    ("1", "gene", 1101, 2000, "+", "ENSG2", "G2", None),
    ("1", "transcript", 1101, 2000, "+", "ENSG2", "G2", "T2"),
    ("1", "gene", 5001, 8100, "-", "ENSG3", "G3", None),
    ("1", "transcript", 5001, 8100, "-", "ENSG3", "G3", "T3"),
    ("Y", "gene", 100_001, 103_100, "-", "ENSG3Y", "G3", None),
    ("Y", "transcript", 100_001, 103_100, "-", "ENSG3Y", "G3", "T3Y"),
    ("1", "gene", 20_001, 25_000, "+", "ENSG4", "G4", None),
    ("1", "transcript", 20_001, 25_000, "+", "ENSG4", "G4", "T4"),
    ("2", "gene", 3101, 4000, "+", "ENSGX", "GX", None),
    ("2", "transcript", 3101, 4000, "+", "ENSGX", "GX", "TX"),
]


def write_gtf(path, rows=GTF_ROWS) -> str:
    lines = ["#!genome-build test"]
    for chrom, feature, start, end, strand, gene_id, name, transcript in rows:
        attributes = f'gene_id "{gene_id}"; gene_name "{name}";'
        if transcript:
            attributes += f' transcript_id "{transcript}";'
        lines.append(f"{chrom}\ttest\t{feature}\t{start}\t{end}\t.\t{strand}\t.\t{attributes}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def make_pb() -> md.MuData:
    """Pseudobulk of two one-cell groups, made by scget.pp.pseudobulk."""
    return scget.pp.pseudobulk(cell_level(), "cell_type", min_cells=1)


def cell_level() -> md.MuData:
    """The two cells (one per group) of :func:`make_pb`."""
    obs = pd.DataFrame({"cell_type": ["A", "B"]}, index=["a1", "b1"])
    rna = ad.AnnData(
        np.array([RNA_COUNTS["A"], RNA_COUNTS["B"]], np.float32),
        obs=obs.copy(),
        var=pd.DataFrame(index=GENES),
    )
    atac = ad.AnnData(
        np.array([ATAC_COUNTS["A"], ATAC_COUNTS["B"]], np.float32),
        obs=obs.copy(),
        var=pd.DataFrame(index=PEAKS),
    )
    mdata = md.MuData({"rna": rna, "atac": atac})
    mdata.obs["cell_type"] = obs["cell_type"]
    return mdata


def log_tpm(group: str, gene: str) -> float:
    counts = RNA_COUNTS[group]
    return math.log10(counts[GENES.index(gene)] / sum(counts) * 1e6 + 1)


def accessibility(group: str, peak: int) -> float:
    counts = ATAC_COUNTS[group]
    scores = [math.log10(c / sum(counts) * 1e5 + 1) for c in counts]
    return scores[peak] / max(scores)


@pytest.fixture
def gtf(tmp_path):
    return write_gtf(tmp_path / "genes.gtf")


def test_targets_equal_hand_computation(gtf, scget_log):
    pb = make_pb()
    assert accessibility("A", 2) < 0.05 < accessibility("A", 1)  # the low promoter
    scget.pp.annotate_tss(pb, gtf)
    plus, minus = pb["atac"].layers["target_plus"], pb["atac"].layers["target_minus"]
    expected_plus = np.zeros((2, 5))
    expected_plus[0, 0] = log_tpm("A", "G1") + log_tpm("A", "G2")  # two genes, one peak
    expected_plus[1, 0] = log_tpm("B", "G1") + log_tpm("B", "G2")
    expected_plus[1, 2] = log_tpm("B", "G4")  # in A, G4's promoter is below 0.05
    expected_minus = np.zeros((2, 5))
    expected_minus[0, 1] = log_tpm("A", "G3")  # in B the peak has no counts
    np.testing.assert_allclose(plus, expected_plus, rtol=1e-6)
    np.testing.assert_allclose(minus, expected_minus, rtol=1e-6)
    assert plus.dtype == np.float32 and minus.dtype == np.float32

    var = pb["atac"].var
    assert var["tss_genes_plus"].tolist() == ["G1;G2", "", "G4", "", ""]
    assert var["tss_genes_minus"].tolist() == ["", "G3", "", "", ""]
    genes = pb["rna"].var
    assert genes["chrom"].tolist() == ["chr1", "chr1", "chr1", "chr1", ""]
    assert genes["strand"].tolist() == ["+", "+", "-", "+", ""]
    assert genes["tss"].tolist() == [1000, 1100, 8099, 20_000, -1]
    assert genes["gene_start"].tolist() == [1000, 1100, 5000, 20_000, -1]
    assert genes["gene_end"].tolist() == [3000, 2000, 8100, 25_000, -1]
    assert genes["tss_peaks"].tolist() == [PEAKS[0], PEAKS[0], PEAKS[1], PEAKS[2], ""]

    assert "Renamed 2 annotation chromosome(s)" in scget_log.text  # 1, 2 -> chr1, chr2
    assert "1 gene name(s) belong to several loci" in scget_log.text  # G3 on chr1 and chrY
    summary = scget.get.result(pb, "tss")
    assert summary["n_genes_annotated"] == 4
    assert summary["n_annotation_genes_not_in_rna"] == 1  # GX
    assert summary["n_genes_with_several_loci"] == 1


def test_extension_decides_overlap(gtf):
    pb = make_pb()
    scget.pp.annotate_tss(pb, gtf, extend=0)
    assert pb["atac"].var["tss_genes_minus"].tolist() == ["", "", "", "", ""]
    assert pb["rna"].var.loc["G3", "tss_peaks"] == ""


def test_tss_table_gives_the_same_result(gtf, tmp_path):
    from_gtf = make_pb()
    scget.pp.annotate_tss(from_gtf, gtf)
    table = pd.DataFrame(
        {
            "gene_name": ["G1", "G1", "G2", "G3", "G4"],
            "Chromosome": ["chr1"] * 5,
            "Start": [1000, 1200, 1100, 8099, 20_000],
            "Strand": ["+", "+", "+", "-", "+"],
        }
    )
    table.to_parquet(tmp_path / "tss.parquet")
    from_table = make_pb()
    scget.pp.annotate_tss(from_table, tmp_path / "tss.parquet")
    for layer in ("target_plus", "target_minus"):
        np.testing.assert_array_equal(
            from_table["atac"].layers[layer], from_gtf["atac"].layers[layer]
        )
    pd.testing.assert_frame_equal(from_table["atac"].var, from_gtf["atac"].var)
    assert from_table["rna"].var["gene_start"].tolist() == [-1] * 5  # no gene bodies given


def test_matching_by_gene_id(gtf):
    pb = make_pb()
    pb.mod["rna"].var["gene_ids"] = ["ENSG1.3", "ENSG2.1", "ENSG3.2", "ENSG4.1", "ENSG5.1"]
    pb.mod["rna"].var_names = pb["rna"].var["gene_ids"].tolist()
    scget.pp.annotate_tss(pb, gtf)
    assert pb["atac"].var["tss_genes_plus"].iloc[0] == "ENSG1.3;ENSG2.1"


def test_rerun_overwrites_and_round_trip(gtf, tmp_path):
    pb = make_pb()
    scget.pp.annotate_tss(pb, gtf)
    columns = (list(pb["atac"].var.columns), list(pb["rna"].var.columns))
    first = pb["atac"].layers["target_plus"].copy()
    scget.pp.annotate_tss(pb, gtf)
    assert (list(pb["atac"].var.columns), list(pb["rna"].var.columns)) == columns
    assert sorted(pb["atac"].layers) == ["counts", "target_minus", "target_plus"]
    np.testing.assert_array_equal(pb["atac"].layers["target_plus"], first)
    pb.write_h5mu(tmp_path / "pb.h5mu")
    back = md.read_h5mu(tmp_path / "pb.h5mu")
    for mod in ("rna", "atac"):
        pd.testing.assert_frame_equal(back[mod].var, pb[mod].var)
    np.testing.assert_array_equal(
        back["atac"].layers["target_minus"], pb["atac"].layers["target_minus"]
    )
    assert scget.get.params(back, "tss")["extend"] == 300


def test_copy_leaves_input_untouched(gtf):
    pb = make_pb()
    annotated = scget.pp.annotate_tss(pb, gtf, copy=True)
    assert "target_plus" not in pb["atac"].layers and "tss" not in pb["rna"].var
    assert "target_plus" in annotated["atac"].layers


def test_gtf_without_tss_information(tmp_path):
    exons_only = [row for row in GTF_ROWS if row[1] == "exon"]
    path = write_gtf(tmp_path / "exons.gtf", exons_only)
    with pytest.raises(ValueError, match="no 'transcript' or 'gene' rows"):
        scget.pp.annotate_tss(make_pb(), path)


def test_bad_input(gtf):
    pb = make_pb()
    pb.mod["rna"].var_names = ["G1", "G1", "G3", "G4", "G5"]
    with pytest.raises(ValueError, match="duplicated"):
        scget.pp.annotate_tss(pb, gtf)
    pb = make_pb()
    pb.mod["atac"].var_names = ["p1", "p2", "p3", "p4", "p5"]
    with pytest.raises(ValueError, match="cannot be parsed"):
        scget.pp.annotate_tss(pb, gtf)
    with pytest.raises(ValueError, match="min_accessibility"):
        scget.pp.annotate_tss(make_pb(), gtf, min_accessibility=2)
    with pytest.raises(KeyError, match="gene_key"):
        scget.pp.annotate_tss(make_pb(), gtf, gene_key="symbol")
    other_genome = pd.DataFrame(
        {"gene_name": ["G1"], "chrom": ["scaffold_9"], "tss": [5], "strand": ["+"]}
    )
    with pytest.raises(ValueError, match="shares no chromosome"):
        scget.pp.annotate_tss(make_pb(), other_genome)


def test_cell_level_data_is_refused(gtf):
    mdata = cell_level()
    with pytest.raises(ValueError, match=r"not a pseudobulk.*scget\.pp\.pseudobulk\(mdata"):
        scget.pp.annotate_tss(mdata, gtf)
    assert "target_plus" not in mdata["atac"].layers


@pytest.mark.parametrize(("mod", "value"), [("rna", np.nan), ("atac", np.inf)])
def test_non_finite_values_raise_counting_them(gtf, mod, value):
    pb = make_pb()
    pb[mod].X[:, 1] = value
    with pytest.raises(ValueError, match=rf'pb\["{mod}"\]\.X holds 2 non-finite value'):
        scget.pp.annotate_tss(pb, gtf)
    assert "target_plus" not in pb["atac"].layers


@pytest.mark.realdata
def test_pbmc_tss_peaks_agree_with_cell_ranger(pbmc, shared_data):
    """TSS peaks from the GENCODE gene table are Cell Ranger ARC's promoter peaks."""
    mdata, _ = pbmc
    pb = scget.pp.pseudobulk(mdata, "cluster", min_cells=50)
    scget.pp.annotate_tss(pb, shared_data / "gene_annotation" / "genes.parquet")
    genes = pb["rna"].var
    ours = {(g, p) for g, peaks in genes["tss_peaks"].items() for p in peaks.split(";") if p}
    promoters = mdata["atac"].uns["atac"]["peak_annotation"].query("peak_type == 'promoter'")
    cell_ranger = set(zip(promoters.index, promoters["peak"], strict=True))
    assert len(ours) >= 25
    assert len(ours & cell_ranger) / len(ours) >= 0.9
    # targets: a TSS peak's gene value where accessible, 0 at peaks without TSS
    for strand, layer in (("+", "target_plus"), ("-", "target_minus")):
        targets = pb["atac"].to_df(layer=layer)
        on_strand = genes[genes["strand"] == strand]
        expected = pd.DataFrame(0.0, index=pb.obs_names, columns=pb["atac"].var_names)
        for gene, peaks in on_strand["tss_peaks"].items():
            for peak in filter(None, peaks.split(";")):
                expected[peak] += pb["rna"].to_df()[gene]
        expected = expected.where(pb["atac"].to_df() >= 0.05, 0.0)
        np.testing.assert_allclose(targets.to_numpy(), expected.to_numpy(), rtol=1e-5)


def test_simulated_targets_sit_on_tss_of_expressed_genes(simulated):
    gtf = simulated.uns["simulation"]["gtf"]
    pb = scget.pp.pseudobulk(simulated, "cell_type", min_cells=10)
    # without extension, the TSS peaks are exactly the simulator's promoters, each holding
    # its own gene; the 300 bp extension may also reach a neighbouring peak
    scget.pp.annotate_tss(pb, gtf, extend=0)
    var = pb["atac"].var
    promoters = var["sim_role"] == "promoter"
    genes_in_peak = var["tss_genes_plus"] + var["tss_genes_minus"]
    pd.testing.assert_series_equal(genes_in_peak != "", promoters, check_names=False)
    assert (genes_in_peak[promoters] == var["sim_gene"][promoters]).all()

    scget.pp.annotate_tss(pb, gtf, min_accessibility=0.0)
    expressed = pb["rna"].to_df(layer="counts") > 0
    for layer, column in (("target_plus", "tss_genes_plus"), ("target_minus", "tss_genes_minus")):
        expected = np.zeros((pb.n_obs, pb["atac"].n_vars), dtype=bool)
        for position, genes in enumerate(pb["atac"].var[column]):
            if genes:
                expected[:, position] = expressed[genes.split(";")].any(axis=1).to_numpy()
        # a target is non-zero exactly where the peak holds the TSS of an expressed gene
        np.testing.assert_array_equal(pb["atac"].layers[layer] > 0, expected)
        assert expected.any()

    default = scget.pp.annotate_tss(pb, gtf, copy=True)  # min_accessibility=0.05
    low = pb["atac"].X < 0.05
    for layer in ("target_plus", "target_minus"):
        np.testing.assert_array_equal(default["atac"].layers[layer][low], 0)
        np.testing.assert_array_equal(
            default["atac"].layers[layer][~low], pb["atac"].layers[layer][~low]
        )
