"""Datasets: simulated multiomes with known regulatory truth, and downloaders."""

from .._shared.lazy import lazy_namespace

_EXPORTS = {
    "simulate_multiome": "._sim.simulate",
    "ConditionDesign": "._sim.design",
    "read_10x_multiome": "._read",
    "pbmc10k_multiome": "._public",
    "genome": "._public",
    "gene_annotation": "._public",
    "published_checkpoint": "._public",
    "BASE_URLS": ".._shared.download",
    "gene_sets": "._gene_sets",
    "planted_gene_sets": "._gene_sets",
}
__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
