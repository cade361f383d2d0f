"""Small on-disk cache of motif results under ``scget.settings.cachedir``.

Each entry is a pickle file named by a digest of everything the value depends on (the
caller computes it); the file stores the key too and a mismatch or an unreadable file
reads as absent. Files are written atomically; a cache folder that cannot be written only
logs a message. Delete the folder to clear the cache.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from .._logging import logger


def cache_path(kind: str, key: str) -> Path:
    """Cache file of ``key`` in the ``kind`` sub-folder of ``scget.settings.cachedir``."""
    from .._settings import settings

    return settings.cachedir / kind / f"{key}.pkl"


def read_cache(kind: str, key: str):
    """The cached value of ``key``, or None if absent, unreadable or stored under another key."""
    try:
        with open(cache_path(kind, key), "rb") as handle:
            stored_key, value = pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError):
        return None
    return value if stored_key == key else None


def write_cache(kind: str, key: str, value) -> None:
    """Store ``value`` under ``key`` (atomically: a temporary file, then a rename)."""
    path = cache_path(kind, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with open(temporary, "wb") as handle:
            pickle.dump((key, value), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except OSError as error:
        logger.info(f"Not cached in {path.parent} ({error}).")
