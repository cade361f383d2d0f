"""Caches of the motif scan: keyed by everything they depend on, never stale."""

from __future__ import annotations

import numpy as np

import scget
from scget.motifs import MotifCollection, _scan
from scget.motifs import _jaspar as jaspar_module
from scget.motifs._scan import build_scan_model, cached_scorer


def _collection(scale: float = 1.0) -> MotifCollection:
    matrices = {
        "a": [[8, 1, 1, 0], [0, 9, 1, 0], [1, 1, 8 * scale, 0], [0, 0, 1, 9], [9, 0, 0, 1]],
        "b": [[0, 0, 10, 0], [10, 0, 0, 0], [0, 0, 0, 10], [0, 10, 0, 0]],
    }
    return MotifCollection(matrices)


def test_thresholds_cached_on_disk_and_keyed(monkeypatch):
    model = build_scan_model(_collection(), pvalue=1e-2)
    files = list((scget.settings.cachedir / "motif_scan").glob(f"{model.key}.pkl"))
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


def test_corrupt_cache_file_is_recomputed():
    model = build_scan_model(_collection(), pvalue=0.02)
    path = scget.settings.cachedir / "motif_scan" / f"{model.key}.pkl"
    path.write_bytes(b"not a pickle")
    _scan._MODELS.pop(model.key)
    assert build_scan_model(_collection(), pvalue=0.02).thresholds == model.thresholds


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
    np.testing.assert_allclose(eight.score([sequence]), nine.score([sequence]), rtol=1e-12)
    assert eight.score([sequence]).sum() > 0


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
