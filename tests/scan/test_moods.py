"""The MOODS look-ahead window changes speed only, never the scores."""

from __future__ import annotations

import numpy as np

import scget
from scget._scan.moods import _Scorer, build_scan_model, choose_window
from scget._scan.scores import score_table


def raw_scores(scorer: _Scorer, sequences: list[str]) -> np.ndarray:
    """The (sequences x clusters) raw scores of ``scorer``, through the scan's own table."""
    parts = [scorer.nonzero_scores(sequences)]
    return score_table(parts, len(sequences), scorer.n_clusters, False, dtype=np.float64)[0]


def test_window_does_not_change_scores(hg38_piece):
    genome = hg38_piece
    jaspar = scget.motifs.load_jaspar()
    lengths = {motif_id: len(jaspar[motif_id]) for motif_id in jaspar}
    short = [i for i in jaspar.ids if lengths[i] <= 8][:40]
    long = [i for i in jaspar.ids if lengths[i] > 12][:40]
    model = build_scan_model(jaspar.subset(short + long), pvalue=1e-3)
    starts = np.arange(100_000, 2_300_000, 110_000)
    sequences = genome.fetch_many(["chr2"] * len(starts), starts, starts + 400)
    scores = [raw_scores(_Scorer(model, window), sequences) for window in (5, 7, 8, 9)]
    assert (scores[0] > 0).sum() > 100
    for other in scores[1:]:
        np.testing.assert_allclose(scores[0], other, rtol=1e-12, atol=1e-12)  # summation order


def test_joined_scan_finds_the_hits_of_each_sequence_alone():
    import MOODS.scan

    jaspar = scget.motifs.load_jaspar()
    model = build_scan_model(jaspar.subset(jaspar.ids[:200]), pvalue=1e-3)  # dense hits
    rng = np.random.default_rng(2)
    sequences = ["".join(rng.choice(list("ACGT"), size)) for size in (300, 5, 0, 40, 300)]
    sequences[0] = sequences[0][:100] + "N" * 3 + sequences[0][103:] + "N"  # breaks, N last
    sequences.append("".join(rng.choice(list("ACGTN"), 200, p=[0.24] * 4 + [0.04])))
    for window in (5, 7, 9):  # the window changes a score's last bits (summation order)
        expected = set()
        for row, sequence in enumerate(sequences):  # MOODS on each sequence alone
            for k, matrix in enumerate(model.log_odds):
                scanner = MOODS.scan.Scanner(min(len(matrix[0]), window))
                scanner.set_motifs([matrix], model.background, [model.thresholds[k]])
                expected |= {(row, k, hit.pos, hit.score) for hit in scanner.scan(sequence)[0]}
        rows, matrices, starts, scores = _Scorer(model, window).hits(sequences)
        assert (np.diff(rows) >= 0).all()
        hits = (rows, matrices, starts, scores)
        found = list(zip(*(column.tolist() for column in hits), strict=True))
        assert len(found) == len(set(found)) and set(found) == expected
    assert {row for row, *_ in expected} >= {0, 4, 5}  # hits on both sides of each join


def test_choose_window_grows_with_work():
    assert choose_window(1e5) == 7
    assert choose_window(5e6) == 8
    assert choose_window(5e7) == 9


def test_chunk_size_spreads_small_scans_over_workers():
    from scget._scan.moods import CHUNK_SIZE, chunk_size

    assert chunk_size(4_000, 2) == 63  # 64 tasks: 32 per worker
    assert chunk_size(100, 2) == 50  # never below 50 sequences a task
    assert chunk_size(10, 2) == 50
    assert chunk_size(1_000_000, 2) == CHUNK_SIZE


def test_scores_are_the_plain_greedy_bit_for_bit(plain_greedy):
    jaspar = scget.motifs.load_jaspar()
    model = build_scan_model(jaspar.subset(jaspar.ids[:200]), pvalue=1e-3)  # dense hits
    rng = np.random.default_rng(0)
    sequences = ["".join(rng.choice(list("ACGT"), 300)) for _ in range(40)]
    scorer = _Scorer(model, 7)
    rows, matrices, starts, scores = scorer.hits(sequences)
    ends = starts + scorer.lengths[matrices]
    groups = rows * scorer.n_clusters + scorer.cluster_index[matrices]
    expected = np.zeros(len(sequences) * scorer.n_clusters)
    for group in np.unique(groups):
        mine = np.flatnonzero(groups == group)
        hits = zip(scores[mine], starts[mine], ends[mine], matrices[mine], strict=True)
        expected[group] = plain_greedy(hits)
    assert np.bincount(groups).max() > 10  # clusters with many overlapping hits to settle
    assert raw_scores(scorer, sequences).reshape(-1).tobytes() == expected.tobytes()


def test_forked_scan_of_peaks_equals_the_scan_in_process(tmp_path):
    from scget._scan.moods import score_parts
    from scget.genome import Genome

    rng = np.random.default_rng(1)
    fasta = tmp_path / "genome.fa"
    fasta.write_text(
        "".join(f">chr{c}\n{''.join(rng.choice(list('ACGT'), 20_000))}\n" for c in (1, 2))
    )
    genome = Genome(fasta)
    starts = rng.integers(0, 19_500, 400)
    chroms = np.where(np.arange(400) % 2, "chr1", "chr2")
    tasks = [
        (genome, chroms[i : i + 50], starts[i : i + 50], starts[i : i + 50] + 300)
        for i in range(0, 400, 50)
    ]
    jaspar = scget.motifs.load_jaspar()
    model = build_scan_model(jaspar.subset(jaspar.ids[:100]), pvalue=1e-4)
    alone = score_parts(tasks, 400, model, n_jobs=1)
    forked = score_parts(tasks, 400, model, n_jobs=2)
    assert sum(len(where) for where, _ in alone) > 400
    assert all(
        a.tobytes() == b.tobytes()
        for task_alone, task_forked in zip(alone, forked, strict=True)
        for a, b in zip(task_alone, task_forked, strict=True)
    )


def test_a_worker_reads_the_genome_through_a_handle_of_its_own(tmp_path):
    from scget._scan import moods as _scan
    from scget.genome import Genome

    fasta = tmp_path / "genome.fa"
    fasta.write_text(">chr1\n" + "ACGTTGCA" * 100 + "\n")
    genome = Genome(fasta)  # opened here, as in the parent of forked workers
    own = _scan._own_genome(genome)
    try:
        assert own is not genome and own._fasta is None  # processes sharing a handle share
        assert _scan._own_genome(genome) is own  # its position; opened once per worker
        assert own.fetch("chr1", 5, 20) == genome.fetch("chr1", 5, 20)
    finally:
        _scan._OWN_GENOMES.clear()


def test_reduction_ranks_ties_by_start_then_matrix(plain_greedy):
    from scget._scan.moods import reduce_hits

    rng = np.random.default_rng(0)
    n, n_rows, n_clusters = 4000, 20, 6
    rows = np.sort(rng.integers(0, n_rows, n))
    clusters = rng.integers(0, n_clusters, n)
    starts = rng.integers(0, 60, n)
    ends = starts + rng.integers(4, 20, n)
    matrices = rng.permutation(n)  # one hit per matrix: no (start, matrix) twice
    scores = np.round(rng.random(n), 1)  # many ties in score, and in score and start
    where, values = reduce_hits(rows, clusters, starts, ends, matrices, scores, n_clusters)
    sums = np.zeros((n_rows, n_clusters))
    sums.reshape(-1)[where] = values
    assert (np.diff(where) > 0).all()
    for row in range(n_rows):
        for cluster in range(n_clusters):
            mine = np.flatnonzero((rows == row) & (clusters == cluster))
            hits = zip(scores[mine], starts[mine], ends[mine], matrices[mine], strict=True)
            assert sums[row, cluster] == plain_greedy(hits)
