"""From peaks to genes: a gene's TSS peaks and gene-level values from per-peak values.

GET predicts one value per region and strand; a gene's prediction is the mean over its
accessible TSS peaks of the value on the gene's strand (Fu et al. 2025). Every gene-level
aggregation in scget (GET's ``get_pred`` and the evaluation baselines) goes through
:func:`peaks_to_genes` so that they agree on which peaks count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..._shared.constants import GENE_PEAKS_COLUMN, LIST_SEP, MIN_ACCESSIBILITY


def tss_peak_matrix(gene_var: pd.DataFrame, peak_names: pd.Index) -> sp.csr_matrix:
    """Genes x peaks indicator of each gene's TSS peaks.

    Parameters
    ----------
    gene_var
        ``["rna"].var`` with the column ``tss_peaks`` written by :func:`scget.pp.annotate_tss`
        (';'-joined peak names, ``""`` when the gene has none).
    peak_names
        ``["atac"].var_names``; listed peaks absent from it are ignored.

    Returns
    -------
    Sparse ``float32`` matrix (genes x peaks), 1 where the peak holds a TSS of the gene.

    Raises
    ------
    KeyError
        If ``gene_var`` has no ``tss_peaks`` column.
    """
    if GENE_PEAKS_COLUMN not in gene_var.columns:
        raise KeyError(
            f"['rna'].var has no {GENE_PEAKS_COLUMN!r} column; run scget.pp.annotate_tss first."
        )
    peak_index = pd.Index(peak_names)
    entries = pd.Series(gene_var[GENE_PEAKS_COLUMN].fillna("").astype(str).to_numpy())
    pairs = entries.str.split(LIST_SEP).explode()
    cols = peak_index.get_indexer(pairs.to_numpy())
    rows = pairs.index.to_numpy()[cols >= 0]
    cols = cols[cols >= 0]
    matrix = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)),
        shape=(len(gene_var), len(peak_index)),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def accessible_tss(
    accessibility: np.ndarray,
    tss: sp.spmatrix,
    *,
    min_accessibility: float = MIN_ACCESSIBILITY,
) -> np.ndarray:
    """Whether each gene has at least one accessible TSS peak in each group.

    Parameters
    ----------
    accessibility
        Accessibility scores, groups x peaks (``["atac"].X``).
    tss
        Genes x peaks indicator from :func:`tss_peak_matrix`.
    min_accessibility
        A peak is accessible in a group when its score is at least this.

    Returns
    -------
    Boolean array, groups x genes.
    """
    open_peaks = (np.asarray(accessibility) >= min_accessibility).astype(np.float32)
    return np.asarray(tss @ open_peaks.T).T > 0


def peaks_to_genes(
    plus: np.ndarray,
    minus: np.ndarray,
    *,
    tss: sp.spmatrix,
    strand: np.ndarray,
    accessibility: np.ndarray,
    min_accessibility: float = MIN_ACCESSIBILITY,
) -> np.ndarray:
    """Gene-level values: mean over the gene's accessible TSS peaks, on the gene's strand.

    Parameters
    ----------
    plus, minus
        Per-peak values of the + and - strand, groups x peaks. Only the values at TSS
        peaks are read (others may hold anything finite).
    tss
        Genes x peaks indicator from :func:`tss_peak_matrix`.
    strand
        Gene strands, ``"+"`` or ``"-"`` (anything else gives NaN).
    accessibility
        Accessibility scores, groups x peaks; peaks below ``min_accessibility`` in a group
        are left out of that group's mean.
    min_accessibility
        Accessibility cut-off.

    Returns
    -------
    Array of ``float64``, groups x genes, NaN where the gene has no accessible TSS peak
    in the group or no known strand.
    """
    open_peaks = np.asarray(accessibility) >= min_accessibility
    n_open = np.asarray(tss @ open_peaks.astype(np.float64).T).T
    strand = np.asarray(strand).astype(str)
    result = np.full(n_open.shape, np.nan)
    for sign, values in (("+", plus), ("-", minus)):
        genes = strand == sign
        if not genes.any():
            continue
        masked = np.where(open_peaks, np.asarray(values, dtype=np.float64), 0.0)
        sums = np.asarray(tss[genes] @ masked.T).T
        with np.errstate(invalid="ignore", divide="ignore"):
            result[:, genes] = np.where(n_open[:, genes] > 0, sums / n_open[:, genes], np.nan)
    return result
