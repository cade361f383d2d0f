"""Atomic writes, orphan clean-up and file locks (scget._shared.atomic)."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
import time

import pytest

from scget._shared.atomic import atomic_write, file_lock, orphans, remove_orphans


def test_atomic_write_replaces_the_whole_file_or_nothing(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"old")
    with atomic_write(path) as handle:
        handle.write(b"new content")
        assert path.read_bytes() == b"old"  # unchanged until the block ends
    assert path.read_bytes() == b"new content"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # as open() would create it
    with pytest.raises(RuntimeError, match="failed"), atomic_write(path) as handle:
        handle.write(b"partial")
        raise RuntimeError("failed")
    assert path.read_bytes() == b"new content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]
    with atomic_write(tmp_path / "text.json", "w") as handle:
        handle.write("{}")
    assert (tmp_path / "text.json").read_text() == "{}"
    with pytest.raises(ValueError, match="mode must be 'wb' or 'w'"), atomic_write(path, "a"):
        pass


def test_only_the_temporary_files_of_dead_writers_are_orphans(tmp_path):
    path = tmp_path / "entry"
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    host = socket.gethostname()
    dead = tmp_path / f".entry.{finished.stdout.strip()}@{host}.abc.tmp"
    live = tmp_path / f".entry.{os.getpid()}@{host}.abc.tmp"
    elsewhere = tmp_path / f".entry.{finished.stdout.strip()}@another-host.abc.tmp"
    other_file = tmp_path / f".other.{finished.stdout.strip()}@{host}.abc.tmp"
    for file in (dead, live, elsewhere, other_file):
        file.write_bytes(b"x")
    assert orphans(path) == [dead]
    assert remove_orphans(path) == [dead] and not dead.exists()
    assert live.exists() and elsewhere.exists() and other_file.exists()


def test_file_lock_serialises_read_modify_writes(tmp_path):
    path = tmp_path / "counter"
    path.write_text("0")

    def add_one():
        with file_lock(path):
            value = int(path.read_text())
            time.sleep(0.01)  # a read-modify-write that would lose updates unlocked
            path.write_text(str(value + 1))

    threads = [threading.Thread(target=add_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert path.read_text() == "8"
    assert (tmp_path / "counter.lock").exists()
