"""Vierstra archetypes v1.0 and the cached, checksummed fetch."""

from __future__ import annotations

import hashlib
import shutil

import pandas as pd
import pytest

import scget
from scget.motifs import _vierstra, vierstra_archetypes
from scget.motifs._fetch import fetch


@pytest.fixture
def vierstra_dir(shared_data):
    return shared_data / "vierstra_archetypes_v1"


def test_282_features_in_published_order(vierstra_dir):
    motifs = vierstra_archetypes(vierstra_dir)
    published = (vierstra_dir / "get_feature_order_282.txt").read_text().split("\n")
    # the published names, with "/" stored as "." (HDF5 keys cannot hold "/")
    assert motifs.clusters == [name.replace("/", ".") for name in published if name]
    assert "AP1.1" in motifs.clusters
    assert len(motifs.clusters) == 282
    assert len(motifs) == 2174
    # the three archetypes named 'SMAD' are one feature, as in GET
    assert motifs.info.loc[motifs.members("SMAD"), "cluster_id"].nunique() == 3
    assert motifs.info.loc["AHR_HUMAN.H11MO.0.B", ["name", "cluster"]].tolist() == ["AHR", "AHR"]


def test_missing_files(tmp_path, vierstra_dir):
    with pytest.raises(FileNotFoundError, match="archetype_clusters"):
        vierstra_archetypes(tmp_path)
    for name in ("archetype_clusters_v1.0.csv", "archetype_motifs_v1.0.csv"):
        shutil.copy(vierstra_dir / name, tmp_path / name)
    with pytest.raises(FileNotFoundError, match="MEME"):
        vierstra_archetypes(tmp_path)
    shutil.copy(vierstra_dir / "jolma2013_table_s3-1.meme", tmp_path)
    with pytest.raises(ValueError, match="have no PWM"):
        vierstra_archetypes(tmp_path)


def test_download_into_cache(tmp_path, vierstra_dir, monkeypatch):
    """The download path, served from a local mirror of the repository layout (file://)."""
    mirror = tmp_path / "mirror"
    for name, (repo_path, _) in _vierstra.MEME_FILES.items():
        (mirror / repo_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(vierstra_dir / name, mirror / repo_path)
    monkeypatch.setattr(_vierstra, "REPOSITORY_URL", mirror.as_uri() + "/")
    # the release's workbook: the cluster table, then the motif table
    release = tmp_path / "release"
    release.mkdir()
    with pd.ExcelWriter(release / "motif_annotations.xlsx") as workbook:
        for sheet, name in enumerate(("archetype_clusters_v1.0.csv", "archetype_motifs_v1.0.csv")):
            pd.read_csv(vierstra_dir / name).to_excel(workbook, sheet_name=f"s{sheet}", index=False)
    monkeypatch.setattr(_vierstra, "RELEASE_URL", release.as_uri() + "/")
    motifs = vierstra_archetypes()
    assert len(motifs.clusters) == 282
    assert len(motifs) == 2174
    cache = scget.settings.cachedir / "vierstra_archetypes_v1"
    assert sorted(p.name for p in cache.glob("*.meme")) == sorted(_vierstra.MEME_FILES)
    assert (cache / "archetype_clusters_v1.0.csv").is_file()


def test_fetch_checksum_and_cache(tmp_path):
    source = tmp_path / "source.txt"
    source.write_text("motifs v1\n")
    digest = hashlib.sha256(b"motifs v1\n").hexdigest()
    dest = tmp_path / "cache" / "file.txt"
    assert fetch(source.as_uri(), dest, sha256=digest).read_text() == "motifs v1\n"
    source.write_text("changed upstream\n")
    assert fetch(source.as_uri(), dest, sha256=digest).read_text() == "motifs v1\n"  # cached
    dest.write_text("corrupted\n")
    with pytest.raises(ValueError, match="Checksum mismatch"):
        fetch(source.as_uri(), dest, sha256=digest)
    assert list(dest.parent.iterdir()) == [dest]  # no temporary file left behind


def test_fetch_records_unknown_checksum(tmp_path):
    source = tmp_path / "table.xlsx"
    source.write_bytes(b"first")
    dest = tmp_path / "cache" / "table.xlsx"
    fetch(source.as_uri(), dest)
    assert (tmp_path / "cache" / "table.xlsx.sha256").read_text().strip() == hashlib.sha256(
        b"first"
    ).hexdigest()
    dest.write_bytes(b"tampered")
    source.write_bytes(b"second")
    with pytest.raises(ValueError, match="Checksum mismatch"):
        fetch(source.as_uri(), dest)


def test_fetch_offline_message(tmp_path):
    with pytest.raises(OSError, match="by hand"):
        fetch((tmp_path / "absent").as_uri(), tmp_path / "dest")
    assert not (tmp_path / "dest").exists()
