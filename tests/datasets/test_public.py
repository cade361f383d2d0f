"""Downloaders of public data, served from local mirrors laid out as the sources."""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil

import numpy as np
import pytest

import scget
from scget.datasets import BASE_URLS, _public, gene_annotation, genome, published_checkpoint
from scget.genome import Genome

SEQUENCES = {"chr1": "ACGT" * 300 + "N" * 50, "chr2": "GATTACA" * 100}


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(scget.settings, "_cachedir", tmp_path / "cache")
    return tmp_path / "cache"


def write_listed(folder, name: str, content: bytes, listing: str, *, md5: str | None = None):
    """Write ``folder / name`` and list its MD5 (or ``md5``) in ``folder / listing``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    md5 = md5 or hashlib.md5(content).hexdigest()
    (folder / listing).write_text(f"{'0' * 32}  other.gz\n{md5}  {name}\n")


def ucsc_mirror(mirror, *, md5: str | None = None) -> bytes:
    fasta = "".join(f">{c}\n" + re.sub("(.{60})", "\\1\n", s) + "\n" for c, s in SEQUENCES.items())
    content = gzip.compress(fasta.encode())
    write_listed(mirror / "hg38" / "bigZips", "hg38.fa.gz", content, "md5sum.txt", md5=md5)
    return content


def test_genome_is_bgzipped_and_indexed(empty_cache, monkeypatch, http_mirror, offline_url):
    mirror, url = http_mirror
    ucsc_mirror(mirror)
    monkeypatch.setitem(BASE_URLS, "ucsc", url)
    path = genome("hg38")
    assert path == empty_cache / "genomes" / "hg38" / "hg38.fa.bgz"
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "hg38.fa.bgz",
        "hg38.fa.bgz.fai",
        "hg38.fa.bgz.gzi",
        "md5sum.txt",
    ]  # the gzip download is removed once converted
    with open(path, "rb") as handle:  # BGZF: gzip with the 'BC' extra field
        assert handle.read(16)[12:14] == b"BC"
    fasta = Genome(path)  # the reader of scan_motifs
    assert fasta.chrom_sizes == {c: len(s) for c, s in SEQUENCES.items()}
    assert fasta.fetch("chr2", 690, 700) == SEQUENCES["chr2"][690:700]
    scores = scget.pp.scan_motifs(["chr1:0-1200", "chr2:0-700"], path, n_jobs=1)
    assert list(scores.index) == ["chr1:0-1200", "chr2:0-700"]
    monkeypatch.setitem(BASE_URLS, "ucsc", offline_url)
    assert genome("hg38") == path  # offline, from the cache


def test_genome_checksum_mismatch_and_offline(empty_cache, monkeypatch, http_mirror, offline_url):
    mirror, url = http_mirror
    ucsc_mirror(mirror, md5="f" * 32)
    monkeypatch.setitem(BASE_URLS, "ucsc", url)
    with pytest.raises(ValueError, match=r"Checksum mismatch for .*hg38\.fa\.gz"):
        genome("hg38")
    assert not (empty_cache / "genomes" / "hg38" / "hg38.fa.gz").exists()
    monkeypatch.setitem(BASE_URLS, "ucsc", offline_url)
    place = empty_cache / "genomes" / "mm10" / "mm10.fa.gz"
    with pytest.raises(OSError, match="Could not download") as error:
        genome("mm10")
    assert f"{offline_url}mm10/bigZips/mm10.fa.gz" in str(error.value)
    assert str(place) in str(error.value)
    # the UCSC file placed there by hand is used
    place.write_bytes(ucsc_mirror(mirror))
    assert Genome(genome("mm10")).fetch("chr1", 0, 8) == "ACGTACGT"
    with pytest.raises(ValueError, match="Unknown genome 'hg37'"):
        genome("hg37")


def test_genome_refuses_a_damaged_file_and_leaves_no_partial_file(
    empty_cache, monkeypatch, http_mirror, offline_url
):
    mirror, url = http_mirror
    content = ucsc_mirror(mirror)
    monkeypatch.setitem(BASE_URLS, "ucsc", offline_url)  # no checksum list: nothing else checks
    folder = empty_cache / "genomes" / "hg38"
    folder.mkdir(parents=True)
    place = folder / "hg38.fa.gz"
    damaged = {
        "truncated": content[: len(content) // 2],
        "empty": b"",
        "not a FASTA": gzip.compress(b"<html>Not found</html>"),
    }
    for what, placed in damaged.items():
        place.write_bytes(placed)
        with pytest.raises(ValueError) as error:
            genome("hg38")
        message = str(error.value)
        assert str(place) in message and "Delete it, then download it again" in message, what
        assert sorted(p.name for p in folder.iterdir()) == ["hg38.fa.gz"], what  # nothing else
    # an exception while recompressing leaves nothing behind either
    place.write_bytes(content)

    def fail(path):
        raise KeyboardInterrupt

    monkeypatch.setattr("pysam.faidx", fail)
    with pytest.raises(KeyboardInterrupt):
        genome("hg38")
    assert sorted(p.name for p in folder.iterdir()) == ["hg38.fa.gz"]
    monkeypatch.undo()
    # online, a damaged copy no longer matching UCSC's checksum is downloaded again
    monkeypatch.setattr(scget.settings, "_cachedir", empty_cache)
    monkeypatch.setitem(BASE_URLS, "ucsc", url)
    place.write_bytes(content[:100])
    assert Genome(genome("hg38")).chrom_sizes == {c: len(s) for c, s in SEQUENCES.items()}


def test_concurrent_genome_calls_give_one_complete_copy(empty_cache, monkeypatch, http_mirror):
    from concurrent.futures import ThreadPoolExecutor

    mirror, url = http_mirror
    ucsc_mirror(mirror)
    monkeypatch.setitem(BASE_URLS, "ucsc", url)
    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(lambda _: genome("hg38"), range(4)))
    assert len(set(paths)) == 1
    assert sorted(p.name for p in paths[0].parent.iterdir()) == [
        "hg38.fa.bgz",
        "hg38.fa.bgz.fai",
        "hg38.fa.bgz.gzi",
        "md5sum.txt",
    ]
    assert Genome(paths[0]).fetch("chr2", 690, 700) == SEQUENCES["chr2"][690:700]


GTF = (
    'chr1\tHAVANA\tgene\t1001\t5000\t.\t+\t.\tgene_id "ENSG1.1"; gene_type "protein_coding"; '
    'gene_name "AAA";\n'
    'chr1\tHAVANA\ttranscript\t1001\t5000\t.\t+\t.\tgene_id "ENSG1.1"; transcript_id "T1"; '
    'gene_name "AAA";\n'
    'chr2\tHAVANA\tgene\t101\t900\t.\t-\t.\tgene_id "ENSG2.1"; gene_type "lncRNA"; '
    'gene_name "BBB";\n'
    'chr2\tHAVANA\ttranscript\t101\t900\t.\t-\t.\tgene_id "ENSG2.1"; transcript_id "T2"; '
    'gene_name "BBB";\n'
)


def test_gene_annotation(empty_cache, monkeypatch, http_mirror, offline_url):
    mirror, url = http_mirror
    content = gzip.compress(GTF.encode())
    folder = mirror / "Gencode_human" / "release_46"
    write_listed(folder, "gencode.v46.annotation.gtf.gz", content, "MD5SUMS")
    write_listed(
        mirror / "Gencode_mouse" / "release_M35",
        "gencode.vM35.annotation.gtf.gz",
        content,
        "MD5SUMS",
    )
    monkeypatch.setitem(BASE_URLS, "gencode", url)
    path = gene_annotation("human", 46)
    assert path == empty_cache / "gencode" / "human_46" / "gencode.v46.annotation.gtf.gz"
    assert path.read_bytes() == content
    tss = gene_annotation("human", 46, table=True)
    assert tss.set_index("gene_name").loc[["AAA", "BBB"], "tss"].tolist() == [1000, 899]
    assert gene_annotation("mouse", "M35") == gene_annotation("mouse", 35)
    assert gene_annotation("mouse", 35).parent.name == "mouse_M35"
    with pytest.raises(ValueError, match="Unknown species 'fly'"):
        gene_annotation("fly", 46)
    with pytest.raises(ValueError, match="release must be a GENCODE release number"):
        gene_annotation("human", "v46")
    # offline, the message names the URL and the path
    monkeypatch.setitem(BASE_URLS, "gencode", offline_url)
    with pytest.raises(OSError, match=re.escape("Gencode_human/release_47/gencode.v47")) as error:
        gene_annotation("human", 47)
    assert str(empty_cache / "gencode" / "human_47" / "gencode.v47.annotation.gtf.gz") in str(
        error.value
    )


def test_gene_annotation_checksum_mismatch(empty_cache, monkeypatch, http_mirror):
    mirror, url = http_mirror
    folder = mirror / "Gencode_human" / "release_46"
    write_listed(folder, "gencode.v46.annotation.gtf.gz", b"x", "MD5SUMS", md5="0" * 32)
    monkeypatch.setitem(BASE_URLS, "gencode", url)
    with pytest.raises(ValueError, match="Checksum mismatch"):
        gene_annotation("human", 46)


@pytest.mark.realdata
def test_pbmc10k_multiome(empty_cache, monkeypatch, http_mirror, cellranger_outs, pbmc_h5mu):
    mirror, url = http_mirror
    folder = mirror / _public._PBMC10K
    folder.mkdir()
    for name in _public.PBMC10K_FILES:
        shutil.copy(cellranger_outs / name, folder / f"{_public._PBMC10K}_{name}")
        digest = hashlib.md5((folder / f"{_public._PBMC10K}_{name}").read_bytes()).hexdigest()
        monkeypatch.setitem(_public.PBMC10K_FILES, name, digest)
    monkeypatch.setitem(BASE_URLS, "10x", url)
    mdata = scget.datasets.pbmc10k_multiome()
    np.testing.assert_array_equal(mdata["atac"].X.toarray(), pbmc_h5mu["atac"].X.toarray())
    cache = empty_cache / "pbmc10k_multiome"
    assert mdata["atac"].uns["files"]["fragments"] == str(cache / "atac_fragments.tsv.gz")
    assert sorted(p.name for p in cache.iterdir()) == sorted(_public.PBMC10K_FILES)
    # a file that differs from 10x's is rejected
    monkeypatch.setitem(_public.PBMC10K_FILES, "atac_fragments.tsv.gz.tbi", "0" * 32)
    with pytest.raises(ValueError, match="Checksum mismatch"):
        scget.datasets.pbmc10k_multiome()


def test_published_checkpoint_must_be_placed_by_hand(empty_cache):
    path = empty_cache / "get_checkpoints" / "pretrain_fetal_adult.pth"
    with pytest.raises(FileNotFoundError, match="requester pays") as error:
        published_checkpoint()
    message = str(error.value)
    assert "aws s3 cp s3://2023-get-xf2217/get_demo/checkpoints/" in message
    assert str(path) in message
    assert "GETModel.from_published" in message
    path.parent.mkdir(parents=True)
    path.touch()
    assert published_checkpoint("pretrain_fetal_adult") == path
    with pytest.raises(ValueError, match="Unknown published checkpoint 'base'"):
        published_checkpoint("base")
