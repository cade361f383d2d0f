"""The one download mechanism (pooch): cache, checksums, offline messages."""

from __future__ import annotations

import gzip
import hashlib
import random
import re

import pytest

from scget._shared.download import BASE_URLS, fetch, fetch_listed, source_url


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
    content = gzip.compress(b">chr1\nACGT\n")
    (mirror / "genome.fa.gz").write_bytes(content)
    md5 = hashlib.md5(content).hexdigest()
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
    assert dest.read_bytes() == content
    assert "Cannot check genome.fa.gz" in scget_log.text


def test_a_damaged_file_of_unknown_checksum_is_refused(tmp_path, http_mirror, offline_url):
    mirror, url = http_mirror
    bases = random.Random(0).choices(b"ACGT", k=20_000)
    content = gzip.compress(b">chr1\n" + bytes(bases) + b"\n")
    assert len(content) > 1000
    (mirror / "cut.fa.gz").write_bytes(content[: len(content) // 2])
    dest = tmp_path / "cache" / "cut.fa.gz"
    # a download cut short upstream is deleted and refused
    with pytest.raises(ValueError, match="is not a complete gzip file") as error:
        fetch(url + "cut.fa.gz", dest)
    assert f"{dest} is not a complete gzip file" in str(error.value)
    assert f"download it again from {url}cut.fa.gz" in str(error.value)
    assert list(dest.parent.iterdir()) == []
    # a truncated or empty file placed by hand is refused, named, and left to the user
    for placed, problem in ((content[:100], "is not a complete gzip file"), (b"", "is empty")):
        dest.write_bytes(placed)
        with pytest.raises(ValueError, match=f"{re.escape(str(dest))} {problem}.*Delete it"):
            fetch(offline_url + "cut.fa.gz", dest)
        assert dest.read_bytes() == placed
    dest.write_bytes(b"PK\x03\x04 not a whole workbook")
    with pytest.raises(ValueError, match="is not a complete zip archive"):
        fetch(offline_url + "table.xlsx", dest.rename(dest.with_name("table.xlsx")))
    # a complete one is used as it is, offline
    dest.write_bytes(content)
    assert fetch(offline_url + "cut.fa.gz", dest) == dest


def test_a_damaged_file_of_known_checksum_offline_says_to_replace_it(tmp_path, offline_url):
    dest = tmp_path / "cache" / "table.txt"
    dest.parent.mkdir()
    dest.write_text("cut sho")
    digest = hashlib.sha256(b"cut short\n").hexdigest()
    with pytest.raises(OSError, match="does not match its checksum") as error:
        fetch(offline_url + "table.txt", dest, known_hash=digest)
    assert f"The file at {dest} does not match" in str(error.value)
    assert "delete it and place a complete copy there" in str(error.value)
    assert [p.name for p in dest.parent.iterdir()] == ["table.txt"]


def test_source_url():
    assert source_url("ucsc", "/hg38/x") == BASE_URLS["ucsc"] + "hg38/x"
    with pytest.raises(KeyError, match="Unknown download source 'nope'"):
        source_url("nope", "x")
