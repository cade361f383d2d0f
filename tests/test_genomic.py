"""Peak-name parsing and chromosome order."""

from __future__ import annotations

import pytest

from scget._genomic import chromosome_sort_key, format_peak_names, parse_peak_names


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
