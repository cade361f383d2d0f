"""Public data, downloaded once into ``scget.settings.cachedir``: genomes, GENCODE, PBMC 10k."""

from __future__ import annotations

import gzip
import os
import tempfile
import zlib
from pathlib import Path

import pysam

from .._shared.download import bad_file, fetch, fetch_listed, source_url
from .._shared.logging import logger
from .._shared.settings import settings
from ..genome import read_tss_table
from ._read import read_10x_multiome

#: UCSC genome builds that :func:`genome` downloads.
GENOMES = ("hg38", "hg19", "mm10", "mm39")
#: GENCODE species -> (folder at GENCODE, release prefix: ``"M"`` for mouse releases).
GENCODE_SPECIES = {"human": ("Gencode_human", ""), "mouse": ("Gencode_mouse", "M")}
#: Files of the 10x PBMC 10k multiome (Cell Ranger ARC 1.0.0): local name -> MD5 (10x).
PBMC10K_FILES = {
    "filtered_feature_bc_matrix.h5": "920b16bf1e63b6610bf74bf9040ed386",
    "atac_fragments.tsv.gz": "a959ef83dfb9cae6ff73ab0147d547d1",
    "atac_fragments.tsv.gz.tbi": "df967acbe28da89aed9cfdd89370b7af",
}
_PBMC10K = "pbmc_granulocyte_sorted_10k"
#: Published GET checkpoints: name -> key in the authors' S3 bucket.
PUBLISHED_BUCKET = (
    "s3://2023-get-xf2217/get_demo/checkpoints/regulatory_inference_checkpoint_fetal_adult/"
)
PUBLISHED_CHECKPOINTS = {
    "pretrain_fetal_adult": "pretrain_fetal_adult/checkpoint-799.pth",
    "finetune_fetal_adult_leaveout_astrocyte": (
        "finetune_fetal_adult_leaveout_astrocyte/checkpoint-best.pth"
    ),
}
_BLOCK = 1 << 24


def genome(name: str = "hg38") -> Path:
    """Download a UCSC genome once, as a bgzipped, indexed FASTA that scget reads.

    The UCSC ``<name>.fa.gz`` (gzip) is checked against UCSC's ``md5sum.txt``,
    recompressed with bgzip and indexed (``.fai``, ``.gzi``), and the gzip file is then
    removed. Needs about 1 GB of disk and a few minutes for a mammalian genome. Where
    ``md5sum.txt`` cannot be downloaded, the file must be complete (not empty, a gzip
    readable to its end) or it is refused; the bgzipped copy and its indexes are written
    under temporary names and renamed into place once complete, so a failure (or a
    concurrent call) leaves no partial file.

    Parameters
    ----------
    name
        UCSC build: ``"hg38"``, ``"hg19"``, ``"mm10"`` or ``"mm39"``.

    Returns
    -------
    Path of ``scget.settings.cachedir / "genomes" / name / f"{name}.fa.bgz"``, for
    :func:`scget.pp.scan_motifs` and :class:`scget.genome.Genome`. Without internet,
    placing UCSC's ``<name>.fa.gz`` in that folder by hand is enough.

    Raises
    ------
    ValueError
        If ``name`` is unknown, the download does not match UCSC's checksum, or the
        file (downloaded or placed by hand) is empty, truncated or not a gzipped FASTA;
        the message names the file and what to do.
    OSError
        If the download fails; the message names the URL and where to place the file.
    """
    if name not in GENOMES:
        raise ValueError(f"Unknown genome {name!r}; choose one of {GENOMES}.")
    folder = settings.cachedir / "genomes" / name
    fasta = folder / f"{name}.fa.bgz"
    if _indexed(fasta):
        return fasta
    url = source_url("ucsc", f"{name}/bigZips/{name}.fa.gz")
    try:
        downloaded = fetch_listed(  # _bgzip reads it to its end: no second pass to check it
            url,
            folder / f"{name}.fa.gz",
            checksums=source_url("ucsc", f"{name}/bigZips/md5sum.txt"),
            decompress=False,
        )
        _bgzip(downloaded, fasta, url)
    except OSError:
        if _indexed(fasta):  # a concurrent call converted it and removed the download meanwhile
            return fasta
        raise
    downloaded.unlink(missing_ok=True)
    return fasta


def _indexed(fasta: Path) -> bool:
    """Whether the bgzipped FASTA and both its indexes are in place."""
    return all(Path(f"{fasta}{suffix}").is_file() for suffix in ("", ".fai", ".gzi"))


def _bgzip(source: Path, fasta: Path, url: str) -> None:
    """Recompress a gzipped FASTA with bgzip and index it (``.fai`` and ``.gzi``).

    Written under a temporary name in the same folder and renamed into place (indexes
    first, the FASTA last) once complete; on any failure nothing is left behind, and a
    truncated or non-FASTA ``source`` is refused naming it
    (:func:`scget._shared.download.bad_file`).
    """
    logger.info(f"Recompressing {source.name} with bgzip and indexing it (a few minutes).")
    with tempfile.NamedTemporaryFile(
        dir=fasta.parent, prefix=f".{fasta.name}.", suffix=".part", delete=False
    ) as handle:
        partial = Path(handle.name)
    written = [partial] + [Path(f"{partial}{suffix}") for suffix in (".fai", ".gzi")]
    try:
        plain = gzip.open(source, "rb")  # FileNotFoundError: removed by a concurrent call
        try:
            with plain, pysam.BGZFile(str(partial), "wb") as bgzf:
                for block in iter(lambda: plain.read(_BLOCK), b""):
                    bgzf.write(block)
            pysam.faidx(str(partial))
        except (EOFError, OSError, ValueError, zlib.error, pysam.SamtoolsError) as error:
            problem = f"cannot be read as a gzipped FASTA ({type(error).__name__}: {error})"
            raise ValueError(bad_file(source, problem, url)) from error
        for suffix in (".fai", ".gzi"):
            os.replace(f"{partial}{suffix}", f"{fasta}{suffix}")
        os.replace(partial, fasta)
    finally:
        for path in written:
            path.unlink(missing_ok=True)


def gene_annotation(species: str = "human", release: int | str = 46, *, table: bool = False):
    """Download a GENCODE gene annotation (the comprehensive GTF) once.

    The file is checked against the release's ``MD5SUMS``.

    Parameters
    ----------
    species
        ``"human"`` (GRCh38) or ``"mouse"`` (GRCm39 from release M26 on, GRCm38 before).
    release
        GENCODE release number, e.g. ``46`` (human) or ``35`` / ``"M35"`` (mouse).
    table
        Return the TSS table (:func:`scget.genome.read_tss_table`) instead of the path.

    Returns
    -------
    Path of ``gencode/<species>_<release>/gencode.v<release>.annotation.gtf.gz`` under
    :attr:`scget.settings.cachedir` (for :func:`scget.pp.annotate_tss` and
    :func:`scget.genome.read_gtf`), or its TSS table when ``table=True``. Without
    internet, placing GENCODE's file in that folder by hand is enough.

    Raises
    ------
    ValueError
        If ``species`` or ``release`` is invalid, or the download does not match the
        published checksum.
    OSError
        If the download fails; the message names the URL and where to place the file.
    """
    if species not in GENCODE_SPECIES:
        raise ValueError(f"Unknown species {species!r}; choose one of {list(GENCODE_SPECIES)}.")
    folder_name, prefix = GENCODE_SPECIES[species]
    number = str(release).upper().removeprefix("M") if prefix else str(release)
    if not number.isdigit() or int(number) < 1:
        raise ValueError(f"release must be a GENCODE release number, got {release!r}.")
    version = f"{prefix}{int(number)}"
    base = f"{folder_name}/release_{version}/"
    name = f"gencode.v{version}.annotation.gtf.gz"
    gtf = fetch_listed(
        source_url("gencode", base + name),
        settings.cachedir / "gencode" / f"{species}_{version}" / name,
        checksums=source_url("gencode", base + "MD5SUMS"),
    )
    if not table:
        return gtf

    return read_tss_table(gtf)


def pbmc10k_multiome():
    """Download the 10x Genomics PBMC 10k multiome once and read it.

    PBMCs of a healthy donor, granulocytes removed by cell sorting (Cell Ranger ARC
    1.0.0, GRCh38, about 12,000 cells; CC BY 4.0): the filtered feature-barcode matrix
    (160 MB) and the ATAC fragments file with its tabix index (2 GB), each checked
    against 10x's MD5.

    Returns
    -------
    The cell-level :class:`~mudata.MuData` of :func:`scget.datasets.read_10x_multiome`
    (raw counts, peaks with ``chrom``/``start``/``end``, the fragments path in
    ``["atac"].uns["files"]["fragments"]``). The files are kept in
    ``scget.settings.cachedir / "pbmc10k_multiome"``; without internet, placing them
    there by hand (names as in the error message) is enough.

    Raises
    ------
    ValueError
        If a download does not match 10x's checksum.
    OSError
        If a download fails; the message names the URL and where to place the file.
    """
    folder = settings.cachedir / "pbmc10k_multiome"
    for name, md5 in PBMC10K_FILES.items():
        url = source_url("10x", f"{_PBMC10K}/{_PBMC10K}_{name}")
        fetch(url, folder / name, known_hash=f"md5:{md5}")
    return read_10x_multiome(folder)


def published_checkpoint(name: str = "pretrain_fetal_adult") -> Path:
    """Path of a published GET checkpoint, which must be downloaded by hand.

    The published checkpoints are kept only in the authors' Amazon S3 bucket
    ``s3://2023-get-xf2217/get_demo/``, which has no public HTTPS mirror and has been
    reported to need AWS credentials (requester pays), so scget does not download them.
    Copy one into the cache with the AWS command line (the error message gives the exact
    command), then this function returns its path; load it with
    :meth:`scget.tl.GETModel.from_published`.

    Parameters
    ----------
    name
        ``"pretrain_fetal_adult"`` (the pretrained model) or
        ``"finetune_fetal_adult_leaveout_astrocyte"`` (fine-tuned on fetal and adult cell
        types, astrocytes left out; binary accessibility).

    Returns
    -------
    Path of ``scget.settings.cachedir / "get_checkpoints" / f"{name}.pth"``.

    Raises
    ------
    ValueError
        If ``name`` is unknown.
    FileNotFoundError
        If the checkpoint is not in the cache: the message says how to put it there.
    """
    if name not in PUBLISHED_CHECKPOINTS:
        raise ValueError(
            f"Unknown published checkpoint {name!r}; choose one of {list(PUBLISHED_CHECKPOINTS)}."
        )
    path = settings.cachedir / "get_checkpoints" / f"{name}.pth"
    if path.is_file():
        return path
    key = PUBLISHED_BUCKET + PUBLISHED_CHECKPOINTS[name]
    raise FileNotFoundError(
        f"The published GET checkpoint {name!r} is not in {path.parent}. scget cannot download "
        "it: the checkpoints are only in the authors' S3 bucket, which is reported to need AWS "
        "credentials (requester pays). With an AWS account: "
        f"`aws s3 cp {key} {path} --request-payer requester` (or `--no-sign-request` if "
        "the bucket is public again); then call published_checkpoint again, or load any copy "
        "with scget.tl.GETModel.from_published(path)."
    )
