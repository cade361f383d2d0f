"""Genome sequence (FASTA), intervals (BED) and gene annotation (GTF, TSS tables)."""

from .._shared.lazy import lazy_namespace

_EXPORTS = {
    "Genome": "._fasta",
    "read_bed": "scget._shared.genomic",
    "read_gtf": "._annotation",
    "read_tss_table": "._annotation",
}
__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
