"""Simulated genome layout: genes with strand-aware TSSs and exons, and the peak set.

Coordinates are 0-based and half-open. Peaks are promoters (one per gene, holding its
TSS), distal enhancers (each acting on one gene, at distances spread log-uniformly up to
about 1 Mbp) and background peaks with no function; no two peaks overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..._shared.logging import logger

#: Shortest distance (bp) between neighbouring TSSs, so each gene has its own promoter peak.
MIN_TSS_SPACING = 3_000
#: Distance (bp) kept free of genes and peaks at each chromosome end.
MARGIN = 10_000
#: Range of peak widths (bp).
PEAK_WIDTH = (250, 550)
#: Smallest gap (bp) between two peaks.
_MIN_GAP = 50
#: Range of TSS-enhancer distances (bp), drawn log-uniformly.
ENHANCER_DISTANCE = (2_000, 1_000_000)
#: Median and log-sd of gene body lengths, and their bounds (bp).
_GENE_LENGTH = (15_000, 1.0, 1_000, 300_000)
#: Mean number of exons beyond the first, and the most exons of a gene.
_EXONS = (3.0, 10)
#: Candidate enhancers and background peaks drawn per peak kept (overlaps are dropped).
_CANDIDATE_EXCESS = 3.0


@dataclass
class Layout:
    """Chromosomes, genes, exons and peaks of a simulated genome.

    Attributes
    ----------
    chroms
        Chromosome names.
    sizes
        Chromosome lengths.
    offsets
        Global coordinate of each chromosome's first base.
    genes
        One row per gene, ordered by chromosome and TSS: ``chrom_idx``, ``strand``
        (``"+"``/``"-"``), ``tss``, ``start``, ``end`` (gene body).
    exons
        ``gene`` (row of ``genes``), ``start``, ``end``.
    peaks
        Ordered by chromosome and start: ``chrom_idx``, ``start``, ``end``, ``role``
        (``"promoter"``, ``"enhancer"``, ``"background"``), ``gene`` (row of ``genes``
        regulated, -1 for background) and ``distance`` (TSS to enhancer centre, bp; 0 for
        promoters, -1 for background).
    """

    chroms: list[str]
    sizes: np.ndarray
    offsets: np.ndarray
    genes: pd.DataFrame
    exons: pd.DataFrame
    peaks: pd.DataFrame

    def peak_global(self) -> tuple[np.ndarray, np.ndarray]:
        """Global start and end coordinates of the peaks."""
        offset = self.offsets[self.peaks["chrom_idx"].to_numpy()]
        return offset + self.peaks["start"].to_numpy(), offset + self.peaks["end"].to_numpy()


def check_genome_fits(sizes: np.ndarray, n_genes: int) -> None:
    """Raise ``ValueError`` if the chromosomes cannot hold ``n_genes`` spaced TSSs."""
    usable = sizes - 2 * MARGIN
    capacity = int(np.maximum(usable // MIN_TSS_SPACING, 0).sum())
    if capacity < n_genes:
        needed = n_genes * MIN_TSS_SPACING + len(sizes) * 2 * MARGIN
        raise ValueError(
            f"genome_size={int(sizes.sum())} is too small for {n_genes} genes on {len(sizes)} "
            f"chromosomes (TSSs are at least {MIN_TSS_SPACING} bp apart); use "
            f"genome_size >= {needed} or fewer genes."
        )


def make_layout(
    sizes: np.ndarray, *, n_genes: int, n_peaks: int, enhancer_fraction: float, rng
) -> Layout:
    """Place genes and peaks on chromosomes of the given sizes.

    Parameters
    ----------
    sizes
        Chromosome lengths.
    n_genes
        Number of genes (and promoter peaks).
    n_peaks
        Total number of peaks; ``n_peaks - n_genes`` are enhancers and background peaks.
    enhancer_fraction
        Fraction of the non-promoter peaks that are enhancers.
    rng
        Random generator.

    Returns
    -------
    The :class:`Layout`.
    """
    chroms = [f"chr{i + 1}" for i in range(len(sizes))]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    genes = _place_genes(sizes, n_genes, rng)
    exons = _place_exons(genes, rng)
    n_enhancers = round((n_peaks - n_genes) * enhancer_fraction)
    peaks = _place_peaks(genes, sizes, offsets, n_enhancers, n_peaks - n_genes - n_enhancers, rng)
    return Layout(chroms, sizes, offsets, genes, exons, peaks)


def _genes_per_chromosome(sizes: np.ndarray, n_genes: int) -> np.ndarray:
    """Genes per chromosome proportional to its usable length (largest remainders)."""
    capacity = np.maximum((sizes - 2 * MARGIN) // MIN_TSS_SPACING, 0)
    share = capacity / capacity.sum() * n_genes
    counts = np.minimum(np.floor(share).astype(np.int64), capacity)
    for index in np.argsort(-(share - counts)):
        if counts.sum() == n_genes:
            break
        if counts[index] < capacity[index]:
            counts[index] += 1
    return counts


def _place_genes(sizes: np.ndarray, n_genes: int, rng) -> pd.DataFrame:
    """TSSs spaced at least ``MIN_TSS_SPACING`` apart, random strands, gene bodies."""
    counts = _genes_per_chromosome(sizes, n_genes)
    chrom_idx = np.repeat(np.arange(len(sizes)), counts)
    tss = np.empty(n_genes, dtype=np.int64)
    begin = 0
    for index, count in enumerate(counts):
        free = int(sizes[index] - 2 * MARGIN - (count - 1) * MIN_TSS_SPACING)
        spots = np.sort(rng.integers(0, max(free, 1), count))
        tss[begin : begin + count] = MARGIN + spots + np.arange(count) * MIN_TSS_SPACING
        begin += count
    plus = rng.random(n_genes) < 0.5
    median, log_sd, shortest, longest = _GENE_LENGTH
    length = np.clip(rng.lognormal(np.log(median), log_sd, n_genes), shortest, longest)
    length = length.astype(np.int64)
    size = sizes[chrom_idx]
    start = np.where(plus, tss, np.maximum(tss + 1 - length, 0))
    end = np.where(plus, np.minimum(tss + length, size), tss + 1)
    return pd.DataFrame(
        {
            "chrom_idx": chrom_idx,
            "strand": np.where(plus, "+", "-"),
            "tss": tss,
            "start": start,
            "end": end,
        }
    )


def _place_exons(genes: pd.DataFrame, rng) -> pd.DataFrame:
    """Exons of each gene: the first at the gene start, the last at its end."""
    mean_extra, most = _EXONS
    n_exons = 1 + np.minimum(rng.poisson(mean_extra, len(genes)), most - 1)
    rows = []
    for gene, (start, end, count) in enumerate(
        zip(genes["start"].to_numpy(), genes["end"].to_numpy(), n_exons, strict=True)
    ):
        cuts = np.unique(rng.integers(start + 1, end, 2 * (count - 1))) if count > 1 else []
        if len(cuts) % 2:
            cuts = cuts[:-1]
        bounds = np.concatenate([[start], cuts, [end]]).reshape(-1, 2)
        rows.extend((gene, int(a), int(b)) for a, b in bounds)
    return pd.DataFrame(rows, columns=["gene", "start", "end"])


def _place_peaks(
    genes: pd.DataFrame,
    sizes: np.ndarray,
    offsets: np.ndarray,
    n_enhancers: int,
    n_background: int,
    rng,
) -> pd.DataFrame:
    """Promoter peaks on every TSS, then non-overlapping enhancers and background peaks."""
    n_genes = len(genes)
    low, high = PEAK_WIDTH
    tss = genes["tss"].to_numpy()
    width = rng.integers(low, high + 1, n_genes)
    prom_start = tss - np.floor(width * rng.uniform(0.3, 0.7, n_genes)).astype(np.int64)
    promoters = pd.DataFrame(
        {
            "chrom_idx": genes["chrom_idx"].to_numpy(),
            "start": prom_start,
            "end": prom_start + width,
            "role": "promoter",
            "gene": np.arange(n_genes),
            "distance": 0,
        }
    )

    n_candidates = int(np.ceil(n_enhancers * _CANDIDATE_EXCESS))
    target = rng.choice(n_genes, n_candidates, p=_normalised(rng.gamma(1.0, 1.0, n_genes)))
    near, far = np.log(ENHANCER_DISTANCE[0]), np.log(ENHANCER_DISTANCE[1])
    distance = np.exp(rng.uniform(near, far, n_candidates)).astype(np.int64)
    side = np.where(rng.random(n_candidates) < 0.5, -1, 1)
    chrom = genes["chrom_idx"].to_numpy()[target]
    centre = tss[target] + side * distance
    outside = (centre < MARGIN) | (centre > sizes[chrom] - MARGIN)
    centre = np.where(outside, tss[target] - side * distance, centre)
    keep = (centre >= MARGIN) & (centre <= sizes[chrom] - MARGIN)
    enhancers = _candidates(chrom[keep], centre[keep], "enhancer", rng)
    enhancers["gene"] = target[keep]
    enhancers["distance"] = distance[keep]

    n_candidates = int(np.ceil(n_background * _CANDIDATE_EXCESS))
    chrom = rng.choice(len(sizes), n_candidates, p=_normalised(sizes - 2 * MARGIN))
    centre = MARGIN + (rng.random(n_candidates) * (sizes[chrom] - 2 * MARGIN)).astype(np.int64)
    background = _candidates(chrom, centre, "background", rng)
    background["gene"] = -1
    background["distance"] = -1

    others = _non_overlapping(
        pd.concat([enhancers, background], ignore_index=True), promoters, offsets
    )
    chosen = [promoters]
    for role, wanted in (("enhancer", n_enhancers), ("background", n_background)):
        available = np.flatnonzero(others["role"].to_numpy() == role)
        if len(available) < wanted:
            logger.warning(
                f"Only {len(available)} of {wanted} {role} peaks fit between the others; "
                "increase genome_size for the full number."
            )
        picked = rng.choice(available, min(wanted, len(available)), replace=False)
        chosen.append(others.iloc[np.sort(picked)])
    peaks = pd.concat(chosen, ignore_index=True)
    order = np.lexsort((peaks["start"].to_numpy(), peaks["chrom_idx"].to_numpy()))
    return peaks.iloc[order].reset_index(drop=True)


def _normalised(weights: np.ndarray) -> np.ndarray:
    weights = np.asarray(weights, dtype=np.float64)
    return weights / weights.sum()


def _candidates(chrom: np.ndarray, centre: np.ndarray, role: str, rng) -> pd.DataFrame:
    """Peaks of random width centred on ``centre``."""
    low, high = PEAK_WIDTH
    width = rng.integers(low, high + 1, len(centre))
    start = centre - width // 2
    return pd.DataFrame({"chrom_idx": chrom, "start": start, "end": start + width, "role": role})


def _non_overlapping(
    candidates: pd.DataFrame, promoters: pd.DataFrame, offsets: np.ndarray
) -> pd.DataFrame:
    """Drop candidates within ``_MIN_GAP`` of a promoter or of an earlier candidate."""
    prom_offset = offsets[promoters["chrom_idx"].to_numpy()]
    prom_start = prom_offset + promoters["start"].to_numpy()
    prom_end = prom_offset + promoters["end"].to_numpy()
    order = np.argsort(prom_start)
    prom_start, prom_end = prom_start[order], prom_end[order]

    offset = offsets[candidates["chrom_idx"].to_numpy()]
    start = offset + candidates["start"].to_numpy()
    end = offset + candidates["end"].to_numpy()
    # the last promoter starting before the candidate's end has the largest end among those
    last = np.searchsorted(prom_start, end + _MIN_GAP, side="left") - 1
    hits_promoter = (last >= 0) & (prom_end[np.maximum(last, 0)] + _MIN_GAP > start)
    candidates = candidates[~hits_promoter]
    start, end = start[~hits_promoter], end[~hits_promoter]

    order = np.argsort(start, kind="stable")
    start, end = start[order], end[order]
    reach = np.concatenate([[np.iinfo(np.int64).min], np.maximum.accumulate(end)[:-1]])
    free = start >= reach + _MIN_GAP
    return candidates.iloc[order[free]].reset_index(drop=True)
