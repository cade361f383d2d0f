"""GET's motif features: MOODS motif-cluster scores of every peak."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from anndata import AnnData
from mudata import MuData

from .._scan.moods import (
    DEFAULT_PSEUDOCOUNT,
    build_scan_model,
    chunk_size,
    score_parts,
)
from .._scan.record import scan_record_key
from .._scan.scores import DNA_SEQUENCE, resolve_motifs, score_table
from .._scan.torch_scan import score_sequences_torch
from .._shared.constants import ATAC, MOTIF_KEY, MOTIF_PVALUE
from .._shared.docs import inject_docs
from .._shared.genomic import format_peak_names, parse_peak_names, peak_coordinates
from .._shared.logging import logger
from .._shared.storage import write_result
from .._shared.utils import modality, resolve_device
from ..genome import Genome

_FORMS = (
    "data must be a MuData, an AnnData of peaks, a peak DataFrame, a list of peak names "
    "('chr1:100-600') or (chrom, start, end) tuples, or a list of DNA sequences "
    "(A, C, G, T, N or other IUPAC codes)"
)


@inject_docs()
def scan_motifs(
    data,
    genome=None,
    *,
    motifs=None,
    pvalue: float = MOTIF_PVALUE,
    background: Sequence[float] | None = None,
    pseudocount: float | None = None,
    normalize: bool = True,
    n_jobs: int | None = None,
    device: str | None = None,
    key_added: str = MOTIF_KEY,
    atac: str = ATAC,
    copy: bool = False,
):
    """Score every peak for every motif cluster, as GET's motif features.

    Each sequence is scanned on both strands with MOODS at ``pvalue``; each hit is worth
    its log-odds score (natural log, against ``background``). Within a cluster, hits
    sharing at least one base pair are reduced to the best one (greedy, best first) and
    the kept scores are summed: one score per cluster. With ``normalize=True`` each
    cluster column is divided by its maximum over the scanned peaks and clipped to
    [0, 1] (a property of the peak set, shared by every pseudobulk; the published code
    took the maximum per cell type). Windows containing ``N`` (or another IUPAC code than
    A, C, G, T, an unknown base too) give no hit; soft-masked (lower-case) bases are
    ordinary bases. Two hits overlap
    when they share at least one base pair, whatever their strands; a low-information
    matrix can have hits with negative log odds, which then lower its cluster's sum. The
    exact rules are in :mod:`scget._scan.moods`.

    Parameters
    ----------
    data
        Pseudobulk or cell-level :class:`~mudata.MuData` (peaks of ``[atac]``), an
        :class:`~anndata.AnnData` whose var are peaks, or a list of peaks (names
        ``"chr1:100-600"`` or ``(chrom, start, end)`` tuples), a BED-like DataFrame
        (``chrom``, ``start``, ``end``), or a list of DNA sequences (scored as they are,
        e.g. in silico elements).
    genome
        :class:`scget.genome.Genome` or FASTA path; not needed for sequences.
    motifs
        :class:`scget.motifs.MotifCollection`, ``"jaspar"`` (default,
        :func:`scget.motifs.load_jaspar`) or ``"vierstra"``
        (:func:`scget.motifs.vierstra_archetypes`, the 282 features of the published GET
        checkpoints).
    pvalue
        MOODS p-value threshold of a hit.
    background
        Probabilities of A, C, G, T for the log odds and the thresholds; ``None`` is
        uniform (0.25 each). The published GET code used the human genome's
        ``(0.2977, 0.2023, 0.2023, 0.2977)``.
    pseudocount
        Added to each matrix probability before the log odds; ``None`` is MOODS' 0.01.
    normalize
        Divide each cluster by its maximum over the peaks and clip to [0, 1]; ``False``
        keeps the raw summed log-odds scores.
    {n_jobs}
    device
        ``None`` or ``"cpu"``: MOODS in ``n_jobs`` processes. ``"cuda"`` (or
        ``"cuda:1"``...): an exact torch scan on that GPU, with the same hits and the same
        float64 scores as MOODS (see :mod:`scget._scan.torch_scan`; ``n_jobs`` is then
        unused). The torch scan is not offered on CPU, where MOODS is faster (figures:
        :ref:`performance-figures`).
    key_added
        Key of ``[atac].varm`` written.
    {atac}
    {copy}

    Returns
    -------
    For a MuData or AnnData: ``None``, or a copy when ``copy=True``. Written (re-running
    overwrites):

    - ``[atac].varm[key_added]``: DataFrame peaks x clusters (float32), columns in the
      collection's feature order.
    - ``.uns["scget"]["motifs"]`` (``"motifs_<key_added>"`` for another ``key_added``,
      so that scans under two keys keep their own settings): ``params`` (the arguments,
      the collection size) and ``result``, a table per cluster: ``n_motifs``,
      ``motifs`` and ``tf_names`` (``;``-joined) and ``max_score`` (the raw maximum
      used to normalise, to score new sequences on the same scale).

    For peaks or sequences: the DataFrame (rows in input order, indexed by peak name or
    ``seq0``, ``seq1``...).

    Notes
    -----
    Repeated scans are cheap to start: the motif collection (JASPAR), the MOODS thresholds
    and the compiled MOODS scanners are cached (see :mod:`scget._scan.moods`); cache
    entries are keyed by everything they depend on (the matrices, ``pvalue``,
    ``background``, ``pseudocount``, the MOODS version), so they never go stale. The
    on-disk part lives under ``scget.settings.cachedir`` and may be deleted at any time;
    processes may share it (entries are checksummed, written atomically and computed once
    under a file lock; a damaged one is rebuilt with a warning).
    A scan of many bases uses a longer MOODS look-ahead window (faster per base, slower to
    build); scores are then equal up to the last bits of the summation (about 1e-15).

    Raises
    ------
    ValueError
        Before scanning, if there is nothing to scan (no peaks or sequences), peaks
        cannot be parsed, lie on chromosomes missing from the genome or outside them
        (all offenders are counted and the first listed), no genome
        is given for peaks, or a parameter is invalid.
    TypeError
        If ``data`` is none of the accepted forms (e.g. a single string or a number).

    Examples
    --------
    >>> scget.pp.scan_motifs(pb, genome=mdata.uns["simulation"]["genome"])
    >>> pb["atac"].varm["motif_scores"].shape  # peaks x JASPAR 2024 motif clusters
    (450, 203)
    """
    gpu = _resolve_scan_device(device)
    target, peaks, sequences = _resolve_input(data, atac, copy)
    if peaks is not None:
        if genome is None:
            raise ValueError(
                "Scanning peaks needs a genome: pass genome=Genome('genome.fa') or a FASTA path."
            )
        genome = genome if isinstance(genome, Genome) else Genome(genome)
        genome.check_intervals(peaks["chrom"], peaks["start"], peaks["end"])
        index = peaks.index
        size = chunk_size(len(peaks), None if gpu is not None else n_jobs)
        bounds = range(0, len(peaks), size)
        columns = [peaks[c].to_numpy() for c in ("chrom", "start", "end")]
        tasks = [(genome, *(col[i : i + size] for col in columns)) for i in bounds]
    else:
        index = pd.Index([f"seq{i}" for i in range(len(sequences))])
        size = chunk_size(len(sequences), None if gpu is not None else n_jobs)
        tasks = [sequences[i : i + size] for i in range(0, len(sequences), size)]
    collection = resolve_motifs(motifs)
    pseudocount = DEFAULT_PSEUDOCOUNT if pseudocount is None else pseudocount
    model = build_scan_model(
        collection, pvalue=pvalue, background=background, pseudocount=pseudocount
    )
    logger.info(
        f"Scanning {len(index)} sequences with {len(collection)} motifs "
        f"in {len(collection.clusters)} clusters."
    )
    n_clusters = len(collection.clusters)
    # the non-zero scores only: most (peak, cluster) pairs have no hit
    if gpu is None:
        parts = score_parts(tasks, len(index), model, n_jobs=n_jobs)
    else:
        scores = score_sequences_torch(tasks, len(index), model, device=gpu).reshape(-1)
        where = np.flatnonzero(scores)
        parts = [(where, scores[where])]
    scores, max_score = score_table(parts, len(index), n_clusters, normalize)
    table = pd.DataFrame(scores, index=index, columns=pd.Index(collection.clusters))
    if target is None:
        return table
    adata = target if isinstance(target, AnnData) else target[atac]
    adata.varm[key_added] = table
    clusters = collection.cluster_table()
    clusters["max_score"] = max_score.astype(np.float64)
    params = {
        "key_added": key_added,
        "pvalue": pvalue,
        "background": list(model.background),
        "pseudocount": pseudocount,
        "normalize": normalize,
        "device": "cpu" if gpu is None else str(gpu),
        "n_motifs": len(collection),
        "n_clusters": len(collection.clusters),
        "genome": str(genome.path),
    }
    write_result(target, scan_record_key(key_added), clusters, params)
    return target if copy else None


def _resolve_scan_device(device: str | None):
    """None for the MOODS (CPU) scan, or the CUDA :class:`torch.device` of the torch scan."""
    if device is None or device == "cpu":
        return None
    if not (isinstance(device, str) and (device == "cuda" or device.startswith("cuda:"))):
        raise ValueError(
            f"device must be None or 'cpu' (MOODS) or a CUDA device ('cuda', 'cuda:0'...) for "
            f"the exact torch scan; got {device!r}."
        )

    return resolve_device(device)


def _resolve_input(data, atac: str, copy: bool):
    """Return ``(object written into or None, peak table or None, sequences or None)``."""
    if isinstance(data, MuData | AnnData):
        scanned = modality(data, atac) if isinstance(data, MuData) else data
        if scanned.n_vars == 0:
            where = f"data[{atac!r}]" if isinstance(data, MuData) else "the AnnData"
            raise ValueError(
                f"Nothing to scan: {where} has no peaks (0 var). Pass data that holds "
                "peaks (did a filtering or subsetting step remove them all?)."
            )
        target = data.copy() if copy else data
        adata = target if isinstance(target, AnnData) else target[atac]
        return target, peak_coordinates(adata), None
    if copy:
        raise ValueError("copy=True applies to a MuData or AnnData only.")
    if isinstance(data, pd.DataFrame):
        missing = {"chrom", "start", "end"} - set(data.columns)
        if missing:
            raise ValueError(
                f"A peak DataFrame needs columns chrom, start, end; missing {sorted(missing)}."
            )
        if data.empty:
            raise ValueError("Nothing to scan: the peak DataFrame has no rows.")
        peaks = data[["chrom", "start", "end"]].copy()
        if isinstance(data.index, pd.RangeIndex):
            peaks.index = format_peak_names(peaks["chrom"], peaks["start"], peaks["end"])
        return None, peaks, None
    if isinstance(data, str | bytes) or not isinstance(data, Iterable):
        raise TypeError(f"{_FORMS}; got {type(data).__name__} {data!r:.60}.")
    items = list(data)
    if not items:
        raise ValueError("Nothing to scan: the input is empty.")
    if all(isinstance(item, str) and DNA_SEQUENCE.match(item) for item in items):
        return None, None, [item.upper() for item in items]
    if all(isinstance(item, str) for item in items):
        return None, parse_peak_names(items), None
    if all(isinstance(item, tuple | list) and len(item) == 3 for item in items):
        chrom, start, end = zip(*items, strict=True)
        return None, parse_peak_names(format_peak_names(chrom, start, end)), None
    raise ValueError(f"{_FORMS}.")
