"""Preprocessing: from a cell-level multiome to model-ready pseudobulks."""

from .._shared.lazy import lazy_namespace

_EXPORTS = {
    "pseudobulk": "._pseudobulk",
    "recount_peaks": "._recount_peaks",
    "annotate_tss": "._annotate_tss",
    "scan_motifs": "._scan_motifs",
}
__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
