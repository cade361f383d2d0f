"""Summing the rows of a (possibly on-disk) cell-level matrix by group, chunk by chunk."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._logging import progress
from .._utils import check_counts

#: Rows read at once from a matrix; bounds the memory of backed (on-disk) runs.
DEFAULT_CHUNK_SIZE = 10_000


def is_in_memory(matrix) -> bool:
    """Whether ``matrix`` is a NumPy array or a SciPy sparse matrix (not an on-disk dataset)."""
    return isinstance(matrix, np.ndarray) or sp.issparse(matrix)


def indicator(codes: np.ndarray, n_groups: int) -> sp.csr_matrix:
    """Sparse ``n_groups x n_cells`` matrix with a 1 where a cell belongs to a group.

    Cells with a negative code belong to no group.
    """
    codes = np.asarray(codes)
    cells = np.flatnonzero(codes >= 0)
    return sp.csr_matrix((np.ones(cells.size), (codes[cells], cells)), shape=(n_groups, codes.size))


def sum_by_group(
    matrix,
    codes: np.ndarray,
    n_groups: int,
    *,
    what: str,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> np.ndarray:
    """Sum the rows of ``matrix`` that share a group code.

    Works on dense arrays, SciPy sparse matrices (never densified) and on-disk
    datasets of backed AnnData (h5py datasets, anndata sparse datasets), reading the
    latter ``chunk_size`` rows at a time so that memory stays bounded.

    Parameters
    ----------
    matrix
        Cells x features counts.
    codes
        Group index of each row; negative rows are ignored.
    n_groups
        Number of groups.
    what
        Name of the matrix in error messages, e.g. ``'mdata["atac"].X'``.
    chunk_size
        Rows per chunk.

    Returns
    -------
    Dense ``n_groups x n_features`` float64 sums.

    Raises
    ------
    ValueError
        If the values are not non-negative integer counts. In-memory matrices are
        checked before summing; on-disk ones chunk by chunk, as they are read.
    """
    n_rows, n_features = matrix.shape
    if len(codes) != n_rows:
        raise ValueError(f"{what} has {n_rows} rows but {len(codes)} group codes were given.")
    in_memory = is_in_memory(matrix)
    if in_memory:
        check_counts(matrix, what)
        if sp.issparse(matrix) and matrix.format != "csr":
            # Row slicing of other formats is slow; one product over all rows instead.
            return np.asarray((indicator(codes, n_groups) @ matrix).todense(), dtype=np.float64)
    groups = indicator(codes, n_groups)
    sums = np.zeros((n_groups, n_features), dtype=np.float64)
    starts = range(0, n_rows, chunk_size)
    for start in progress(starts, desc=f"summing {what}", total=len(starts), leave=False):
        stop = min(start + chunk_size, n_rows)
        block = matrix[start:stop]
        if not in_memory:
            check_counts(block, f"{what} (rows {start}-{stop})")
        block = block.astype(np.float64) if sp.issparse(block) else np.asarray(block, np.float64)
        product = groups[:, start:stop] @ block
        if sp.issparse(product):
            product = product.tocoo()  # (group, feature) pairs are unique
            sums[product.row, product.col] += product.data
        else:
            sums += product
    return sums
