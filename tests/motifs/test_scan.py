"""The MOODS look-ahead window changes speed only, never the scores."""

from __future__ import annotations

import numpy as np

import scget
from scget.motifs._scan import _Scorer, build_scan_model, choose_window


def test_window_does_not_change_scores(hg38_piece):
    genome = hg38_piece
    jaspar = scget.motifs.load_jaspar()
    lengths = {motif_id: len(jaspar[motif_id]) for motif_id in jaspar}
    short = [i for i in jaspar.ids if lengths[i] <= 8][:40]
    long = [i for i in jaspar.ids if lengths[i] > 12][:40]
    model = build_scan_model(jaspar.subset(short + long), pvalue=1e-3)
    starts = np.arange(100_000, 2_300_000, 110_000)
    sequences = genome.fetch_many(["chr2"] * len(starts), starts, starts + 400)
    scores = [_Scorer(model, window).score(sequences) for window in (5, 7, 8, 9)]
    assert (scores[0] > 0).sum() > 100
    for other in scores[1:]:
        np.testing.assert_allclose(scores[0], other, rtol=1e-12, atol=1e-12)  # summation order


def test_choose_window_grows_with_work():
    assert choose_window(1e5) == 7
    assert choose_window(5e6) == 8
    assert choose_window(5e7) == 9


def test_chunk_size_spreads_small_scans_over_workers():
    from scget.motifs._scan import CHUNK_SIZE, chunk_size

    assert chunk_size(4_000, 2) == 250  # 16 tasks: 8 per worker
    assert chunk_size(100, 2) == 50  # never below 50 sequences a task
    assert chunk_size(10, 2) == 50
    assert chunk_size(1_000_000, 2) == CHUNK_SIZE
