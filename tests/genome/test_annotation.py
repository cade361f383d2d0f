"""scget.genome.read_gtf and read_tss_table: coordinates, formats, real GENCODE tables."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

import scget

GTF = (
    "##description: test\n"
    '1\tsrc\tgene\t101\t500\t.\t+\t.\tgene_id "E1.2"; gene_name "A"; gene_type "protein_coding";\n'
    '1\tsrc\ttranscript\t101\t500\t.\t+\t.\tgene_id "E1.2"; gene_name "A"; transcript_id "T1";\n'
    '1\tsrc\ttranscript\t151\t400\t.\t+\t.\tgene_id "E1.2"; gene_name "A"; transcript_id "T2";\n'
    '1\tsrc\texon\t151\t200\t.\t+\t.\tgene_id "E1.2"; gene_name "A"; transcript_id "T2";\n'
    '2\tsrc\ttranscript\t1001\t2000\t.\t-\t.\tgene_id "E2"; transcript_id "T3";\n'
)


def test_read_gtf_coordinates_and_attributes(tmp_path):
    path = tmp_path / "a.gtf.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(GTF)
    table = scget.genome.read_gtf(path, chunk_size=2)  # chunks smaller than the file
    assert table["feature"].tolist() == ["gene", "transcript", "transcript", "transcript"]
    assert table["start"].tolist() == [100, 100, 150, 1000]  # 0-based
    assert table["end"].tolist() == [500, 500, 400, 2000]
    assert table["gene_type"].iloc[0] == "protein_coding"
    assert table["transcript_id"].tolist()[1:] == ["T1", "T2", "T3"]
    assert pd.isna(table["gene_name"].iloc[3])


def test_tss_from_gtf(tmp_path):
    path = tmp_path / "a.gtf"
    path.write_text(GTF)
    tss = scget.genome.read_tss_table(path)
    assert tss["gene_name"].tolist() == ["A", "A", "E2"]  # unnamed gene: named by its ID
    assert tss["tss"].tolist() == [100, 150, 1999]  # minus strand: last base
    assert tss["strand"].tolist() == ["+", "+", "-"]
    assert tss["gene_start"].tolist() == [100, 100, 1000]  # E2 has no gene row: transcript span
    assert tss["gene_end"].tolist() == [500, 500, 2000]


def test_tss_from_gene_bodies_and_positions():
    bodies = pd.DataFrame(
        {
            "Gene": ["A", "B"],
            "Chromosome": ["1", "1"],
            "Start": [10, 50],
            "End": [40, 90],
            "Strand": [1, -1],
        }
    )
    tss = scget.genome.read_tss_table(bodies)
    assert tss["tss"].tolist() == [10, 89]
    assert tss["strand"].tolist() == ["+", "-"]
    positions = bodies.assign(End=bodies["Start"] + 1)
    assert scget.genome.read_tss_table(positions)["tss"].tolist() == [10, 50]


def test_bad_tables(tmp_path):
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['strand'\]"):
        scget.genome.read_tss_table(pd.DataFrame({"gene_name": ["A"], "chrom": ["1"], "tss": [1]}))
    (tmp_path / "genes.xyz").write_text("x")
    with pytest.raises(ValueError, match="Cannot tell the format"):
        scget.genome.read_tss_table(tmp_path / "genes.xyz")
    with pytest.raises(FileNotFoundError):
        scget.genome.read_tss_table(tmp_path / "absent.gtf")
    (tmp_path / "bad.gtf").write_text("1\tsrc\tgene\n")
    with pytest.raises(ValueError, match="9"):
        scget.genome.read_gtf(tmp_path / "bad.gtf")


def test_real_gencode_tables(shared_data):
    folder = shared_data / "gene_annotation"
    tss = scget.genome.read_tss_table(folder / "tss.parquet")
    genes = scget.genome.read_tss_table(folder / "genes.parquet")
    assert len(tss) > 60_000 and set(tss["strand"]) == {"+", "-"}
    assert tss["chrom"].iloc[0] == "chr1"
    assert np.all(np.diff(tss.loc[tss["chrom"] == "chr1", "tss"]) >= 0)
    # genes.parquet holds gene bodies: TSS at the start (+) or the last base (-).
    gapdh = genes.set_index("gene_name").loc["GAPDH"]
    assert gapdh["strand"] == "+" and gapdh["tss"] == gapdh["gene_start"]
    cd14 = genes.set_index("gene_name").loc["CD14"]
    assert cd14["strand"] == "-" and cd14["tss"] == cd14["gene_end"] - 1
    # tss.parquet stores the minus-strand TSS one base past genes.parquet's last base.
    unique = [t[~t["gene_name"].duplicated(keep=False)] for t in (tss, genes)]
    both = unique[0].merge(unique[1], on=["gene_name", "chrom", "strand"], suffixes=("", "_body"))
    minus = both[both["strand"] == "-"]
    assert ((minus["tss"] - minus["tss_body"]) == 1).mean() > 0.99
