"""Genome sequence access from a FASTA file (plain, or bgzipped with its indexes)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyfaidx

from .._shared.genomic import chromosome_hint

#: Offending intervals listed in an error message.
_N_LISTED = 5


class Genome:
    """Random access to the sequence of a genome FASTA file.

    A thin, picklable wrapper of :class:`pyfaidx.Fasta`: sequences are returned upper
    case (soft-masked repeats in lower case become ordinary bases), ``N`` runs are
    returned as they are (motif scanning gives no hit across them). Coordinates are
    0-based and half-open, as in BED files and peak names.

    Parameters
    ----------
    path
        FASTA file, plain or compressed with ``bgzip``. Its ``.fai`` index (and ``.gzi``
        for bgzip) is built next to it when missing and the folder is writable
        (``samtools faidx`` builds both).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file cannot be indexed (e.g. gzip instead of bgzip compression).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise FileNotFoundError(f"FASTA file {self.path} does not exist.")
        self._fasta = None
        self._sizes = {name: len(record) for name, record in self._handle.records.items()}

    @property
    def _handle(self):
        if self._fasta is None:
            try:
                self._fasta = pyfaidx.Fasta(str(self.path), sequence_always_upper=True, as_raw=True)
            except (
                pyfaidx.FastaIndexingError,
                pyfaidx.UnsupportedCompressionFormat,
                OSError,
            ) as error:
                raise ValueError(
                    f"Cannot index FASTA {self.path}: {error}. Compressed genomes must be bgzipped "
                    "(`bgzip genome.fa`) and indexed (`samtools faidx genome.fa.gz`)."
                ) from error
        return self._fasta

    @property
    def chrom_sizes(self) -> dict[str, int]:
        """Chromosome name -> length, in file order."""
        return dict(self._sizes)

    def fetch(self, chrom: str, start: int, end: int) -> str:
        """Upper-case sequence of ``chrom:start-end`` (0-based, half-open).

        Raises
        ------
        ValueError
            If the interval is empty or falls outside the chromosome, or the chromosome is
            not in the FASTA.
        """
        self.check_intervals([chrom], [start], [end])
        return self._handle[chrom][int(start) : int(end)]

    def fetch_many(
        self, chroms: Sequence[str], starts: Sequence[int], ends: Sequence[int]
    ) -> list[str]:
        """Upper-case sequences of many intervals, checked first (see :meth:`check_intervals`)."""
        self.check_intervals(chroms, starts, ends)
        handle = self._handle
        return [handle[c][int(s) : int(e)] for c, s, e in zip(chroms, starts, ends, strict=True)]

    def check_intervals(
        self, chroms: Sequence[str], starts: Sequence[int], ends: Sequence[int]
    ) -> None:
        """Check that intervals lie on chromosomes of this FASTA, within their bounds.

        Raises
        ------
        ValueError
            Listing the chromosomes missing from the FASTA, or the first intervals that are
            empty or fall outside their chromosome, with the number of offenders.
        """
        sizes = self._sizes
        chroms = np.asarray(chroms, dtype=str)
        starts = np.asarray(starts, dtype=np.int64)
        ends = np.asarray(ends, dtype=np.int64)
        known = np.isin(chroms, list(sizes))
        if not known.all():
            missing, counts = np.unique(chroms[~known], return_counts=True)
            pairs = list(zip(missing, counts, strict=True))[:_N_LISTED]
            listed = ", ".join(
                f"{str(m)!r} ({n} intervals){chromosome_hint(str(m), sizes)}" for m, n in pairs
            )
            raise ValueError(
                f"{len(missing)} chromosome(s) are not in the FASTA {self.path.name}: {listed}. "
                f"It holds {list(sizes)[:_N_LISTED]}...; check the naming ('chr1' vs '1') or drop "
                "those peaks."
            )
        lengths = np.array([sizes[c] for c in chroms], dtype=np.int64)
        bad = (starts < 0) | (ends > lengths) | (ends <= starts)
        if bad.any():
            offenders = zip(chroms[bad], starts[bad], ends[bad], lengths[bad], strict=True)
            listed = [f"{c}:{s}-{e} (length {n})" for c, s, e, n in list(offenders)[:_N_LISTED]]
            raise ValueError(
                f"{bad.sum()} interval(s) are empty or outside their chromosome in "
                f"{self.path.name}: {', '.join(listed)}. Is this the genome build the peaks "
                "were called on?"
            )

    def __getstate__(self) -> dict:
        return {"path": self.path, "_sizes": self._sizes}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._fasta = None

    def __repr__(self) -> str:
        return f"Genome('{self.path}', {len(self.chrom_sizes)} sequences)"
