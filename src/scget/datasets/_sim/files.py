"""Files of a simulation: genome FASTA (+ .fai), GTF, 10x fragments (bgzip + tabix)."""

from __future__ import annotations

import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pysam

from ..._shared.utils import resolve_n_jobs
from .genome import BASES

#: Bases per FASTA line.
_LINE = 60
#: Fragments formatted per step.
_CHUNK_ROWS = 1_000_000
#: Uncompressed bytes per BGZF block (as htslib), zlib level (fast), header and EOF block.
_BGZF_BLOCK = 65_280
_ZLIB_LEVEL = 2
_BGZF_HEADER = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00"
_BGZF_EOF = _BGZF_HEADER + b"\x1b\x00\x03\x00" + b"\x00" * 8


def write_fasta(path: Path, sequence: np.ndarray, chroms: list[str], offsets, sizes) -> Path:
    """Write the genome as FASTA (60 bases a line) and index it (``.fai``)."""
    with open(path, "wb") as handle:
        for name, offset, size in zip(chroms, offsets, sizes, strict=True):
            letters = BASES[sequence[offset : offset + size]]
            n_full = size // _LINE
            block = np.empty((n_full, _LINE + 1), dtype=np.uint8)
            block[:, :_LINE] = letters[: n_full * _LINE].reshape(n_full, _LINE)
            block[:, _LINE] = ord("\n")
            handle.write(f">{name}\n".encode())
            handle.write(block.tobytes())
            if size % _LINE:
                handle.write(letters[n_full * _LINE :].tobytes() + b"\n")
    pysam.faidx(str(path))
    return path


def write_gtf(
    path: Path,
    genes: pd.DataFrame,
    exons: pd.DataFrame,
    chroms: list[str],
) -> Path:
    """Write gene, transcript and exon lines (1-based, inclusive), one transcript a gene.

    ``genes`` needs ``chrom_idx``, ``strand``, ``start``, ``end``, ``gene_id``,
    ``gene_name``, ``transcript_id``; ``exons`` needs ``gene``, ``start``, ``end``.
    """
    lines = []
    exon_groups = exons.groupby("gene", sort=True)
    for index, gene in enumerate(genes.itertuples(index=False)):
        chrom, strand = chroms[gene.chrom_idx], gene.strand
        ids = f'gene_id "{gene.gene_id}"; gene_name "{gene.gene_name}"; gene_type "protein_coding";'
        transcript = (
            f'{ids} transcript_id "{gene.transcript_id}"; transcript_type "protein_coding";'
        )
        span = f"{gene.start + 1}\t{gene.end}\t.\t{strand}\t."
        lines.append(f"{chrom}\tscget\tgene\t{span}\t{ids}")
        lines.append(f"{chrom}\tscget\ttranscript\t{span}\t{transcript}")
        own = exon_groups.get_group(index)
        order = range(len(own)) if strand == "+" else range(len(own) - 1, -1, -1)
        starts, ends = own["start"].to_numpy(), own["end"].to_numpy()
        for number, row in enumerate(order, start=1):
            lines.append(
                f"{chrom}\tscget\texon\t{starts[row] + 1}\t{ends[row]}\t.\t{strand}\t.\t"
                f"{transcript} exon_number {number};"
            )
    Path(path).write_text("\n".join(lines) + "\n")
    return path


def write_fragments(path: Path, fragments, chroms: list[str], barcodes: np.ndarray) -> Path:
    """Write a sorted 10x fragments file, bgzip-compressed and tabix-indexed.

    Columns: chrom, start, end (0-based, half-open), barcode, count. ``path`` must end
    in ``.tsv.gz``; the ``.tbi`` index is written next to it. The text is formatted by
    pyarrow and compressed into BGZF blocks by a thread pool (zlib releases the GIL).
    """
    chrom_names = pa.array(list(chroms))
    barcode_names = pa.array(list(barcodes))
    options = pa_csv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")

    def text(begin: int) -> bytes:
        part = slice(begin, begin + _CHUNK_ROWS)
        table = pa.table(
            {
                "chrom": chrom_names.take(pa.array(fragments.chrom[part].astype(np.int32))),
                "start": fragments.start[part],
                "end": fragments.end[part],
                "barcode": barcode_names.take(pa.array(fragments.cell[part])),
                "count": fragments.count[part],
            }
        )
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(table, sink, write_options=options)
        return sink.getvalue().to_pybytes()

    with open(path, "wb") as handle, ThreadPoolExecutor(resolve_n_jobs(None)) as pool:
        for begin in range(0, len(fragments.chrom), _CHUNK_ROWS):
            data = text(begin)
            blocks = range(0, len(data), _BGZF_BLOCK)
            for block in pool.map(lambda b, d=data: _bgzf_block(d[b : b + _BGZF_BLOCK]), blocks):
                handle.write(block)
        handle.write(_BGZF_EOF)
    pysam.tabix_index(str(path), preset="bed", force=True)
    return Path(path)


def _bgzf_block(data: bytes) -> bytes:
    """One BGZF block: a gzip member with the ``BC`` extra field holding its size."""
    compressor = zlib.compressobj(_ZLIB_LEVEL, zlib.DEFLATED, -15)
    deflated = compressor.compress(data) + compressor.flush()
    header = _BGZF_HEADER + struct.pack("<H", len(_BGZF_HEADER) + 2 + len(deflated) + 8 - 1)
    return header + deflated + struct.pack("<II", zlib.crc32(data), len(data))
