"""Plotting."""

from .._lazy import lazy_namespace

_EXPORTS = {
    "differential_regulation": "._differential",
    "enrichment": "._enrichment",
    "evaluation": "._evaluation",
    "gene_by_motif": "._motifs",
    "history": "._history",
    "motif_importance": "._motifs",
    "motif_network": "._network",
    "perturbation": "._perturbation",
    "prediction": "._prediction",
    "regulatory_embedding": "._embedding",
    "tracks": "._tracks",
}
__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
