"""scget.genome.Genome: plain and bgzipped FASTA, soft-masking, N runs, checks, pickling."""

from __future__ import annotations

import pickle

import pytest

from scget.genome import Genome

CHR1 = "ACGTacgtNNNNNNGGCCaatt" * 5
CHR2 = "TTTTGGGGCCCCAAAA"


@pytest.fixture
def fasta(tmp_path):
    path = tmp_path / "toy.fa"
    wrapped = "\n".join(CHR1[i : i + 30] for i in range(0, len(CHR1), 30))
    path.write_text(f">chr1 some description\n{wrapped}\n>chr2\n{CHR2}\n")
    return path


def test_fetch_plain(fasta):
    genome = Genome(fasta)
    assert genome.chrom_sizes == {"chr1": len(CHR1), "chr2": len(CHR2)}
    assert genome.fetch("chr1", 0, 8) == "ACGTACGT"
    assert genome.fetch("chr1", 25, 40) == CHR1[25:40].upper()
    assert genome.fetch("chr1", 6, 16) == "GTNNNNNNGG"
    assert genome.fetch_many(["chr2", "chr1"], [4, 18], [8, 22]) == ["GGGG", "AATT"]


def test_fetch_bgzip(fasta, tmp_path):
    pysam = pytest.importorskip("pysam")
    compressed = tmp_path / "toy.fa.gz"
    pysam.tabix_compress(str(fasta), str(compressed))
    pysam.faidx(str(compressed))
    genome = Genome(compressed)
    assert genome.fetch("chr1", 25, 40) == CHR1[25:40].upper()
    assert genome.fetch("chr2", 0, len(CHR2)) == CHR2


def test_real_bgzipped_hg38_piece(hg38_piece):
    genome = hg38_piece
    assert genome.chrom_sizes == {"chr2": 2_333_275}
    assert set(genome.fetch("chr2", 0, 5000)) == {"N"}
    assert set(genome.fetch("chr2", 1_000_000, 1_000_500)) <= set("ACGTN")


def test_errors_list_offenders(fasta):
    genome = Genome(fasta)
    with pytest.raises(
        ValueError,
        match=r"2 chromosome\(s\).*'1' \(2 intervals\) \(did you mean 'chr1'\?\), "
        r"'chrX' \(1 intervals\)",
    ):
        genome.check_intervals(["1", "chrX", "1", "chr1"], [0, 0, 5, 0], [5, 5, 9, 5])
    with pytest.raises(ValueError, match=r"3 interval\(s\).*chr2:10-20 \(length 16\), chr1:-1-5"):
        genome.check_intervals(["chr2", "chr1", "chr1", "chr1"], [10, -1, 3, 0], [20, 5, 3, 4])
    with pytest.raises(ValueError, match="outside"):
        genome.fetch("chr2", 10, 17)
    with pytest.raises(FileNotFoundError):
        Genome(fasta.with_name("absent.fa"))


def test_gzip_not_bgzip(fasta, tmp_path):
    import gzip

    path = tmp_path / "plain.fa.gz"
    path.write_bytes(gzip.compress(fasta.read_bytes()))
    with pytest.raises(ValueError, match="bgzip"):
        Genome(path)


def test_pickle_reopens(fasta):
    genome = pickle.loads(pickle.dumps(Genome(fasta)))
    assert genome.fetch("chr2", 0, 4) == "TTTT"
