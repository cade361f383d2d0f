"""The package logger and verbosity-aware progress bars."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from .settings import settings

logger = logging.getLogger("scget")
if not logger.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logger.addHandler(_handler)
    logger.propagate = False


def progress(iterable: Iterable | None = None, **kwargs):
    """Wrap ``iterable`` in a tqdm bar that honours :attr:`scget.settings.verbosity`.

    The bar is hidden below verbosity 2 (info) and on non-zero ranks of a
    distributed run.
    """
    from tqdm.auto import tqdm

    # utils -> threads -> logging: a top-level import would close that cycle.
    from .utils import is_main_process

    disable = kwargs.pop("disable", False) or settings.verbosity < 2 or not is_main_process()
    return tqdm(iterable, disable=disable, **kwargs)
