"""What a user names for a perturbation is used or reported, never silently dropped.

The perturbation functions take things the user names (regions, peaks, variants,
elements) and match them against the data (peaks, motif sites). :func:`resolve_regions`
matches regions in any of their forms (peak names, a BED file, a table) to peaks, and
:func:`report_unmatched` reports what matched nothing, with the reason for each one:
an error by default (``unmatched="error"``), or a warning and a run without them
(``unmatched="warn"``). Both run before any model computation and change nothing in
the user's data.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..._shared.constants import PEAK_COLUMNS
from ..._shared.genomic import chromosome_hint, peak_coordinates, read_bed
from ..._shared.logging import logger
from ...pp._intervals import overlap_pairs

#: Values of the ``unmatched`` argument of the perturbation functions.
UNMATCHED = ("error", "warn")
#: How many unmatched items a message lists.
_N_LISTED = 10


def check_unmatched(unmatched: str) -> None:
    """Raise ``ValueError`` unless ``unmatched`` is one of :data:`UNMATCHED`."""
    if unmatched not in UNMATCHED:
        raise ValueError(f"unmatched must be one of {list(UNMATCHED)}, got {unmatched!r}.")


def report_unmatched(
    reasons: list[tuple[str, str]],
    *,
    total: int,
    what: str,
    caller: str,
    unmatched: str,
    fix: str,
    error: type[Exception] = ValueError,
) -> None:
    """Raise (``unmatched="error"``) or log (``"warn"``) the items that matched nothing.

    Parameters
    ----------
    reasons
        (label, why it matched nothing, or ``""``) of each unmatched item; empty: nothing
        to report.
    total
        How many items the user named.
    what
        The items and what they failed to match, plural (``"regions overlap no peak"``).
    caller
        The public function, opening the message.
    unmatched
        ``"error"`` or ``"warn"``; when every item is unmatched it is an error either way.
    fix
        How to fix the input, a sentence.
    error
        The exception class raised.
    """
    if not reasons:
        return
    listed = "; ".join(f"{label}: {why}" if why else label for label, why in reasons[:_N_LISTED])
    more = f"; and {len(reasons) - _N_LISTED} more" if len(reasons) > _N_LISTED else ""
    message = f"{caller}: {len(reasons)} of {total} {what}: {listed}{more}."
    if len(reasons) == total:
        raise error(f"{message} Nothing is left to run. {fix}")
    if unmatched == "error":
        raise error(f"{message} {fix} Or pass unmatched='warn' to go on without them.")
    logger.warning(f"{message} Going on without them (unmatched='warn').")


@dataclass(frozen=True)
class Matches:
    """Items the user named and the peaks they matched.

    ``labels[k]`` names item ``k`` in messages; item ``item[p]`` matched peak
    ``peak[p]`` (ATAC ``var`` number), one entry per pair.
    """

    labels: list[str]
    item: np.ndarray
    peak: np.ndarray

    def peaks(self) -> np.ndarray:
        """The peaks matched, sorted, once each."""
        return np.unique(self.peak)

    def keep(self, kept: np.ndarray, *, why: str = "", **report) -> Matches:
        """The pairs whose peak is ``kept`` (a mask over the peaks); report items left with none.

        ``why`` is the reason given for each item left without a peak (``""``: ``what``
        says it); ``report`` are the other arguments of :func:`report_unmatched`.
        """
        inside = kept[self.peak]
        lost = np.setdiff1d(np.unique(self.item), self.item[inside])
        reasons = [(self.labels[k], why) for k in lost]
        report_unmatched(reasons, total=len(np.unique(self.item)), **report)
        return Matches(self.labels, self.item[inside], self.peak[inside])


def resolve_regions(
    pb,
    regions: str | os.PathLike | Sequence[str] | pd.DataFrame,
    *,
    atac: str,
    caller: str,
    unmatched: str,
    argument: str = "regions",
) -> Matches:
    """The peaks that ``regions`` name or overlap, every region that matches none reported.

    ``regions`` is one peak name or several (``pb[atac].var_names``), a BED file
    (:func:`scget.genome.read_bed`) or a DataFrame with ``chrom``, ``start`` and
    ``end`` (0-based, half-open; ``name`` labels a row in messages). An unknown peak
    name is reported as a ``KeyError``; a region overlapping no peak as a ``ValueError``
    saying why (start after end, a chromosome the peaks do not have, with the naming the
    peaks use, or simply no peak there).
    """
    check_unmatched(unmatched)
    peak_names = pb[atac].var_names
    if isinstance(regions, str | os.PathLike) and str(regions) not in peak_names:
        if not Path(regions).is_file():
            raise FileNotFoundError(
                f"{argument} {str(regions)!r} is neither a peak of pb[{atac!r}] nor a BED file."
            )
        return _overlapping(pb, read_bed(regions), atac, caller, unmatched, str(regions))
    if isinstance(regions, pd.DataFrame):
        missing = [column for column in PEAK_COLUMNS if column not in regions.columns]
        if missing:
            raise ValueError(
                f"The {argument} table lacks the columns {missing}; it needs chrom, start and "
                "end (0-based, half-open)."
            )
        return _overlapping(pb, regions, atac, caller, unmatched, "the table")
    names = [str(regions)] if isinstance(regions, str | os.PathLike) else [str(n) for n in regions]
    if not names:
        raise KeyError(
            f"{caller}: no peak given in {argument}; give peak names, a BED file or a DataFrame "
            "of chrom, start, end."
        )
    numbers = peak_names.get_indexer(names)
    unknown = [(repr(name), "") for name, n in zip(names, numbers, strict=True) if n < 0]
    report_unmatched(
        unknown,
        total=len(names),
        what=f'{argument} are unknown peaks (not in pb["{atac}"].var_names)',
        caller=caller,
        unmatched=unmatched,
        fix="Give peak names, a BED file or a DataFrame of chrom, start, end.",
        error=KeyError,
    )
    known = np.flatnonzero(numbers >= 0)
    return Matches(names, known, numbers[known])


def _overlapping(pb, table: pd.DataFrame, atac: str, caller: str, unmatched: str, source: str):
    """:class:`Matches` of a region table against the peaks, with the unmatched reported."""
    table = table.reset_index(drop=True)
    chrom = table["chrom"].astype(str)
    start, end = (pd.to_numeric(table[c], errors="coerce") for c in ("start", "end"))
    bad = start.isna() | end.isna() | (start != start.round()) | (end != end.round())
    if bad.any():
        first = table.loc[bad].iloc[0]
        raise ValueError(
            f"{caller}: {int(bad.sum())} regions in {source} have a start or end that is not an "
            f"integer (first: {first['chrom']}:{first['start']}-{first['end']}); fix them."
        )
    coords = pd.DataFrame({"chrom": chrom, "start": start.astype(np.int64)})
    coords["end"] = end.astype(np.int64)
    return match_intervals(
        pb,
        coords,
        _labels(table, coords),
        atac=atac,
        what=f"regions in {source} overlap no peak",
        caller=caller,
        unmatched=unmatched,
        fix="Check the chromosome names and the coordinates (0-based, half-open, start < end).",
    )


def match_intervals(pb, coords: pd.DataFrame, labels: list[str], *, atac: str, **report) -> Matches:
    """:class:`Matches` of intervals (``chrom``, ``start``, ``end``) against the peaks.

    Each interval overlapping no peak is reported (:func:`report_unmatched`, whose other
    arguments are ``report``) with the reason: start after end, empty, a chromosome the
    peaks lack (with the naming they use), or no peak there.
    """
    peaks = peak_coordinates(pb[atac])
    item, peak = _overlap(coords, peaks)
    on_peaks = set(peaks["chrom"])
    reasons = []
    for k in np.setdiff1d(np.arange(len(coords)), item):
        c, s, e = coords.iloc[k]
        if s > e:
            why = "start > end (start and end swapped?)"
        elif s == e:
            why = "empty (start == end)"
        elif c not in on_peaks:
            why = f"no peak on chromosome {c!r}{chromosome_hint(c, on_peaks)}"
        else:
            why = "overlaps no peak"
        reasons.append((labels[k], why))
    report_unmatched(reasons, total=len(coords), **report)
    return Matches(labels, item, peak)


def _overlap(coords: pd.DataFrame, peaks: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping (region, peak) pairs; regions with ``start >= end`` overlap nothing."""
    valid = np.flatnonzero((coords["start"] < coords["end"]).to_numpy())
    i, j = overlap_pairs(coords.iloc[valid], peaks)
    return valid[i], j


def _labels(table: pd.DataFrame, coords: pd.DataFrame) -> list[str]:
    """How each region is named in messages: its name, coordinates and file line."""
    labels = [f"{c}:{s}-{e}" for c, s, e in coords.itertuples(index=False)]
    if "name" in table.columns:
        names = table["name"].fillna("").astype(str)
        labels = [f"{n!r} {label}" if n else label for n, label in zip(names, labels, strict=True)]
    if "line" in table.columns:
        labels = [f"{label} (line {n})" for label, n in zip(labels, table["line"], strict=True)]
    return labels
