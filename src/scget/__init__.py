"""scget: GET, the general expression transformer, for single-cell multiome data.

The namespaces follow scanpy: :mod:`scget.pp` turns a cell-level MuData into
model-ready pseudobulks, :mod:`scget.tl` trains and interprets GET, :mod:`scget.pl`
plots, :mod:`scget.datasets` simulates and fetches data. Heavy dependencies (torch,
MOODS, scanpy) load only when a function that needs them is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._shared.settings import settings
from ._version import __version__

_SUBMODULES = ("pp", "tl", "get", "pl", "datasets", "motifs", "genome", "nn")
#: Functions also reachable at the top level: name -> namespace.
_SHORTCUTS = {"read_10x_multiome": "datasets"}

if TYPE_CHECKING:  # pragma: no cover
    from . import datasets, genome, get, motifs, nn, pl, pp, tl
    from .datasets import read_10x_multiome


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _SHORTCUTS:
        return getattr(importlib.import_module(f".{_SHORTCUTS[name]}", __name__), name)
    raise AttributeError(f"module 'scget' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBMODULES, *_SHORTCUTS])


__all__ = [
    "__version__",
    "datasets",
    "genome",
    "get",
    "motifs",
    "nn",
    "pl",
    "pp",
    "read_10x_multiome",
    "settings",
    "tl",
]
