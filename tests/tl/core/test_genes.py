import numpy as np
import pandas as pd
import pytest

from scget.tl._core._genes import accessible_tss, peaks_to_genes, tss_peak_matrix

PEAKS = pd.Index(["chr1:0-100", "chr1:200-300", "chr1:400-500"])


def _var(entries, strands):
    return pd.DataFrame(
        {"tss_peaks": entries, "strand": strands}, index=[f"g{i}" for i in range(len(entries))]
    )


def test_tss_peak_matrix_reads_joined_names_and_ignores_unknown_peaks():
    var = _var(["chr1:0-100;chr1:400-500", "", "chr9:1-2;chr1:200-300"], ["+", "-", "+"])
    matrix = tss_peak_matrix(var, PEAKS).toarray()
    np.testing.assert_array_equal(matrix, [[1, 0, 1], [0, 0, 0], [0, 1, 0]])


def test_tss_peak_matrix_needs_the_column():
    with pytest.raises(KeyError, match="annotate_tss"):
        tss_peak_matrix(pd.DataFrame(index=["g"]), PEAKS)


def test_peaks_to_genes_means_accessible_peaks_on_the_gene_strand():
    var = _var(["chr1:0-100;chr1:400-500", "chr1:200-300;chr1:400-500", ""], ["+", "-", "+"])
    tss = tss_peak_matrix(var, PEAKS)
    plus = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])
    minus = -plus
    # group 0: all open; group 1: peak 2 closed (0.01 < 0.05)
    accessibility = np.array([[1.0, 0.5, 0.2], [1.0, 0.02, 0.01]])
    genes = peaks_to_genes(plus, minus, tss=tss, strand=var["strand"], accessibility=accessibility)
    expected = np.array([[(1 + 3) / 2, -(2 + 3) / 2, np.nan], [10.0, np.nan, np.nan]])
    np.testing.assert_allclose(genes, expected)
    np.testing.assert_array_equal(
        accessible_tss(accessibility, tss), [[True, True, False], [True, False, False]]
    )


def test_peaks_to_genes_unknown_strand_is_nan():
    var = _var(["chr1:0-100"], [""])
    tss = tss_peak_matrix(var, PEAKS)
    values = np.ones((1, 3))
    out = peaks_to_genes(values, values, tss=tss, strand=var["strand"], accessibility=values)
    assert np.isnan(out).all()
