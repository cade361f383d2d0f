"""The command line keeps freed memory for reuse (glibc mallopt)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from scget._shared import allocator

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's (Linux)")
def test_applied_with_glibc():
    # in a fresh process: the test session's own allocator stays as it is
    code = "from scget._shared.allocator import keep_freed_memory; print(keep_freed_memory())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_left_alone_elsewhere(monkeypatch):
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.keep_freed_memory() is False


def test_the_command_line_applies_it(monkeypatch, tmp_path):
    from scget import cli

    calls = []
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: calls.append(True))
    (tmp_path / "kept.txt").write_text("x")  # a non-empty --out: refused before any work
    assert cli.main(["demo", "--out", str(tmp_path)]) == 2
    assert calls == [True]
