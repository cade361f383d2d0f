"""Tools: train, apply, evaluate and interpret GET."""

from .._lazy import lazy_namespace

_EXPORTS = {
    "GETModel": "._core._model",
    "pretrain": "._training._train",
    "finetune": "._training._train",
    "predict": "._core._predict",
    "evaluate": "._evaluation._evaluate",
}
__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
