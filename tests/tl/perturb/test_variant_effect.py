"""variant_effect: exact motif-score change, equal to predict on edited scores, storage, errors."""

from __future__ import annotations

import math
from types import SimpleNamespace

import mudata as md
import numpy as np
import pandas as pd
import pytest
import torch
from _engine_contract import outputs_at
from _planted import planted_pb
from _written import written_slots
from torch import nn

import scget
from scget._shared.genomic import peak_coordinates
from scget.motifs import MotifCollection

PS = 0.01
MATCH = math.log((1 + PS * 0.25) / (1 + PS) / 0.25)  # log odds of a one-hot match
M1, M2, M3 = "AATTTAAT", "TAATTTATT", "TAATATAT"  # clusters X, X, Y (never hit poly-C)
BROKEN = "AATCTAAT"  # M1 with one mismatch: no hit; C>T at its 4th base makes M1
VARIANT_PEAK = 20


def _one_hot(consensus: str) -> np.ndarray:
    return np.array([[float(base == b) for b in "ACGT"] for base in consensus])


class Cumulative(nn.Module):
    """out[i] = softplus(sum_{j <= i} x_j . w): a region changes every later output."""

    def __init__(self, n_features: int):
        super().__init__()
        generator = torch.Generator().manual_seed(1)
        self.config = SimpleNamespace(
            n_features=n_features,
            hidden_dim=2,
            n_layers=1,
            tss_input=False,
            distance_bias=False,
            expression_prior=False,
        )
        self.region_embedding = nn.Linear(n_features, 2)
        self.region_embedding.weight.data = torch.randn(2, n_features, generator=generator)
        self.region_embedding.bias.data = torch.randn(2, generator=generator)

    def forward(self, x, *, padding_mask=None, tss=None, positions=None, at=None):
        embedding = self.region_embedding(x)
        expression = nn.functional.softplus(torch.cumsum(embedding, dim=1))
        return SimpleNamespace(expression=outputs_at(expression, at), region_embedding=embedding)


@pytest.fixture
def scanned(tmp_path):
    """The planted pseudobulk rescanned on a poly-C genome with planted motifs."""
    pb = planted_pb()
    peaks = peak_coordinates(pb["atac"])
    chroms = {c: ["C"] * 601_000 for c in peaks["chrom"].unique()}
    for k, (chrom, start) in enumerate(zip(peaks["chrom"], peaks["start"], strict=True)):
        parts = [(300, M3)] if k % 3 == 0 else []
        parts += [(100, M1), (200, M2)] if k == 0 else []
        parts += [(50, BROKEN)] if k == VARIANT_PEAK else []
        for offset, motif in parts:
            chroms[chrom][start + offset : start + offset + len(motif)] = motif
    path = tmp_path / "genome.fa"
    path.write_text("".join(f">{c}\n{''.join(s)}\n" for c, s in chroms.items()))
    info = pd.DataFrame(
        {"name": ["A", "B", "C"], "cluster": ["X", "X", "Y"]}, index=["m1", "m2", "m3"]
    )
    motifs = MotifCollection({"m1": _one_hot(M1), "m2": _one_hot(M2), "m3": _one_hot(M3)}, info)
    scget.pp.scan_motifs(pb, path, motifs=motifs, n_jobs=1)
    model = scget.tl.GETModel(
        Cumulative(3), feature_names=["X", "Y", "accessibility"], params={"window_size": 16}
    )
    start = int(peaks["start"].iloc[VARIANT_PEAK])
    snv = pd.DataFrame({"chrom": ["chr1"], "pos": [start + 50 + 4], "ref": ["C"], "alt": ["T"]})
    return SimpleNamespace(pb=pb, genome=path, motifs=motifs, model=model, snv=snv, peaks=peaks)


def test_created_hit_changes_its_cluster_by_the_hand_computed_amount(scanned):
    x = scanned
    np.testing.assert_allclose(x.pb["atac"].varm["motif_scores"].iloc[0], [1.0, 1.0], atol=1e-6)
    result = scget.tl.variant_effect(
        x.pb, x.model, variants=x.snv, genome=x.genome, motifs=x.motifs, device="cpu"
    )
    change = scget.get.variant_effect(x.pb, motif_change=True)
    # raw X of peak 0 is M1 + M2 = 17 matches (the maximum); the new M1 adds 8 matches
    np.testing.assert_allclose(change.to_numpy(), [[8 / 17, 0.0]], atol=1e-6)
    assert (result["peak"] == x.peaks.index[VARIANT_PEAK]).all() and len(result) > 0


def test_copy_returns_the_scored_copy_and_leaves_pb_untouched(scanned):
    x = scanned
    before = written_slots(x.pb)
    kwargs = dict(variants=x.snv, genome=x.genome, motifs=x.motifs, device="cpu")
    copied = scget.tl.variant_effect(x.pb, x.model, copy=True, **kwargs)
    assert isinstance(copied, md.MuData) and copied is not x.pb
    assert written_slots(x.pb) == before
    result = scget.tl.variant_effect(x.pb, x.model, **kwargs)
    pd.testing.assert_frame_equal(scget.get.variant_effect(copied), result)


def test_model_change_equals_predict_on_edited_scores(scanned):
    x = scanned
    result = scget.tl.variant_effect(
        x.pb, x.model, variants=x.snv, genome=x.genome, motifs=x.motifs, device="cpu"
    )
    reference = x.pb.copy()
    scget.tl.predict(reference, x.model, device="cpu", tss_windows="centred")
    edited = x.pb.copy()
    edited["atac"].varm["motif_scores"].iloc[VARIANT_PEAK, 0] += np.float32(8 / 17)
    scget.tl.predict(edited, x.model, device="cpu", tss_windows="centred")
    expected = scget.get.predictions(edited) - scget.get.predictions(reference)
    by_hand = [expected.at[g, n] for g, n in zip(result["group"], result["gene"], strict=True)]
    np.testing.assert_allclose(result["change"], by_hand, atol=1e-5)
    # genes whose TSS precedes the peak in a window are unchanged (cumulative model)
    assert np.abs(result["change"]).max() > 1e-2
    # genes the variant's peak does not reach do not change
    reached = set(zip(result["group"], result["gene"], strict=True))
    others = [v for (g, n), v in expected.stack().items() if (g, n) not in reached]
    np.testing.assert_allclose(others, 0.0, atol=1e-6)


def test_first_order_is_motif_change_times_gene_by_motif(scanned, tmp_path):
    x = scanned
    with pytest.raises(KeyError, match=r"run scget\.tl\.gene_by_motif"):
        scget.tl.variant_effect(
            x.pb, x.model, variants=x.snv, genome=x.genome, motifs=x.motifs, method="first_order"
        )
    scget.tl.gene_by_motif(x.pb, x.model, device="cpu")
    result = scget.tl.variant_effect(
        x.pb, x.model, variants=x.snv, genome=x.genome, motifs=x.motifs, method="first_order"
    )
    importance = scget.get.gene_by_motif(x.pb)
    by_hand = [
        importance.loc[(g, n), "X"] * 8 / 17
        for g, n in zip(result["group"], result["gene"], strict=True)
    ]
    assert len(result) > 0
    np.testing.assert_allclose(result["change"], by_hand, rtol=1e-5, atol=1e-7)
    path = tmp_path / "pb.h5mu"
    x.pb.write_h5mu(path)
    back = md.read_h5mu(path)
    pd.testing.assert_frame_equal(scget.get.variant_effect(back), result, check_dtype=False)
    pd.testing.assert_frame_equal(
        scget.get.variant_effect(back, motif_change=True),
        scget.get.variant_effect(x.pb, motif_change=True),
    )


def test_vcf_positions_are_one_based_and_refs_checked(scanned, tmp_path):
    x = scanned
    start = int(x.peaks["start"].iloc[0])  # M1 at start + 100: 'A' at 1-based start + 101
    vcf = tmp_path / "v.vcf"
    vcf.write_text(
        f"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\nchr1\t{start + 101}\trs1\tA\tC,G\n"
    )
    table = scget.tl._perturb._variant_effect.read_variants(vcf)
    assert list(table["variant"]) == ["rs1:C", "rs1:G"]
    result = scget.tl.variant_effect(
        x.pb, x.model, variants=vcf, genome=x.genome, motifs=x.motifs, device="cpu"
    )
    np.testing.assert_allclose(
        scget.get.variant_effect(x.pb, motif_change=True)["X"], [-8 / 17, -8 / 17], atol=1e-6
    )
    assert set(result["variant"]) == {"rs1:C", "rs1:G"}
    vcf.write_text(f"chr1\t{start + 100}\t.\tA\tC\n")  # off by one: the genome has C there
    with pytest.raises(ValueError, match="1 REF alleles differ from the genome"):
        scget.tl.variant_effect(x.pb, x.model, variants=vcf, genome=x.genome, motifs=x.motifs)


def test_outside_peaks_reported_and_indel_across_edge_rejected(scanned, scget_log):
    x = scanned
    end = int(x.peaks["end"].iloc[VARIANT_PEAK])
    outside = pd.DataFrame({"chrom": ["chr1"], "pos": [end + 10], "ref": ["C"], "alt": ["A"]})
    both = pd.concat([x.snv, outside], ignore_index=True)
    label = f"chr1:{end + 10}:C>A: overlaps no peak"
    with pytest.raises(ValueError, match=f"1 of 2 variants lie in no peak: {label}.*'warn'"):
        scget.tl.variant_effect(x.pb, x.model, variants=both, genome=x.genome, motifs=x.motifs)
    assert "variant_effect" not in x.pb.uns.get("scget", {})
    result = scget.tl.variant_effect(
        x.pb, x.model, variants=both, genome=x.genome, motifs=x.motifs, unmatched="warn"
    )
    assert set(result["variant"]) == set(
        scget.tl.variant_effect(x.pb, x.model, variants=x.snv, genome=x.genome, motifs=x.motifs)[
            "variant"
        ]
    )
    assert label in scget_log.text
    with pytest.raises(ValueError, match="Nothing is left to run"):
        scget.tl.variant_effect(
            x.pb, x.model, variants=outside, genome=x.genome, motifs=x.motifs, unmatched="warn"
        )
    across = pd.DataFrame({"chrom": ["chr1"], "pos": [end - 1], "ref": ["CCC"], "alt": ["C"]})
    with pytest.raises(ValueError, match="cross a peak's edge"):
        scget.tl.variant_effect(x.pb, x.model, variants=across, genome=x.genome, motifs=x.motifs)
    with pytest.raises(ValueError, match="differs from the one"):
        scget.tl.variant_effect(x.pb, x.model, variants=x.snv, genome=x.genome, motifs="jaspar")


def test_two_variants_in_one_peak_are_scored_apart(scanned):
    x = scanned
    start = int(x.peaks["start"].iloc[VARIANT_PEAK])
    both = pd.concat(
        [x.snv, pd.DataFrame({"chrom": ["chr1"], "pos": [start + 400], "ref": ["C"], "alt": ["G"]})]
    )
    result = scget.tl.variant_effect(
        x.pb, x.model, variants=both, genome=x.genome, motifs=x.motifs, device="cpu"
    )
    change = scget.get.variant_effect(x.pb, motif_change=True)
    np.testing.assert_allclose(change.to_numpy(), [[8 / 17, 0.0], [0.0, 0.0]], atol=1e-6)
    silent = result[result["pos"] == start + 400]["change"]
    assert len(silent) > 0 and (silent == 0).all()
    alone = scget.tl.variant_effect(
        x.pb, x.model, variants=x.snv, genome=x.genome, motifs=x.motifs, device="cpu"
    )
    np.testing.assert_allclose(
        result[result["pos"] != start + 400]["change"], alone["change"], atol=1e-6
    )


def test_rescan_reproduces_stored_scores_on_hg38(hg38_piece, fox_gata_ctcf):
    """The reference rescan equals the stored scores; ALT equals scanning the edited peak."""
    import anndata as ad

    from scget.tl._perturb._variant_effect import _rescan

    genome, motifs = hg38_piece, fox_gata_ctcf
    starts = np.arange(50_000, 2_300_000, 90_000)
    names = [f"chr2:{s}-{s + 500}" for s in starts]
    atac = ad.AnnData(np.ones((2, len(names)), np.float32), var=pd.DataFrame(index=names))
    rna = ad.AnnData(np.ones((2, 1), np.float32), var=pd.DataFrame(index=["g"]))
    mdata = md.MuData({"rna": rna, "atac": atac})
    background = (0.2977, 0.2023, 0.2023, 0.2977)
    scget.pp.scan_motifs(mdata, genome, motifs=motifs, background=background, n_jobs=1)
    params = scget.get.params(mdata, "motifs")
    max_score = scget.get.result(mdata, "motifs")["max_score"].to_numpy()
    peaks = peak_coordinates(mdata["atac"])
    rows = np.arange(len(peaks))
    sequences = [genome.fetch("chr2", int(s), int(s) + 500) for s in starts]
    # a 60-bp deletion in each peak (VCF style: 1-based pos start + 201, first base kept)
    ref = [seq[200:261] for seq in sequences]
    alt = [seq[200] for seq in sequences]
    table = pd.DataFrame({"pos": starts + 201, "ref": ref, "alt": alt})
    stored = mdata["atac"].varm["motif_scores"].to_numpy()
    before, after = _rescan(table, rows, peaks, rows, genome, motifs, params, max_score)
    np.testing.assert_allclose(before, stored, atol=1e-6)
    edited = [seq[:201] + seq[261:] for seq in sequences]
    raw = scget.pp.scan_motifs(
        edited, motifs=motifs, background=background, normalize=False, n_jobs=1
    ).to_numpy()
    np.testing.assert_allclose(after, np.clip(raw / max_score, 0, 1), rtol=1e-5, atol=1e-7)
    assert (np.abs(after - before) > 1e-4).any()
