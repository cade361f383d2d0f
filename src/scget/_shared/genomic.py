"""Genomic intervals: peak names (``chr:start-end``), BED files, chromosome names."""

from __future__ import annotations

import difflib
import gzip
import os
import re
from collections.abc import Collection, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .constants import PEAK_COLUMNS

_PEAK_PATTERN = re.compile(r"^([^:\s]+)[:_-](\d+)[-_](\d+)$")


def parse_peak_names(names: Iterable[str]) -> pd.DataFrame:
    """Parse peak names into a BED-like table.

    Accepts ``chr1:100-200`` (the contract), and also ``chr1-100-200`` and
    ``chr1_100_200`` as written by some pipelines. Coordinates are 0-based,
    half-open, as in BED and 10x peak names.

    Parameters
    ----------
    names
        Peak names.

    Returns
    -------
    DataFrame with columns ``chrom`` (str), ``start`` and ``end`` (int64), indexed by name.

    Raises
    ------
    ValueError
        If any name cannot be parsed or has ``end <= start``; the message lists
        the first offenders.
    """
    names = pd.Index(names).astype(str)
    matches = [_PEAK_PATTERN.match(name) for name in names]
    bad = np.fromiter((m is None for m in matches), dtype=bool, count=len(matches))
    if bad.any():
        examples = ", ".join(repr(n) for n in names[bad][:5])
        raise ValueError(
            f"{bad.sum()} peak name(s) cannot be parsed as 'chrom:start-end', e.g. {examples}. "
            "Rename the peaks (e.g. mdata['atac'].var_names) to the form 'chr1:1000-1500'."
        )
    fields = np.array([m.groups() for m in matches], dtype=object).reshape(-1, 3)
    table = pd.DataFrame(
        {
            "chrom": fields[:, 0].astype(str),
            "start": fields[:, 1].astype(np.int64),
            "end": fields[:, 2].astype(np.int64),
        },
        index=names,
    )
    empty = table["end"] <= table["start"]
    if empty.any():
        examples = ", ".join(repr(n) for n in table.index[empty][:5])
        raise ValueError(f"{empty.sum()} peak(s) have end <= start, e.g. {examples}.")
    return table


def peak_coordinates(adata) -> pd.DataFrame:
    """Coordinates of the peaks of ``adata``, parsed from its peak names.

    The names are the one source of the coordinates. When ``var`` also has the columns
    ``chrom``, ``start`` and ``end`` (as :func:`scget.pp.pseudobulk` writes them), they
    must agree with the names: a peak renamed without its columns (or the reverse) is an
    error rather than a silent choice of one of the two.

    Parameters
    ----------
    adata
        :class:`~anndata.AnnData` whose ``var`` are peaks.

    Returns
    -------
    DataFrame with columns ``chrom`` (str), ``start`` and ``end`` (int64), indexed by peak
    name, from :func:`parse_peak_names`.

    Raises
    ------
    ValueError
        If a name cannot be parsed, or the ``var`` columns disagree with the names; the
        message names the first disagreeing peak.
    """
    table = parse_peak_names(adata.var_names)
    present = [column for column in PEAK_COLUMNS if column in adata.var.columns]
    if not present:
        return table
    var = adata.var
    differ = np.zeros(len(table), dtype=bool)
    for column in present:
        stored = var[column].astype(str).to_numpy()
        differ |= stored != table[column].astype(str).to_numpy()
    if differ.any():
        first = int(np.flatnonzero(differ)[0])
        stored = ", ".join(f"{c}={var[c].iloc[first]}" for c in present)
        raise ValueError(
            f"{int(differ.sum())} peak(s) have var[{present}] disagreeing with their names, "
            f"e.g. {table.index[first]!r} has {stored}. The names are the coordinates: "
            "rename peaks and their columns together, or drop the columns "
            f"(adata.var.drop(columns={present})) to use the names."
        )
    return table


def format_peak_names(chrom, start, end) -> pd.Index:
    """Format intervals as ``chrom:start-end`` names."""
    return pd.Index(
        [f"{c}:{s}-{e}" for c, s, e in zip(chrom, np.asarray(start), np.asarray(end), strict=True)]
    )


def chromosome_sort_key(chrom: str) -> tuple[int, int, str]:
    """Natural order of chromosome names: chr1, chr2, ..., chr10, ..., chrX, chrY, chrM, others."""
    name = chrom[3:] if chrom.lower().startswith("chr") else chrom
    if name.isdigit():
        return (0, int(name), "")
    return (1, {"X": 0, "Y": 1, "M": 2, "MT": 2}.get(name.upper(), 3), name)


#: First words of the lines of a BED file that hold no interval.
_BED_SKIPPED = ("#", "track", "browser")


def read_bed(path: str | os.PathLike) -> pd.DataFrame:
    """Read the intervals of a BED file (plain or gzipped), as BED files are written.

    Skips blank lines, comments (``#...``, including a ``#chrom start end`` header),
    UCSC ``track`` and ``browser`` lines, and a header row of column names (``chrom
    start end``) before the first interval. Columns are separated by tabs (on a line
    holding one; a name may then hold spaces) or by runs of spaces; columns after the
    third (name, score, strand...) are allowed, and the fourth is kept as the name.

    Parameters
    ----------
    path
        The BED file (``.gz`` for gzip). Coordinates are 0-based, half-open.

    Returns
    -------
    DataFrame with ``chrom`` (str), ``start``, ``end`` (int64), ``name`` (str, ``""``
    where the file has no fourth column) and ``line`` (the line number in the file),
    one row per interval in the file's order. ``start > end`` is kept (callers report
    it with the other intervals they cannot use).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If a line is not an interval (fewer than three columns, a start or end that is
        not a non-negative integer), the file is not text or a complete gzip, or it
        holds no interval; the message names the file, the line and what was expected.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"BED file {path} does not exist.")
    try:  # a regular file in one pass of pandas' parser
        return _read_bed_regular(path)
    except (ValueError, EOFError, OSError):  # irregular: line by line, to say where and why
        return _read_bed_lines(path)


def _open_bed(path: Path):
    """The text of a BED file, plain or gzipped."""
    return gzip.open(path, "rt") if path.suffix in (".gz", ".bgz") else open(path)


def _skipped(line: str) -> bool:
    """Whether a BED line holds no interval (blank, comment, ``track``, ``browser``)."""
    return not line.strip() or line.lstrip().startswith(_BED_SKIPPED)


def _split_bed(line: str) -> list[str]:
    """The fields of a BED line: at tabs where it has one, else at runs of spaces."""
    fields = line.rstrip("\r\n").split("\t") if "\t" in line else line.split()
    return [field.strip() for field in fields]


def _read_bed_regular(path: Path) -> pd.DataFrame:
    """:func:`read_bed` of a file whose interval lines all have the first one's layout.

    Raises ``ValueError`` (or a decoding error) when they do not, for
    :func:`_read_bed_lines` to find the line.
    """
    with _open_bed(path) as handle:
        skipped, first, total = [], None, 0
        for total, line in enumerate(handle, 1):
            if _skipped(line) or (first is None and _is_bed_header(_split_bed(line))):
                skipped.append(total - 1)
            elif first is None:
                first = line
    if first is None:
        raise ValueError("no interval")
    columns = [0, 1, 2, 3]  # pandas fills a missing name; usecols drops columns after it
    table = pd.read_csv(
        path,
        sep="\t" if "\t" in first else r"\s+",
        header=None,
        names=columns,
        usecols=columns if len(_split_bed(first)) > 3 else None,
        skiprows=set(skipped),
        skip_blank_lines=False,
        dtype={0: str, 1: np.int64, 2: np.int64, 3: str},
        na_filter=False,
        quoting=3,  # csv.QUOTE_NONE
        compression="gzip" if path.suffix in (".gz", ".bgz") else None,
    )
    lines = np.setdiff1d(np.arange(total), skipped) + 1
    chrom = table[0].astype(str).str.strip()
    if len(table) != len(lines) or (table[[1, 2]] < 0).any(axis=None) or (chrom == "").any():
        raise ValueError("irregular")
    return pd.DataFrame(
        {
            "chrom": chrom.to_numpy(),
            "start": table[1].to_numpy(np.int64),
            "end": table[2].to_numpy(np.int64),
            "name": table[3].fillna("").astype(str).str.strip().to_numpy(),
            "line": lines,
        }
    )


def _read_bed_lines(path: Path) -> pd.DataFrame:
    """:func:`read_bed`, line by line: an unreadable line is named with what was expected."""
    rows: list[tuple[str, int, int, str, int]] = []
    try:
        with _open_bed(path) as handle:
            for number, line in enumerate(handle, 1):
                if _skipped(line):
                    continue
                fields = _split_bed(line)
                if not rows and _is_bed_header(fields):
                    continue
                rows.append(_bed_row(fields, path, number, line))
    except (UnicodeDecodeError, EOFError, gzip.BadGzipFile) as error:
        raise ValueError(
            f"Cannot read the BED file {path} ({type(error).__name__}: {error}): a BED file is "
            "text (or gzipped text); if it was copied or downloaded, copy it again."
        ) from error
    if not rows:
        raise ValueError(f"The BED file {path} holds no interval (chrom, start, end lines).")
    chrom, start, end, name, line = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "chrom": np.array(chrom, dtype=object),
            "start": np.array(start, dtype=np.int64),
            "end": np.array(end, dtype=np.int64),
            "name": np.array(name, dtype=object),
            "line": np.array(line, dtype=np.int64),
        }
    )


def _is_bed_header(fields: list[str]) -> bool:
    """Whether a first line names BED columns (``chrom start end``, ``chr chromStart ...``)."""
    if len(fields) < 3:
        return False
    second, third = fields[1].lower(), fields[2].lower()
    return "start" in second and ("end" in third or "stop" in third)


def _bed_row(fields: list[str], path: Path, number: int, line: str) -> tuple:
    """One interval line of a BED file as (chrom, start, end, name, line), checked."""
    try:
        if len(fields) < 3 or not fields[0]:
            raise ValueError
        start, end = int(fields[1]), int(fields[2])
        if start < 0 or end < 0:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"{path} line {number}: expected an interval 'chrom start end [name ...]' (tab- or "
            "space-separated, start and end non-negative integers, 0-based), got "
            f"{line.rstrip()[:80]!r}. Fix or remove that line (lines starting with '#', "
            "'track' or 'browser' are skipped)."
        ) from None
    return fields[0], start, end, fields[3] if len(fields) > 3 else "", number


def chromosome_hint(chrom: str, known: Collection[str]) -> str:
    """`` (did you mean 'chr2'?)`` for a chromosome name missing from ``known``, or ``""``.

    Tries the other naming convention (``2`` and ``chr2``, ``MT`` and ``chrM``), then
    letter case, then the closest spelling.
    """
    known = {str(name) for name in known}
    bare = chrom[3:] if chrom.lower().startswith("chr") else chrom
    candidates = [f"chr{bare}", bare]
    if bare.upper() in ("M", "MT"):
        candidates += ["chrM", "MT", "chrMT", "M"]
    lower = {name.lower(): name for name in known}
    found = next((c for c in candidates if c in known), None)
    found = found or next((lower[c.lower()] for c in candidates if c.lower() in lower), None)
    if found is None:
        close = difflib.get_close_matches(chrom, list(known), n=1, cutoff=0.8)
        found = close[0] if close else None
    return f" (did you mean {found!r}?)" if found else ""
