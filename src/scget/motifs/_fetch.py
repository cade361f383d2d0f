"""Cached, checksummed downloads of public motif resources."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

from .._logging import logger


def sha256sum(path: str | os.PathLike) -> str:
    """Hex SHA-256 digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(url: str, dest: str | os.PathLike, *, sha256: str | None = None) -> Path:
    """Download ``url`` to ``dest`` once, verifying its SHA-256 checksum.

    A file already at ``dest`` with the right checksum is used as it is (offline). A
    download is written to a temporary file and moved into place only after its checksum
    matches, so a failed or corrupted download never leaves a file behind. Without a
    known checksum, the checksum of the first download is recorded beside the file
    (``dest.sha256``) and later uses verify against it.

    Parameters
    ----------
    url
        Address (``https://``, ``http://`` or ``file://``).
    dest
        Where the file is kept.
    sha256
        Expected hex SHA-256 digest, or ``None``.

    Returns
    -------
    ``dest`` as a :class:`~pathlib.Path`.

    Raises
    ------
    ValueError
        If the downloaded file (or the cached one) does not match the checksum.
    OSError
        If the download fails (no internet): the message says where to put the file by hand.
    """
    dest = Path(dest)
    record = dest.with_name(dest.name + ".sha256")
    expected = sha256 or (record.read_text().strip() if record.exists() else None)
    if dest.exists():
        found = sha256sum(dest)
        if expected is None or found == expected:
            return dest
        logger.warning(
            f"Cached {dest} has checksum {found}, expected {expected}; downloading again."
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    logger.info(f"Downloading {url} to {dest}.")
    with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False) as tmp:
        try:
            with urllib.request.urlopen(url) as response:
                shutil.copyfileobj(response, tmp)
        except OSError as error:
            tmp.close()
            os.unlink(tmp.name)
            raise OSError(
                f"Could not download {url} ({error}). Download it by hand to {dest}, or pass a "
                "local folder."
            ) from error
    found = sha256sum(tmp.name)
    if expected is not None and found != expected:
        os.unlink(tmp.name)
        raise ValueError(f"Checksum mismatch for {url}: got {found}, expected {expected}.")
    os.replace(tmp.name, dest)
    if expected is None:
        record.write_text(found + "\n")
        logger.warning(f"No checksum known for {url}; recorded {found} for later checks.")
    return dest
