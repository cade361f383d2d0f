"""Overlaps between two sets of genomic intervals (0-based, half-open), per chromosome."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ncls import NCLS


def overlap_pairs(query: pd.DataFrame, subject: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of overlapping intervals.

    Parameters
    ----------
    query, subject
        Tables with ``chrom``, ``start`` and ``end`` columns (0-based, half-open: two
        intervals overlap when they share at least one base). Intervals may overlap
        within a table.

    Returns
    -------
    Row positions ``(i, j)`` such that ``query`` row ``i`` overlaps ``subject`` row ``j``,
    sorted by ``i`` then ``j``.
    """
    q_start, q_end = (query[c].to_numpy(np.int64) for c in ("start", "end"))
    s_start, s_end = (subject[c].to_numpy(np.int64) for c in ("start", "end"))
    found_query, found_subject = [], []
    subject_rows = subject.groupby("chrom", observed=True, sort=False).indices
    for chrom, query_idx in query.groupby("chrom", observed=True, sort=False).indices.items():
        subject_idx = subject_rows.get(chrom)
        if subject_idx is None:
            continue
        tree = NCLS(s_start[subject_idx], s_end[subject_idx], subject_idx.astype(np.int64))
        i, j = tree.all_overlaps_both(
            q_start[query_idx], q_end[query_idx], query_idx.astype(np.int64)
        )
        found_query.append(i)
        found_subject.append(j)
    if not found_query:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    i, j = np.concatenate(found_query), np.concatenate(found_subject)
    order = np.lexsort((j, i))
    return i[order], j[order]
