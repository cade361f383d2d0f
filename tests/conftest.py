"""Shared fixtures: paths to the real data in ../shared/data (skipped when absent)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only real data folder; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep every test's cache directory out of the user's home."""
    import scget

    monkeypatch.setattr(scget.settings, "_cachedir", tmp_path_factory.getbasetemp() / "cache")


@pytest.fixture(autouse=True)
def _scget_logs_reach_caplog(monkeypatch):
    """Let pytest's caplog see the "scget" logger, which does not propagate by default."""
    monkeypatch.setattr(logging.getLogger("scget"), "propagate", True)
