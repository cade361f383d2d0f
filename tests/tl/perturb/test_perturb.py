"""knockout_motifs and delete_regions: equal to predict on a perturbed input, storage, errors."""

from __future__ import annotations

from types import SimpleNamespace

import mudata as md
import numpy as np
import pandas as pd
import pytest
import torch
from _engine_contract import assert_same_across_layouts, outputs_at
from _ports import free_port
from torch import nn

import scget
from scget._shared.utils import to_dense
from scget.tl._core._windows import motif_feature_names

WINDOW = 16


class Mixing(nn.Module):
    """out[i, s] = softplus(sum_j M[i, j] x_j . w_s): every region of a window matters."""

    def __init__(self, n_features: int):
        super().__init__()
        generator = torch.Generator().manual_seed(0)
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
        self.m = torch.randn(WINDOW, WINDOW, generator=generator)

    def forward(self, x, *, padding_mask=None, tss=None, positions=None, at=None):
        embedding = self.region_embedding(x)
        expression = nn.functional.softplus(torch.einsum("ij,bjs->bis", self.m, embedding))
        return SimpleNamespace(expression=outputs_at(expression, at), region_embedding=embedding)


class MixingAccessibility(Mixing):
    """Mixing with an accessibility head: the first output channel, mixed again."""

    def forward(self, x, *, padding_mask=None, tss=None, positions=None, at=None):
        out = super().forward(x, padding_mask=padding_mask, tss=tss, positions=positions, at=at)
        mixed = torch.einsum("ij,bjs->bis", self.m.T, out.region_embedding)
        out.accessibility = nn.functional.softplus(mixed[..., :1])
        return out


@pytest.fixture
def model(pb):
    """A model whose every gene responds strongly to every region of its windows."""
    features = motif_feature_names(pb)
    params = {"window_size": WINDOW, "binary": False}
    return scget.tl.GETModel(Mixing(len(features)), feature_names=features, params=params)


@pytest.fixture
def accessibility_model(pb):
    """A model fine-tuned (as if) for accessibility: it reads the motifs of every region."""
    features = motif_feature_names(pb)
    params = {"window_size": WINDOW, "binary": False, "objective": "accessibility"}
    return scget.tl.GETModel(
        MixingAccessibility(len(features)), feature_names=features, params=params
    )


def _predicted_change(pb, model, perturb) -> pd.DataFrame:
    """predict (centred TSS windows, as perturbations use) on ``perturb(copy)`` minus on ``pb``."""
    reference = pb.copy()
    scget.tl.predict(reference, model, device="cpu", tss_windows="centred")
    perturbed = pb.copy()
    perturb(perturbed)
    scget.tl.predict(perturbed, model, device="cpu", tss_windows="centred")
    return scget.get.predictions(perturbed) - scget.get.predictions(reference)


def _non_tss_peak(pb) -> str:
    """An accessible peak holding no TSS, near genes (its neighbours' windows hold it)."""
    tss = set(pb["rna"].var["tss_peaks"])
    return next(name for name in pb["atac"].var_names[40:] if name not in tss)


def test_knockout_in_peaks_equals_predict_on_zeroed_scores(pb, model, scget_log):
    peaks = list(pb["atac"].var_names[[5, 17, 130]])

    def zero(data):
        data["atac"].varm["motif_scores"].loc[peaks, ["M0", "M2"]] = 0.0

    expected = _predicted_change(pb, model, zero)
    # two of the peaks hold neither motif: reported (an error by default), not ignored
    without = [p for p in peaks if not pb["atac"].varm["motif_scores"].loc[p, ["M0", "M2"]].any()]
    assert len(without) == 2
    with pytest.raises(ValueError, match="2 of 3 peaks hold no site of the motifs knocked out"):
        scget.tl.knockout_motifs(pb, model, motifs=["M0", "M2"], peaks=peaks, device="cpu")
    assert "knockout_motifs" not in pb.uns.get("scget", {})
    change = scget.tl.knockout_motifs(
        pb, model, motifs=["M0", "M2"], peaks=peaks, device="cpu", unmatched="warn"
    )
    assert f"(all scores 0): {'; '.join(without)}." in scget_log.text
    touched = change.notna().to_numpy()
    assert 0 < touched.sum() < expected.notna().sum().sum()
    np.testing.assert_allclose(change.to_numpy()[touched], expected.to_numpy()[touched], atol=1e-6)
    assert np.median(np.abs(change.to_numpy()[touched])) > 1e-3  # far above the tolerance
    untouched = ~touched & expected.notna().to_numpy()  # predicted, but no changed region
    np.testing.assert_allclose(expected.to_numpy()[untouched], 0.0, atol=1e-6)
    stored = scget.get.knockout_motifs(pb, "knockout_motifs")
    pd.testing.assert_frame_equal(stored, change.astype(np.float32))
    summary = scget.get.result(pb, "knockout_motifs")
    assert summary["n_genes"].tolist() == touched.sum(axis=1).tolist()


def test_knockout_everywhere_equals_predict_on_zeroed_scores(pb, model):
    def zero(data):
        data["atac"].varm["motif_scores"]["M1"] = 0.0

    expected = _predicted_change(pb, model, zero)
    change = scget.tl.knockout_motifs(pb, model, motifs="M1", groups=["B", "C"], device="cpu")
    assert change.loc[["A", "D"]].isna().all().all()
    touched = change.notna().to_numpy()
    np.testing.assert_allclose(change.to_numpy()[touched], expected.to_numpy()[touched], atol=1e-6)


def test_knocking_out_an_absent_motif_changes_nothing(pb, model, scget_log):
    pb["atac"].varm["motif_scores"]["M3"] = 0.0
    expected = _predicted_change(pb, model, lambda data: None)
    np.testing.assert_allclose(expected.fillna(0).to_numpy(), 0.0, atol=1e-7)
    change = scget.tl.knockout_motifs(pb, model, motifs="M3", device="cpu")
    assert change.isna().all().all()
    assert scget.get.result(pb, "knockout_motifs")["n_windows"].eq(0).all()
    assert "no chosen window holds a changed region" in scget_log.text


@pytest.mark.parametrize("form", ["name", "bed", "frame"])
def test_deletion_equals_predict_without_the_peak(pb, model, tmp_path, form, scget_log):
    peak = _non_tss_peak(pb)
    number = list(pb["atac"].var_names).index(peak)

    def delete(data):
        data["atac"].varm["motif_scores"].loc[peak] = 0.0
        data["atac"].X[:, number] = 0.0

    expected = _predicted_change(pb, model, delete)
    chrom, start, end = pb["atac"].var.loc[peak, ["chrom", "start", "end"]]
    inside = pd.DataFrame(
        {"chrom": [chrom, "chrX"], "start": [start + 10, 0], "end": [end - 10, 9]}
    )
    regions = {"name": [peak], "frame": inside, "bed": tmp_path / "regions.bed"}[form]
    (tmp_path / "regions.bed").write_text(  # as BED files come: a track line, a header...
        'track name=deleted description="two regions"\nchrom start end name score strand\n'
        f"{chrom} {start + 10} {end - 10} inside 0 +\nchrX\t0\t9\tfar\t0\t-\n"
    )
    change = scget.tl.delete_regions(pb, model, regions=regions, device="cpu", unmatched="warn")
    if form != "name":  # the second region overlaps no peak: reported, not silently dropped
        assert "1 of 2 regions in" in scget_log.text
        assert "chrX:0-9" in scget_log.text and "no peak on chromosome 'chrX'" in scget_log.text
    touched = change.notna().to_numpy()
    assert touched.any()
    np.testing.assert_allclose(change.to_numpy()[touched], expected.to_numpy()[touched], atol=1e-6)
    untouched = ~touched & expected.notna().to_numpy()
    np.testing.assert_allclose(expected.to_numpy()[untouched], 0.0, atol=1e-6)
    assert scget.get.params(pb, "delete_regions")["peaks"] == [peak]


def _predicted_accessibility(pb, model) -> np.ndarray:
    work = pb.copy()
    scget.tl.predict(work, model, device="cpu")
    return np.nan_to_num(work["atac"].layers["get_accessibility"].astype(np.float64))


def test_knockout_with_an_accessibility_model_also_closes_chromatin(pb, model, accessibility_model):
    scores = pb["atac"].varm["motif_scores"]
    sites = scores.index[scores["M1"] != 0]
    knocked = pb.copy()
    knocked["atac"].varm["motif_scores"].loc[sites, "M1"] = 0.0
    # by hand: what the accessibility model predicts the knockout does to each region...
    opened = _predicted_accessibility(knocked, accessibility_model) - _predicted_accessibility(
        pb, accessibility_model
    )
    assert np.abs(opened).max() > 1e-2

    def knock_out(data):  # ...added to the observed scores, beside the zeroed motif
        data["atac"].varm["motif_scores"].loc[sites, "M1"] = 0.0
        observed = to_dense(data["atac"].X, np.float64)
        data["atac"].X = np.clip(observed + opened, 0.0, None).astype(np.float32)

    expected = _predicted_change(pb, model, knock_out)
    change = scget.tl.knockout_motifs(
        pb, model, motifs="M1", accessibility_model=accessibility_model, device="cpu"
    )
    touched = change.notna().to_numpy()
    # predict drops a gene whose TSS peak falls below the accessible score; the knockout
    # keeps the genes of the observed data
    read = touched & expected.notna().to_numpy()
    assert read.sum() > 0.8 * touched.sum()
    np.testing.assert_allclose(change.to_numpy()[read], expected.to_numpy()[read], atol=1e-5)
    untouched = ~touched & expected.notna().to_numpy()
    np.testing.assert_allclose(expected.to_numpy()[untouched], 0.0, atol=1e-6)
    assert scget.get.params(pb, "knockout_motifs")["accessibility"] == "predicted knockout"
    # holding accessibility fixed is another answer, on fewer windows
    fixed = scget.tl.knockout_motifs(pb, model, motifs="M1", device="cpu")
    assert fixed.notna().sum().sum() <= touched.sum()
    both = fixed.notna().to_numpy()
    assert not np.allclose(fixed.to_numpy()[both], change.to_numpy()[both], atol=1e-3)
    assert scget.get.params(pb, "knockout_motifs")["accessibility"] == "observed"


def test_closing_chromatin_for_a_few_genes_predicts_only_their_windows_accessibility(
    pb, model, accessibility_model
):
    everyone = scget.tl.knockout_motifs(
        pb, model, motifs="M1", accessibility_model=accessibility_model, device="cpu"
    )
    network = accessibility_model.network
    windows = []
    counted = network.forward

    def counting(x, **kwargs):
        windows.append(len(x))
        return counted(x, **kwargs)

    network.forward = counting
    genes = list(everyone.columns[everyone.notna().any().to_numpy()][:3])
    few = scget.tl.knockout_motifs(
        pb, model, motifs="M1", genes=genes, accessibility_model=accessibility_model, device="cpu"
    )
    np.testing.assert_allclose(few[genes].to_numpy(), everyone[genes].to_numpy(), rtol=1e-5)
    assert few.drop(columns=genes).isna().all().all()
    n_few = sum(windows)
    windows.clear()
    scget.tl.knockout_motifs(
        pb, model, motifs="M1", accessibility_model=accessibility_model, device="cpu"
    )
    assert 0 < n_few < sum(windows) / 2


def test_an_accessibility_model_that_cannot_serve_is_rejected_before_any_work(
    pb, model, accessibility_model
):
    with pytest.raises(ValueError, match="does not predict accessibility"):
        scget.tl.knockout_motifs(pb, model, motifs="M1", accessibility_model=model, device="cpu")
    binary = scget.tl.GETModel(
        model.network, feature_names=model.feature_names, params={**model.params, "binary": True}
    )
    with pytest.raises(ValueError, match="binary accessibility"):
        scget.tl.knockout_motifs(
            pb, binary, motifs="M1", accessibility_model=accessibility_model, device="cpu"
        )
    other = scget.tl.GETModel(
        accessibility_model.network,
        feature_names=[*model.feature_names[:-2], "Mx", model.feature_names[-1]],
        params=accessibility_model.params,
    )
    with pytest.raises(ValueError, match="other input features"):
        scget.tl.knockout_motifs(pb, model, motifs="M1", accessibility_model=other, device="cpu")
    with pytest.raises(TypeError):
        scget.tl.knockout_motifs(pb, model, motifs="M1", accessibility_model="x", device="cpu")
    assert "scget" not in pb.uns or not pb.uns["scget"]


def test_perturbations_survive_h5mu_and_copy_leaves_the_data(pb, model, tmp_path):
    returned = scget.tl.knockout_motifs(pb, model, motifs="M0", groups=["A"], device="cpu")
    # what the writer returns is what is stored and read back
    assert (returned.dtypes == np.float32).all()
    pd.testing.assert_frame_equal(returned, scget.get.knockout_motifs(pb))
    copied = scget.tl.delete_regions(pb, model, regions=_non_tss_peak(pb), device="cpu", copy=True)
    assert isinstance(copied, md.MuData)
    assert "delete_regions" not in pb.uns["scget"]
    assert "delete_regions" not in pb["rna"].layers
    copied.write_h5mu(tmp_path / "pb.h5mu")
    back = md.read_h5mu(tmp_path / "pb.h5mu")
    for read in (scget.get.knockout_motifs, scget.get.delete_regions):
        pd.testing.assert_frame_equal(read(back), read(copied))
    assert scget.get.params(back, "knockout_motifs")["motifs"] == ["M0"]
    with pytest.warns(FutureWarning, match="renamed scget.get.knockout_motifs"):
        old = scget.get.perturbation(back, "delete_regions")
    pd.testing.assert_frame_equal(old, scget.get.delete_regions(back))


def test_bad_perturbations_are_rejected_before_any_work(pb, model, tmp_path):
    with pytest.raises(KeyError, match=r"Unknown motif clusters \['m1'\].*\['M1'"):
        scget.tl.knockout_motifs(pb, model, motifs=["M0", "m1"], device="cpu")
    with pytest.raises(KeyError, match="Unknown motif clusters"):
        scget.tl.knockout_motifs(pb, model, motifs="accessibility", device="cpu")
    with pytest.raises(KeyError, match="peaks are unknown peaks"):
        scget.tl.knockout_motifs(pb, model, motifs="M0", peaks=["chr1:1-2"], device="cpu")
    with pytest.raises(KeyError, match="Unknown groups"):
        scget.tl.knockout_motifs(pb, model, motifs="M0", groups=["Z"], device="cpu")
    with pytest.raises(KeyError, match="Unknown genes"):
        scget.tl.delete_regions(pb, model, regions=["chr1:5000-5500"], genes=["x"], device="cpu")
    with pytest.raises(KeyError, match="regions are unknown peaks"):
        scget.tl.delete_regions(pb, model, regions=["chr1:1-2"], device="cpu")
    with pytest.raises(FileNotFoundError, match="neither a peak"):
        scget.tl.delete_regions(pb, model, regions=tmp_path / "missing.bed", device="cpu")
    far = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [10]})
    with pytest.raises(ValueError, match="1 of 1 regions in the table overlap no peak"):
        scget.tl.delete_regions(pb, model, regions=far, device="cpu")
    with pytest.raises(ValueError, match="lacks the columns"):
        renamed = far.rename(columns={"chrom": "chr"})
        scget.tl.delete_regions(pb, model, regions=renamed, device="cpu")
    assert "scget" not in pb.uns or not pb.uns["scget"]
    assert list(pb["rna"].layers) == ["counts"]


def test_sharded_over_ranks_equals_one_process(pb, trained, tmp_path):
    import torch.multiprocessing as mp
    from _perturb_worker import sharded_knockout

    port = free_port()
    trained.save(tmp_path / "model")
    mp.spawn(sharded_knockout, args=(2, port, str(tmp_path / "model"), str(tmp_path)), nprocs=2)
    knockout = scget.tl.knockout_motifs(pb, trained, motifs="M2", device="cpu", batch_size=8)
    peaks = list(pb["atac"].var_names[[3, 50]])
    deletion = scget.tl.delete_regions(pb, trained, regions=peaks, device="cpu", batch_size=8)
    assert knockout.notna().any().any() and deletion.notna().any().any()
    for rank in range(2):
        assert_same_across_layouts(pd.read_pickle(tmp_path / f"knockout{rank}.pkl"), knockout)
        assert_same_across_layouts(pd.read_pickle(tmp_path / f"deletion{rank}.pkl"), deletion)
