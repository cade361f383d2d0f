"""scget.pp.scan_motifs: exact scores on constructed sequences, MuData round trip, real hg38."""

from __future__ import annotations

import math

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest

import scget
from scget.genome import Genome
from scget.motifs import MotifCollection

BASES = "ACGT"
PS = 0.01
#: Log-odds of a matching base in a one-hot matrix (pseudocount 0.01, uniform background).
MATCH = math.log((1 + PS * 0.25) / (1 + PS) / 0.25)


def one_hot(consensus: str) -> np.ndarray:
    return np.array([[float(base == b) for b in BASES] for base in consensus])


def revcomp(seq: str) -> str:
    return seq[::-1].translate(str.maketrans("ACGTN", "TGCAN"))


# A/T-only motifs never match the poly-C background, on either strand.
M1 = "AATTTAAT"  # cluster X
M2 = "TAATTTATT"  # cluster X, one base longer, so its exact match scores higher
M3 = "TAATATAT"  # cluster Y


@pytest.fixture
def motifs() -> MotifCollection:
    info = pd.DataFrame(
        {"name": ["TF1", "TF2", "TF3"], "cluster": ["X", "X", "Y"]}, index=["m1", "m2", "m3"]
    )
    return MotifCollection({"m1": one_hot(M1), "m2": one_hot(M2), "m3": one_hot(M3)}, info)


def plant(*parts: tuple[int, str], length: int = 60) -> str:
    seq = list("C" * length)
    for pos, motif in parts:
        seq[pos : pos + len(motif)] = motif
    return "".join(seq)


def test_exact_scores(motifs):
    seqs = {
        "single": plant((10, M1)),
        "two_apart": plant((5, M1), (30, M1)),
        "adjacent": plant((10, M1), (18, M1)),  # touching, no shared base: both count
        "overlap_same_cluster": plant((10, "AATTTAATTTATT")),  # M1 and M2 share 4 bp: only M2
        "other_cluster": plant((10, "AATTTAATATAT")),  # M1 and M3 share 4 bp, in two clusters
        "reverse": plant((20, revcomp(M1))),
        "n_inside": plant((10, M1[:3] + "N" + M1[4:])),
        "all_n": "N" * 60,
        "end": plant((60 - len(M1), M1)),
    }
    scores = scget.pp.scan_motifs(list(seqs.values()), motifs=motifs, normalize=False, n_jobs=1)
    scores.index = list(seqs)
    assert list(scores.columns) == ["X", "Y"]
    expected = {
        "single": (8 * MATCH, 0),
        "two_apart": (16 * MATCH, 0),
        "adjacent": (16 * MATCH, 0),
        "overlap_same_cluster": (9 * MATCH, 0),
        "other_cluster": (8 * MATCH, 8 * MATCH),
        "reverse": (8 * MATCH, 0),
        "n_inside": (0, 0),
        "all_n": (0, 0),
        "end": (8 * MATCH, 0),
    }
    for name, (x, y) in expected.items():
        np.testing.assert_allclose(scores.loc[name].to_numpy(), [x, y], rtol=1e-5, err_msg=name)


def test_short_motif_hit_at_sequence_end():
    """MOODS misses the last window of matrices shorter than its look-ahead window; we do not."""
    short = MotifCollection({"s": one_hot("TTAAT")})
    seqs = [plant((55, "TTAAT")), plant((27, "TTAAT")[:60])]
    scores = scget.pp.scan_motifs(seqs, motifs=short, pvalue=2e-3, normalize=False, n_jobs=1)
    np.testing.assert_allclose(scores["s"].to_numpy(), [5 * MATCH, 5 * MATCH], rtol=1e-5)


def test_normalised_and_parallel_equal(motifs):
    seqs = [plant((10, M1)), plant((5, M1), (30, M1)), plant((10, M3)), "C" * 60] * 300
    serial = scget.pp.scan_motifs(seqs, motifs=motifs, n_jobs=1)
    parallel = scget.pp.scan_motifs(seqs, motifs=motifs, n_jobs=2)
    pd.testing.assert_frame_equal(serial, parallel)
    np.testing.assert_allclose(serial["X"].to_numpy()[:4], [0.5, 1.0, 0.0, 0.0], rtol=1e-6)
    np.testing.assert_allclose(serial["Y"].to_numpy()[:4], [0.0, 0.0, 1.0, 0.0], rtol=1e-6)
    assert serial.dtypes.unique().tolist() == [np.float32]


@pytest.fixture
def genome(tmp_path) -> Genome:
    path = tmp_path / "toy.fa"
    chr1 = plant((10, M1), (100, M3), length=200)
    chr2 = plant((50, revcomp(M2)), length=120)
    path.write_text(
        f">chr1\n{chr1[:70]}\n{chr1[70:140]}\n{chr1[140:]}\n>chr2 description\n{chr2.lower()}\n"
    )
    return Genome(path)


def make_mdata(peaks) -> md.MuData:
    atac = ad.AnnData(np.ones((2, len(peaks)), dtype=np.float32), var=pd.DataFrame(index=peaks))
    rna = ad.AnnData(np.ones((2, 1), dtype=np.float32), var=pd.DataFrame(index=["g"]))
    return md.MuData({"rna": rna, "atac": atac})


def test_mudata_written_and_round_trip(genome, motifs, tmp_path):
    mdata = make_mdata(["chr1:0-50", "chr1:90-130", "chr2:40-70", "chr2:0-40"])
    assert scget.pp.scan_motifs(mdata, genome, motifs=motifs, n_jobs=1) is None
    scores = mdata["atac"].varm["motif_scores"]
    assert list(scores.index) == list(mdata["atac"].var_names)
    np.testing.assert_allclose(scores.to_numpy(), [[8 / 9, 0], [0, 1], [1, 0], [0, 0]], rtol=1e-6)
    assert scget.get.params(mdata, "motifs")["pvalue"] == 1e-4
    clusters = scget.get.result(mdata, "motifs")
    np.testing.assert_allclose(clusters.loc["X", "max_score"], 9 * MATCH, rtol=1e-6)
    assert clusters.loc["X", "motifs"] == "m1;m2"
    scget.pp.scan_motifs(mdata, genome, motifs=motifs, n_jobs=1, normalize=False)
    assert list(mdata["atac"].varm) == ["motif_scores"]
    mdata.write_h5mu(tmp_path / "pb.h5mu")
    back = md.read_h5mu(tmp_path / "pb.h5mu")
    pd.testing.assert_frame_equal(
        back["atac"].varm["motif_scores"], mdata["atac"].varm["motif_scores"]
    )
    assert not scget.get.params(back, "motifs")["normalize"]


def test_input_forms_agree(genome, motifs):
    peaks = ["chr1:0-50", "chr2:40-70"]
    by_name = scget.pp.scan_motifs(peaks, genome, motifs=motifs, normalize=False, n_jobs=1)
    by_tuple = scget.pp.scan_motifs(
        [("chr1", 0, 50), ("chr2", 40, 70)], genome, motifs=motifs, normalize=False, n_jobs=1
    )
    by_seq = scget.pp.scan_motifs(
        [genome.fetch("chr1", 0, 50), genome.fetch("chr2", 40, 70)],
        motifs=motifs,
        normalize=False,
        n_jobs=1,
    )
    adata = make_mdata(peaks)["atac"].copy()
    copied = scget.pp.scan_motifs(
        adata, genome.path, motifs=motifs, normalize=False, n_jobs=1, copy=True
    )
    assert "motif_scores" not in adata.varm
    bed = pd.DataFrame({"chrom": ["chr1", "chr2"], "start": [0, 40], "end": [50, 70]})
    by_bed = scget.pp.scan_motifs(bed, genome, motifs=motifs, normalize=False, n_jobs=1)
    pd.testing.assert_frame_equal(by_name, by_tuple)
    pd.testing.assert_frame_equal(by_name, by_bed)
    np.testing.assert_array_equal(by_name.to_numpy(), by_seq.to_numpy())
    pd.testing.assert_frame_equal(copied.varm["motif_scores"], by_name)


def test_errors_before_scanning(genome, motifs):
    with pytest.raises(ValueError, match=r"'chr3' \(1 intervals\)"):
        scget.pp.scan_motifs(["chr1:0-50", "chr3:0-50"], genome, motifs=motifs)
    with pytest.raises(ValueError, match=r"2 interval\(s\).*chr1:190-260"):
        scget.pp.scan_motifs(["chr1:190-260", "chr2:100-130", "chr1:0-10"], genome, motifs=motifs)
    with pytest.raises(ValueError, match="needs a genome"):
        scget.pp.scan_motifs(["chr1:0-50"], motifs=motifs)
    with pytest.raises(ValueError, match="pvalue"):
        scget.pp.scan_motifs(["ACGT"], motifs=motifs, pvalue=2)
    with pytest.raises(KeyError, match="atac"):
        scget.pp.scan_motifs(
            md.MuData({"rna": make_mdata(["chr1:0-5"])["rna"]}), genome, motifs=motifs
        )


def test_iupac_codes_are_unknown_bases(motifs):
    unknown = [plant((10, M1[:3] + code + M1[4:])) for code in "NRYK"]
    scores = scget.pp.scan_motifs([*unknown, plant((10, M1))], motifs=motifs, normalize=False)
    assert scores.iloc[:4].to_numpy().tolist() == [[0.0, 0.0]] * 4
    assert scores.iloc[4]["X"] > 0


def test_renamed_peak_is_not_scanned_at_its_old_interval(genome, motifs):
    mdata = make_mdata(["chr1:0-50", "chr2:40-70"])
    atac = mdata["atac"]
    atac.var["chrom"], atac.var["start"], atac.var["end"] = ["chr1", "chr2"], [0, 40], [50, 70]
    atac.var_names = ["chr1:0-50", "chr9:100-600"]
    with pytest.raises(ValueError, match=r"'chr9:100-600' has chrom=chr2.*drop the columns"):
        scget.pp.scan_motifs(mdata, genome, motifs=motifs, n_jobs=1)
    assert "motif_scores" not in atac.varm
    atac.var = atac.var.drop(columns=["chrom", "start", "end"])
    with pytest.raises(ValueError, match="'chr9'"):
        scget.pp.scan_motifs(mdata, genome, motifs=motifs, n_jobs=1)


def test_agrees_with_direct_moods_on_hg38(hg38_piece, fox_gata_ctcf):
    """Independent MOODS calls (scan_dna, window = min(7, length)) on real hg38 sequence."""
    import MOODS.scan
    import MOODS.tools

    genome, motifs = hg38_piece, fox_gata_ctcf
    starts = np.arange(50_000, 2_300_000, 45_000)
    peaks = [("chr2", int(s), int(s) + 500) for s in starts]
    ours = scget.pp.scan_motifs(peaks, genome, motifs=motifs, normalize=False, n_jobs=1)

    bg = [0.25] * 4
    prepared = []  # (cluster, length, matrix, threshold) for both strands of every motif
    for motif_id in motifs:
        forward = MOODS.tools.log_odds(motifs[motif_id].T.tolist(), bg, PS)
        for matrix in (forward, MOODS.tools.reverse_complement(forward)):
            threshold = MOODS.tools.threshold_from_p(matrix, bg, 1e-4)
            prepared.append(
                (motifs.info.at[motif_id, "cluster"], len(forward[0]), matrix, threshold)
            )
    expected = np.zeros(ours.shape)
    for row, (chrom, start, end) in enumerate(peaks):
        seq = genome.fetch(chrom, start, end)
        hits = {c: [] for c in motifs.clusters}
        for cluster, length, matrix, threshold in prepared:
            for hit in MOODS.scan.scan_dna(seq, [matrix], bg, [threshold], min(7, length))[0]:
                hits[cluster].append((hit.score, hit.pos, hit.pos + length))
        for col, cluster in enumerate(motifs.clusters):
            kept = []
            for score, s, e in sorted(hits[cluster], key=lambda h: (-h[0], h[1])):
                if all(e <= ks or s >= ke for ks, ke in kept):
                    kept.append((s, e))
                    expected[row, col] += score
    assert (expected > 0).sum() > 20
    np.testing.assert_allclose(ours.to_numpy(), expected, rtol=1e-5)


def test_nothing_to_scan_raises_and_keeps_earlier_scores(genome, motifs):
    mdata = make_mdata(["chr1:0-50", "chr1:90-130"])
    scget.pp.scan_motifs(mdata, genome, motifs=motifs, n_jobs=1)
    before = scget.get.result(mdata, "motifs")["max_score"].copy()
    empty = mdata[:, ["g"]].copy()  # the rna gene only: no peak left
    with pytest.raises(ValueError, match=r"Nothing to scan: data\['atac'\] has no peaks"):
        scget.pp.scan_motifs(empty, genome, motifs=motifs)
    pd.testing.assert_series_equal(scget.get.result(empty, "motifs")["max_score"], before)
    assert before.gt(0).all()
    with pytest.raises(ValueError, match="the AnnData has no peaks"):
        scget.pp.scan_motifs(empty["atac"], genome, motifs=motifs)
    with pytest.raises(ValueError, match="peak DataFrame has no rows"):
        bed = pd.DataFrame({"chrom": [], "start": [], "end": []})
        scget.pp.scan_motifs(bed, genome, motifs=motifs)
