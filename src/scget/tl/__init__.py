"""Tools: train, apply, evaluate and interpret GET."""

from .._lazy import lazy_namespace

_EXPORTS = {
    "GETModel": "._model",
    "pretrain": "._train",
    "finetune": "._train",
    "predict": "._predict",
    "evaluate": "._evaluate",
}
__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
