"""Peak-name parsing and chromosome order."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from scget._genomic import (
    chromosome_sort_key,
    format_peak_names,
    parse_peak_names,
    peak_coordinates,
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
