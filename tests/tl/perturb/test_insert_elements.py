"""scget.tl.insert_elements: the in silico lentiMPRA, checked against the network by hand."""

from __future__ import annotations

import copy

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
from _planted import planted_pb
from _ports import free_port

import scget
from scget.motifs import MotifCollection
from scget.tl._core._prior import model_inputs
from scget.tl._core._windows import WindowDataset, centred_windows, region_context
from scget.tl._perturb._insert_elements import element_scores


@pytest.fixture(scope="module")
def joint(trained):
    """The tiny trained model, its accessibility head declared trained (to run the product)."""
    model = copy.copy(trained)
    model.params = {**trained.params, "objective": "joint"}
    return model


ELEMENTS = pd.DataFrame(
    {"M0": [1.0, 0.0, 0.3], "M2": [0.0, 0.8, 0.3]}, index=["promoter", "enhancer", "both"]
)


def by_hand(pb, model, table_sites, elements: np.ndarray, group: str):
    """Mean centre expression (larger strand) and accessibility per element, from the network."""
    import torch

    inputs = model_inputs(pb, model)
    number = list(pb["atac"].obs_names).index(group)
    regions = inputs.groups[number]
    where = {peak: i for i, peak in enumerate(regions.peaks)}
    peaks = pb["atac"].var_names.get_indexer(table_sites)
    positions = np.array([where[p] for p in peaks])
    starts, lengths, offsets = centred_windows(regions, positions, model.window_size)
    windows = np.column_stack([np.full(len(starts), number), starts, lengths])
    dataset = WindowDataset(inputs, windows, model.window_size)
    n_motifs = inputs.motifs.shape[1]
    network = model.network.eval()
    means = []
    for element in elements:
        values = []
        for i, offset in enumerate(offsets):
            item = dataset[i]
            x = item["x"].numpy().copy()
            centre = x[offset, :n_motifs]
            x[offset, :n_motifs] = np.minimum(centre + element, np.maximum(centre, 1.0))
            x[offset, n_motifs] = 1.0
            context = {k: value[None] for k, value in region_context(item).items()}
            with torch.no_grad():
                out = network(torch.from_numpy(x)[None], **context)
            values.append(
                [
                    float(out.expression[0, offset].max()),
                    float(out.accessibility[0, offset, 0]),
                ]
            )
        means.append(np.mean(values, axis=0))
    return np.array(means)


def test_published_readout_is_the_networks_centre_output(joint):
    pb = planted_pb()
    table = scget.tl.insert_elements(
        pb, joint, elements=ELEMENTS, group="B", n_sites=6, seed=3, batch_size=4, device="cpu"
    )
    sites = scget.get.params(pb, "insert_elements")["sites"]
    assert len(sites) == 6
    scores = np.vstack([ELEMENTS.reindex(columns=[f"M{i}" for i in range(8)], fill_value=0)])
    hand = by_hand(pb, joint, sites, np.vstack([scores, np.zeros(8)]), "B")
    assert list(table.index) == ["promoter", "enhancer", "both", "control"]
    np.testing.assert_allclose(table["expression"], hand[:, 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(table["accessibility"], hand[:, 1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(table["activity"], hand[:, 0] * hand[:, 1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(table["change"], table["activity"] - table["activity"].iloc[-1])
    pd.testing.assert_frame_equal(scget.get.insert_elements(pb), table)


def test_a_zero_element_changes_nothing_against_the_accessible_contexts(joint):
    pb = planted_pb()
    zero = pd.DataFrame({"M3": [0.0]}, index=["empty"])
    table = scget.tl.insert_elements(pb, joint, elements=zero, group="A", n_sites=5, device="cpu")
    sites = scget.get.params(pb, "insert_elements")["sites"]
    # the control, by hand: the same contexts with the centre made accessible, motifs kept
    hand = by_hand(pb, joint, sites, np.zeros((1, 8)), "A")[0]
    for name in ("empty", "control"):
        np.testing.assert_allclose(table.loc[name, "expression"], hand[0], rtol=1e-5)
        np.testing.assert_allclose(table.loc[name, "accessibility"], hand[1], rtol=1e-5)
    assert abs(table.loc["empty", "change"]) < 1e-6


def test_expression_readout_and_the_untrained_head(trained):
    pb = planted_pb()
    with pytest.raises(ValueError, match="objective='joint'"):
        scget.tl.insert_elements(pb, trained, elements=ELEMENTS, group="A", n_sites=2)
    assert "insert_elements" not in pb.uns.get("scget", {})
    table = scget.tl.insert_elements(
        pb, trained, elements=ELEMENTS, group="A", n_sites=3, readout="expression", device="cpu"
    )
    assert table["accessibility"].isna().all()
    np.testing.assert_array_equal(table["activity"], table["expression"])
    assert scget.get.params(pb, "insert_elements")["readout"] == "expression"
    fresh = planted_pb()
    copied = scget.tl.insert_elements(
        fresh, trained, elements=ELEMENTS, group="A", n_sites=3, readout="expression", copy=True
    )
    assert "scget" not in fresh.uns
    pd.testing.assert_frame_equal(scget.get.insert_elements(copied), table)


def test_bad_elements_are_refused_before_any_work(trained):
    pb = planted_pb()
    with pytest.raises(
        KeyError, match="columns of the element scores are unknown motif clusters: 'NOPE'"
    ):
        scget.tl.insert_elements(
            pb, trained, elements=pd.DataFrame({"NOPE": [1.0]}), group="A", readout="expression"
        )
    long = pd.DataFrame({"sequence": ["A" * 501]}, index=["long"])
    with pytest.raises(ValueError, match=r"longer than the peaks \(500 bp\)"):
        scget.tl.insert_elements(pb, trained, elements=long, group="A", readout="expression")
    with pytest.raises(KeyError, match="Unknown group 'Z'"):
        scget.tl.insert_elements(pb, trained, elements=ELEMENTS, group="Z", readout="expression")
    with pytest.raises(ValueError, match="n_sites must be a positive integer"):
        scget.tl.insert_elements(
            pb, trained, elements=ELEMENTS, group="A", n_sites=0, readout="expression"
        )
    assert "insert_elements" not in pb.uns.get("scget", {})


def _one_hot(consensus: str) -> np.ndarray:
    return np.array([[float(base == b) for b in "ACGT"] for base in consensus])


def test_an_element_scores_as_a_peak_with_its_sequence(tmp_path):
    rng = np.random.default_rng(0)
    motif_seqs = {"m1": "TGACTCAT", "m2": "CACGTGAC", "m3": "GGGAATTTCC"}
    collection = MotifCollection(
        {k: _one_hot(v) for k, v in motif_seqs.items()},
        pd.DataFrame({"name": ["A", "B", "C"], "cluster": ["X", "X", "Y"]}, index=list(motif_seqs)),
    )
    chrom = list(rng.choice(list("ACGT"), 3000))
    for start, motif in ((120, "TGACTCAT"), (700, "CACGTGAC"), (1300, "GGGAATTTCC")):
        chrom[start : start + len(motif)] = motif
    chrom = "".join(chrom)
    fasta = tmp_path / "genome.fa"
    fasta.write_text(">chr1\n" + chrom + "\n")
    starts = np.arange(0, 2500, 250)
    names = [f"chr1:{s}-{s + 300}" for s in starts]
    atac = ad.AnnData(np.ones((1, len(names)), np.float32), var=pd.DataFrame(index=names))
    pb = md.MuData({"atac": atac})
    scget.pp.scan_motifs(pb, str(fasta), motifs=collection, n_jobs=1)
    peaks = pb["atac"].varm["motif_scores"]
    assert peaks.to_numpy().max() == 1.0 and (peaks.to_numpy() < 1).any()
    features = list(peaks.columns)

    sequences = pd.DataFrame({"sequence": [chrom[s : s + 300] for s in starts]}, index=names)
    given = element_scores(pb, sequences, features=features, motifs=collection)
    np.testing.assert_array_equal(given.to_numpy(), peaks.to_numpy())

    elements_fa = tmp_path / "elements.fa"
    elements_fa.write_text(
        "".join(f">{n}\n{chrom[s : s + 300]}\n" for n, s in zip(names, starts, strict=True))
    )
    from_fasta = element_scores(pb, elements_fa, features=features, motifs=collection)
    np.testing.assert_array_equal(from_fasta.to_numpy(), peaks.to_numpy())
    assert list(from_fasta.index) == names

    coords = pd.DataFrame({"chrom": "chr1", "start": starts, "end": starts + 300}, index=names)
    with pytest.raises(ValueError, match="need a genome"):
        element_scores(pb, coords, features=features, motifs=collection)
    from_genome = element_scores(pb, coords, features=features, genome=fasta, motifs=collection)
    np.testing.assert_array_equal(from_genome.to_numpy(), peaks.to_numpy())

    # a shorter element with one motif scores that motif's peak-scale value
    short = pd.DataFrame({"sequence": ["CCCC" + motif_seqs["m3"] + "CCCC"]}, index=["e"])
    scored = element_scores(pb, short, features=features, motifs=collection)
    assert scored.loc["e", "X"] == 0.0
    top = scget.get.result(pb, "motifs")["max_score"]["Y"]
    assert scored.loc["e", "Y"] == pytest.approx(min(np.log(1.0025 / 1.01 / 0.25) * 10 / top, 1))


def test_two_scans_under_two_keys_rescan_each_as_it_was_scanned(tmp_path):
    rng = np.random.default_rng(1)
    motif_seqs = {"m1": "TGACTCAT", "m2": "GGGAATTTCC"}
    collection = MotifCollection(
        {k: _one_hot(v) for k, v in motif_seqs.items()},
        pd.DataFrame({"name": ["A", "B"], "cluster": ["X", "Y"]}, index=list(motif_seqs)),
    )
    chrom = list(rng.choice(list("ACGT"), 2000))
    for start, motif in ((100, "TGACTCAT"), (400, "TGACTCAT"), (900, "GGGAATTTCC")):
        chrom[start : start + len(motif)] = motif
    chrom = "".join(chrom)
    fasta = tmp_path / "genome.fa"
    fasta.write_text(">chr1\n" + chrom + "\n")
    starts = np.arange(0, 1800, 200)
    names = [f"chr1:{s}-{s + 300}" for s in starts]
    atac = ad.AnnData(np.ones((1, len(names)), np.float32), var=pd.DataFrame(index=names))
    pb = md.MuData({"atac": atac})
    scget.pp.scan_motifs(pb, str(fasta), motifs=collection, n_jobs=1)
    scget.pp.scan_motifs(
        pb, str(fasta), motifs=collection, n_jobs=1, normalize=False, key_added="raw"
    )
    normalised, raw = pb["atac"].varm["motif_scores"], pb["atac"].varm["raw"]
    assert raw.to_numpy().max() > 1.0 >= normalised.to_numpy().max()
    assert scget.get.params(pb, "motifs")["normalize"] is True
    assert scget.get.params(pb, "motifs_raw")["normalize"] is False

    sequences = pd.DataFrame({"sequence": [chrom[s : s + 300] for s in starts]}, index=names)
    features = list(normalised.columns)
    for key, stored in (("motif_scores", normalised), ("raw", raw)):
        rescanned = element_scores(
            pb, sequences, features=features, motifs=collection, motif_key=key
        )
        np.testing.assert_array_equal(rescanned.to_numpy(), stored.to_numpy())
    with pytest.raises(KeyError, match="key_added='other'"):
        element_scores(pb, sequences, features=features, motifs=collection, motif_key="other")


@pytest.mark.slow
def test_sharded_over_ranks_equals_one_process(trained, tmp_path):
    import torch.multiprocessing as mp
    from _insert_worker import insert_two_elements, sharded_insertion

    port = free_port()
    trained.save(tmp_path / "model")
    mp.spawn(sharded_insertion, args=(2, port, str(tmp_path / "model"), str(tmp_path)), nprocs=2)
    alone = insert_two_elements(trained)
    for rank in range(2):
        pd.testing.assert_frame_equal(pd.read_pickle(tmp_path / f"insertion{rank}.pkl"), alone)
