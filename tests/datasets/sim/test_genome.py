"""Tests of the simulated genome background (GC content, CpG depletion)."""

from __future__ import annotations

import numpy as np
import pytest

from scget.datasets._sim.genome import _CPG_RATIO, _GC_PROMOTER, background_sequence


def _gc_and_cpg_ratio(codes: np.ndarray) -> tuple[float, float]:
    """GC content and CpG observed/expected ratio (codes: 0 A, 1 C, 2 G, 3 T)."""
    c, g = np.mean(codes == 1), np.mean(codes == 2)
    cpg = np.mean((codes[:-1] == 1) & (codes[1:] == 2))
    return c + g, cpg / (c * g)


def test_background_has_target_gc_and_cpg_depletion():
    size, tss = 2_000_000, np.array([400_000, 1_200_000])
    sequence = background_sequence(np.array([size]), tss, np.random.default_rng(3))
    promoter = np.zeros(size, dtype=bool)
    for position in tss:
        promoter[position - 1_000 : position + 1_000] = True

    gc, ratio = _gc_and_cpg_ratio(sequence[~promoter])
    # isochore GC contents are drawn around 0.41 (sd 0.04) in 100 kb blocks: 20 blocks here
    assert gc == pytest.approx(0.41, abs=0.03)
    assert ratio == pytest.approx(_CPG_RATIO["background"], abs=0.02)
    gc, ratio = _gc_and_cpg_ratio(sequence[promoter])
    assert gc == pytest.approx(_GC_PROMOTER, abs=0.03)
    assert ratio == pytest.approx(_CPG_RATIO["promoter"], abs=0.12)
