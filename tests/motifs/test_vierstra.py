"""Vierstra archetypes v1.0, and their download."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

import scget
from scget._shared.download import BASE_URLS
from scget.motifs import _vierstra, vierstra_archetypes


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


def test_download_into_cache(vierstra_dir, monkeypatch, http_mirror, offline_url):
    """The download path, served from a local mirror of the sources' layout."""
    mirror, url = http_mirror
    for name, (repo_path, _) in _vierstra.MEME_FILES.items():
        (mirror / "repository" / repo_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(vierstra_dir / name, mirror / "repository" / repo_path)
    monkeypatch.setitem(BASE_URLS, "vierstra_repository", url + "repository/")
    # the release's workbook: the cluster table, then the motif table
    (mirror / "release").mkdir()
    with pd.ExcelWriter(mirror / "release" / "motif_annotations.xlsx") as workbook:
        for sheet, name in enumerate(("archetype_clusters_v1.0.csv", "archetype_motifs_v1.0.csv")):
            pd.read_csv(vierstra_dir / name).to_excel(workbook, sheet_name=f"s{sheet}", index=False)
    monkeypatch.setitem(BASE_URLS, "vierstra_release", url + "release/")
    motifs = vierstra_archetypes()
    assert len(motifs.clusters) == 282
    assert len(motifs) == 2174
    cache = scget.settings.cachedir / "vierstra_archetypes_v1"
    assert sorted(p.name for p in cache.glob("*.meme")) == sorted(_vierstra.MEME_FILES)
    assert (cache / "archetype_clusters_v1.0.csv").is_file()
    # offline, the cache is enough
    monkeypatch.setitem(BASE_URLS, "vierstra_repository", offline_url)
    monkeypatch.setitem(BASE_URLS, "vierstra_release", offline_url)
    assert vierstra_archetypes().clusters == motifs.clusters


def test_download_rejects_a_changed_pwm_file(tmp_path, monkeypatch, http_mirror):
    monkeypatch.setattr(scget.settings, "_cachedir", tmp_path / "cache")  # an empty cache
    mirror, url = http_mirror
    name, (repo_path, _) = next(iter(_vierstra.MEME_FILES.items()))
    (mirror / repo_path).parent.mkdir(parents=True)
    (mirror / repo_path).write_text("MEME version 4\n")
    monkeypatch.setitem(BASE_URLS, "vierstra_repository", url)
    with pytest.raises(ValueError, match="Checksum mismatch"):
        vierstra_archetypes()
    assert not (scget.settings.cachedir / "vierstra_archetypes_v1" / name).exists()
