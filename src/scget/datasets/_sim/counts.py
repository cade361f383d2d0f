"""Cells and their counts: cell types, library sizes, RNA counts, ATAC fragments.

The ATAC matrix is *defined* from the fragments: entry (cell, peak) is the number of the
cell's fragments overlapping the peak (half-open intervals sharing at least one base),
so recounting the fragments file reproduces it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

#: Log-sd of the per-cell library sizes (RNA UMIs and ATAC fragments).
_LIBRARY_SD = 0.5
#: Negative binomial shape (inverse overdispersion) of RNA counts.
_NB_SHAPE = 4.0
#: Fraction of a cell's fragments drawn from peaks (the rest fall anywhere).
_FRIP = 0.55
#: Fragment lengths: nucleosome-free, mono- and di-nucleosome modes (mean, sd, weight).
_FRAGMENT_MODES = ((90, 30, 0.6), (200, 25, 0.3), (380, 30, 0.1))
_FRAGMENT_RANGE = (30, 800)
#: Mean extra reads (PCR duplicates) per fragment, for the fragments file's count column.
_DUPLICATES = 0.5
#: Cells per chunk when sampling RNA counts (bounds memory).
_CHUNK_CELLS = 512


def assign_cell_types(n_cells: int, n_cell_types: int, rng) -> np.ndarray:
    """Cell type of each cell: unequal proportions, every type with at least one cell."""
    proportions = rng.dirichlet(np.full(n_cell_types, 4.0))
    types = np.concatenate(
        [np.arange(n_cell_types), rng.choice(n_cell_types, n_cells - n_cell_types, p=proportions)]
    )
    return rng.permutation(types)


def library_sizes(n_cells: int, mean: float, rng) -> np.ndarray:
    """Log-normal library sizes with the given mean (at least 1)."""
    sizes = rng.lognormal(np.log(mean) - _LIBRARY_SD**2 / 2, _LIBRARY_SD, n_cells)
    return np.maximum(np.round(sizes), 1).astype(np.int64)


def rna_counts(
    expression: np.ndarray, cell_type: np.ndarray, depth: np.ndarray, count_model: str, rng
) -> sp.csr_matrix:
    """Sparse cells x genes counts, Poisson or negative binomial around depth x proportion.

    Parameters
    ----------
    expression
        ``(n_genes, n_cell_types)`` expression rates.
    cell_type
        Cell type of each cell.
    depth
        Expected UMIs of each cell.
    count_model
        ``"poisson"`` or ``"nb"``.
    rng
        Random generator.
    """
    proportion = (expression / expression.sum(axis=0, keepdims=True)).T.astype(np.float32)
    blocks = []
    for begin in range(0, len(cell_type), _CHUNK_CELLS):
        chunk = slice(begin, begin + _CHUNK_CELLS)
        mean = depth[chunk, None].astype(np.float32) * proportion[cell_type[chunk]]
        if count_model == "nb":
            mean *= rng.gamma(_NB_SHAPE, 1.0 / _NB_SHAPE, mean.shape).astype(np.float32)
        blocks.append(sp.csr_matrix(rng.poisson(mean).astype(np.float32)))
    return sp.vstack(blocks, format="csr")


@dataclass
class Fragments:
    """Unique fragments, sorted by chromosome, start, end and cell.

    Attributes
    ----------
    chrom, start, end, cell, count
        Chromosome index, 0-based half-open coordinates, cell index and reads (>= 1).
    """

    chrom: np.ndarray
    start: np.ndarray
    end: np.ndarray
    cell: np.ndarray
    count: np.ndarray


def sample_fragments(
    accessibility: np.ndarray,
    cell_type: np.ndarray,
    depth: np.ndarray,
    peak_start: np.ndarray,
    peak_end: np.ndarray,
    sizes: np.ndarray,
    rng,
) -> Fragments:
    """Fragments of every cell: from peaks in proportion to accessibility, and anywhere.

    A fragment from a peak is centred at a uniform position of the peak; a background
    fragment anywhere in the genome. Identical fragments of a cell are merged (their reads
    add up), as in a 10x fragments file.

    Parameters
    ----------
    accessibility
        ``(n_peaks, n_cell_types)`` accessibility.
    cell_type
        Cell type of each cell.
    depth
        Fragments of each cell (before merging duplicates).
    peak_start, peak_end
        Global coordinates of the peaks (sorted).
    sizes
        Chromosome lengths.
    rng
        Random generator.
    """
    in_peaks = rng.binomial(depth, _FRIP)
    centres, cells = [], []
    for kind in range(accessibility.shape[1]):
        members = np.flatnonzero(cell_type == kind)
        cumulative = np.cumsum(accessibility[:, kind])
        n = in_peaks[members]
        peak = np.searchsorted(cumulative, rng.random(n.sum()) * cumulative[-1], side="right")
        peak = np.minimum(peak, len(cumulative) - 1)
        width = peak_end[peak] - peak_start[peak]
        centres.append(peak_start[peak] + (rng.random(len(peak)) * width).astype(np.int64))
        cells.append(np.repeat(members, n))
    n_anywhere = depth - in_peaks
    centres.append((rng.random(n_anywhere.sum()) * sizes.sum()).astype(np.int64))
    cells.append(np.repeat(np.arange(len(depth)), n_anywhere))
    centre = np.concatenate(centres)
    cell = np.concatenate(cells).astype(np.int64)
    del centres, cells

    length = _fragment_lengths(len(centre), rng)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    chrom = np.searchsorted(offsets, centre, side="right") - 1
    start = np.maximum(centre - length // 2, offsets[chrom])
    length = np.minimum(start + length, offsets[chrom + 1]) - start
    del centre, chrom

    # one sortable key per fragment: global start, then length, then cell
    cell_bits = max(int(len(depth) - 1).bit_length(), 1)
    length_bits = int(_FRAGMENT_RANGE[1]).bit_length()
    if int(sizes.sum()).bit_length() + length_bits + cell_bits > 63:
        raise ValueError("The genome and the number of cells are too large to sort fragments.")
    key = (start << (length_bits + cell_bits)) | (length << cell_bits) | cell
    del start, length, cell
    key.sort()
    new = np.ones(len(key), dtype=bool)
    new[1:] = key[1:] != key[:-1]
    first = np.flatnonzero(new)
    count = np.diff(np.append(first, len(key))) + rng.poisson(_DUPLICATES, len(first))
    key = key[first]
    cell = (key & ((1 << cell_bits) - 1)).astype(np.int32)
    length = (key >> cell_bits) & ((1 << length_bits) - 1)
    start = key >> (length_bits + cell_bits)
    chrom = np.searchsorted(offsets, start, side="right") - 1
    start -= offsets[chrom]
    return Fragments(chrom.astype(np.int16), start, start + length, cell, count.astype(np.int32))


def _fragment_lengths(n: int, rng) -> np.ndarray:
    """Fragment lengths from a mixture of nucleosome-free and nucleosomal modes."""
    means, sds, weights = (
        np.array(v, dtype=np.float64) for v in zip(*_FRAGMENT_MODES, strict=True)
    )
    mode = rng.choice(len(means), n, p=weights / weights.sum())
    length = rng.normal(means[mode], sds[mode])
    return np.clip(np.round(length), *_FRAGMENT_RANGE).astype(np.int64)


def count_insertions(
    fragments: Fragments,
    offsets: np.ndarray,
    peak_start: np.ndarray,
    peak_end: np.ndarray,
    n_cells: int,
) -> sp.csr_matrix:
    """Cells x peaks Tn5 insertions in each peak (peaks sorted, disjoint), as Cell Ranger counts.

    A fragment ``[start, end)`` has insertion sites ``start`` and ``end``; each site in a
    peak counts once, so a fragment inside a peak counts twice (the default of
    :func:`scget.pp.recount_peaks`).

    Parameters
    ----------
    fragments
        From :func:`sample_fragments`.
    offsets
        Global coordinate of each chromosome's first base.
    peak_start, peak_end
        Global coordinates of the peaks.
    n_cells
        Number of cells.
    """
    base = offsets[fragments.chrom]
    shape = (n_cells, len(peak_start))
    matrix = sp.csr_matrix(shape, dtype=np.float32)
    for end in (fragments.start, fragments.end):  # one fragment end at a time: half the memory
        sites = base + end
        peak = np.searchsorted(peak_start, sites, side="right") - 1
        inside = (peak >= 0) & (sites < peak_end[np.maximum(peak, 0)])
        ones = np.ones(int(inside.sum()), dtype=np.float32)
        matrix += sp.csr_matrix((ones, (fragments.cell[inside], peak[inside])), shape=shape)
    return matrix
