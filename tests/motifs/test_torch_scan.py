"""The exact torch scan finds MOODS's hits with MOODS's float64 scores, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import scget
from scget.genome import Genome
from scget.motifs._scan import CHUNK_SIZE, _Scorer, build_scan_model, score_sequences
from scget.motifs._torch_scan import TorchScanner, moods_plan, score_sequences_torch

HUMAN = (0.2977, 0.2023, 0.2023, 0.2977)


def _moods_hits(scorer: _Scorer, sequences: list[str]) -> set:
    found = set()
    for row, sequence in enumerate(sequences):
        for hits in scorer.hits(sequence).values():
            found.update((row, start, matrix, score) for score, start, _, matrix in hits)
    return found


@pytest.fixture(scope="module")
def piece(shared_data):
    genome = Genome(shared_data / "hg38_chr2_piece" / "chr2_1-2333275.fa.gz")
    rng = np.random.default_rng(3)
    # random peaks, plus two across the N run that opens the piece (~10 kb)
    starts = np.r_[rng.integers(10_500, 2_333_000 - 500, 38), 9_700, 10_150]
    return genome, np.full(len(starts), "chr2"), starts, starts + 400


@pytest.fixture(scope="module")
def motifs():
    jaspar = scget.motifs.load_jaspar()
    # the longest matrices (long look-ahead orders) and every 7th other one
    by_length = sorted(jaspar.ids, key=lambda i: -len(jaspar[i]))
    return jaspar.subset(by_length[:30] + by_length[30::7])


@pytest.mark.parametrize("background", [None, HUMAN])
def test_hits_and_scores_equal_moods(piece, motifs, background):
    genome, chroms, starts, ends = piece
    sequences = genome.fetch_many(chroms, starts, ends)
    assert sum(s.count("N") for s in sequences) > 100  # windows with N are tested
    model = build_scan_model(motifs, pvalue=1e-3, background=background)
    expected = _moods_hits(_Scorer(model, 7), sequences)
    rows, positions, matrices, scores = TorchScanner(model, "cpu").hits(sequences)
    found = set(
        zip(rows.tolist(), positions.tolist(), matrices.tolist(), scores.tolist(), strict=True)
    )
    assert len(expected) > 2_000
    assert found == expected  # same windows, same float64 bits


def test_cluster_scores_equal_scan_motifs(piece, motifs):
    genome, chroms, starts, ends = piece
    model = build_scan_model(motifs, pvalue=1e-3, background=HUMAN)
    tasks = [
        (genome, chroms[i : i + CHUNK_SIZE], starts[i : i + CHUNK_SIZE], ends[i : i + CHUNK_SIZE])
        for i in range(0, len(starts), CHUNK_SIZE)
    ]
    expected = score_sequences(tasks, len(starts), model, n_jobs=1)
    scores = score_sequences_torch(tasks, len(starts), model, device="cpu")
    assert (expected > 0).sum() > 300
    np.testing.assert_array_equal(scores, expected)


def test_soft_masked_and_unknown_bases(motifs):
    model = build_scan_model(motifs, pvalue=1e-3)
    rng = np.random.default_rng(0)
    upper = "".join(rng.choice(list("ACGT"), 300))
    # lower case is an ordinary base; N and other codes (R) stop every window across them
    sequences = [upper, upper[:150].lower() + upper[150:], upper[:140] + "NR" + upper[142:]]
    rows, positions, matrices, scores = TorchScanner(model, "cpu").hits(sequences)
    moods = _Scorer(model, 7)
    for row, sequence in enumerate(sequences):
        expected = {(s, p, k) for h in moods.hits(sequence.upper()).values() for s, p, _, k in h}
        mine = rows == row
        columns = (scores[mine].tolist(), positions[mine].tolist(), matrices[mine].tolist())
        found = set(zip(*columns, strict=True))
        assert found == expected
    lengths = np.array([len(m[0]) for m in model.log_odds])[matrices]
    across = (rows == 2) & (positions < 142) & (positions + lengths > 140)
    assert not across.any() and ((rows == 0) & (positions < 142)).any()
    assert np.sum(rows == 1) == np.sum(rows == 0)


def test_moods_plan_by_hand():
    # 3 columns fit in a window of 3: plain left-to-right sum, never pruned
    matrix = [[1.0, -1.0, 0.5], [0.0, 2.0, 0.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 1.0]]
    assert moods_plan(matrix, [0.25] * 4, 3) == ([0, 1, 2], [np.inf] * 3)
    # window of 1: the column of largest expected difference (max - mean): column 1
    # (2 - 0 = 2) against 1 - 0 = 1 and 1 - 0.375 = 0.625; then 0, 2; bounds are the sums
    # of the best entries of the remaining columns (1 + 1, then 1)
    columns, bounds = moods_plan(matrix, [0.25] * 4, 1)
    assert columns == [1, 0, 2]
    assert bounds == [np.inf, 2.0, 1.0]
