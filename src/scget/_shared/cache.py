"""Small on-disk cache of motif results under ``scget.settings.cachedir``, shared by processes.

Each entry is a file named by a digest of everything the value depends on (the caller
computes it). The file holds a header, the SHA-256 of its payload and the payload (a
pickle of the key and the value): an entry that is truncated, altered, or stored under
another key is reported with a warning, removed and rebuilt, never trusted. Entries are
written atomically (:func:`scget._shared.atomic.atomic_write`), and the processes that miss the
same entry at once take turns through a lock file beside it
(:func:`scget._shared.atomic.file_lock`): the first computes and writes it, the others then read
it. A cache folder that cannot be written only logs a message (the value is computed
each time). Delete the folder to clear the cache.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .atomic import atomic_write, file_lock, remove_orphans
from .logging import logger
from .settings import settings

#: First bytes of every entry (the format's version included).
MAGIC = b"scget cache 2\n"
_DIGEST_SIZE = 32


class _Damaged(Exception):
    """An entry that exists but cannot be trusted (the message says why)."""


def cache_path(kind: str, key: str) -> Path:
    """Cache file of ``key`` in the ``kind`` sub-folder of ``scget.settings.cachedir``."""
    return settings.cachedir / kind / f"{key}.entry"


def cached(kind: str, key: str, compute: Callable[[], Any]) -> Any:
    """The cached value of ``key``, or ``compute()``'s, stored for the next call.

    Parameters
    ----------
    kind
        Sub-folder of the cache (one per kind of value).
    key
        Digest of everything the value depends on.
    compute
        Called (without arguments) when the entry is absent or damaged.

    Returns
    -------
    The value (read, or computed in this process or in another one that held the lock).
    """
    path = cache_path(kind, key)
    found, value = _read(path, key)
    if found:
        return value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = file_lock(path)
        lock.acquire()
    except OSError as error:
        logger.info(f"Not cached in {path.parent} ({error}).")
        return compute()
    try:
        found, value = _read(path, key)  # another process may have written it meanwhile
        if found:
            return value
        remove_orphans(path)
        value = compute()
        _write(path, key, value)
    finally:
        lock.release()
    return value


def _read(path: Path, key: str) -> tuple[bool, Any]:
    """``(True, value)`` of a sound entry; ``(False, None)`` when absent or damaged."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return False, None
    except OSError as error:
        logger.info(f"Cannot read the cache entry {path} ({error}); computing it.")
        return False, None
    try:
        return True, _decode(data, key)
    except _Damaged as error:
        logger.warning(f"The cache entry {path} is damaged ({error}); it is rebuilt.")
        try:
            path.unlink()
        except OSError:
            pass
        return False, None


def _decode(data: bytes, key: str) -> Any:
    """The value stored in an entry's bytes; raises :class:`_Damaged` if they are not sound."""
    header = len(MAGIC) + _DIGEST_SIZE
    if not data.startswith(MAGIC) or len(data) < header:
        raise _Damaged("not a scget cache entry of this version")
    payload = data[header:]
    if hashlib.sha256(payload).digest() != data[len(MAGIC) : header]:
        raise _Damaged("its checksum does not match: truncated or altered")
    try:
        stored_key, value = pickle.loads(payload)
    except Exception as error:  # any failure to unpickle makes the entry unusable
        raise _Damaged(f"cannot be unpickled: {error}") from error
    if stored_key != key:
        raise _Damaged("it holds another key")
    return value


def _write(path: Path, key: str, value: Any) -> None:
    """Store ``value`` under ``key`` atomically; an unwritable folder only logs a message."""
    payload = pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL)
    try:
        with atomic_write(path) as handle:
            handle.write(MAGIC + hashlib.sha256(payload).digest() + payload)
    except OSError as error:
        logger.info(f"Not cached in {path.parent} ({error}).")
