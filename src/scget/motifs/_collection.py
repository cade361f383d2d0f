"""A collection of position probability matrices with TF names and motif clusters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from .._shared.constants import LIST_SEP

#: Column order of every matrix.
ALPHABET = ("A", "C", "G", "T")


def storable_name(name: str) -> str:
    """A cluster name that can be an HDF5 key: ``"/"`` becomes ``"."``.

    Cluster names become column keys of ``["atac"].varm["motif_scores"]`` in ``.h5mu``
    files, where ``"/"`` separates groups; Vierstra's ``"AP1/1"`` is stored as ``"AP1.1"``.
    """
    return name.replace("/", ".")


def as_probability_matrix(matrix, motif_id: str = "motif") -> np.ndarray:
    """Validate a (length, 4) count or probability matrix and normalise its rows to sum to 1.

    Parameters
    ----------
    matrix
        Array-like of shape ``(length, 4)``, columns A, C, G, T; counts or probabilities.
    motif_id
        Name used in error messages.

    Returns
    -------
    Float64 array of shape ``(length, 4)`` whose rows sum to 1.

    Raises
    ------
    ValueError
        If the matrix is not two-dimensional with four columns, is empty, holds negative or
        non-finite values, or has a row summing to zero.
    """
    array = np.asarray(matrix, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != len(ALPHABET) or array.shape[0] == 0:
        raise ValueError(
            f"Motif {motif_id!r} must be a (length, 4) matrix with columns A, C, G, T; "
            f"got shape {array.shape}. Transpose 4 x length matrices before passing them."
        )
    if not np.all(np.isfinite(array)) or array.min() < 0:
        raise ValueError(f"Motif {motif_id!r} holds negative or non-finite values.")
    totals = array.sum(axis=1, keepdims=True)
    if np.any(totals == 0):
        raise ValueError(f"Motif {motif_id!r} has a position whose counts sum to zero.")
    return array / totals


class MotifCollection:
    """Position probability matrices with their TF names and motif clusters.

    The clusters are GET's motif features: a region's score for a cluster sums the hits
    of all the cluster's member matrices (see :func:`scget.pp.scan_motifs`).

    Parameters
    ----------
    matrices
        Motif id -> matrix of shape ``(length, 4)`` (columns A, C, G, T), counts or
        probabilities; rows are normalised to sum to 1.
    info
        Table indexed by motif id with at least the columns ``name`` (TF name(s)) and
        ``cluster`` (cluster name; ``"/"`` is replaced by ``"."``, see
        :func:`storable_name`). Missing columns default to the motif id (each motif
        its own cluster); extra columns are kept. ``None`` builds a default table.
    cluster_order
        Cluster names in feature order (the model's column order). ``None`` sorts the
        cluster names (Python string order, as the published GET feature list).

    Attributes
    ----------
    matrices
        Motif id -> float64 array ``(length, 4)``, rows summing to 1.
    info
        Table indexed by motif id (same order as ``matrices``) with columns ``name`` and
        ``cluster``, and any extra annotation.

    Raises
    ------
    ValueError
        If a matrix is malformed, ``info`` does not index exactly the motif ids, or
        ``cluster_order`` does not list every cluster exactly once.
    """

    def __init__(
        self,
        matrices: Mapping[str, np.ndarray],
        info: pd.DataFrame | None = None,
        *,
        cluster_order: Sequence[str] | None = None,
    ) -> None:
        self.matrices = {
            str(key): as_probability_matrix(value, str(key)) for key, value in matrices.items()
        }
        ids = pd.Index(list(self.matrices), dtype=object)
        if ids.has_duplicates:
            raise ValueError("Motif ids must be unique.")
        if info is None:
            info = pd.DataFrame(index=ids)
        else:
            info = info.copy()
            info.index = info.index.astype(str)
            missing = ids.difference(info.index)
            extra = info.index.difference(ids)
            if len(missing) or len(extra) or info.index.has_duplicates:
                raise ValueError(
                    "info must be indexed by exactly the motif ids of `matrices`; "
                    f"missing: {list(missing[:5])}, unknown: {list(extra[:5])}."
                )
            info = info.loc[ids]
        for column in ("name", "cluster"):
            if column not in info:
                info[column] = ids
            info[column] = info[column].astype(str)
        info["cluster"] = info["cluster"].map(storable_name)
        info.index.name = "motif_id"
        self.info = info[
            ["name", "cluster", *[c for c in info.columns if c not in ("name", "cluster")]]
        ]
        present = pd.unique(self.info["cluster"])
        if cluster_order is None:
            self._clusters = sorted(present)
        else:
            order = [storable_name(str(c)) for c in cluster_order]
            if len(set(order)) != len(order) or set(order) != set(present):
                unknown = sorted(set(present) - set(order))[:5]
                empty = sorted(set(order) - set(present))[:5]
                raise ValueError(
                    "cluster_order must list every cluster of info['cluster'] exactly once; "
                    f"clusters missing from the order: {unknown}, names without motifs: {empty}."
                )
            self._clusters = order

    @property
    def clusters(self) -> list[str]:
        """Cluster names in feature order (the model's column order)."""
        return list(self._clusters)

    @property
    def ids(self) -> list[str]:
        """Motif ids in collection order."""
        return list(self.matrices)

    def members(self, cluster: str) -> list[str]:
        """Motif ids of a cluster."""
        if cluster not in self._clusters:
            raise KeyError(f"{cluster!r} is not a cluster of this collection.")
        return self.info.index[self.info["cluster"] == cluster].tolist()

    def cluster_table(self) -> pd.DataFrame:
        """One row per cluster in feature order: size, member ids and TF names (``;``-joined)."""
        grouped = self.info.groupby("cluster", sort=False)
        table = pd.DataFrame(
            {
                "n_motifs": grouped.size(),
                "motifs": grouped.apply(lambda df: LIST_SEP.join(df.index), include_groups=False),
                "tf_names": grouped["name"].agg(lambda names: LIST_SEP.join(dict.fromkeys(names))),
            }
        )
        table = table.loc[self._clusters]
        table.index.name = "cluster"
        return table

    def subset(self, ids: Iterable[str]) -> MotifCollection:
        """Return a new collection of the motifs ``ids`` (in that order), keeping the cluster order.

        Raises
        ------
        KeyError
            If an id is not in the collection.
        """
        ids = [str(i) for i in ids]
        unknown = [i for i in ids if i not in self.matrices]
        if unknown:
            raise KeyError(f"Motif id(s) not in the collection: {unknown[:5]}.")
        info = self.info.loc[ids]
        kept = set(info["cluster"])
        return MotifCollection(
            {i: self.matrices[i] for i in ids},
            info,
            cluster_order=[c for c in self._clusters if c in kept],
        )

    def __len__(self) -> int:
        return len(self.matrices)

    def __getitem__(self, motif_id: str) -> np.ndarray:
        return self.matrices[motif_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.matrices)

    def __contains__(self, motif_id: object) -> bool:
        return motif_id in self.matrices

    def __repr__(self) -> str:
        return f"MotifCollection with {len(self)} motifs in {len(self._clusters)} clusters"
