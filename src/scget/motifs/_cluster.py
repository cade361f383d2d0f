"""Clustering of PWMs into non-redundant motif clusters by matrix similarity."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from .._shared.logging import logger
from ._collection import MotifCollection

#: Default similarity above which motifs are merged (average linkage).
DEFAULT_MIN_SIMILARITY = 0.7
#: Shortest shared prefix of member TF names that names a cluster (e.g. "FOX", "SOX").
_MIN_PREFIX = 3


def motif_similarity(matrices: Sequence[np.ndarray]) -> np.ndarray:
    """Pairwise similarity of position probability matrices.

    Each matrix is centred on the uniform background (``p - 0.25``), so uninformative
    positions weigh nothing. The similarity of two motifs is the largest, over every
    relative offset and both orientations of the second motif (reverse complement), of
    the dot product of their centred aligned positions divided by the product of the
    norms of the two whole centred matrices. It is a cosine similarity in [-1, 1]: 1 for
    identical motifs, penalised by positions that the alignment leaves unmatched.

    Parameters
    ----------
    matrices
        Arrays of shape ``(length, 4)``, rows summing to 1, columns A, C, G, T.

    Returns
    -------
    Symmetric float64 array ``(n, n)`` with ones on the diagonal.
    """
    n = len(matrices)
    longest = max(len(m) for m in matrices)
    forward = np.zeros((n, longest, 4))
    reverse = np.zeros((n, longest, 4))
    for i, matrix in enumerate(matrices):
        centred = np.asarray(matrix, dtype=np.float64) - 0.25
        forward[i, : len(centred)] = centred
        reverse[i, : len(centred)] = centred[::-1, ::-1]
    norms = np.sqrt((forward**2).sum(axis=(1, 2)))
    norms[norms == 0] = np.inf
    best = np.full((n, n), -np.inf)
    for other in (forward, reverse):
        for offset in range(-(longest - 1), longest):
            if offset >= 0:
                left, right = forward[:, : longest - offset], other[:, offset:]
            else:
                left, right = forward[:, -offset:], other[:, : longest + offset]
            np.maximum(best, left.reshape(n, -1) @ right.reshape(n, -1).T, out=best)
    best = np.maximum(best, best.T)
    similarity = best / np.outer(norms, norms)
    np.fill_diagonal(similarity, 1.0)
    return similarity


def cluster_motifs(
    motifs: MotifCollection,
    *,
    min_similarity: float = DEFAULT_MIN_SIMILARITY,
) -> MotifCollection:
    """Group the motifs of a collection into clusters of similar PWMs.

    Average-linkage hierarchical clustering on ``1 - similarity`` (see
    :func:`motif_similarity`), cut so that the members of a cluster are on average at
    least ``min_similarity`` similar. Each cluster is named after its members' TF names:
    their common prefix when it has at least three characters (``FOX``, ``SOX``),
    otherwise the TF name of the member most similar to the others; names shared by
    several clusters get ``.1``, ``.2``... suffixes (largest cluster first), as the
    Vierstra archetypes do. Members are kept in ``info`` for interpretation.

    Parameters
    ----------
    motifs
        The collection to cluster; its own clusters are replaced.
    min_similarity
        Merge threshold in (0, 1]: higher gives more, tighter clusters.

    Returns
    -------
    A new :class:`MotifCollection` whose ``info["cluster"]`` holds the cluster names,
    ordered by name.

    Raises
    ------
    ValueError
        If the collection is empty or ``min_similarity`` is not in (0, 1].
    """
    if len(motifs) == 0:
        raise ValueError(
            "The motif collection is empty: there is nothing to cluster. Pass a collection "
            "with motifs (did a subset or filter remove them all?)."
        )
    if not 0 < min_similarity <= 1:
        raise ValueError(f"min_similarity must be in (0, 1], got {min_similarity!r}.")
    ids = motifs.ids
    similarity = motif_similarity([motifs[i] for i in ids])
    if len(ids) == 1:
        labels = np.ones(1, dtype=int)
    else:
        distance = squareform(np.clip(1.0 - similarity, 0.0, None), checks=False)
        labels = fcluster(
            linkage(distance, method="average"), t=1.0 - min_similarity, criterion="distance"
        )
    names = _name_clusters(labels, motifs.info["name"].to_numpy(), similarity)
    info = motifs.info.copy()
    info["cluster"] = names
    logger.info(
        f"Clustered {len(ids)} motifs into {len(set(names))} clusters "
        f"(min_similarity={min_similarity})."
    )
    return MotifCollection(motifs.matrices, info)


def _name_clusters(labels: np.ndarray, tf_names: np.ndarray, similarity: np.ndarray) -> list[str]:
    """Readable unique cluster names from the members' TF names (see :func:`cluster_motifs`)."""
    base = {}
    sizes = Counter(labels)
    for label in sizes:
        members = np.flatnonzero(labels == label)
        medoid = members[np.argmax(similarity[np.ix_(members, members)].sum(axis=1))]
        base[label] = _cluster_name(
            [_clean(name) for name in tf_names[members]], _clean(tf_names[medoid])
        )
    by_name: dict[str, list] = {}
    for label in sorted(sizes, key=lambda lab: (-sizes[lab], base[lab], lab)):
        by_name.setdefault(base[label], []).append(label)
    final = {}
    for name, labs in by_name.items():
        for k, label in enumerate(labs, start=1):
            final[label] = name if len(labs) == 1 else f"{name}.{k}"
    return [final[label] for label in labels]


def _cluster_name(names: list[str], medoid: str) -> str:
    """Name of one cluster from its members' cleaned TF names.

    The common prefix of all names if long enough (``FOX``); otherwise the most frequent
    stem (leading letters) of the single-TF members (``ETV`` for ETS factors), when shared by
    at least two of them; otherwise the medoid's name.
    """
    prefix = _common_prefix(names)
    if len(names) > 1 and len(prefix) >= _MIN_PREFIX:
        return prefix
    monomers = [name for name in names if "+" not in name] or names
    stems = Counter(_stem(name) for name in monomers)
    stem, count = max(
        stems.items(),
        key=lambda item: (item[1], len(item[0]) >= _MIN_PREFIX, item[0] in medoid, item[0]),
    )
    return stem if count > 1 else medoid


def _stem(name: str) -> str:
    """Leading letters of a TF name, extended over the next digits and letters when short (E2F)."""
    letters = re.match(r"[A-Z]*", name).group()
    if len(letters) >= _MIN_PREFIX:
        return letters
    return re.match(r"[A-Z]*[0-9]*[A-Z]*", name).group() or name


def _clean(name: str) -> str:
    """Upper-case TF name keeping letters, digits, ``+``, ``-``, ``.``; dimers joined by ``+``."""
    return re.sub(r"[^A-Z0-9+.\-]", "", name.upper().replace("::", "+"))


def _common_prefix(names: list[str]) -> str:
    """Longest common prefix of ``names``, cut back to end on a letter or digit."""
    prefix = names[0]
    for name in names[1:]:
        while not name.startswith(prefix):
            prefix = prefix[:-1]
    return prefix.rstrip("+-.")
