"""Readers of stored results, as DataFrames ready for scanpy and pandas (as ``scanpy.get``).

Every scget function that writes a result has a reader here, named after it
(``scget.tl.knockout_motifs`` -> ``scget.get.knockout_motifs``); plots read only through
these.
"""

from .._shared.lazy import lazy_namespace

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
    "knockout_motifs": "._readers",
    "delete_regions": "._readers",
    "insert_elements": "._readers",
    "variant_effect": "._readers",
    "regulator_targets": "._readers",
    "regulator_catalogue": "._readers",
    # old names, one release behind a FutureWarning
    "perturbation": "._readers",
    "insertion": "._readers",
}
__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
