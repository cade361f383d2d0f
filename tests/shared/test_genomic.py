"""Peak-name parsing, BED files, chromosome names and order."""

from __future__ import annotations

import gzip
import re
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from scget._shared.genomic import (
    chromosome_hint,
    chromosome_sort_key,
    format_peak_names,
    parse_peak_names,
    peak_coordinates,
    read_bed,
)


def test_parse_accepts_the_common_spellings():
    table = parse_peak_names(["chr1:100-200", "chr2-5-10", "chrX_7_9"])
    assert table["chrom"].tolist() == ["chr1", "chr2", "chrX"]
    assert table["start"].tolist() == [100, 5, 7]
    assert table["end"].tolist() == [200, 10, 9]
    assert list(table.index) == ["chr1:100-200", "chr2-5-10", "chrX_7_9"]


def test_parse_round_trips_through_format():
    names = ["chr1:100-200", "1:5-10", "scaffold_12:0-7"]
    table = parse_peak_names(names)
    assert list(format_peak_names(table["chrom"], table["start"], table["end"])) == names


@pytest.mark.parametrize("bad", ["chr1", "chr1:200", "chr1:a-b", "chr1:300-200"])
def test_parse_rejects_bad_names(bad):
    with pytest.raises(ValueError, match="peak"):
        parse_peak_names(["chr1:1-2", bad])


def test_chromosomes_sort_naturally():
    chroms = ["chrX", "chr10", "chr2", "chrM", "chr1", "chrUn_xyz", "chrY"]
    assert sorted(chroms, key=chromosome_sort_key) == [
        "chr1",
        "chr2",
        "chr10",
        "chrX",
        "chrY",
        "chrM",
        "chrUn_xyz",
    ]


def test_peak_coordinates_come_from_the_names_and_columns_must_agree():
    var = pd.DataFrame(
        {"chrom": ["chr1", "chr2"], "start": [100, 5], "end": [200, 10]},
        index=["chr1:100-200", "chr2:5-10"],
    )
    adata = ad.AnnData(np.zeros((1, 2)), var=var)
    assert peak_coordinates(adata)["start"].tolist() == [100, 5]
    adata.var_names = ["chr1:100-200", "chr2:5-12"]
    with pytest.raises(ValueError, match=r"'chr2:5-12' has chrom=chr2, start=5, end=10"):
        peak_coordinates(adata)
    adata.var = adata.var.drop(columns=["chrom", "start", "end"])
    assert peak_coordinates(adata)["end"].tolist() == [200, 12]


#: What BED files hold besides intervals, and the intervals in tabs or spaces.
BED_TEXT = """browser position chr1:1-1000
track name=enhancers description="candidate enhancers" visibility=2
# exported 2024-01-01

chrom\tstart\tend\tname\tscore\tstrand
chr1\t100\t200\tenh1\t960\t+
chr2 300 400
chr2  500   450  swapped  0  -
"""


@pytest.mark.parametrize("compressed", [False, True])
def test_read_bed_accepts_what_bed_files_hold(tmp_path, compressed):
    path = tmp_path / ("regions.bed.gz" if compressed else "regions.bed")
    path.write_bytes(gzip.compress(BED_TEXT.encode()) if compressed else BED_TEXT.encode())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy or pandas warnings either
        table = read_bed(path)
    assert table["chrom"].tolist() == ["chr1", "chr2", "chr2"]
    assert table["start"].tolist() == [100, 300, 500] and table["end"].tolist() == [200, 400, 450]
    assert table["name"].tolist() == ["enh1", "", "swapped"]
    assert table["line"].tolist() == [6, 7, 8]
    assert table["start"].dtype == np.int64


@pytest.mark.parametrize(
    "text",
    [
        "chr1\t1\t5\tn\nchr2\t3\t9\tm\t0\t+\n",
        "chrom start end\nchr1 1 5\n\nchr2 3 9 x\n",
        "track name=t\nchr1\t1\t5\t a b \nchr1\t7\t9\n",
        "chr1 1 5\r\nchr2 2 3\r\n",
        BED_TEXT,
    ],
)
def test_read_bed_parses_in_one_pass_as_line_by_line(tmp_path, text):
    from scget._shared.genomic import _read_bed_lines

    path = tmp_path / "r.bed"
    path.write_text(text)
    pd.testing.assert_frame_equal(read_bed(path), _read_bed_lines(path))


def test_read_bed_skips_a_commented_header_and_reads_windows_line_ends(tmp_path):
    path = tmp_path / "r.bed"
    path.write_bytes(b"#chrom\tchromStart\tchromEnd\r\nchr1\t1\t5\r\n")
    assert read_bed(path)[["chrom", "start", "end"]].values.tolist() == [["chr1", 1, 5]]


@pytest.mark.parametrize(
    ("text", "line", "shown"),
    [
        ("chr1\t1\t5\nchr1\t5\n", 2, "'chr1\\t5'"),  # two columns
        ("chr1 1 5\nchr1 x y\n", 2, "'chr1 x y'"),  # a header row after an interval
        ("chr1 -5 5\n", 1, "'chr1 -5 5'"),  # negative
        ("chr1 1.5 5\n", 1, "'chr1 1.5 5'"),
        ("chr1 start finish\n", 1, "'chr1 start finish'"),  # not a header: no end column
    ],
)
def test_read_bed_names_the_file_and_line_it_cannot_read(tmp_path, text, line, shown):
    path = tmp_path / "bad.bed"
    path.write_text(text)
    message = f"{path} line {line}: expected an interval 'chrom start end [name ...]'"
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        read_bed(path)
    assert f"got {shown}" in str(raised.value)


def test_read_bed_refuses_an_empty_missing_or_binary_file(tmp_path):
    empty = tmp_path / "empty.bed"
    empty.write_text("track name=x\n# nothing\n")
    with pytest.raises(ValueError, match=f"{re.escape(str(empty))} holds no interval"):
        read_bed(empty)
    with pytest.raises(FileNotFoundError, match=r"absent\.bed does not exist"):
        read_bed(tmp_path / "absent.bed")
    cut = tmp_path / "cut.bed.gz"
    cut.write_bytes(gzip.compress(("chr1\t1\t5\n" * 5000).encode())[:40])
    with pytest.raises(ValueError, match=f"Cannot read the BED file {re.escape(str(cut))}"):
        read_bed(cut)


def test_chromosome_hint_suggests_the_naming_in_use():
    assert chromosome_hint("2", ["chr1", "chr2"]) == " (did you mean 'chr2'?)"
    assert chromosome_hint("chr2", ["1", "2"]) == " (did you mean '2'?)"
    assert chromosome_hint("MT", ["chr1", "chrM"]) == " (did you mean 'chrM'?)"
    assert chromosome_hint("chrx", ["chrX"]) == " (did you mean 'chrX'?)"
    assert chromosome_hint("chr3", ["chr1", "chr2"]) == ""
