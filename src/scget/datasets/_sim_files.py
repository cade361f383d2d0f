"""Files of a simulation: genome FASTA (+ .fai), GTF, 10x fragments (bgzip + tabix)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ._sim_genome import BASES

#: Bases per FASTA line.
_LINE = 60


def write_fasta(path: Path, sequence: np.ndarray, chroms: list[str], offsets, sizes) -> Path:
    """Write the genome as FASTA (60 bases a line) and index it (``.fai``)."""
    import pysam

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
    in ``.tsv.gz``; the ``.tbi`` index is written next to it.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pysam

    plain = Path(str(path).removesuffix(".gz"))
    table = pa.table(
        {
            "chrom": pa.array(list(chroms)).take(pa.array(fragments.chrom.astype(np.int32))),
            "start": fragments.start,
            "end": fragments.end,
            "barcode": pa.array(list(barcodes)).take(pa.array(fragments.cell)),
            "count": fragments.count,
        }
    )
    options = pa_csv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
    pa_csv.write_csv(table, plain, write_options=options)
    del table
    return Path(pysam.tabix_index(str(plain), preset="bed", force=True))
