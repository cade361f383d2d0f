"""GET's per-pseudobulk normalisations: accessibility score and log10(TPM + 1)."""

from __future__ import annotations

import numpy as np

from .._shared.constants import ATAC_SCALE, TPM_SCALE

#: Largest integer that float32 represents exactly; summed counts above it stay float64.
_FLOAT32_EXACT = 2**24


def log_scaled(counts: np.ndarray, scale: float) -> np.ndarray:
    """``log10(c / sum(c) * scale + 1)`` per row of a groups x features count matrix."""
    totals = counts.sum(axis=1, keepdims=True)
    return np.log10(counts / totals * scale + 1.0)


def accessibility_score(counts: np.ndarray) -> np.ndarray:
    """Compute GET's accessibility score, ``log10(c / sum(c) * 1e5 + 1)`` over its row max.

    Parameters
    ----------
    counts
        Groups x peaks summed fragment counts; every row must have a positive total.

    Returns
    -------
    Float32 scores in [0, 1], 1 at the most accessible peak of each group.
    """
    score = log_scaled(counts, ATAC_SCALE)
    return (score / score.max(axis=1, keepdims=True)).astype(np.float32)


def log_tpm(counts: np.ndarray) -> np.ndarray:
    """Compute GET's expression, ``log10(c / sum(c) * 1e6 + 1)`` per group, as float32."""
    return log_scaled(counts, TPM_SCALE).astype(np.float32)


def compact_counts(counts: np.ndarray) -> np.ndarray:
    """Cast summed counts to float32 when every value is exact in float32, else float64."""
    if counts.size and counts.max() > _FLOAT32_EXACT:
        return counts.astype(np.float64)
    return counts.astype(np.float32)
