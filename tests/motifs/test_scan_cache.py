"""Caches of the motif scan: keyed by everything they depend on, never stale."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import scget
from scget._scan import moods as _scan
from scget._scan.moods import build_scan_model, cached_scorer
from scget._shared.cache import cache_path, cached
from scget.motifs import MotifCollection
from scget.motifs import _jaspar as jaspar_module


def _collection(scale: float = 1.0) -> MotifCollection:
    matrices = {
        "a": [[8, 1, 1, 0], [0, 9, 1, 0], [1, 1, 8 * scale, 0], [0, 0, 1, 9], [9, 0, 0, 1]],
        "b": [[0, 0, 10, 0], [10, 0, 0, 0], [0, 0, 0, 10], [0, 10, 0, 0]],
    }
    return MotifCollection(matrices)


def test_thresholds_cached_on_disk_and_keyed(monkeypatch):
    model = build_scan_model(_collection(), pvalue=1e-2)
    files = list((scget.settings.cachedir / "motif_scan").glob(f"{model.key}.entry"))
    assert len(files) == 1
    # a fresh process (empty memory) reads the file instead of computing
    monkeypatch.setattr(_scan, "_MODELS", {})
    monkeypatch.setattr(_scan, "_log_odds_and_thresholds", None)  # would fail if called
    again = build_scan_model(_collection(), pvalue=1e-2)
    assert again.thresholds == model.thresholds and again.key == model.key
    monkeypatch.undo()
    # every input changes the key, and the thresholds follow
    others = [
        build_scan_model(_collection(), pvalue=1e-3),
        build_scan_model(_collection(), pvalue=1e-2, background=[0.3, 0.2, 0.2, 0.3]),
        build_scan_model(_collection(), pvalue=1e-2, pseudocount=0.1),
        build_scan_model(_collection(scale=0.5), pvalue=1e-2),
    ]
    assert len({model.key, *(other.key for other in others)}) == 5
    for other in others:
        assert other.thresholds != model.thresholds


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda data: b"not a pickle", "not a scget cache entry"),
        (lambda data: data[: len(data) // 2], "its checksum does not match"),
        (lambda data: data[:-1] + bytes([data[-1] ^ 1]), "its checksum does not match"),
    ],
)
def test_damaged_cache_entry_is_reported_and_rebuilt(damage, reason, caplog):
    model = build_scan_model(_collection(), pvalue=0.02)
    path = cache_path("motif_scan", model.key)
    path.write_bytes(damage(path.read_bytes()))
    _scan._MODELS.pop(model.key)
    with caplog.at_level(logging.WARNING, logger="scget"):
        again = build_scan_model(_collection(), pvalue=0.02)
    assert again.thresholds == model.thresholds
    assert f"{path} is damaged ({reason}" in caplog.text and "rebuilt" in caplog.text
    assert cached("motif_scan", model.key, None) == (again.log_odds, again.thresholds)


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    """An empty cache folder of the test's own."""
    monkeypatch.setattr(scget.settings, "cachedir", tmp_path / "cache")


@pytest.mark.usefixtures("own_cache")
def test_entry_stored_under_another_key_is_not_trusted(caplog):
    cached("test", "a", lambda: 1)
    cache_path("test", "a").rename(cache_path("test", "b"))
    with caplog.at_level(logging.WARNING, logger="scget"):
        assert cached("test", "b", lambda: 2) == 2
    assert "holds another key" in caplog.text
    assert cached("test", "b", None) == 2


@pytest.mark.usefixtures("own_cache")
def test_orphans_of_a_killed_writer_are_removed_by_the_next_one():
    folder = cache_path("test", "k").parent
    folder.mkdir(parents=True)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    orphan = folder / f".k.entry.{dead}@{socket.gethostname()}.x1y2.tmp"
    live = folder / f".k.entry.{os.getpid()}@{socket.gethostname()}.x1y2.tmp"
    for path in (orphan, live):
        path.write_bytes(b"half")
    assert cached("test", "k", lambda: [1, 2]) == [1, 2]
    assert not orphan.exists() and live.exists()  # a live writer's file is left alone
    live.unlink()
    assert sorted(p.name for p in folder.iterdir()) == ["k.entry", "k.entry.lock"]


def test_unwritable_cache_folder_computes_without_caching(tmp_path, monkeypatch, caplog):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setattr(scget.settings, "cachedir", blocked)
    with caplog.at_level(logging.INFO, logger="scget"):
        assert cached("test", "k", lambda: 3) == 3
    assert "Not cached" in caplog.text


def test_scorer_cache_reuses_a_window_at_least_as_long():
    model = build_scan_model(_collection(), pvalue=1e-2)
    eight = cached_scorer(model, 8)
    assert cached_scorer(model, 7) is eight  # a longer window gives the same hits
    assert cached_scorer(model, 8) is eight
    nine = cached_scorer(model, 9)
    assert nine is not eight and cached_scorer(model, 7) in (eight, nine)
    other = build_scan_model(_collection(), pvalue=1e-3)
    assert cached_scorer(other, 7) is not eight
    assert len(_scan._SCORERS) <= _scan._MAX_SCORERS
    sequence = "TTACGTATTTGATCGGACGTATT"
    (where, scores), (where_nine, scores_nine) = (
        scorer.nonzero_scores([sequence]) for scorer in (eight, nine)
    )
    np.testing.assert_array_equal(where, where_nine)
    np.testing.assert_allclose(scores, scores_nine, rtol=1e-12)
    assert scores.sum() > 0


def test_jaspar_cached_copies_are_independent(monkeypatch):
    monkeypatch.setattr(jaspar_module, "_LOADED", {})
    first = scget.motifs.load_jaspar()  # read, clustered, written to the disk cache
    first.info.loc[first.ids[0], "name"] = "changed"
    monkeypatch.setattr(jaspar_module, "_LOADED", {})  # next call: from the disk cache
    monkeypatch.setattr(jaspar_module, "_load_jaspar", None)  # would fail if called
    second = scget.motifs.load_jaspar()
    assert len(second) == 879 and second.info.iloc[0]["name"] != "changed"
    assert second.clusters == first.clusters
    np.testing.assert_array_equal(second[second.ids[0]], first[first.ids[0]])
