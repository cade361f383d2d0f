"""Docstring fragments shared by the public functions, and the one mechanism that fills them.

A fragment is numpydoc text written at zero indent (a parameter name, then its
description indented by four spaces). In a docstring, ``{name}`` at the start of a line
(after its indentation) is replaced by the fragment, every line of it indented as the
placeholder was; text after the placeholder stays at the end of the fragment. A fragment
may itself hold placeholders. Nothing else is touched, so literal braces
(``{"n_layers": 2}``, ``{}``) are safe.
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
    "training_copy": """\
copy
    Write the record into a copy of ``pb`` and return it with the model; ``pb`` is left
    untouched.""",
    "seed": """\
seed
    Random seed; the same seed gives the same result.""",
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
    Path to save the figure to (format from the extension).
show
    ``True`` shows the figure (:func:`matplotlib.pyplot.show`); ``False`` closes a new
    figure after saving it, so that a notebook does not display it (unless
    ``return_fig``); ``None`` leaves it to the notebook or backend, as matplotlib does.""",
    # the interpretation functions (tl._interpret, and the perturbations that read genes
    # as they do)
    "model": """\
model
    A trained :class:`scget.tl.GETModel` with the data's motif features.""",
    "genes_groups": """\
genes
    Genes (``["rna"].var_names``) to interpret; ``None``: every gene with an accessible
    TSS peak.
groups
    Groups (``obs_names``) to interpret; ``None``: all.""",
    "batch_size": """\
batch_size
    Windows per forward and backward pass; memory grows with it, not with the genes.""",
    "windows": """\
Each gene is read in the windows of ``model.window_size`` regions centred on its
accessible TSS peaks (accessibility score >= 0.05: the peaks whose predictions
``get_pred`` averages), at the output of the TSS peak on the gene's strand. Gradients
are float32 (no autocast); the batches are shared across ranks under ``torchrun``.""",
    "errors": """\
ValueError
    If the data's motif features differ from the model's, the modalities hold
    different groups, a chosen group's name holds ``/``, or no chosen gene has an
    accessible TSS peak in a chosen group.
KeyError
    If a gene or group is unknown, or an input is missing.""",
    # the change of the perturbation functions (tl._perturb)
    "change": """\
Each affected gene is read as :func:`scget.tl.predict` with ``tss_windows="centred"``
reads genes: in the windows of
``model.window_size`` regions centred on its accessible TSS peaks, at the output of the
TSS peak on its strand, averaged over those peaks. A gene is affected in a group when
one of its windows holds a changed region; only those windows run, once as they are and
once perturbed, in one float32 pass shared across ranks under ``torchrun``.""",
    "returns": """\
The change as a float32 DataFrame groups x genes (perturbed minus reference predicted
log10(TPM + 1); NaN where no window of the gene was changed), as stored and read back,
or with ``copy`` the modified copy. Writes, replacing an earlier run under ``key_added``:

- ``pb["rna"].layers[key_added]``: the change, float32 groups x genes;
- ``pb.uns["scget"][key_added]``: ``"result"``, one row per chosen group (``group``,
  ``n_genes`` affected, ``n_windows`` run), and the parameters.

Read it with :func:`scget.get.knockout_motifs` (:func:`scget.get.delete_regions` for a
deletion).""",
    # what the perturbation functions do with what matches nothing (each function's
    # next lines, "Here: ...", say what is matched against what)
    "unmatched": """\
unmatched
    What to do when some of them match nothing: ``"error"`` (default) raises, before any
    model computation, listing each one with the reason; ``"warn"`` logs the same list
    and goes on with the others. Nothing matched at all is always an error.""",
    # the options both training stages document last (before ``key_added``); the
    # training records' own placeholders are filled from their fields
    "run_args": "{device}\n{training_options}\n{atac}\n{motif_key}",
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
        return textwrap.indent(_PLACEHOLDER.sub(replace, fragments[name]), indent)

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
