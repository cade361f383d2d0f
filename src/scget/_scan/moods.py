"""MOODS scanning of many sequences into per-cluster motif scores, in parallel processes.

How a sequence is scored (used by :func:`scget.pp.scan_motifs`):

- Each matrix becomes a natural-log odds matrix against the background ``b`` with
  pseudocount ``ps`` (MOODS ``log_odds``): ``log((p + ps * b) / (1 + ps) / b)``.
- Hits are the windows whose score reaches the MOODS threshold for ``pvalue``
  (``threshold_from_p``), on both strands (the reverse-complement matrix is scanned too).
  A window holding any character other than A, C, G, T (e.g. ``N``) gives no hit, so
  many sequences are scanned at once as one, joined by ``N`` (:meth:`_Scorer.hits`).
- A hit covers ``[pos, pos + length)`` on the forward strand, whatever its strand, and is
  worth its log-odds score. Within a cluster, hits are taken best first (score, then
  leftmost, then matrix order) and a hit is kept only if it shares no base pair with a hit
  already kept; the kept scores are summed. Clusters never affect each other.

MOODS (1.9.4) misses the last window of a sequence when a matrix is shorter than the
look-ahead window, so matrices are grouped into scanners whose window is
``min(length, window)``. The window only changes speed, never the hits: a longer one takes
longer to build (about 3-4x per base) and scans faster, so it grows with the amount of
sequence each worker scans (see :data:`WINDOW_STEPS`).

Caches (what :func:`scget.pp.scan_motifs` re-uses between calls):

- the log-odds matrices and MOODS thresholds (``threshold_from_p``, the slow part of
  :func:`build_scan_model`) in memory and on disk under
  ``scget.settings.cachedir / "motif_scan"``, keyed by a digest of everything they depend
  on: every probability matrix (values and order), the p-value, the background, the
  pseudocount, the MOODS version and the cache format (checksummed, written atomically,
  computed by one process while others that need it wait: :mod:`scget._shared.cache`);
- the compiled MOODS scanners in memory (this process; forked workers inherit them),
  keyed by that digest and the look-ahead window: a later scan with the same model re-uses
  a cached scanner whose window is at least the one its size calls for.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from itertools import chain, compress
from operator import attrgetter
from typing import Any

import MOODS.scan
import MOODS.tools
import numba
import numpy as np

from .._shared.cache import cached
from .._shared.logging import logger, progress
from .._shared.utils import resolve_n_jobs
from ..motifs._collection import MotifCollection

#: (bases per worker below which, look-ahead window): measured break-even points of build
#: time against scan speed, similar for JASPAR (1,758 matrices) and Vierstra (4,348).
WINDOW_STEPS = ((2e6, 7), (20e6, 8), (float("inf"), 9))
#: Pseudocount added to the probabilities (MOODS' own default).
DEFAULT_PSEUDOCOUNT = 0.01
#: Most sequences per task sent to a worker process.
CHUNK_SIZE = 500
#: Tasks per worker at least (when there are enough sequences), so workers end together.
_TASKS_PER_WORKER = 32

#: Version of the on-disk model cache format (part of every key).
_CACHE_FORMAT = 1
#: Compiled scanners kept in memory: the most recent ones (JASPAR at p = 1e-4 takes about
#: 25 MB at window 7 and 80 MB at window 9; more at higher p-values).
_MAX_SCORERS = 2

_WORKER_SCORER: _Scorer | None = None
#: Tasks inherited by forked workers (sent to them by index).
_WORKER_TASKS: list = []
#: A worker's own open genomes, by path (see :func:`_own_genome`).
_OWN_GENOMES: dict = {}
_MODELS: dict[str, tuple[list, list[float]]] = {}
_SCORERS: dict[tuple[str, int], _Scorer] = {}


@dataclass(frozen=True)
class ScanModel:
    """Everything a worker needs to score sequences: picklable, built once.

    Attributes
    ----------
    log_odds
        MOODS matrices (4 rows A, C, G, T x length), forward then reverse complement of
        each motif: ``2 * n_motifs`` entries.
    thresholds
        Score threshold of each entry of ``log_odds``.
    cluster_index
        Column (cluster) of each entry of ``log_odds``.
    background
        Background probabilities of A, C, G, T.
    clusters
        Cluster names: the columns of the score matrix.
    key
        Digest of the matrices, p-value, background and pseudocount (the cache key).
    """

    log_odds: list
    thresholds: list[float]
    cluster_index: list[int]
    background: list[float]
    clusters: list[str]
    key: str = ""


def build_scan_model(
    motifs: MotifCollection,
    *,
    pvalue: float,
    background: Sequence[float] | None = None,
    pseudocount: float = DEFAULT_PSEUDOCOUNT,
) -> ScanModel:
    """Prepare the log-odds matrices and MOODS thresholds of a collection (both strands).

    Parameters
    ----------
    motifs
        Motif collection; its clusters are the score columns.
    pvalue
        MOODS p-value threshold of a hit.
    background
        Probabilities of A, C, G, T; ``None`` is uniform (0.25 each).
    pseudocount
        Added to each probability before taking log odds.

    Returns
    -------
    The :class:`ScanModel`.

    Raises
    ------
    ValueError
        If ``pvalue`` is not in (0, 1), ``background`` is not four positive numbers, or
        ``pseudocount`` is negative.
    """
    if not 0 < pvalue < 1:
        raise ValueError(f"pvalue must be in (0, 1), got {pvalue!r}.")
    if pseudocount < 0:
        raise ValueError(f"pseudocount must be >= 0, got {pseudocount!r}.")
    bg = [0.25] * 4 if background is None else [float(b) for b in background]
    if len(bg) != 4 or min(bg) <= 0:
        raise ValueError(
            f"background must be four positive probabilities (A, C, G, T), got {background!r}."
        )
    bg = [b / sum(bg) for b in bg]
    key = _model_key(motifs, pvalue, bg, pseudocount)
    column = {name: i for i, name in enumerate(motifs.clusters)}
    cluster_index = [column[c] for c in motifs.info["cluster"] for _ in range(2)]
    if key not in _MODELS:
        _MODELS[key] = cached(
            "motif_scan", key, lambda: _log_odds_and_thresholds(motifs, pvalue, bg, pseudocount)
        )
    log_odds, thresholds = _MODELS[key]
    return ScanModel(log_odds, thresholds, cluster_index, bg, motifs.clusters, key)


def _log_odds_and_thresholds(motifs, pvalue, bg, pseudocount) -> tuple[list, list[float]]:
    """MOODS log-odds matrices and thresholds, forward then reverse complement of each motif."""
    symmetric = np.isclose(bg[0], bg[3]) and np.isclose(bg[1], bg[2])
    log_odds, thresholds = [], []
    for motif_id in progress(motifs, desc="motif thresholds", unit="motif"):
        forward = MOODS.tools.log_odds(motifs[motif_id].T.tolist(), bg, pseudocount)
        reverse = MOODS.tools.reverse_complement(forward)
        threshold = MOODS.tools.threshold_from_p(forward, bg, pvalue)
        log_odds += [forward, reverse]
        thresholds += [
            threshold,
            threshold if symmetric else MOODS.tools.threshold_from_p(reverse, bg, pvalue),
        ]
    return log_odds, thresholds


def _model_key(motifs: MotifCollection, pvalue: float, bg: list[float], pseudocount: float) -> str:
    """Digest of everything the log odds and thresholds depend on."""
    digest = hashlib.sha256()
    header = (_CACHE_FORMAT, version("MOODS-python"), repr(float(pvalue)), repr(bg))
    digest.update(repr((*header, repr(float(pseudocount)))).encode())
    for motif_id in motifs:
        matrix = np.ascontiguousarray(motifs[motif_id], dtype=np.float64)
        digest.update(repr(matrix.shape).encode())
        digest.update(matrix.tobytes())
    return digest.hexdigest()


class _Scorer:
    """MOODS scanners of a :class:`ScanModel`, grouped by look-ahead window."""

    def __init__(self, model: ScanModel, window: int = 7) -> None:
        self.n_clusters = len(model.clusters)
        self.lengths = np.array([len(matrix[0]) for matrix in model.log_odds], dtype=np.int64)
        self.cluster_index = np.asarray(model.cluster_index, dtype=np.int64)
        groups: dict[int, list[int]] = {}
        for k, length in enumerate(self.lengths.tolist()):
            groups.setdefault(min(length, window), []).append(k)
        #: (scanner, indices of its matrices in the model)
        self.scanners: list[tuple[Any, list[int]]] = []
        for window, members in sorted(groups.items()):
            scanner = MOODS.scan.Scanner(window)
            scanner.set_motifs(
                [model.log_odds[k] for k in members],
                model.background,
                [model.thresholds[k] for k in members],
            )
            self.scanners.append((scanner, members))

    def hits(self, sequences: Sequence[str]) -> tuple[np.ndarray, ...]:
        """Every hit of ``sequences``: its row, matrix, start and score (rows ascending).

        The sequences are scanned as one, joined by ``N``: no window holding an ``N``
        gives a hit, so the hits are those of each sequence alone, and MOODS is called
        once per scanner instead of once per scanner and sequence (each call builds a
        list per matrix). Written for speed, as this runs once per hit: matrices without
        hits are skipped by :func:`itertools.compress`, and the cyclic garbage collector
        is paused while the hits are gathered (it would otherwise walk them again and
        again; they hold no cycles).
        """
        # where each sequence begins in the joined one
        offsets = np.cumsum([0] + [len(sequence) + 1 for sequence in sequences])[:-1]
        joined = "N".join(sequences)
        starts, scores = [np.zeros(0, np.int64)], [np.zeros(0)]
        matrices, counts = [], []
        with _garbage_collector_paused():
            for scanner, members in self.scanners:
                result = scanner.scan(joined)
                with_hits = list(compress(result, result))
                matrices += compress(members, result)
                counts += map(len, with_hits)
                found = list(chain.from_iterable(with_hits))
                # to arrays at once: the hit objects are freed scanner by scanner
                starts.append(np.fromiter(map(_POSITION, found), np.int64, len(found)))
                scores.append(np.fromiter(map(_SCORE, found), np.float64, len(found)))
                del result, with_hits, found
        starts, scores = np.concatenate(starts), np.concatenate(scores)
        matrices = np.repeat(np.asarray(matrices, dtype=np.int64), counts)
        rows = np.searchsorted(offsets, starts, side="right") - 1
        order = np.argsort(rows, kind="stable")
        rows = rows[order]
        return rows, matrices[order], starts[order] - offsets[rows], scores[order]

    def nonzero_scores(self, sequences: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The scores of the (sequence, cluster) pairs with hits: flat indices, values."""
        rows, matrices, starts, scores = self.hits(sequences)
        return reduce_hits(
            rows,
            self.cluster_index[matrices],
            starts,
            starts + self.lengths[matrices],
            matrices,
            scores,
            self.n_clusters,
        )


_POSITION, _SCORE = attrgetter("pos"), attrgetter("score")


@contextmanager
def _garbage_collector_paused():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@numba.njit(cache=True, nogil=True)
def _ranks_first(x, y, scores, starts, matrices) -> bool:
    """Whether hit ``x`` is taken before hit ``y``: higher score, then leftmost, then matrix."""
    if scores[x] != scores[y]:
        return scores[x] > scores[y]
    if starts[x] != starts[y]:
        return starts[x] < starts[y]
    return matrices[x] < matrices[y]


@numba.njit(cache=True, nogil=True)
def reduce_hits(
    rows, clusters, starts, ends, matrices, scores, n_clusters
) -> np.ndarray:  # pragma: no cover - compiled (tested through score_parts)
    """Greedy best-first sums of hits sharing no base pair, per row and cluster.

    Hits (one entry each; rows ascending, ``[start, end)``) are ranked within their row
    and cluster best first (:func:`_ranks_first`); a hit is kept when it overlaps no
    kept hit, and the kept scores are added in rank order (a single hit is its score).

    Returns
    -------
    The flat index (``row * n_clusters + cluster``, ascending) and the float64 sum of
    each (row, cluster) pair with hits.
    """
    n = len(scores)
    where = np.empty(n, np.int64)
    sums = np.empty(n)
    n_sums = 0
    order = np.empty(n, np.int64)
    bounds = np.zeros(n_clusters + 1, np.int64)
    fill = np.zeros(n_clusters, np.int64)
    kept_starts = np.empty(n, np.int64)
    kept_ends = np.empty(n, np.int64)
    begin = 0
    while begin < n:
        row = rows[begin]
        end = begin
        while end < n and rows[end] == row:
            end += 1
        # the row's hits in cluster order (a counting sort), then ranked within each
        bounds[:] = 0
        for i in range(begin, end):
            bounds[clusters[i] + 1] += 1
        for c in range(n_clusters):
            bounds[c + 1] += bounds[c]
        fill[:] = bounds[:-1]
        for i in range(begin, end):
            order[begin + fill[clusters[i]]] = i
            fill[clusters[i]] += 1
        for c in range(n_clusters):
            first, last = begin + bounds[c], begin + bounds[c + 1]
            if last - first == 1:
                where[n_sums] = row * n_clusters + c
                sums[n_sums] = scores[order[first]]
                n_sums += 1
            elif last - first > 1:
                for i in range(first + 1, last):  # insertion sort: clusters hold few hits
                    hit = order[i]
                    j = i - 1
                    while j >= first and _ranks_first(hit, order[j], scores, starts, matrices):
                        order[j + 1] = order[j]
                        j -= 1
                    order[j + 1] = hit
                total = 0.0
                n_kept = 0
                for i in range(first, last):
                    hit = order[i]
                    for q in range(n_kept):
                        if starts[hit] < kept_ends[q] and kept_starts[q] < ends[hit]:
                            break
                    else:
                        kept_starts[n_kept] = starts[hit]
                        kept_ends[n_kept] = ends[hit]
                        n_kept += 1
                        total += scores[hit]
                where[n_sums] = row * n_clusters + c
                sums[n_sums] = total
                n_sums += 1
        begin = end
    return where[:n_sums], sums[:n_sums]


def cached_scorer(model: ScanModel, window: int) -> _Scorer:
    """The compiled scanners of ``model``: a cached one of window >= ``window``, or new ones.

    Scanners are cached in this process by ``(model.key, window)``; the most recent
    :data:`_MAX_SCORERS` are kept. A model without a key (built by hand) is never cached.
    """
    if not model.key:
        return _Scorer(model, window)
    cached = [w for key, w in _SCORERS if key == model.key and w >= window]
    if cached:
        found = (model.key, min(cached))
        _SCORERS[found] = _SCORERS.pop(found)  # most recently used last
        return _SCORERS[found]
    scorer = _Scorer(model, window)
    _SCORERS[(model.key, window)] = scorer
    while len(_SCORERS) > _MAX_SCORERS:
        del _SCORERS[next(iter(_SCORERS))]
    return scorer


def _init_worker(model: ScanModel | None, window: int) -> None:
    """Set up a worker: build its scanners unless they were inherited (``model=None``)."""
    global _WORKER_SCORER
    _OWN_GENOMES.clear()
    if model is not None:
        _WORKER_SCORER = _Scorer(model, window)


def chunk_size(n_sequences: int, n_jobs: int | None) -> int:
    """Sequences per task: at most :data:`CHUNK_SIZE`, at least 50, else spread evenly.

    Each worker gets at least :data:`_TASKS_PER_WORKER` tasks when there are enough
    sequences, so that workers end within one small task of each other.
    """
    jobs = resolve_n_jobs(n_jobs)
    even = -(-n_sequences // (_TASKS_PER_WORKER * jobs))
    return max(1, min(CHUNK_SIZE, max(50, even)))


def choose_window(n_bases: float) -> int:
    """Look-ahead window for a worker scanning ``n_bases`` (see :data:`WINDOW_STEPS`)."""
    return next(window for limit, window in WINDOW_STEPS if n_bases < limit)


def _task_bases(task) -> int:
    if isinstance(task, list):
        return sum(len(sequence) for sequence in task)
    return int(np.sum(np.asarray(task[3]) - np.asarray(task[2])))


def _own_genome(genome):
    """A copy of ``genome`` owned by this worker, opened once per worker.

    A forked worker must not read through the file handle it inherited: processes
    sharing one handle share its position. A copy drops the handle and opens its own.
    """
    if genome.path not in _OWN_GENOMES:
        _OWN_GENOMES[genome.path] = copy.copy(genome)
    return _OWN_GENOMES[genome.path]


def _task_length(task) -> int:
    return len(task) if isinstance(task, list) else len(task[1])


def _score_chunk(task, in_worker: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The non-zero scores of one task: flat indices within it, values.

    A task is a list of sequences, ``(genome, chroms, starts, ends)``, or (in a forked
    worker) the index of an inherited task.
    """
    if isinstance(task, int):
        task = _WORKER_TASKS[task]
    if isinstance(task, list):
        sequences = task
    else:
        genome = _own_genome(task[0]) if in_worker else task[0]
        sequences = genome.fetch_many(*task[1:])
    return _WORKER_SCORER.nonzero_scores(sequences)


def score_parts(
    tasks: list, n_total: int, model: ScanModel, *, n_jobs: int | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Score every sequence of ``tasks`` with ``model``, in worker processes.

    Parameters
    ----------
    tasks
        Chunks of work, in order: each a list of sequences (upper-case strings) or a tuple
        ``(genome, chroms, starts, ends)`` fetched by the worker.
    n_total
        Number of sequences over all tasks (for the progress bar).
    model
        From :func:`build_scan_model`.
    n_jobs
        Worker processes; 1 scans in this process. Where ``fork`` exists (Linux), the
        scanners are built once here (or taken from the cache, see :func:`cached_scorer`)
        and the workers inherit them and the tasks: each task is sent as its number and
        nothing is re-imported or rebuilt. Elsewhere each worker builds the scanners and
        receives its tasks pickled.

    Returns
    -------
    Per task, the raw scores of the ``(n_total, n_clusters)`` matrix (rows in task
    order) that are not 0: their flat indices (ascending) and float64 values. The parts
    are not joined: at 100,000 peaks joining them took 0.2-0.5 s of fresh memory.
    """
    global _WORKER_SCORER, _WORKER_TASKS
    n_jobs = min(resolve_n_jobs(n_jobs), max(len(tasks), 1))
    n_clusters = len(model.clusters)
    parts: list = [None] * len(tasks)
    offsets = np.cumsum([0] + [_task_length(task) for task in tasks]) * n_clusters
    forking = n_jobs == 1 or "fork" in multiprocessing.get_all_start_methods()
    # built once here; forked workers inherit it, others (spawn) build their own
    window = choose_window(sum(_task_bases(task) for task in tasks) / n_jobs)
    _WORKER_SCORER = cached_scorer(model, window) if forking else None
    if forking:
        _WORKER_SCORER.nonzero_scores([])  # compiles (or loads) the reduction before forking
    _WORKER_TASKS = tasks if forking else []
    try:
        with progress(total=n_total, desc="scanning motifs", unit="seq") as bar:
            if n_jobs == 1:
                for i, task in enumerate(tasks):
                    parts[i] = _score_chunk(task)
                    bar.update(_task_length(task))
            else:
                logger.info(f"Scanning {n_total} sequences in {n_jobs} processes.")
                context = multiprocessing.get_context("fork" if forking else None)
                pool = ProcessPoolExecutor(
                    n_jobs,
                    mp_context=context,
                    initializer=_init_worker,
                    initargs=(None, window) if forking else (model, window),
                )
                sent = range(len(tasks)) if forking else tasks
                with pool:
                    futures = {
                        pool.submit(_score_chunk, task, True): i for i, task in enumerate(sent)
                    }
                    for future in as_completed(futures):
                        parts[futures[future]] = future.result()
                        bar.update(_task_length(tasks[futures[future]]))
    finally:
        _WORKER_SCORER, _WORKER_TASKS = None, []
    for (where, _), offset in zip(parts, offsets[:-1], strict=True):
        where += offset
    return parts
