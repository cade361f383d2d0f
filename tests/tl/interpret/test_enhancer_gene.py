"""enhancer_gene and export_enhancer_gene: the scores' definitions, storage, exports, errors."""

from __future__ import annotations

import math

import mudata as md
import numpy as np
import pandas as pd
import pytest

import scget
from scget.tl._interpret._enhancer_gene import METHODS, powerlaw_contact

KEYS = ["group", "gene", "peak"]


def _per_gene(frame: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    """``values`` divided by their sum over each (group, gene)'s rows."""
    sums = pd.Series(values).groupby([frame["group"].astype(str), frame["gene"].astype(str)])
    return values / sums.transform("sum").to_numpy()


def test_powerlaw_is_abcs_at_hand_computed_distances():
    # exp(5.9594510043736655 - 1.024238616787792 * ln(max(|d|, 5000) + 1))
    contact = powerlaw_contact(np.array([0, -4999, 5000, 20000, 250000]))
    expected = [0.06301440070086411] * 3 + [0.0152353849641055, 0.0011465059135262732]
    np.testing.assert_allclose(contact, expected, rtol=1e-12)
    assert math.isclose(contact[3], math.exp(5.9594510043736655) * 20001**-1.024238616787792)


def test_scores_follow_their_definitions(pb, trained):
    groups = ["A", "C"]
    scget.tl.region_importance(pb, trained, groups=groups, device="cpu")
    scget.tl.enhancer_gene(pb, trained, groups=groups, device="cpu", batch_size=8)
    table = scget.get.enhancer_gene(pb)
    assert list(table.columns) == [*KEYS, "distance", *METHODS]
    renamed = {"source": "peak", "target": "gene"}
    importance = scget.get.region_importance(pb).rename(columns=renamed)
    merged = table.merge(importance, on=KEYS, validate="one_to_one", suffixes=("", "_ri"))
    assert len(merged) == len(table) == len(importance)
    np.testing.assert_array_equal(merged["distance"], merged["distance_ri"])
    weight, access = merged["weight"].to_numpy(np.float64), merged["accessibility"].to_numpy()
    contact = np.exp(5.9594510043736655 - 1.024238616787792 * np.log(
        np.maximum(np.abs(merged["distance"].to_numpy()), 5000) + 1
    ))  # fmt: skip
    jacobian, abc = _per_gene(merged, weight * access), _per_gene(merged, access * contact)
    expected = {
        "jacobian": jacobian,
        "jacobian_powerlaw": _per_gene(merged, weight * contact),
        "jacobian_atac_powerlaw": _per_gene(merged, jacobian + abc),
        "abc": abc,
    }
    for method, values in expected.items():
        np.testing.assert_allclose(merged[method], values, rtol=1e-5, atol=1e-7, err_msg=method)
        sums = table.groupby(["group", "gene"], observed=True)[method].sum()
        np.testing.assert_allclose(sums, 1.0, rtol=1e-5)
    assert scget.get.enhancer_gene(pb, group="C", gene=table["gene"].iloc[-1]).shape[0] > 1


def test_abc_needs_no_model_and_takes_any_contact(pb, trained):
    scget.tl.enhancer_gene(pb, trained, device="cpu", methods="jacobian")
    with_model = scget.get.enhancer_gene(pb)
    scget.tl.enhancer_gene(pb, window_size=trained.window_size)
    alone = scget.get.enhancer_gene(pb)
    assert list(alone.columns) == [*KEYS, "distance", "abc"]
    pd.testing.assert_frame_equal(alone[KEYS], with_model[KEYS])
    access = pb["atac"].X[
        pb["atac"].obs_names.get_indexer(alone["group"]),
        pb["atac"].var_names.get_indexer(alone["peak"]),
    ]
    scget.tl.enhancer_gene(pb, window_size=trained.window_size, contact=lambda d: 1 / (d + 1.0))
    custom = scget.get.enhancer_gene(pb)
    distance = np.abs(custom["distance"].to_numpy())
    np.testing.assert_allclose(custom["abc"], _per_gene(custom, access / (distance + 1)), rtol=1e-5)
    assert scget.get.params(pb, "enhancer_gene")["contact"] == "<lambda>"


def test_exports_parse_back(pb, trained, tmp_path):
    scget.tl.enhancer_gene(pb, trained, groups=["B", "D"], device="cpu")
    table = scget.get.enhancer_gene(pb)
    kept = table[(table["group"] == "D") & (table["jacobian_powerlaw"] > 0.01)]
    peaks = pb["atac"].var.loc[kept["peak"].astype(str)]
    genes = pb["rna"].var.loc[kept["gene"].astype(str)]
    scget.tl.export_enhancer_gene(
        pb, tmp_path / "links.bedpe", method="jacobian_powerlaw", group="D", min_score=0.01
    )
    bedpe = pd.read_csv(tmp_path / "links.bedpe", sep="\t")
    assert bedpe.columns[0] == "#chrom1" and len(bedpe) == len(kept)
    np.testing.assert_array_equal(bedpe["start1"], peaks["start"])
    np.testing.assert_array_equal(bedpe["end1"], peaks["end"])
    np.testing.assert_array_equal(bedpe["start2"], genes["tss"])
    np.testing.assert_array_equal(bedpe["end2"], genes["tss"] + 1)
    np.testing.assert_array_equal(bedpe["strand2"], genes["strand"])
    np.testing.assert_allclose(bedpe["score"], kept["jacobian_powerlaw"], rtol=1e-6)
    assert set(bedpe["group"]) == {"D"} and list(bedpe["name"]) == list(kept["gene"])
    scget.tl.export_enhancer_gene(pb, tmp_path / "links.tsv", format="abc")
    abc = pd.read_csv(tmp_path / "links.tsv", sep="\t")
    assert list(abc.columns[:8]) == [
        "chr", "start", "end", "name", "TargetGene", "TargetGeneTSS", "CellType", "Score"
    ]  # fmt: skip
    positive = table[table["jacobian"] > 0]
    assert len(abc) == len(positive) and set(abc["method"]) == {"jacobian"}
    np.testing.assert_array_equal(abc["name"], positive["peak"].astype(str))
    np.testing.assert_array_equal(abc["CellType"], positive["group"].astype(str))
    np.testing.assert_allclose(abc["Score"], positive["jacobian"], rtol=1e-6)


def test_enhancer_gene_survives_h5mu_and_copy_leaves_the_data(pb, trained, tmp_path):
    copied = scget.tl.enhancer_gene(pb, trained, groups=["A"], device="cpu", copy=True)
    assert "scget" not in pb.uns
    copied.write_h5mu(tmp_path / "pb.h5mu")
    back = md.read_h5mu(tmp_path / "pb.h5mu")
    pd.testing.assert_frame_equal(scget.get.enhancer_gene(back), scget.get.enhancer_gene(copied))
    assert scget.get.params(back, "enhancer_gene")["methods"] == list(METHODS)


def test_bad_enhancer_gene_input_is_rejected_before_any_work(pb, trained, tmp_path):
    with pytest.raises(ValueError, match=r"Unknown methods \['ABC'\]"):
        scget.tl.enhancer_gene(pb, trained, methods=["ABC"], device="cpu")
    with pytest.raises(ValueError, match="need a trained model"):
        scget.tl.enhancer_gene(pb, methods=["abc", "jacobian"])
    with pytest.raises(TypeError, match="function of the distance"):
        scget.tl.enhancer_gene(pb, contact=2.0)
    with pytest.raises(ValueError, match="one finite nonnegative value"):
        scget.tl.enhancer_gene(pb, contact=lambda d: -d)
    with pytest.raises(KeyError, match="Unknown genes"):
        scget.tl.enhancer_gene(pb, trained, genes=["nope"], device="cpu")
    with pytest.raises(KeyError, match="enhancer_gene"):
        scget.tl.export_enhancer_gene(pb, tmp_path / "x.bedpe")
    assert "scget" not in pb.uns or not pb.uns["scget"]
    scget.tl.enhancer_gene(pb)
    with pytest.raises(ValueError, match="was not computed"):
        scget.tl.export_enhancer_gene(pb, tmp_path / "x.bedpe", method="jacobian")
    with pytest.raises(ValueError, match="format must be"):
        scget.tl.export_enhancer_gene(pb, tmp_path / "x.bedpe", format="bed")
    with pytest.raises(ValueError, match="has no rows"):
        scget.get.enhancer_gene(pb, group="Z")
    assert not (tmp_path / "x.bedpe").exists()
