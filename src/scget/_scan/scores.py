"""What a motif scan's scores need beyond :func:`scget.pp.scan_motifs` itself.

The motif collection named by the user, the DNA check of sequences, the normalisation of
raw scores, and the rescoring of new sequences exactly as a recorded scan scored its
peaks (for :func:`scget.tl.insert_elements` and :func:`scget.tl.variant_effect`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from ..motifs import MotifCollection, load_jaspar, vierstra_archetypes
from .moods import build_scan_model, dense_scores, score_sequences

#: DNA sequences: A, C, G, T and the other IUPAC codes (unknown bases, as N: no hit).
DNA_SEQUENCE = re.compile(r"^[ACGTRYSWKMBDHVN]+$", re.IGNORECASE)


def normalise(raw: np.ndarray, max_score: np.ndarray) -> np.ndarray:
    """Raw cluster scores divided by each cluster's maximum (kept where 0), clipped to [0, 1].

    ``max_score`` is broadcast against ``raw``: one per column, or one per value.
    """
    scale = np.where(max_score > 0, max_score, 1.0)
    return np.clip(raw / scale, 0.0, 1.0)


def score_as_recorded(
    tasks: list, n_total: int, collection, params: Mapping, max_score: np.ndarray
) -> np.ndarray:
    """Score new sequences exactly as a recorded :func:`scget.pp.scan_motifs` scored its peaks.

    Parameters
    ----------
    tasks, n_total
        As :func:`scget._scan.moods.score_sequences` takes them (scanned in this process).
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
    raw = dense_scores(*score_sequences(tasks, n_total, model, n_jobs=1), n_total, len(max_score))
    return normalise(raw, max_score) if params["normalize"] else raw


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
