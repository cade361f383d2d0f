"""Lazy attribute loading for the public namespaces.

Each namespace maps its public names to the private module that defines them, so
that ``import scget`` stays fast and torch or MOODS load only on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_namespace(package: str, exports: Mapping[str, str]) -> tuple[Callable, Callable]:
    """Return ``__getattr__`` and ``__dir__`` for a namespace package.

    Parameters
    ----------
    package
        The namespace's ``__name__``.
    exports
        Public name -> private module (relative, e.g. ``"._pseudobulk"``).
    """

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name], package), name)
        importlib.import_module(package).__dict__[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
