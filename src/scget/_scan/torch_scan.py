"""Exact motif scanning in torch: the hits and scores of MOODS, found with a matrix product.

How it stays exact (the same hits and the same float64 scores as the MOODS scanners of
:mod:`scget._scan.moods` with look-ahead window :data:`WINDOW`):

1. Candidates: every window of every sequence is scored against every matrix by one
   float32 matrix product (one-hot windows x log-odds matrices, TF32 disabled). A window
   is a candidate when its float32 score reaches the MOODS threshold minus a margin that
   bounds the float32 error of any summation order (``(n + 2) * 2**-23 * S``, with ``n``
   the terms of the product and ``S`` the sum of the matrix's largest absolute entry per
   column), so no MOODS hit can be missed.
2. Re-check: each candidate is scored again in float64 with MOODS's own arithmetic: the
   window columns first (in order), then the other columns in MOODS's look-ahead order
   (decreasing expected score difference), giving up as soon as the score plus the best
   possible rest falls below the threshold, as MOODS does. Floating-point additions in the
   same order give the same bits, so the kept hits and their scores are MOODS's.

Windows that run past the end of a sequence or hold a base other than A, C, G, T give no
hit, as in MOODS. The per-cluster reduction (best non-overlapping hits, summed) is the one
of :mod:`scget._scan.moods`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from contextlib import contextmanager
from fractions import Fraction

import MOODS.scan
import numpy as np

from .._shared.logging import progress
from .moods import ScanModel

#: Look-ahead window of the MOODS scanners whose arithmetic is reproduced (MOODS' default,
#: and what :func:`scget.pp.scan_motifs` uses below 2 Mbp per worker).
WINDOW = 7
#: Upper bound of window scores held at once (batch x positions x matrices), in values.
_BLOCK_VALUES = 2**25
#: Base codes: A, C, G, T; everything else is 4 (no hit).
_CODES = np.full(256, 4, dtype=np.uint8)
for _i, _base in enumerate("ACGT"):
    _CODES[ord(_base)] = _CODES[ord(_base.lower())] = _i
_UNIT_ROUNDOFF_32 = 2.0**-24
#: The last :class:`TorchScanner` built, by (model key, device).
_SCANNERS: dict = {}


def moods_plan(matrix: Sequence[Sequence[float]], background: Sequence[float], window: int):
    """MOODS's order of summation and pruning bounds for one log-odds matrix.

    Parameters
    ----------
    matrix
        Log-odds matrix, 4 rows (A, C, G, T) x length (as MOODS takes it).
    background
        Background probabilities of A, C, G, T.
    window
        The scanner's look-ahead window for this matrix (``min(length, window)`` in
        :class:`scget._scan.moods._Scorer`).

    Returns
    -------
    ``(columns, bounds)``: the columns in the order MOODS adds them, and for each the
    bound checked before adding it: MOODS gives up on a window when
    ``score + bound < threshold``; the window columns carry ``+inf`` (never checked).
    """
    length = len(matrix[0])
    if window >= length:
        return list(range(length)), [float("inf")] * length
    expected = _expected_differences(matrix, background, _fused_expected_differences())
    columns = _order(expected, window, length)
    rest = columns[window:]
    bounds = [0.0] * len(rest)
    total = 0.0
    for i in range(len(rest) - 1, -1, -1):
        total += max(matrix[j][rest[i]] for j in range(4))
        bounds[i] = total
    return columns, [float("inf")] * window + bounds


def _order(expected: list[float], window: int, length: int) -> list[int]:
    """MOODS's window (best sum of expected differences, first of ties) then the rest."""
    if window >= length:
        return list(range(length))
    current = 0.0
    for i in range(window):
        current += expected[i]
    best, start = current, 0
    for i in range(length - window):
        current -= expected[i]
        current += expected[i + window]
        if current > best:
            best, start = current, i + 1
    rest = [*range(start), *range(start + window, length)]
    rest.sort(key=lambda i: -expected[i])  # stable, as MOODS's sort of these short lists
    return list(range(start, start + window)) + rest


def _fma_sub(value: float, factor: float, x: float, fused: bool) -> float:
    """``value - factor * x`` with one rounding (``fused``) or two."""
    if not fused:
        return value - factor * x
    if hasattr(math, "fma"):  # Python >= 3.13
        return math.fma(-factor, x, value)
    return float(Fraction(value) - Fraction(factor) * Fraction(x))  # exact, then rounded once


@functools.cache
def _fused_expected_differences() -> bool:
    """Whether the installed MOODS computes its expected differences with fused multiply-adds.

    Compilers may fuse ``a -= b * c``; it changes which window MOODS picks for some
    matrices with tied columns, and so the order (and last bits) of their scores. Found
    once by scanning, with MOODS, the consensus of small matrices on which the two
    arithmetics give scores differing in their last bits; uniform backgrounds never
    differ (``0.25 * x`` is exact).
    """
    rng = np.random.default_rng(0)
    background = [0.3, 0.2, 0.2, 0.3]
    for _ in range(5000):
        probabilities = rng.dirichlet(np.ones(4), size=10)
        probabilities[8] = probabilities[1]  # tied columns: a tie between two windows
        matrix = np.log(probabilities / np.array(background)).T.tolist()
        consensus = "".join("ACGT"[j] for j in np.argmax(probabilities, axis=1))
        scores = []
        for fused in (False, True):
            columns = _order(_expected_differences(matrix, background, fused), 7, 10)
            total = 0.0
            for i in columns:
                total += matrix["ACGT".index(consensus[i])][i]
            scores.append(total)
        if scores[0] != scores[1]:
            scanner = MOODS.scan.Scanner(7)
            scanner.set_motifs([matrix], background, [min(scores) - 1.0])
            found = scanner.scan(consensus)[0]
            return bool(found) and found[0].score == scores[1]
    return True


def _expected_differences(matrix, background, fused: bool) -> list[float]:
    """Best entry minus expected entry of each column, as MOODS computes them.

    MOODS's operations in MOODS's order (identical rounding); ``fused``: each
    ``value -= b * x`` rounded once, as a binary compiled with fused multiply-adds does.
    """
    expected = []
    for i in range(len(matrix[0])):
        value = max(matrix[j][i] for j in range(4))
        for j in range(4):
            value = _fma_sub(value, background[j], matrix[j][i], fused)
        expected.append(value)
    return expected


class TorchScanner:
    """Exact torch re-implementation of the MOODS scan of a :class:`ScanModel`.

    Parameters
    ----------
    model
        From :func:`scget._scan.moods.build_scan_model`.
    device
        Torch device (``"cpu"``, ``"cuda"``...).
    window
        MOODS look-ahead window whose summation order is reproduced.
    """

    def __init__(self, model: ScanModel, device="cpu", window: int = WINDOW) -> None:
        import torch

        self.device = torch.device(device)
        self.model = model
        n = len(model.log_odds)
        self.lengths = np.array([len(m[0]) for m in model.log_odds], dtype=np.int64)
        width = int(self.lengths.max())
        self.width = width
        weights = np.zeros((4, width, n))
        steps = np.zeros((n, width, 5))  # value added at each step, per base (N: 0)
        bounds = np.full((n, width), np.inf)
        columns = np.zeros((n, width), dtype=np.int64)
        largest = np.zeros(n)
        for k, matrix in enumerate(model.log_odds):
            values = np.asarray(matrix, dtype=np.float64)  # 4 x length
            length = values.shape[1]
            weights[:, :length, k] = values
            order, bound = moods_plan(matrix, model.background, min(length, window))
            columns[k, :length] = order
            bounds[k, :length] = bound
            steps[k, :length, :4] = values[:, order].T
            largest[k] = np.abs(values).max(axis=0).sum()
        self.thresholds = np.asarray(model.thresholds, dtype=np.float64)
        terms = 4 * width
        margin = (terms + 2) * 2 * _UNIT_ROUNDOFF_32 * largest + 1e-12 * largest
        as_tensor = lambda array, dtype: torch.as_tensor(array, dtype=dtype, device=self.device)  # noqa: E731
        self._weights = as_tensor(weights.reshape(4 * width, n), torch.float32)
        self._cutoff = as_tensor(self.thresholds - margin, torch.float32)
        self._steps = as_tensor(steps, torch.float64)
        self._bounds = as_tensor(bounds, torch.float64)
        self._columns = as_tensor(columns, torch.int64)
        self._lengths = as_tensor(self.lengths, torch.int64)
        self._thresholds = as_tensor(self.thresholds, torch.float64)
        self.n_clusters = len(model.clusters)
        self.cluster_index = np.asarray(model.cluster_index, dtype=np.int64)

    def hits(self, sequences: Sequence[str]) -> tuple[np.ndarray, ...]:
        """All hits of ``sequences``: ``(sequence, position, matrix, score)`` arrays.

        ``position`` is the 0-based window start on the forward strand; ``matrix`` indexes
        ``model.log_odds`` (forward and reverse complement of each motif); ``score`` is
        float64, bit-identical to MOODS's. Hits come sorted by sequence, position, matrix.
        """
        return tuple(t.cpu().numpy() for t in self._hits(sequences))

    def _hits(self, sequences: Sequence[str]) -> tuple:
        """:meth:`hits` as tensors on the device."""
        import torch

        found = []
        n_matrices = len(self.lengths)
        longest = max((len(s) for s in sequences), default=0)
        batch = max(1, _BLOCK_VALUES // max(1, longest * n_matrices))
        with _exact_float32():
            for first in range(0, len(sequences), batch):
                part = sequences[first : first + batch]
                found.append(self._hits_block(part, first))
        if not found:
            empty = torch.zeros(0, dtype=torch.int64, device=self.device)
            return empty, empty, empty, torch.zeros(0, dtype=torch.float64, device=self.device)
        return tuple(torch.cat(parts) for parts in zip(*found, strict=True))

    def _hits_block(self, sequences: Sequence[str], first: int) -> tuple[np.ndarray, ...]:
        import torch

        width = self.width
        longest = max(len(s) for s in sequences)
        codes = np.full((len(sequences), longest + width), 4, dtype=np.uint8)
        for row, sequence in enumerate(sequences):
            codes[row, : len(sequence)] = _CODES[np.frombuffer(sequence.encode(), np.uint8)]
        codes_t = torch.as_tensor(codes, dtype=torch.int64, device=self.device)
        onehot = torch.nn.functional.one_hot(codes_t, 5)[..., :4].to(torch.float32)
        # windows (batch, positions, base, offset) -> (batch, positions, 4 * width)
        windows = onehot.unfold(1, width, 1)[:, :longest].reshape(len(sequences), longest, -1)
        scores = windows @ self._weights  # float32 candidates
        row, position, matrix = torch.nonzero(scores >= self._cutoff, as_tuple=True)
        # no base other than A, C, G, T inside the window, which must end inside the sequence
        unknown = torch.nn.functional.pad(torch.cumsum(codes_t == 4, dim=1), (1, 0))
        end = position + self._lengths[matrix]
        ok = unknown[row, end] == unknown[row, position]
        row, position, matrix = row[ok], position[ok], matrix[ok]
        # MOODS's arithmetic, step by step, on the candidates
        score = torch.zeros(len(row), dtype=torch.float64, device=self.device)
        alive = torch.ones(len(row), dtype=torch.bool, device=self.device)
        threshold = self._thresholds[matrix]
        for step in range(width):
            alive &= ~(score + self._bounds[matrix, step] < threshold)
            base = codes_t[row, position + self._columns[matrix, step]]
            score = score + self._steps[matrix, step, base]
        keep = alive & (score >= threshold)
        return row[keep] + first, position[keep], matrix[keep], score[keep]

    def score(self, sequences: Sequence[str]) -> np.ndarray:
        """Per-cluster summed scores of non-overlapping best hits, ``(n, n_clusters)`` float64.

        The same reduction as :func:`scget._scan.moods.reduce_hits`, on the device.
        """
        import torch

        rows, positions, matrices, values = self._hits(sequences)
        lengths = torch.as_tensor(self.lengths, device=self.device)
        clusters = torch.as_tensor(self.cluster_index, device=self.device)[matrices]
        groups = rows * self.n_clusters + clusters
        totals = best_non_overlapping_sums(
            groups,
            positions,
            positions + lengths[matrices],
            matrices,
            values,
            len(sequences) * self.n_clusters,
        )
        return totals.reshape(len(sequences), self.n_clusters).cpu().numpy()


def best_non_overlapping_sums(groups, starts, ends, matrices, scores, n_groups: int):
    """Greedy best-first sums of hits sharing no base pair, per group, vectorised in torch.

    The result of :func:`scget._scan.moods.reduce_hits` for each group,
    bit for bit: hits are ranked best first (score, then leftmost, then matrix); rounds
    keep every undecided hit that no better undecided hit overlaps and reject the hits
    these overlap, until none is undecided (each round settles at least the best one of
    each set of overlapping hits, and a hit is kept exactly when the sequential greedy
    keeps it); kept scores are added in rank order, one rank at a time.

    Parameters
    ----------
    groups, starts, ends, matrices, scores
        One entry per hit (tensors on one device); hits cover ``[start, end)``.
    n_groups
        Number of groups (the length of the result).

    Returns
    -------
    Float64 tensor of the sums, 0 for groups without hits.
    """
    import torch

    device = scores.device
    totals = torch.zeros(n_groups, dtype=torch.float64, device=device)
    if not len(scores):
        return totals
    # rank: group, then best first (score descending, start, matrix), by stable sorts
    order = torch.argsort(matrices, stable=True)
    for key in (starts, -scores, groups):
        order = order[torch.argsort(key[order], stable=True)]
    rank = torch.empty_like(order)
    rank[order] = torch.arange(len(order), device=device)
    # overlapping pairs (a before b by group and start): b starts before a ends; hits
    # starting a longest hit apart or more never overlap, nor do any further in the order
    span = int((ends - starts).max())
    by_start = torch.argsort(starts, stable=True)
    by_start = by_start[torch.argsort(groups[by_start], stable=True)]
    first, second = [], []
    for offset in range(1, len(by_start)):
        a, b = by_start[:-offset], by_start[offset:]
        near = (groups[a] == groups[b]) & (starts[b] < starts[a] + span)
        if not near.any():
            break
        overlap = near & (starts[b] < ends[a])
        first.append(a[overlap])
        second.append(b[overlap])
    first = torch.cat(first) if first else torch.zeros(0, dtype=torch.int64, device=device)
    second = torch.cat(second) if second else torch.zeros(0, dtype=torch.int64, device=device)
    undecided, kept = (
        torch.ones_like(scores, dtype=torch.bool),
        torch.zeros_like(scores, dtype=torch.bool),
    )
    while undecided.any():
        both = undecided[first] & undecided[second]
        worse = torch.where(rank[first] < rank[second], second, first)[both]
        beaten = torch.zeros_like(undecided)
        beaten[worse] = True
        newly = undecided & ~beaten
        kept |= newly
        undecided &= ~newly
        hit_a = kept[first] & undecided[second]
        hit_b = kept[second] & undecided[first]
        undecided[second[hit_a]] = False
        undecided[first[hit_b]] = False
    # add kept scores per group in rank order (as the sequential sum does)
    chosen = order[kept[order]]
    chosen_groups = groups[chosen]
    begins = torch.ones_like(chosen_groups, dtype=torch.bool)
    begins[1:] = chosen_groups[1:] != chosen_groups[:-1]
    index = torch.arange(len(chosen), device=device)
    start_of_group = torch.cummax(torch.where(begins, index, 0), dim=0).values
    within = index - start_of_group
    for step in range(int(within.max()) + 1 if len(within) else 0):
        pick = within == step
        totals[chosen_groups[pick]] += scores[chosen[pick]]
    return totals


@contextmanager
def _exact_float32():
    """Plain float32 products (no TF32 or lower precision) inside the block."""
    import torch

    precision = torch.get_float32_matmul_precision()
    tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.set_float32_matmul_precision("highest")
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(precision)
        torch.backends.cuda.matmul.allow_tf32 = tf32


def score_sequences_torch(
    tasks: list, n_total: int, model: ScanModel, *, device="cuda"
) -> np.ndarray:
    """Score every sequence of ``tasks`` with the exact torch scan (one process).

    Parameters
    ----------
    tasks
        As for :func:`scget._scan.moods.score_parts`.
    n_total
        Number of sequences over all tasks (for the progress bar).
    model
        From :func:`scget._scan.moods.build_scan_model`.
    device
        Torch device.

    Returns
    -------
    Raw scores ``(n_total, n_clusters)`` float64, rows in task order. The scanner is
    cached in memory by ``(model.key, device)`` for the next call.
    """
    key = (model.key, str(device))
    scanner = _SCANNERS.get(key) if model.key else None
    if scanner is None:
        scanner = TorchScanner(model, device)
        if model.key:
            _SCANNERS.clear()  # one at a time: it holds the matrices on the device
            _SCANNERS[key] = scanner
    results = []
    with progress(total=n_total, desc="scanning motifs (torch)", unit="seq") as bar:
        for task in tasks:
            sequences = task if isinstance(task, list) else task[0].fetch_many(*task[1:])
            results.append(scanner.score(sequences))
            bar.update(len(sequences))
    if not results:
        return np.zeros((0, len(model.clusters)))
    return np.concatenate(results, axis=0)
