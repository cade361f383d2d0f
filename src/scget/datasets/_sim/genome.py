"""Simulated genome sequence: GC isochores, CpG depletion, CpG-rich promoters, TF sites.

The genome is one concatenated ``uint8`` array of base codes (0 A, 1 C, 2 G, 3 T);
chromosome ``i`` occupies ``[offsets[i], offsets[i] + sizes[i])`` of it, so that every
position has one global coordinate.
"""

from __future__ import annotations

import numpy as np

#: Letters of the base codes.
BASES = np.frombuffer(b"ACGT", dtype=np.uint8)
#: Length (bp) of the blocks sharing one background GC content (isochores).
_ISOCHORE = 100_000
#: Mean and spread of the isochores' GC content (human genome: about 0.41).
_GC_MEAN, _GC_SD, _GC_RANGE = 0.41, 0.04, (0.32, 0.58)
#: GC content within ``_CPG_HALF`` bp of a TSS (CpG-island promoters).
_GC_PROMOTER, _CPG_HALF = 0.62, 1_000
#: CpG observed/expected ratio outside and inside promoters. Methylated CpGs mutate to
#: TpG/CpA, so mammalian genomes hold far fewer CpGs than their GC content implies, except
#: in the CpG islands of promoters; measured on real hg38 (chr2:1-2,333,275): 0.29 outside
#: and 0.56 within 1 kb of GENCODE TSSs.
_CPG_RATIO = {"background": 0.29, "promoter": 0.56}
#: Bases generated per step (bounds the memory of the random draws).
_CHUNK = 8_000_000
#: Exponent sharpening a PWM before sampling a planted site, so sites score as hits.
_SHARPEN = 2.0


def chromosome_sizes(genome_size: int, n_chromosomes: int) -> np.ndarray:
    """Chromosome lengths summing to ``genome_size``, decreasing as human chromosomes do."""
    weights = 1.0 / np.sqrt(np.arange(1, n_chromosomes + 1))
    sizes = np.floor(weights / weights.sum() * genome_size).astype(np.int64)
    sizes[0] += genome_size - sizes.sum()
    return sizes


def background_sequence(
    sizes: np.ndarray, tss_global: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Random sequence with isochore GC content, CpG depletion and GC-rich promoters.

    Bases are drawn independently from a GC content raised so that, after CpG depletion
    (each CpG becomes TpG or CpA, as deamination of methylated CpGs does), the GC content
    and the CpG observed/expected ratio are the targets (``_GC_*``, ``_CPG_RATIO``):
    CpG-containing motifs are then rare outside promoters, as in real genomes.

    Parameters
    ----------
    sizes
        Chromosome lengths.
    tss_global
        Global coordinates of the TSSs, whose ``±_CPG_HALF`` bp get promoter GC content.
    rng
        Random generator.

    Returns
    -------
    ``uint8`` base codes of the whole genome.
    """
    total = int(sizes.sum())
    n_blocks = -(-total // _ISOCHORE)
    block_gc = np.clip(rng.normal(_GC_MEAN, _GC_SD, n_blocks), *_GC_RANGE).astype(np.float32)
    in_promoter = np.zeros(total, dtype=bool)
    for tss in tss_global:
        in_promoter[max(tss - _CPG_HALF, 0) : tss + _CPG_HALF] = True
    sequence = np.empty(total, dtype=np.uint8)
    for begin in range(0, total, _CHUNK):
        end = min(begin + _CHUNK, total)
        promoter = in_promoter[begin:end]
        gc = block_gc[np.arange(begin, end) // _ISOCHORE]
        gc[promoter] = _GC_PROMOTER
        ratio = np.where(promoter, _CPG_RATIO["promoter"], _CPG_RATIO["background"])
        drawn_gc, keep = _before_depletion(gc, ratio)
        u = rng.random(end - begin, dtype=np.float32)
        # one draw per base: C below gc/2, G below gc, A below (1+gc)/2, T above
        chunk = np.where(
            u < drawn_gc / 2, 1, np.where(u < drawn_gc, 2, np.where(u < (1 + drawn_gc) / 2, 0, 3))
        ).astype(np.uint8)
        _deplete_cpg(chunk, keep, rng)
        sequence[begin:end] = chunk
    return sequence


def _before_depletion(gc: np.ndarray, ratio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GC content to draw and share of CpGs to keep, for GC ``gc`` and CpG o/e ``ratio`` after.

    Drawing C and G with probability ``g / 2`` each and keeping a share ``k`` of the CpGs
    leaves GC content ``g - (1 - k) g^2 / 4`` and o/e ratio ``k g^2 / G^2`` (``G``, the GC
    content left); solving both for the targets gives ``g = 2 - 2 sqrt(1 - G + r G^2 / 4)``
    and ``k = r G^2 / g^2``.
    """
    drawn = 2.0 - 2.0 * np.sqrt(1.0 - gc + ratio * gc**2 / 4.0)
    return drawn, ratio * gc**2 / drawn**2


def _deplete_cpg(sequence: np.ndarray, keep: np.ndarray, rng: np.random.Generator) -> None:
    """Mutate each CpG, in place, to TpG or CpA unless kept (probability ``keep`` at its C)."""
    cpg = np.flatnonzero((sequence[:-1] == 1) & (sequence[1:] == 2))
    mutated = cpg[rng.random(len(cpg)) >= keep[cpg]]
    on_minus = rng.random(len(mutated)) < 0.5
    sequence[mutated[~on_minus]] = 3  # C -> T: TpG
    sequence[mutated[on_minus] + 1] = 0  # the G, as C -> T on the minus strand: CpA


def plant_sites(
    sequence: np.ndarray,
    starts: np.ndarray,
    pwm: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Write sequences sampled from a (sharpened) PWM at ``starts``, in place, either strand.

    Parameters
    ----------
    sequence
        Genome base codes, modified in place.
    starts
        Global start coordinates of the sites.
    pwm
        ``(length, 4)`` probability matrix, columns A, C, G, T.
    rng
        Random generator.
    """
    if len(starts) == 0:
        return
    sharpened = pwm**_SHARPEN
    sharpened /= sharpened.sum(axis=1, keepdims=True)
    cumulative = np.cumsum(sharpened, axis=1)
    draws = rng.random((len(starts), len(pwm)))
    codes = (draws[:, :, None] > cumulative[None, :, :3]).sum(axis=2).astype(np.uint8)
    reverse = rng.random(len(starts)) < 0.5
    codes[reverse] = 3 - codes[reverse, ::-1]
    sequence[starts[:, None] + np.arange(len(pwm))] = codes


def site_starts(
    peak_start: np.ndarray,
    peak_width: np.ndarray,
    sites: np.ndarray,
    motif_lengths: np.ndarray,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """Global start coordinates of the planted sites of each TF, non-overlapping in a peak.

    Each peak is cut into slots as long as the longest motif; every site takes its own
    random slot, at a random offset within it.

    Parameters
    ----------
    peak_start
        Global start coordinates of the peaks.
    peak_width
        Peak widths.
    sites
        ``(n_peaks, n_tfs)`` number of sites per peak and TF.
    motif_lengths
        Motif length of each TF.
    rng
        Random generator.

    Returns
    -------
    One array of global site starts per TF.

    Raises
    ------
    ValueError
        If a peak has more sites than slots.
    """
    slot = int(motif_lengths.max())
    n_slots = peak_width // slot
    per_peak = sites.sum(axis=1).astype(np.int64)
    if np.any(per_peak > n_slots):
        raise ValueError("A peak holds more planted sites than fit in it; use wider peaks.")
    holders = np.flatnonzero(per_peak)
    keys = rng.random((len(holders), int(n_slots.max())))
    keys[np.arange(keys.shape[1])[None, :] >= n_slots[holders, None]] = np.inf
    slot_order = np.argsort(keys, axis=1)
    # the sites of a peak, TF by TF, take its first per_peak random slots in turn
    peak_of_site = np.repeat(holders, per_peak[holders])
    row_of_site = np.repeat(np.arange(len(holders)), per_peak[holders])
    first = np.cumsum(per_peak[holders]) - per_peak[holders]
    rank = np.arange(len(peak_of_site)) - np.repeat(first, per_peak[holders])
    slot_of_site = slot_order[row_of_site, rank]
    held = sites[holders].astype(np.int64)
    tf_of_site = np.repeat(np.tile(np.arange(sites.shape[1]), len(holders)), held.ravel())
    length = motif_lengths[tf_of_site]
    jitter = (rng.random(len(tf_of_site)) * (slot - length + 1)).astype(np.int64)
    start = peak_start[peak_of_site] + slot_of_site * slot + jitter
    return [start[tf_of_site == t] for t in range(sites.shape[1])]
