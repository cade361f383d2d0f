"""Summing the rows of a (possibly on-disk) cell-level matrix by group, chunk by chunk."""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

from .._shared.logging import progress
from .._shared.utils import COUNTS_FIX, check_counts, non_finite_error

#: Rows read at once from on-disk or dense matrices; bounds the memory of backed runs.
DEFAULT_CHUNK_SIZE = 10_000
_NEGATIVE, _NON_INTEGER = 1, 2


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

    Sparse matrices are summed in one pass over their stored values, without copies or
    densifying (CSC is converted to CSR first). Dense arrays and on-disk datasets of
    backed AnnData (h5py datasets, anndata sparse datasets) are read ``chunk_size`` rows
    at a time, so memory stays bounded. Sums are accumulated in float64. Only the rows
    of a group are read and checked.

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
        If the values are not finite, non-negative integer counts (checked in the same pass as
        the sums, chunk by chunk for chunked input).
    """
    n_rows, n_features = matrix.shape
    codes = np.asarray(codes, dtype=np.int64)
    if len(codes) != n_rows:
        raise ValueError(f"{what} has {n_rows} rows but {len(codes)} group codes were given.")
    sums = np.zeros((n_groups, n_features), dtype=np.float64)
    if sp.issparse(matrix):
        _add_sparse(matrix, codes, sums, what)
        return sums
    starts = range(0, n_rows, chunk_size)
    for start in progress(starts, desc=f"summing {what}", total=len(starts), leave=False):
        stop = min(start + chunk_size, n_rows)
        block = matrix[start:stop]
        if sp.issparse(block):
            _add_sparse(block, codes[start:stop], sums, f"{what} (rows {start}-{stop})")
        else:
            check_counts(block, f"{what} (rows {start}-{stop})")
            sums += indicator(codes[start:stop], n_groups) @ np.asarray(block, dtype=np.float64)
    return sums


def _add_sparse(matrix, codes: np.ndarray, sums: np.ndarray, what: str) -> None:
    csr = matrix.tocsr() if matrix.format != "csr" else matrix
    # rows visited group by group, so that one row of ``sums`` at a time is in cache
    order = np.argsort(codes, kind="stable")
    order = order[codes[order] >= 0]
    problems, n_non_finite = _csr_group_sums(csr.indptr, csr.indices, csr.data, codes, order, sums)
    if n_non_finite:
        raise non_finite_error(what, n_non_finite, COUNTS_FIX)
    if problems & _NEGATIVE:
        raise ValueError(f"{what} holds negative values; raw counts are expected.")
    if problems & _NON_INTEGER:
        raise ValueError(
            f"{what} holds non-integer values; raw counts are expected. If your counts are "
            "in a layer (e.g. layers['counts']), pass that layer instead of a normalised X."
        )


@numba.njit(cache=True, nogil=True)
def _csr_group_sums(indptr, indices, data, codes, order, sums):  # pragma: no cover (compiled)
    """Add the CSR rows ``order`` to their group's row of ``sums``; flag and count bad values."""
    problems = 0
    n_non_finite = 0
    for row in order:
        total = sums[codes[row]]
        for k in range(indptr[row], indptr[row + 1]):
            value = data[k]
            if not np.isfinite(value):
                n_non_finite += 1
            elif value < 0:
                problems |= _NEGATIVE
            elif value != np.floor(value):
                problems |= _NON_INTEGER
            total[indices[k]] += value
    return problems, n_non_finite
