"""Plotting."""

from .._lazy import lazy_namespace

_EXPORTS = {
    "history": "._history",
    "prediction": "._prediction",
}
__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
