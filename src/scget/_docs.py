"""Docstring fragments shared by the public functions, and the one mechanism that fills them.

A fragment is numpydoc text written at zero indent (a parameter name, then its
description indented by four spaces). In a docstring, ``{name}`` at the start of a line
(after its indentation) is replaced by the fragment, every line of it indented as the
placeholder was; text after the placeholder stays at the end of the fragment. Nothing
else is touched, so literal braces (``{"n_layers": 2}``, ``{}``) are safe.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import TypeVar

_F = TypeVar("_F", bound=Callable)

#: A placeholder: ``{name}`` opening a line, after its indentation.
_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)\{(?P<name>[a-z][a-z0-9_]*)\}", re.MULTILINE)

FRAGMENTS: dict[str, str] = {
    "mdata_pb": """\
pb
    Pseudobulk :class:`~mudata.MuData` from :func:`scget.pp.pseudobulk`.""",
    "rna": """\
rna
    Name of the RNA modality.""",
    "atac": """\
atac
    Name of the ATAC modality.""",
    "motif_key": """\
motif_key
    ``[atac].varm`` key of the motif scores (the ``key_added`` of
    :func:`scget.pp.scan_motifs`).""",
    "n_jobs": """\
n_jobs
    Worker processes; ``None`` uses :attr:`scget.settings.n_jobs`
    (all cores by default).""",
    "device": """\
device
    Torch device: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``,
    ``"cuda"``...
    ``None`` uses :attr:`scget.settings.device`.""",
    "key_added": """\
key_added
    Key under which the result is stored.""",
    "copy": """\
copy
    Return a modified copy instead of writing into ``pb``.""",
    "seed": """\
seed
    Random seed; the same seed gives the same result.""",
    "split_args": """\
leave_out_chromosomes
    Test chromosomes: never trained on, never used for early stopping.
leave_out_groups
    Test groups (pseudobulks): never trained on.
valid_chromosomes
    Chromosomes for early stopping; by default the remaining chromosome whose
    share of the regions is closest to 12.5 % (logged).""",
    "network_args": """\
architecture
    A key of :data:`scget.nn.ARCHITECTURES`: ``"published"`` is GET as published;
    ``"tss"`` adds strand-specific TSS indicators of the regions to the input,
    ``"distance"`` a learned attention bias of the genomic distance between
    regions, ``"tss+distance"`` both. Extensions that a pretrained ``model`` lacks
    are added at zero (its predictions are unchanged until trained). The default
    ``"tss"`` fixed the calibration of gene predictions on simulated multiomes (R^2
    from about -4 to +0.3..+0.6); the distance bias did not help there.
preset
    Network size, a key of :data:`scget.nn.PRESETS` (``"tiny"``, ``"small"``,
    ``"base"`` = the published 85 M-parameter GET). The default ``"tiny"`` trains in
    minutes on a laptop CPU; on a GPU, ``"small"`` or ``"base"``.
dropout
    Overrides the preset's dropout (``None`` keeps it).
network_kwargs
    Further :class:`scget.nn.GETConfig` overrides, e.g. ``{"n_layers": 2}``.""",
    "window_args": """\
window_size
    Regions per window (200 in GET). Chromosomes with fewer accessible regions
    give one padded window.
max_span
    Training windows spanning more base pairs are dropped.""",
    "plot": """\
ax
    Axes to draw on; a new figure is made when ``None``.
figsize
    Size (inches) of a new figure.
dpi
    Resolution of a new figure.
return_fig
    Return the :class:`~matplotlib.figure.Figure` instead of ``None``.
save
    Path to save the figure to (format from the extension).""",
}


def fill_docs(text: str, **extra: str) -> str:
    """Replace the ``{name}`` placeholders of ``text`` by their fragments.

    Parameters
    ----------
    text
        A docstring.
    **extra
        Further fragments (zero indent) beside :data:`FRAGMENTS`, e.g. generated ones.

    Returns
    -------
    ``text`` with each placeholder replaced by its fragment, indented as the placeholder.

    Raises
    ------
    KeyError
        If a placeholder names no fragment.
    """
    fragments = {**FRAGMENTS, **extra}

    def replace(match: re.Match) -> str:
        name, indent = match["name"], match["indent"]
        if name not in fragments:
            raise KeyError(f"No docstring fragment {name!r}; known: {sorted(fragments)}.")
        return textwrap.indent(fragments[name], indent)

    return _PLACEHOLDER.sub(replace, text)


def inject_docs(**extra: str) -> Callable[[_F], _F]:
    """Decorator filling the ``{name}`` placeholders of a docstring (see :func:`fill_docs`).

    Parameters
    ----------
    **extra
        Further fragments beside :data:`FRAGMENTS`.

    Returns
    -------
    The decorator; it returns the function (or class) itself.
    """

    def decorator(func: _F) -> _F:
        if func.__doc__:
            func.__doc__ = fill_docs(func.__doc__, **extra)
        return func

    return decorator
