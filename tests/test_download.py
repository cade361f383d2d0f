"""The one download mechanism (pooch): cache, checksums, offline messages."""

from __future__ import annotations

import hashlib
import re

import pytest

from scget._download import BASE_URLS, fetch, fetch_listed, source_url


def test_fetch_caches_and_checks(tmp_path, http_mirror, offline_url):
    mirror, url = http_mirror
    (mirror / "table.txt").write_text("motifs v1\n")
    digest = hashlib.sha256(b"motifs v1\n").hexdigest()
    dest = tmp_path / "cache" / "table.txt"
    assert fetch(url + "table.txt", dest, known_hash=digest).read_text() == "motifs v1\n"
    # the cached file is used as it is, without a connection
    assert fetch(offline_url + "table.txt", dest, known_hash=digest) == dest
    # a cached file that no longer matches is downloaded again, and rejected
    dest.write_text("corrupted\n")
    (mirror / "table.txt").write_text("changed upstream\n")
    with pytest.raises(ValueError, match=re.escape(f"Checksum mismatch for {url}table.txt")):
        fetch(url + "table.txt", dest, known_hash=digest)
    assert dest.read_text() == "corrupted\n"  # the rejected download left nothing behind
    assert [p.name for p in dest.parent.iterdir()] == ["table.txt"]


def test_fetch_offline_names_the_url_and_the_path(tmp_path, offline_url):
    dest = tmp_path / "cache" / "genes.gtf.gz"
    with pytest.raises(OSError, match="Could not download") as error:
        fetch(offline_url + "genes.gtf.gz", dest)
    assert offline_url + "genes.gtf.gz" in str(error.value)
    assert f"place it at {dest}" in str(error.value)
    assert not dest.exists()


def test_fetch_missing_file_and_unknown_protocol(tmp_path, http_mirror):
    _, url = http_mirror
    with pytest.raises(OSError, match="404"):
        fetch(url + "absent.txt", tmp_path / "absent.txt")
    with pytest.raises(ValueError, match="only http"):
        fetch((tmp_path / "x").as_uri(), tmp_path / "x")


def test_fetch_listed_checks_the_published_md5(tmp_path, http_mirror, scget_log):
    mirror, url = http_mirror
    (mirror / "genome.fa.gz").write_bytes(b"ACGT")
    md5 = hashlib.md5(b"ACGT").hexdigest()
    (mirror / "md5sum.txt").write_text(f"{md5}  genome.fa.gz\n{'0' * 32}  other.fa.gz\n")
    dest = tmp_path / "a" / "genome.fa.gz"
    assert fetch_listed(url + "genome.fa.gz", dest, checksums=url + "md5sum.txt") == dest
    assert (tmp_path / "a" / "md5sum.txt").is_file()
    # a file whose listed checksum differs is rejected
    (mirror / "md5sum.txt").write_text(f"{'0' * 32}  genome.fa.gz\n")
    with pytest.raises(ValueError, match="Checksum mismatch"):
        fetch_listed(
            url + "genome.fa.gz", tmp_path / "b" / "genome.fa.gz", checksums=url + "md5sum.txt"
        )
    # without a checksum list, the file is downloaded unchecked (warned)
    dest = tmp_path / "c" / "genome.fa.gz"
    fetch_listed(url + "genome.fa.gz", dest, checksums=url + "absent.txt")
    assert dest.read_bytes() == b"ACGT"
    assert "Cannot check genome.fa.gz" in scget_log.text


def test_source_url():
    assert source_url("ucsc", "/hg38/x") == BASE_URLS["ucsc"] + "hg38/x"
    with pytest.raises(KeyError, match="Unknown download source 'nope'"):
        source_url("nope", "x")
