"""Files that other processes, and a kill at any moment, never see half-written.

:func:`atomic_write` writes a file's new content to a temporary sibling, flushes it to
disk (``fsync``) and renames it over the file (``os.replace``, atomic on POSIX and
Windows), so a reader sees the old content or the new, never a mixture; a process killed
while writing leaves at most a hidden ``.NAME.PID@HOST.*.tmp`` sibling, which the next
writer clears (:func:`remove_orphans`). :func:`file_lock` serialises the processes that fill the
same entry (a read-modify-write, or an expensive value computed once), through a
``NAME.lock`` file beside it (:mod:`filelock`; the operating system releases the lock of
a killed process).
"""

from __future__ import annotations

import glob
import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

#: Suffix of a lock file (beside the file it guards).
LOCK_SUFFIX = ".lock"


def temporary_prefix(path: Path) -> str:
    """Start of the name of a temporary sibling of ``path`` that this process writes.

    It names the writer (process id and host), so that :func:`orphans` can tell the
    temporary files of killed writers from those of live ones.
    """
    return f".{path.name}.{os.getpid()}@{socket.gethostname()}."


def orphans(path: str | os.PathLike) -> list[Path]:
    """Temporary siblings of ``path`` (files or folders) whose writer on this host is dead."""
    path = Path(path)
    start = f".{path.name}."
    found = []
    for candidate in path.parent.glob(f"{glob.escape(start)}*.tmp"):
        writer = candidate.name[len(start) : -len(".tmp")].rpartition(".")[0]
        pid, _, host = writer.partition("@")
        if pid.isdigit() and host == socket.gethostname() and not _alive(int(pid)):
            found.append(candidate)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary sibling of ``path`` for writing; it replaces ``path`` on success.

    When the block ends without error the temporary file is flushed and synced to disk,
    renamed to ``path`` and the folder's entry synced too, so that after a crash (or
    SIGKILL) ``path`` holds either its old content or the whole new one. An error in the
    block removes the temporary file and leaves ``path`` as it was.

    Parameters
    ----------
    path
        The file to create or replace (its folder must exist).
    mode
        ``"wb"`` or ``"w"`` (text, UTF-8).

    Yields
    ------
    The open temporary file.
    """
    path = Path(path)
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}.")
    temporary = path.parent / f"{temporary_prefix(path)}{secrets.token_hex(4)}.tmp"
    # created like an ordinary file (0o666 less the umask), unlike mkstemp's 0o600
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        encoding = None if "b" in mode else "utf-8"
        with open(descriptor, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def remove_orphans(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that killed writers of ``path`` left behind.

    Only files whose writer (:func:`temporary_prefix`) ran on this host and is no longer
    alive are removed, so writers that are still at work are never disturbed.

    Returns
    -------
    The removed files.
    """
    removed = []
    for orphan in orphans(path):
        if orphan.is_file():
            with suppress(FileNotFoundError):
                orphan.unlink()
                removed.append(orphan)
    return removed


def file_lock(path: str | os.PathLike, timeout: float = -1):
    """An inter-process lock guarding ``path``: a :class:`filelock.FileLock` on ``path.lock``.

    Use it as a context manager (``with file_lock(path): ...``); it is re-entrant within a
    process and released by the operating system when its holder dies.

    Parameters
    ----------
    path
        The guarded file (it need not exist; its folder must).
    timeout
        Seconds to wait before :class:`filelock.Timeout` is raised; negative waits forever.
    """
    from filelock import FileLock

    path = Path(path)
    return FileLock(path.with_name(path.name + LOCK_SUFFIX), timeout=timeout)
