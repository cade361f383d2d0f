"""Motif collections: PWMs, their TF names and their clusters (GET's feature space)."""

from .._shared.lazy import lazy_namespace

_EXPORTS = {
    "MotifCollection": "._collection",
    "load_jaspar": "._jaspar",
    "cluster_motifs": "._cluster",
    "read_motifs": "._read",
    "vierstra_archetypes": "._vierstra",
}
__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
