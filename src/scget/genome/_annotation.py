"""Gene annotation of any species: GTF files and TSS tables, read into one TSS table."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._shared.genomic import chromosome_sort_key
from .._shared.logging import logger

_GTF_COLUMNS = ["chrom", "source", "feature", "start", "end", "score", "strand", "frame", "attr"]
_GTF_ATTRIBUTES = ("gene_id", "gene_name", "gene_type", "gene_biotype", "transcript_id")
_GTF_SUFFIXES = (".gtf", ".gtf.gz", ".gff2", ".gff2.gz")
#: Columns of the TSS table returned by :func:`read_tss_table`.
TSS_COLUMNS = ("gene_name", "gene_id", "chrom", "strand", "tss", "gene_start", "gene_end")
#: Accepted spellings (lower case) of the columns of a user's TSS or gene table.
_ALIASES = {
    "gene_name": ("gene_name", "gene", "name", "symbol", "gene_symbol"),
    "gene_id": ("gene_id", "ensembl_id", "ensembl_gene_id"),
    "chrom": ("chrom", "chromosome", "chr", "seqname", "seqnames", "contig", "_labels"),
    "strand": ("strand",),
    "tss": ("tss", "tss_position"),
    "start": ("start", "_starts", "chromstart", "txstart", "gene_start"),
    "end": ("end", "_ends", "chromend", "txend", "gene_end"),
}


def read_gtf(
    path: str | os.PathLike,
    *,
    features: Sequence[str] = ("gene", "transcript"),
    attributes: Sequence[str] = _GTF_ATTRIBUTES,
    chunk_size: int = 500_000,
) -> pd.DataFrame:
    """Read the rows of a GTF file (GENCODE, Ensembl, RefSeq... any species).

    The file (plain or gzipped) is streamed ``chunk_size`` lines at a time and only the
    rows of ``features`` are kept, so a whole-genome GTF needs little memory.

    Parameters
    ----------
    path
        GTF file, optionally ``.gz``.
    features
        Values of the feature (3rd) column to keep.
    attributes
        Attributes parsed from the 9th column into columns (missing ones are NaN).

    Returns
    -------
    DataFrame with ``chrom``, ``source``, ``feature``, ``start`` (0-based), ``end``
    (exclusive), ``strand`` and one column per attribute.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is empty or not a GTF file (not the 9 tab-separated GTF columns, not
        text, a truncated gzip, a non-integer position); the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"GTF file {path} does not exist.")
    if path.stat().st_size == 0:
        raise ValueError(
            f"GTF file {path} is empty (0 bytes), perhaps a failed download: delete it and "
            "download the annotation again."
        )
    patterns = {name: re.compile(rf'(?:^|;)\s*{re.escape(name)} "([^"]*)"') for name in attributes}
    try:
        kept = list(_gtf_chunks(path, set(features), patterns, chunk_size))
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError, ValueError) as error:
        raise ValueError(
            f"Cannot read {path} as a GTF file ({type(error).__name__}: {error}). A GTF file is "
            "text (or gzipped text) with 9 tab-separated columns (seqname, source, feature, "
            "start, end, score, strand, frame, attributes); if it came from a download, delete "
            "it and download it again."
        ) from error
    columns = ["chrom", "source", "feature", "start", "end", "strand", *attributes]
    if not kept:
        return pd.DataFrame(columns=columns)
    return pd.concat(kept, ignore_index=True)[columns]


def _gtf_chunks(path: Path, wanted: set[str], patterns: dict, chunk_size: int):
    """The rows of ``wanted`` features of a GTF file, chunk by chunk, attributes parsed."""
    reader = pd.read_csv(
        path,
        sep="\t",
        comment="#",
        header=None,
        dtype=str,
        chunksize=chunk_size,
        quoting=3,  # csv.QUOTE_NONE: attribute values keep their quotes
    )
    for chunk in reader:
        if chunk.shape[1] != len(_GTF_COLUMNS):
            raise ValueError(f"{chunk.shape[1]} tab-separated columns instead of 9")
        chunk.columns = _GTF_COLUMNS
        chunk = chunk[chunk["feature"].isin(wanted)]
        if chunk.empty:
            continue
        table = chunk[["chrom", "source", "feature", "strand"]].copy()
        table["start"] = chunk["start"].astype(np.int64) - 1
        table["end"] = chunk["end"].astype(np.int64)
        for name, pattern in patterns.items():
            table[name] = chunk["attr"].str.extract(pattern, expand=False)
        yield table


def read_tss_table(annotation: str | os.PathLike | pd.DataFrame) -> pd.DataFrame:
    """Transcription start sites of every gene, from a GTF file or a TSS/gene table.

    Parameters
    ----------
    annotation
        One of

        - a GTF file (``.gtf``/``.gtf.gz``): TSSs of the ``transcript`` rows (the
          ``gene`` rows when there are no transcripts); gene bodies from the ``gene``
          rows (else the span of the gene's transcripts). Genes without ``gene_name``
          are named by ``gene_id``.
        - a table (DataFrame, or ``.parquet``, ``.csv``, ``.tsv``/``.txt`` file) with a
          gene name, chromosome and strand column and either ``tss`` or ``start``
          (0-based) [+ ``end``]. Rows with ``end - start == 1`` everywhere are read as
          TSS positions; otherwise as gene bodies, the TSS being ``start`` on the plus
          strand and ``end - 1`` on the minus strand. Column names are matched without
          case, with common spellings (``Chromosome``, ``Strand``, ``_starts``...).
        - a DataFrame returned by :func:`read_gtf`.

    Returns
    -------
    DataFrame with one row per distinct (gene, TSS): ``gene_name``, ``gene_id`` (``""``
    when unknown), ``chrom``, ``strand`` (``"+"``/``"-"``), ``tss`` (0-based position),
    ``gene_start``, ``gene_end`` (gene body, 0-based half-open; -1 when unknown), sorted
    by chromosome and position.

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    ValueError
        If the file type is unknown, a required column is missing, or a GTF has neither
        ``transcript`` nor ``gene`` rows (no TSS information).
    """
    table = _load(annotation)
    if {"feature", "start", "end", "strand"}.issubset(table.columns):
        tss = _tss_from_gtf(table)
    else:
        tss = _tss_from_table(table)
    tss = tss[_valid_strand(tss)]
    if tss.empty:
        raise ValueError("The annotation holds no TSS with a '+' or '-' strand.")
    tss = tss.drop_duplicates(["gene_name", "gene_id", "chrom", "strand", "tss"])
    rank = {c: i for i, c in enumerate(sorted(tss["chrom"].unique(), key=chromosome_sort_key))}
    order = np.lexsort((tss["tss"].to_numpy(), tss["chrom"].map(rank).to_numpy()))
    tss = tss.iloc[order].reset_index(drop=True)
    return tss.astype({"gene_start": np.int64, "gene_end": np.int64})[list(TSS_COLUMNS)]


def _load(annotation) -> pd.DataFrame:
    if isinstance(annotation, pd.DataFrame):
        return annotation
    path = Path(annotation)
    if not path.is_file():
        raise FileNotFoundError(f"Annotation file {path} does not exist.")
    name = path.name.lower()
    if name.endswith(_GTF_SUFFIXES):
        return read_gtf(path)
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    if name.endswith((".csv", ".csv.gz")):
        return pd.read_csv(path)
    if name.endswith((".tsv", ".tsv.gz", ".txt", ".txt.gz")):
        return pd.read_csv(path, sep="\t")
    raise ValueError(
        f"Cannot tell the format of {path}: use a GTF (.gtf[.gz]) or a TSS table "
        "(.parquet, .csv, .tsv), or pass a DataFrame."
    )


def _tss_from_gtf(gtf: pd.DataFrame) -> pd.DataFrame:
    gtf = gtf.copy()
    gene_id = gtf["gene_id"] if "gene_id" in gtf else pd.Series(np.nan, index=gtf.index)
    name = gtf["gene_name"] if "gene_name" in gtf else pd.Series(np.nan, index=gtf.index)
    gtf["gene_id"] = gene_id.fillna("").astype(str)
    gtf["gene_name"] = name.fillna(gene_id).astype(str)
    transcripts = gtf[gtf["feature"] == "transcript"]
    genes = gtf[gtf["feature"] == "gene"]
    if transcripts.empty and genes.empty:
        raise ValueError(
            "The GTF has no 'transcript' or 'gene' rows, so no TSS can be read from it. "
            "Use a full GTF (e.g. GENCODE 'comprehensive' or Ensembl) or a TSS table."
        )
    if transcripts.empty:
        logger.info("The GTF has no 'transcript' rows; one TSS per gene from its 'gene' rows.")
    source = transcripts if not transcripts.empty else genes
    tss = source[["gene_name", "gene_id", "chrom", "strand"]].copy()
    tss["tss"] = np.where(source["strand"] == "-", source["end"] - 1, source["start"])
    key = ["gene_name", "gene_id", "chrom", "strand"]
    # gene body: the gene's 'gene' row, else the span of its transcripts
    has_gene_row = transcripts.set_index(key).index.isin(genes.set_index(key).index)
    rows = pd.concat([genes, transcripts[~has_gene_row]])
    span = rows.groupby(key, observed=True).agg(
        gene_start=("start", "min"), gene_end=("end", "max")
    )
    return tss.merge(span.reset_index(), on=key, how="left").fillna(
        {"gene_start": -1, "gene_end": -1}
    )


def _tss_from_table(table: pd.DataFrame) -> pd.DataFrame:
    lower = {str(c).lower(): c for c in table.columns}
    found = {}
    for target, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in lower:
                found[target] = lower[alias]
                break
    missing = [c for c in ("gene_name", "chrom", "strand") if c not in found]
    if "tss" not in found and "start" not in found:
        missing.append("tss (or start)")
    if missing:
        raise ValueError(
            f"The TSS table lacks column(s) {missing} (it has {list(table.columns)}). "
            "Expected gene_name, chrom, strand and tss (or start[, end], 0-based)."
        )
    tss = pd.DataFrame(
        {
            "gene_name": table[found["gene_name"]].astype(str).to_numpy(),
            "gene_id": (
                table[found["gene_id"]].astype(str).to_numpy() if "gene_id" in found else ""
            ),
            "chrom": table[found["chrom"]].astype(str).to_numpy(),
            "strand": _strand_strings(table[found["strand"]]),
        }
    )
    start = table[found["start"]].to_numpy(np.int64) if "start" in found else None
    end = table[found["end"]].to_numpy(np.int64) if "end" in found else None
    if "tss" in found:
        tss["tss"] = table[found["tss"]].to_numpy(np.int64)
    elif end is None or np.all(end - start == 1):
        tss["tss"] = start
        end = None
    else:
        tss["tss"] = np.where(tss["strand"] == "-", end - 1, start)
    bodies = start is not None and end is not None and not np.all(end - start == 1)
    tss["gene_start"] = start if bodies else -1
    tss["gene_end"] = end if bodies else -1
    return tss


def _strand_strings(strand: pd.Series) -> np.ndarray:
    """Strands as ``"+"``/``"-"`` strings (accepts 1/-1 and the strings)."""
    values = strand.astype(str).str.strip().to_numpy()
    return np.select(
        [np.isin(values, ["+", "1", "1.0"]), np.isin(values, ["-", "-1", "-1.0"])],
        ["+", "-"],
        default=".",
    )


def _valid_strand(tss: pd.DataFrame) -> np.ndarray:
    valid = tss["strand"].isin(["+", "-"]).to_numpy()
    if not valid.all():
        logger.warning(f"{(~valid).sum()} TSS(s) without a '+'/'-' strand are ignored.")
    return valid
