"""Plotting."""

from .._shared.lazy import lazy_namespace

_EXPORTS = {
    "differential_regulation": "._differential_regulation",
    "enrichment": "._enrichment",
    "evaluation": "._evaluation",
    "gene_by_motif": "._gene_by_motif",
    "history": "._history",
    "motif_importance": "._gene_by_motif",
    "motif_network": "._motif_network",
    "perturbation": "._perturbation",
    "prediction": "._prediction",
    "regulatory_embedding": "._regulatory_embedding",
    "tracks": "._tracks",
}
__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
