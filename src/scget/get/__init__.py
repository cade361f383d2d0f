"""Readers of stored results, as DataFrames ready for scanpy and pandas (as ``scanpy.get``).

Every scget function that writes a result has a reader here; plots read only through
these.
"""

from .._lazy import lazy_namespace

_EXPORTS = {
    "params": "._readers",
    "result": "._readers",
    "history": "._readers",
    "predictions": "._readers",
    "evaluation": "._readers",
    "evaluated_genes": "._readers",
    "gene_by_motif": "._readers",
    "region_importance": "._readers",
    "regulatory_embedding": "._readers",
    "motif_network": "._readers",
    "enrichment": "._readers",
    "differential_regulation": "._readers",
    "enhancer_gene": "._readers",
    "perturbation": "._readers",
    "insertion": "._readers",
    "variant_effect": "._readers",
}
__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
