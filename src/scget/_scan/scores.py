"""What a motif scan's scores need beyond :func:`scget.pp.scan_motifs` itself.

The motif collection named by the user, the DNA check of sequences, the score table with
its normalisation, and the rescoring of new sequences exactly as a recorded scan scored
its peaks (for :func:`scget.tl.insert_elements` and :func:`scget.tl.variant_effect`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numba
import numpy as np

from ..motifs import MotifCollection, load_jaspar, vierstra_archetypes
from .moods import build_scan_model, score_parts

#: DNA sequences: A, C, G, T and the other IUPAC codes (unknown bases, as N: no hit).
DNA_SEQUENCE = re.compile(r"^[ACGTRYSWKMBDHVN]+$", re.IGNORECASE)


def score_table(
    parts: list[tuple[np.ndarray, np.ndarray]],
    n_rows: int,
    n_clusters: int,
    normalize: bool,
    *,
    max_score: np.ndarray | None = None,
    dtype=np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``(n_rows, n_clusters)`` score table of a scan and each cluster's raw maximum.

    Normalised, a raw score is divided by its cluster's maximum (kept where that is 0)
    and clipped to [0, 1], in float64, then stored as ``dtype``. This runs in compiled
    passes over the non-zero scores, without temporaries: at 100,000 peaks the numpy
    route made seven fresh arrays of 33 MB, which cost about 1 s after the workers ended
    (fresh pages are slow to come by on this project's virtual machine once the workers
    have run, and slowest where numpy asks for huge pages: 0.5 s for the 81 MB table,
    0.06 s allocated by numba).

    Parameters
    ----------
    parts
        The non-zero raw scores and their flat indices, from
        :func:`scget._scan.moods.score_parts`.
    n_rows, n_clusters
        Shape of the table.
    normalize
        Divide each cluster's scores by its maximum.
    max_score
        The maxima to divide by (a recorded scan's, to score new sequences on its
        scale); by default those of ``parts``.
    dtype
        Floating type of the table.

    Returns
    -------
    The table and the float64 maxima (0 for a cluster without hits).
    """
    if max_score is None:
        max_score = np.zeros(n_clusters)
        for where, raw in parts:
            _column_max(max_score, where, raw)
    table = _zeros(n_rows * n_clusters, dtype)
    for where, raw in parts:
        _fill(table, where, raw, max_score, normalize)
    return table.reshape(n_rows, n_clusters), max_score


@numba.njit(cache=True, nogil=True)
def _zeros(size: int, dtype) -> np.ndarray:  # pragma: no cover - compiled (tested via callers)
    """An array of zeros, allocated by numba (see :func:`score_table`)."""
    return np.zeros(size, dtype)


@numba.njit(cache=True, nogil=True)
def _column_max(max_score, where, raw) -> None:  # pragma: no cover - compiled
    """Raise ``max_score`` to each cluster's largest raw score in ``raw``."""
    n_clusters = len(max_score)
    for i in range(len(where)):
        column = where[i] % n_clusters
        max_score[column] = max(max_score[column], raw[i])


@numba.njit(cache=True, nogil=True)
def _fill(table, where, raw, max_score, normalize) -> None:  # pragma: no cover - compiled
    """Write the scores, normalised as :func:`score_table` says, into the flat ``table``."""
    n_clusters = len(max_score)
    for i in range(len(where)):
        value = raw[i]
        if normalize:
            scale = max_score[where[i] % n_clusters]
            value = min(max(value / (scale if scale > 0 else 1.0), 0.0), 1.0)
        table[where[i]] = value


def score_as_recorded(
    tasks: list, n_total: int, collection, params: Mapping, max_score: np.ndarray
) -> np.ndarray:
    """Score new sequences exactly as a recorded :func:`scget.pp.scan_motifs` scored its peaks.

    Parameters
    ----------
    tasks, n_total
        As :func:`scget._scan.moods.score_parts` takes them (scanned in this process).
    collection
        The :class:`~scget.motifs.MotifCollection` the peaks were scanned with.
    params
        The scan's parameters (``pvalue``, ``background``, ``pseudocount``,
        ``normalize``), as ``scget.get.params(pb, "motifs")`` reads them.
    max_score
        The scan's per-cluster raw maxima (its record's ``max_score``), in
        ``collection.clusters`` order.

    Returns
    -------
    Scores ``(n_total, n_clusters)`` float64, normalised by ``max_score`` when the scan
    was.
    """
    model = build_scan_model(
        collection,
        pvalue=params["pvalue"],
        background=params["background"],
        pseudocount=params["pseudocount"],
    )
    parts = score_parts(tasks, n_total, model, n_jobs=1)
    scores, _ = score_table(
        parts, n_total, len(max_score), params["normalize"], max_score=max_score, dtype=np.float64
    )
    return scores


def resolve_motifs(motifs):
    """A MotifCollection from a collection or a name (``"jaspar"``, ``"vierstra"``)."""
    if motifs is None or (isinstance(motifs, str) and motifs.lower() == "jaspar"):
        return load_jaspar()
    if isinstance(motifs, str) and motifs.lower() == "vierstra":
        return vierstra_archetypes()
    if isinstance(motifs, MotifCollection):
        if len(motifs) == 0:
            raise ValueError("The motif collection is empty.")
        return motifs
    raise ValueError(f"motifs must be a MotifCollection, 'jaspar' or 'vierstra'; got {motifs!r}.")
