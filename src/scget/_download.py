"""One download mechanism for every public resource: pooch, cached under ``settings.cachedir``."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from ._logging import logger
from ._settings import settings

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


def source_url(source: str, path: str) -> str:
    """Address of ``path`` at a source of :data:`BASE_URLS`."""
    if source not in BASE_URLS:
        raise KeyError(f"Unknown download source {source!r}; known: {sorted(BASE_URLS)}.")
    return BASE_URLS[source].rstrip("/") + "/" + path.lstrip("/")


def fetch(url: str, path: str | os.PathLike, *, known_hash: str | None = None) -> Path:
    """Download ``url`` to ``path`` once (with :func:`pooch.retrieve`), checking its checksum.

    A file already at ``path`` that matches ``known_hash`` (or any file there when the
    hash is unknown) is used as it is, without a connection. A download is checked
    before it is moved into place, so a failed or corrupted one leaves nothing behind.
    A progress bar shows at ``scget.settings.verbosity >= 2``.

    Parameters
    ----------
    url
        Address (``https://``, ``http://`` or ``ftp://``).
    path
        Where the file is kept.
    known_hash
        Checksum as pooch spells it (``"md5:..."``, ``"sha256:..."`` or a bare SHA-256),
        or ``None`` where the source publishes none.

    Returns
    -------
    ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    ValueError
        If the download does not match ``known_hash``.
    OSError
        If the download fails (e.g. no internet): the message names the URL and the
        path where the file can be placed by hand.
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
    if not path.is_file():
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
        raise OSError(
            f"Could not download {url} ({type(error).__name__}: {error}). Without internet, "
            f"download it elsewhere and place it at {path}; scget then uses it as it is."
        ) from error
    finally:
        pooch_logger.setLevel(level)
    return Path(found)


def fetch_listed(url: str, path: str | os.PathLike, *, checksums: str) -> Path:
    """Download ``url`` checked against the MD5 that the source lists for it.

    ``checksums`` is the source's ``md5sum`` file (lines ``<md5>  <file name>``) of the
    folder holding ``url``; it is downloaded once beside ``path``. When it cannot be
    downloaded, or does not list the file, the file is downloaded unchecked (warned).

    Parameters
    ----------
    url
        Address of the file.
    path
        Where the file is kept.
    checksums
        Address of the source's checksum list.

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
        return fetch(url, path)
    digests = {}
    for line in listing.read_text().splitlines():
        fields = line.split()
        if len(fields) == 2:
            digests[fields[1].lstrip("*./")] = fields[0]
    if name not in digests:
        logger.warning(f"{checksums} lists no checksum for {name}; downloading it unchecked.")
    return fetch(url, path, known_hash=f"md5:{digests[name]}" if name in digests else None)
