"""Streaming reader of 10x ATAC fragments files (``.tsv[.gz]``, bgzipped/tabix-indexed or not)."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

#: Fragment rows read at once; about 0.5 GB of memory per 5 million rows.
DEFAULT_FRAGMENT_CHUNK = 2_000_000
_COLUMNS = ["chrom", "start", "end", "barcode"]


def check_fragments_file(path: str | os.PathLike) -> Path:
    """Check that ``path`` is a readable fragments file, reading only its first row.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If its first data row is not ``chrom, start, end, barcode[, count]`` with
        integer coordinates.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Fragments file {path} does not exist.")
    opener = gzip.open if _is_gzip(path) else open
    with opener(path, "rt") as handle:
        first = next((line for line in handle if not line.startswith("#") and line.strip()), "")
    fields = first.rstrip("\n").split("\t")
    if len(fields) < 4 or not (fields[1].isdigit() and fields[2].isdigit()):
        raise ValueError(
            f"{path} does not look like a fragments file: its first row is {first.strip()!r}; "
            "expected tab-separated chrom, start, end, barcode[, duplicate count]."
        )
    return path


def iter_fragments(
    path: str | os.PathLike, *, chunk_size: int = DEFAULT_FRAGMENT_CHUNK
) -> Iterator[pd.DataFrame]:
    """Yield the rows of a fragments file, ``chunk_size`` at a time.

    The file is streamed (never read whole); ``#`` header lines are skipped. Each chunk
    has columns ``chrom``, ``start``, ``end`` (int64, 0-based half-open, as written by
    10x) and ``barcode``; the duplicate-count column is ignored (a row is one fragment).
    """
    path = Path(path)
    reader = pd.read_csv(
        path,
        sep="\t",
        comment="#",
        header=None,
        usecols=range(4),
        names=_COLUMNS,
        dtype={"chrom": str, "start": np.int64, "end": np.int64, "barcode": str},
        compression="gzip" if _is_gzip(path) else None,
        chunksize=chunk_size,
    )
    with reader:
        yield from reader


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"
