"""Streaming reader of 10x ATAC fragments files (``.tsv[.gz]``, bgzipped/tabix-indexed or not)."""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

#: Fragment rows read at once; about 0.5 GB of memory per 5 million rows.
DEFAULT_FRAGMENT_CHUNK = 2_000_000
_COLUMNS = ["chrom", "start", "end", "barcode"]
#: Errors of a malformed row (pandas) or a truncated or corrupt gzip stream.
_READ_ERRORS = (ValueError, EOFError, OSError, zlib.error)
_EXPECTED = "expected tab-separated chrom, start, end, barcode[, duplicate count]"


def check_fragments_file(path: str | os.PathLike) -> Path:
    """Check that ``path`` is a readable fragments file, reading only its first row.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If its first data row is not ``chrom, start, end, barcode[, count]`` with
        integer coordinates, or the compressed file is truncated before it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Fragments file {path} does not exist.")
    opener = gzip.open if _is_gzip(path) else open
    try:
        with opener(path, "rt") as handle:
            first = next((ln for ln in handle if not ln.startswith("#") and ln.strip()), "")
    except _READ_ERRORS as error:
        raise _read_error(path, error) from error
    fields = first.rstrip("\n").split("\t")
    if len(fields) < 4 or not (fields[1].isdigit() and fields[2].isdigit()):
        raise ValueError(
            f"{path} does not look like a fragments file: its first row is {first.strip()!r}; "
            f"{_EXPECTED}."
        )
    return path


def iter_fragments(
    path: str | os.PathLike, *, chunk_size: int = DEFAULT_FRAGMENT_CHUNK
) -> Iterator[pd.DataFrame]:
    """Yield the rows of a fragments file, ``chunk_size`` at a time.

    The file is streamed (never read whole); ``#`` header lines are skipped. Each chunk
    has columns ``chrom``, ``start``, ``end`` (int64, 0-based half-open, as written by
    10x) and ``barcode``; the duplicate-count column is ignored (a row is one fragment).

    Raises
    ------
    ValueError
        If a row is malformed or the compressed file is truncated or corrupt; the
        message names the file and the line.
    """
    path = Path(path)
    try:
        with pd.read_csv(
            path,
            sep="\t",
            comment="#",
            header=None,
            usecols=range(4),
            names=_COLUMNS,
            dtype={"chrom": str, "start": np.int64, "end": np.int64, "barcode": str},
            compression="gzip" if _is_gzip(path) else None,
            chunksize=chunk_size,
        ) as reader:
            yield from reader
    except _READ_ERRORS as error:
        raise _read_error(path, error) from error


def _read_error(path: Path, error: Exception) -> ValueError:
    """The error of an unreadable fragments file, naming its first bad line."""
    opener = gzip.open if _is_gzip(path) else open
    number = 0
    try:
        with opener(path, "rt") as handle:
            for number, line in enumerate(handle, start=1):
                if line.startswith("#") or not line.strip():
                    continue
                fields = line.rstrip("\n").split("\t")
                if len(fields) < 4 or not (fields[1].isdigit() and fields[2].isdigit()):
                    return ValueError(
                        f"{path}, line {number}: malformed fragment {line.strip()[:100]!r}; "
                        f"{_EXPECTED}, with integer coordinates."
                    )
    except (EOFError, OSError, zlib.error) as read_error:
        return ValueError(
            f"{path} is truncated or corrupt after line {number} ({read_error}); "
            "copy or download the file again."
        )
    return ValueError(f"{path} could not be read: {error}")


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"
