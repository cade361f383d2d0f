"""One download mechanism for every public resource: pooch, cached under ``settings.cachedir``."""

from __future__ import annotations

import gzip
import os
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from .logging import logger
from .settings import settings

#: Base address of each source scget downloads from. Replace an entry (e.g. with a local
#: mirror, ``http://`` or ``https://``) to download from elsewhere; the paths below it
#: must be laid out as at the source.
BASE_URLS: dict[str, str] = {
    "ucsc": "https://hgdownload.soe.ucsc.edu/goldenPath/",
    "gencode": "https://ftp.ebi.ac.uk/pub/databases/gencode/",
    "10x": "https://cf.10xgenomics.com/samples/cell-arc/1.0.0/",
    "vierstra_release": (
        "https://resources.altius.org/~jvierstra/projects/motif-clustering/releases/v1.0/"
    ),
    "vierstra_repository": (
        "https://raw.githubusercontent.com/vierstralab/motif-clustering/"
        "4b6dbc1010cab364247dec0d888dd12ffcd1c376/"
    ),
}
#: Seconds to wait for a server to connect or answer before giving up.
TIMEOUT = 60
#: Bytes decompressed at a time when a gzip file is read to its end.
_BLOCK = 1 << 24


def source_url(source: str, path: str) -> str:
    """Address of ``path`` at a source of :data:`BASE_URLS`."""
    if source not in BASE_URLS:
        raise KeyError(f"Unknown download source {source!r}; known: {sorted(BASE_URLS)}.")
    return BASE_URLS[source].rstrip("/") + "/" + path.lstrip("/")


def bad_file(path: Path, problem: str, url: str | None = None) -> str:
    """The message refusing a damaged file: which file, what is wrong, what to do."""
    source = f" from {url}" if url else ""
    return (
        f"{path} {problem}: it was cut short or damaged (an interrupted download or copy?). "
        f"Delete it, then download it again{source} or place a complete copy there."
    )


def check_file(path: Path, url: str | None = None, *, decompress: bool = True) -> None:
    """Refuse a file that is empty, or (by its name) a gzip or zip file without its end.

    A ``.gz``/``.bgz`` file is decompressed to its end (``decompress=False`` skips this
    where the caller decompresses it anyway); a ``.zip``/``.xlsx`` file must hold its
    end-of-archive record.

    Raises
    ------
    ValueError
        Naming the file, the problem and what to do (:func:`bad_file`).
    """
    if path.stat().st_size == 0:
        raise ValueError(bad_file(path, "is empty (0 bytes)", url))
    if path.name.endswith((".zip", ".xlsx")) and not zipfile.is_zipfile(path):
        raise ValueError(bad_file(path, "is not a complete zip archive", url))
    if decompress and path.name.endswith((".gz", ".bgz")):
        try:
            with gzip.open(path, "rb") as handle:
                while handle.read(_BLOCK):
                    pass
        except (EOFError, OSError, zlib.error) as error:
            raise ValueError(
                bad_file(
                    path, f"is not a complete gzip file ({type(error).__name__}: {error})", url
                )
            ) from error


def fetch(
    url: str,
    path: str | os.PathLike,
    *,
    known_hash: str | None = None,
    decompress: bool = True,
) -> Path:
    """Download ``url`` to ``path`` once (with :func:`pooch.retrieve`), checking it.

    A file already at ``path`` that matches ``known_hash`` is used as it is, without a
    connection; one that does not is downloaded again. Where the hash is unknown, a file
    already there (placed by hand, or an earlier download) and a new download are checked
    with :func:`check_file` (not empty; a gzip file decompresses to its end; a zip file
    has its end): a damaged file placed by hand is refused, a damaged download deleted
    and refused. A download goes to a temporary file in the same folder, is checked, and
    is then renamed into place, so a failed or corrupted one leaves nothing behind and
    concurrent downloads of the same file never leave a torn one. A progress bar shows at
    ``scget.settings.verbosity >= 2``.

    Parameters
    ----------
    url
        Address (``https://``, ``http://`` or ``ftp://``).
    path
        Where the file is kept.
    known_hash
        Checksum as pooch spells it (``"md5:..."``, ``"sha256:..."`` or a bare SHA-256),
        or ``None`` where the source publishes none.
    decompress
        Decompress a gzip file of unknown hash to its end to check it; ``False`` where the
        caller decompresses it anyway and refuses it when it is damaged.

    Returns
    -------
    ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    ValueError
        If the download does not match ``known_hash``, or a file of unknown hash is
        damaged (the message names the file and what to do).
    OSError
        If the download fails (e.g. no internet): the message names the URL and the
        path where the file can be placed by hand (or, when a damaged copy is there,
        that it must be replaced).
    """
    import pooch

    path = Path(path).expanduser()
    progressbar = settings.verbosity >= 2
    if url.startswith(("http://", "https://")):
        downloader = pooch.HTTPDownloader(progressbar=progressbar, timeout=TIMEOUT)
    elif url.startswith("ftp://"):
        downloader = pooch.FTPDownloader(progressbar=progressbar, timeout=TIMEOUT)
    else:
        raise ValueError(f"Cannot download {url}: only http://, https:// and ftp:// are supported.")
    existed = path.is_file()
    if existed and known_hash is None:
        check_file(path, url, decompress=decompress)
    if not existed:
        logger.info(f"Downloading {url} to {path}.")
    pooch_logger = pooch.get_logger()
    level = pooch_logger.level
    pooch_logger.setLevel("WARNING")  # its messages at INFO repeat ours or address developers
    try:
        found = pooch.retrieve(
            url, known_hash, fname=path.name, path=path.parent, downloader=downloader
        )
    except ValueError as error:
        if "hash" not in str(error):
            raise
        raise ValueError(
            f"Checksum mismatch for {url}: {error} The download was discarded; if the source "
            f"changed the file on purpose, place the new file at {path} by hand."
        ) from error
    except OSError as error:  # requests' connection and HTTP errors are OSErrors
        damaged = (
            f"The file at {path} does not match its checksum ({known_hash}), and a fresh copy "
            f"could not be downloaded: delete it and place a complete copy there. "
            if existed
            else ""
        )
        raise OSError(
            f"{damaged}Could not download {url} ({type(error).__name__}: {error}). Without "
            f"internet, download it elsewhere and place it at {path}; scget then uses it as it is."
        ) from error
    finally:
        pooch_logger.setLevel(level)
    found = Path(found)
    if not existed and known_hash is None:
        try:
            check_file(found, url, decompress=decompress)
        except ValueError:
            found.unlink(missing_ok=True)
            raise
    return found


def fetch_listed(
    url: str, path: str | os.PathLike, *, checksums: str, decompress: bool = True
) -> Path:
    """Download ``url`` checked against the MD5 that the source lists for it.

    ``checksums`` is the source's ``md5sum`` file (lines ``<md5>  <file name>``) of the
    folder holding ``url``; it is downloaded once beside ``path``. When it cannot be
    downloaded, or does not list the file, the file is checked as :func:`fetch` checks
    a file of unknown hash (warned).

    Parameters
    ----------
    url
        Address of the file.
    path
        Where the file is kept.
    checksums
        Address of the source's checksum list.
    decompress
        As in :func:`fetch`.

    Returns
    -------
    ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    ValueError, OSError
        As :func:`fetch`.
    """
    path = Path(path).expanduser()
    name = PurePosixPath(url).name
    try:
        listing = fetch(checksums, path.parent / PurePosixPath(checksums).name)
    except OSError as error:
        logger.warning(f"Cannot check {name} against the source's checksums: {error}")
        return fetch(url, path, decompress=decompress)
    digests = {}
    for line in listing.read_text().splitlines():
        fields = line.split()
        if len(fields) == 2:
            digests[fields[1].lstrip("*./")] = fields[0]
    if name not in digests:
        logger.warning(f"{checksums} lists no checksum for {name}; downloading it unchecked.")
    digest = f"md5:{digests[name]}" if name in digests else None
    return fetch(url, path, known_hash=digest, decompress=decompress)
