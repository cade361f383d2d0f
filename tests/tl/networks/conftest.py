"""A pseudobulk holding gene-by-motif attributions drawn from a known DAG."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _sem import attributed_pb, sem_sample


@pytest.fixture(scope="module")
def sem_pb():
    """Two groups of 5,000 genes x 20 motifs from one known DAG, plus accessibility."""
    X, B = sem_sample(5000, 20, seed=3)
    motifs = [f"M{i:02d}" for i in range(20)]
    rng = np.random.default_rng(0)
    blocks = {}
    for group in ("a", "b"):
        frame = pd.DataFrame(X[rng.permutation(len(X))], columns=motifs)
        frame.index = [f"g{i}" for i in range(len(frame))]
        frame["accessibility"] = rng.normal(size=len(frame))
        blocks[group] = frame
    return attributed_pb(blocks), B, motifs
