"""Docstring fragments shared by the public functions (as decoupler does).

Use :func:`inject_docs` as a decorator; fragments are named ``{name}`` in the docstring.
"""

from __future__ import annotations

from collections.abc import Callable

DOC_FRAGMENTS = {
    "mdata_pb": (
        "pb\n        Pseudobulk :class:`~mudata.MuData` from :func:`scget.pp.pseudobulk`."
    ),
    "rna": "rna\n        Name of the RNA modality.",
    "atac": "atac\n        Name of the ATAC modality.",
    "n_jobs": (
        "n_jobs\n"
        "        Worker processes; ``None`` uses :attr:`scget.settings.n_jobs`\n"
        "        (all cores by default)."
    ),
    "device": (
        "device\n"
        '        Torch device: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``,\n'
        '        ``"cuda"``...\n'
        "        ``None`` uses :attr:`scget.settings.device`."
    ),
    "motif_key": (
        "motif_key\n        ``[atac].varm`` key of the motif scores (the ``key_added`` of\n"
        "        :func:`scget.pp.scan_motifs`)."
    ),
    "key_added": "key_added\n        Key under which the result is stored.",
    "copy": ("copy\n        Return a modified copy instead of writing into ``pb``."),
    "seed": "seed\n        Random seed; the same seed gives the same result.",
}


def inject_docs(**extra: str) -> Callable:
    """Fill ``{name}`` fragments of a function's docstring from :data:`DOC_FRAGMENTS`."""

    def decorator(func: Callable) -> Callable:
        if func.__doc__:
            func.__doc__ = func.__doc__.format(**DOC_FRAGMENTS, **extra)
        return func

    return decorator
