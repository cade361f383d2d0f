"""The exact torch scan finds MOODS's hits with MOODS's float64 scores, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import scget
from scget._scan.moods import CHUNK_SIZE, _Scorer, build_scan_model, score_parts
from scget._scan.scores import score_table
from scget._scan.torch_scan import TorchScanner, moods_plan, score_sequences_torch

HUMAN = (0.2977, 0.2023, 0.2023, 0.2977)


def _moods_hits(scorer: _Scorer, sequences: list[str]) -> set:
    rows, matrices, starts, scores = scorer.hits(sequences)
    return set(zip(rows.tolist(), starts.tolist(), matrices.tolist(), scores.tolist(), strict=True))


@pytest.fixture(scope="module")
def piece(hg38_piece):
    genome = hg38_piece
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
    parts = score_parts(tasks, len(starts), model, n_jobs=1)
    expected, _ = score_table(parts, len(starts), len(model.clusters), False, dtype=np.float64)
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
    moods = _moods_hits(_Scorer(model, 7), [sequence.upper() for sequence in sequences])
    for row in range(len(sequences)):
        expected = {(s, p, k) for r, p, k, s in moods if r == row}
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


def test_vectorised_reduction_equals_the_greedy_by_hand(plain_greedy):
    import torch

    from scget._scan.torch_scan import best_non_overlapping_sums

    # group 0: [0,10) 5.0 is best; [5,12) 4.0 overlaps it (out); [10,20) 3.0 touches no kept
    # hit (in); [12,14) 3.0 overlaps [10,20) (out, same score but later start)
    # group 1: a chain; the greedy keeps 2.0 [4,10), then 1.7 [12,18); 1.5 [8,14) and
    # 1.0 [0,6) overlap kept hits: 2.0 + 1.7; group 2: no hits
    hits = [
        (0, 0, 10, 0, 5.0),
        (0, 5, 12, 1, 4.0),
        (0, 10, 20, 2, 3.0),
        (0, 12, 14, 3, 3.0),
        (1, 0, 6, 0, 1.0),
        (1, 4, 10, 1, 2.0),
        (1, 8, 14, 2, 1.5),
        (1, 12, 18, 3, 1.7),
    ]
    columns = list(zip(*hits, strict=True))
    groups, starts, ends, matrices = (torch.tensor(c) for c in columns[:4])
    scores = torch.tensor(columns[4], dtype=torch.float64)
    sums = best_non_overlapping_sums(groups, starts, ends, matrices, scores, 3)
    assert sums.tolist() == [8.0, 3.7, 0.0]
    # and on random dense hits, bit for bit the sequential greedy
    rng = np.random.default_rng(0)
    n = 3000
    groups = rng.integers(0, 40, n)
    starts = rng.integers(0, 300, n)
    ends = starts + rng.integers(4, 20, n)
    scores = np.round(rng.random(n) * 10, 1) + rng.random(n) * 1e-3
    scores[::7] = 5.0  # ties in score, broken by start then matrix
    matrices = rng.integers(0, 50, n)
    expected = np.zeros(40)
    for g in range(40):
        mine = np.flatnonzero(groups == g)
        chosen = {}  # one hit per (start, matrix), as from a scan
        for i in mine:
            chosen[(starts[i], matrices[i])] = i
        keep = sorted(chosen.values())
        expected[g] = plain_greedy([(scores[i], starts[i], ends[i], matrices[i]) for i in keep])
        others = np.setdiff1d(mine, keep)
        groups[others] = -1
    sel = groups >= 0
    args = (torch.as_tensor(a[sel]) for a in (groups, starts, ends, matrices, scores))
    np.testing.assert_array_equal(best_non_overlapping_sums(*args, 40).numpy(), expected)
