from types import SimpleNamespace

import numpy as np
import pandas as pd

from scget.tl._core._promoters import per_gene


def test_per_gene_means_each_cell_and_leaves_the_others_nan():
    """Rows of one (group, gene) are averaged; cells without rows are NaN; dtype as asked."""
    table = pd.DataFrame({"group": [0, 0, 1, 1, 1], "gene": [2, 2, 0, 0, 2]})
    values = np.array([[1.0, 10.0], [3.0, 30.0], [5.0, 50.0], [7.0, 70.0], [-1.0, 0.5]])
    result = per_gene(values, SimpleNamespace(table=table), (2, 3), dtype=np.float32)
    expected = np.full((2, 3, 2), np.nan)
    expected[0, 2] = [2.0, 20.0]
    expected[1, 0] = [6.0, 60.0]
    expected[1, 2] = [-1.0, 0.5]
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, expected.astype(np.float32))
    assert per_gene(values, SimpleNamespace(table=table), (2, 3)).dtype == np.float64


def test_per_gene_with_no_rows_is_all_nan():
    table = pd.DataFrame({"group": np.array([], int), "gene": np.array([], int)})
    result = per_gene(np.empty((0, 4)), SimpleNamespace(table=table), (2, 3))
    assert result.shape == (2, 3, 4) and np.isnan(result).all()
