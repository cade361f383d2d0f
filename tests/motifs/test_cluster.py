"""scget.motifs.cluster_motifs and the PWM similarity behind it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scget.motifs import MotifCollection, cluster_motifs
from scget.motifs._cluster import motif_similarity

BASES = "ACGT"


def pwm(consensus: str, rng=None, noise: float = 0.0) -> np.ndarray:
    matrix = np.array([[0.9 if base == b else 0.1 / 3 for b in BASES] for base in consensus])
    if rng is not None:
        matrix = matrix + rng.uniform(0, noise, matrix.shape)
    return matrix / matrix.sum(axis=1, keepdims=True)


def revcomp(matrix: np.ndarray) -> np.ndarray:
    return matrix[::-1, ::-1]


def test_similarity_properties():
    gata = pwm("AGATAAGG")
    similarity = motif_similarity(
        [gata, revcomp(gata), pwm("CAGATAAG"), pwm("CCCGGGTT"), np.full((5, 4), 0.25)]
    )
    np.testing.assert_allclose(similarity, similarity.T)
    np.testing.assert_allclose(np.diag(similarity), 1.0)
    assert similarity[0, 1] == pytest.approx(1.0)  # reverse complement
    assert similarity[0, 2] == pytest.approx(7 / 8, abs=0.02)  # shifted by one: 7 of 8 positions
    assert similarity[0, 3] < 0.4
    assert similarity[0, 4] == 0.0  # uninformative motif


def test_recovers_planted_families():
    rng = np.random.default_rng(0)
    families = {"GATA": "AGATAAGA", "FOX": "TGTTTACTT", "EBOX": "CACGTGAC"}
    matrices, names, truth = {}, [], []
    for family, consensus in families.items():
        for k in range(4):
            matrix = pwm(consensus, rng, noise=0.3)
            matrices[f"{family}{k}"] = revcomp(matrix) if k % 2 else matrix
            names.append(f"{family}{k + 1}")
            truth.append(family)
    motifs = MotifCollection(matrices, pd.DataFrame({"name": names}, index=list(matrices)))
    clustered = cluster_motifs(motifs)
    assert sorted(clustered.clusters) == ["EBOX", "FOX", "GATA"]
    assert clustered.info["cluster"].tolist() == truth
    assert clustered.members("FOX") == ["FOX0", "FOX1", "FOX2", "FOX3"]
    assert list(motifs.info["cluster"]) == list(matrices)  # input untouched


def test_names_unique_and_readable():
    motifs = MotifCollection(
        {"a": pwm("AGATAAGA"), "b": pwm("CCCGGGTTA"), "c": pwm("TTTTACGA")},
        pd.DataFrame({"name": ["Sox2", "SOX2", "Pou5f1::Sox2"]}, index=["a", "b", "c"]),
    )
    clustered = cluster_motifs(motifs)
    assert sorted(clustered.clusters) == ["POU5F1+SOX2", "SOX2.1", "SOX2.2"]


def test_bad_threshold():
    with pytest.raises(ValueError, match="min_similarity"):
        cluster_motifs(MotifCollection({"a": pwm("ACGT")}), min_similarity=0)


def test_empty_collection_is_named():
    with pytest.raises(ValueError, match="motif collection is empty: there is nothing to cluster"):
        cluster_motifs(MotifCollection({}))
