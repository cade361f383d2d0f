"""scget.pp.pseudobulk: hand-computed values, sparse/backed input, errors, round trips."""

from __future__ import annotations

import math

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import scget

RNA_COUNTS = np.array(
    [
        [1, 2, 0],
        [3, 0, 1],
        [0, 5, 5],
        [2, 2, 2],
        [4, 0, 0],
    ],
    dtype=np.float32,
)
ATAC_COUNTS = np.array(
    [
        [1, 0, 2],
        [0, 3, 0],
        [2, 2, 0],
        [1, 1, 1],
        [7, 0, 0],
    ],
    dtype=np.float32,
)
PEAKS = ["chr1:100-200", "chr1:300-400", "chr2:50-90"]
CELLS = [f"cell{i}" for i in range(5)]


def small_multiome(*, sparse: bool = True) -> md.MuData:
    """Five cells: two of type x, two of y, one of z (sample s1/s2 for cell type x sample)."""
    convert = sp.csr_matrix if sparse else np.asarray
    obs = pd.DataFrame(index=CELLS)
    rna = ad.AnnData(convert(RNA_COUNTS), obs=obs, var=pd.DataFrame(index=["G1", "G2", "G3"]))
    atac = ad.AnnData(convert(ATAC_COUNTS), obs=obs.copy(), var=pd.DataFrame(index=PEAKS))
    mdata = md.MuData({"rna": rna, "atac": atac})
    mdata.obs["cell_type"] = pd.Categorical(["x", "x", "y", "y", "z"])
    mdata.obs["sample"] = ["s1", "s2", "s1", "s1", "s2"]
    return mdata


def hand_accessibility(counts: list[float]) -> list[float]:
    scores = [math.log10(c / sum(counts) * 1e5 + 1) for c in counts]
    return [s / max(scores) for s in scores]


def hand_log_tpm(counts: list[float]) -> list[float]:
    return [math.log10(c / sum(counts) * 1e6 + 1) for c in counts]


@pytest.mark.parametrize("sparse", [True, False])
def test_values_equal_hand_computation(sparse):
    pb = scget.pp.pseudobulk(small_multiome(sparse=sparse), "cell_type", min_cells=2)
    assert list(pb.obs_names) == ["x", "y"]  # z has one cell: dropped
    # group x = cells 0, 1; group y = cells 2, 3
    np.testing.assert_array_equal(pb["atac"].layers["counts"], [[1, 3, 2], [3, 3, 1]])
    np.testing.assert_array_equal(pb["rna"].layers["counts"], [[4, 2, 1], [2, 7, 7]])
    np.testing.assert_allclose(pb["atac"].X[0], hand_accessibility([1, 3, 2]), rtol=1e-6)
    np.testing.assert_allclose(pb["atac"].X[1], hand_accessibility([3, 3, 1]), rtol=1e-6)
    np.testing.assert_allclose(pb["rna"].X[0], hand_log_tpm([4, 2, 1]), rtol=1e-6)
    np.testing.assert_allclose(pb["rna"].X[1], hand_log_tpm([2, 7, 7]), rtol=1e-6)
    assert pb["atac"].X.dtype == np.float32 and isinstance(pb["atac"].X, np.ndarray)
    assert pb.obs["n_cells"].tolist() == [2, 2]
    assert pb.obs["n_fragments"].tolist() == [6, 7]
    assert pb.obs["n_counts"].tolist() == [7, 16]
    assert pb["atac"].var["chrom"].tolist() == ["chr1", "chr1", "chr2"]
    assert pb["atac"].var["start"].tolist() == [100, 300, 50]
    assert pb["atac"].var["end"].tolist() == [200, 400, 90]
    table = scget.get.result(pb, "pseudobulk")
    assert table.loc["z", "kept"] == np.False_ and table.loc["z", "n_cells"] == 1


def test_cell_type_by_sample_groups():
    pb = scget.pp.pseudobulk(small_multiome(), ["cell_type", "sample"], min_cells=1)
    assert list(pb.obs_names) == ["x_s1", "x_s2", "y_s1", "z_s2"]
    np.testing.assert_array_equal(pb["atac"].layers["counts"][2], [3, 3, 1])
    assert pb.obs.loc["x_s2", "n_counts"] == 4
    assert pb.obs["sample"].tolist() == ["s1", "s2", "s1", "s2"]


def test_dropped_groups_are_logged(scget_log):
    scget.pp.pseudobulk(small_multiome(), "cell_type", min_cells=2)
    assert "'z' dropped" in scget_log.text


def test_barcodes_matched_and_mismatches_reported(scget_log):
    mdata = small_multiome()
    rna = mdata["rna"][[4, 3, 2, 1, 0]].copy()  # reversed order: matched by barcode
    atac = mdata["atac"][[0, 1, 2, 3]].copy()  # cell4 has no ATAC
    atac.obs_names = [*CELLS[:3], "other"]  # cell3 renamed: no RNA partner
    shuffled = md.MuData({"rna": rna, "atac": atac})
    shuffled.obs["cell_type"] = pd.Series(["x", "x", "y", "y", "z", "y"], index=[*CELLS, "other"])
    pb = scget.pp.pseudobulk(shuffled, "cell_type", min_cells=1)
    assert "2 cell(s) only in 'rna' and 1 only in 'atac'" in scget_log.text
    assert list(pb.obs_names) == ["x", "y"]
    np.testing.assert_array_equal(pb["atac"].layers["counts"], [[1, 3, 2], [2, 2, 0]])
    np.testing.assert_array_equal(pb["rna"].layers["counts"], [[4, 2, 1], [0, 5, 5]])
    assert pb.obs["n_cells"].tolist() == [2, 1]


def test_labels_from_a_modality_and_missing_labels():
    mdata = small_multiome()
    mdata["rna"].obs["label"] = ["x", None, "x", "y", "y"]
    pb = scget.pp.pseudobulk(mdata, "label", min_cells=1)
    assert pb.obs["n_cells"].tolist() == [2, 2]
    np.testing.assert_array_equal(pb["rna"].layers["counts"][0], [1, 7, 5])


@pytest.mark.parametrize("sparse", [True, False])
def test_backed_matches_in_memory(tmp_path, sparse):
    mdata = small_multiome(sparse=sparse)
    mdata.write_h5mu(tmp_path / "cells.h5mu")
    backed = md.read_h5mu(tmp_path / "cells.h5mu", backed=True)
    assert backed["atac"].isbacked
    in_memory = scget.pp.pseudobulk(mdata, "cell_type", min_cells=1)
    on_disk = scget.pp.pseudobulk(backed, "cell_type", min_cells=1, chunk_size=2)
    for mod in ("rna", "atac"):
        np.testing.assert_array_equal(
            on_disk[mod].layers["counts"], in_memory[mod].layers["counts"]
        )
        np.testing.assert_array_equal(on_disk[mod].X, in_memory[mod].X)


def test_input_untouched_and_deterministic():
    mdata = small_multiome()
    before = (mdata.obs.copy(), mdata["atac"].X.copy(), list(mdata["atac"].var.columns))
    first = scget.pp.pseudobulk(mdata, "cell_type", min_cells=1)
    second = scget.pp.pseudobulk(mdata, "cell_type", min_cells=1)
    pd.testing.assert_frame_equal(mdata.obs, before[0])
    assert (mdata["atac"].X != before[1]).nnz == 0
    assert list(mdata["atac"].var.columns) == before[2]
    assert list(first.obs.columns) == list(second.obs.columns)
    np.testing.assert_array_equal(first["atac"].X, second["atac"].X)


def test_round_trip(tmp_path):
    pb = scget.pp.pseudobulk(small_multiome(), ["cell_type", "sample"], min_cells=1)
    pb.write_h5mu(tmp_path / "pb.h5mu")
    back = md.read_h5mu(tmp_path / "pb.h5mu")
    pd.testing.assert_frame_equal(back.obs, pb.obs)
    for mod in ("rna", "atac"):
        np.testing.assert_array_equal(back[mod].X, pb[mod].X)
        np.testing.assert_array_equal(back[mod].layers["counts"], pb[mod].layers["counts"])
        pd.testing.assert_frame_equal(back[mod].var, pb[mod].var)
    assert scget.get.params(back, "pseudobulk")["groupby"] == ["cell_type", "sample"]
    assert scget.get.result(back, "pseudobulk")["kept"].all()


def test_large_sums_stay_exact():
    mdata = small_multiome()
    mdata["rna"].X = sp.csr_matrix(np.full(RNA_COUNTS.shape, 2**24 + 1, dtype=np.float64))
    pb = scget.pp.pseudobulk(mdata, "cell_type", min_cells=1)
    assert pb["rna"].layers["counts"].dtype == np.float64
    assert pb["rna"].layers["counts"][2, 0] == 2**24 + 1


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda m: None, KeyError, "groupby column 'missing'"),
        (
            lambda m: setattr(m["atac"], "var_names", ["a", "b", "c"]),
            ValueError,
            "cannot be parsed",
        ),
        (lambda m: m["rna"].X.data.__setitem__(0, 0.5), ValueError, "non-integer"),
        (lambda m: m["atac"].X.data.__setitem__(0, -1), ValueError, "negative"),
    ],
)
def test_bad_input(change, error, message):
    mdata = small_multiome()
    change(mdata)
    groupby = "missing" if message.startswith("groupby") else "cell_type"
    with pytest.raises(error, match=message):
        scget.pp.pseudobulk(mdata, groupby, min_cells=1)


def test_no_group_large_enough():
    with pytest.raises(ValueError, match="No group has min_cells=50"):
        scget.pp.pseudobulk(small_multiome(), "cell_type", min_cells=50)


def test_no_shared_barcode():
    mdata = small_multiome()
    mdata.mod["atac"].obs_names = [f"other{i}" for i in range(5)]
    mdata.update()
    with pytest.raises(ValueError, match="No barcode is shared"):
        scget.pp.pseudobulk(mdata, "cell_type", min_cells=1)


@pytest.mark.realdata
def test_pbmc_clusters(pbmc):
    mdata, _ = pbmc
    pb = scget.pp.pseudobulk(mdata, "cluster", min_cells=50)
    assert pb.n_obs == 5 and pb.obs["n_cells"].sum() == 1000
    labels = mdata.obs["cluster"]
    for mod in ("rna", "atac"):
        by_hand = mdata[mod].to_df().groupby(labels.to_numpy(), observed=True).sum()
        np.testing.assert_array_equal(pb[mod].layers["counts"], by_hand.loc[pb.obs_names])
    expression = pb["rna"].to_df()
    accessibility = pb["atac"].to_df()
    monocytes = expression["LYZ"].idxmax()
    b_cells = expression["MS4A1"].idxmax()
    assert monocytes.startswith("LYZ") and b_cells.startswith("MS4A1")
    cd14_promoter = "chr5:140630939-140633835"
    assert accessibility.loc[monocytes, cd14_promoter] > accessibility.loc[b_cells, cd14_promoter]


def test_empty_categories_are_skipped(scget_log):
    mdata = small_multiome()
    mdata.obs["cell_type"] = mdata.obs["cell_type"].cat.add_categories(["unused"])
    pb = scget.pp.pseudobulk(mdata, "cell_type", min_cells=1)
    assert list(pb.obs_names) == ["x", "y", "z"]
    assert "categories without cells are skipped: ['unused']" in scget_log.text


def _set_value(mod: str, value: float):
    """A change writing ``value`` into the first cell of ``mod`` (sparse or dense)."""

    def change(mdata):
        matrix = mdata[mod].X.copy()  # dense matrices share the module's arrays
        if sp.issparse(matrix):
            matrix.data[0] = value
        else:
            matrix[0, 0] = value
        mdata[mod].X = matrix

    return change


@pytest.mark.parametrize("sparse", [True, False])
@pytest.mark.parametrize(("mod", "value"), [("rna", np.inf), ("atac", np.nan), ("atac", -np.inf)])
def test_non_finite_counts_raise_counting_them(sparse, mod, value):
    mdata = small_multiome(sparse=sparse)
    _set_value(mod, value)(mdata)
    with pytest.raises(ValueError, match=rf'mdata\["{mod}"\]\.X.* holds 1 non-finite value'):
        scget.pp.pseudobulk(mdata, "cell_type", min_cells=1)


@pytest.mark.parametrize(
    ("subset", "message"),
    [
        (lambda m: m[:0].copy(), r"mdata\['rna'\] is empty \(0 cells x 3 genes\)"),
        (lambda m: m[:, ["G1", "G2"]].copy(), r"mdata\[.atac.\] is empty \(5 cells x 0 peaks"),
    ],
)
def test_empty_modalities_raise(subset, message):
    with pytest.raises(ValueError, match=message):
        scget.pp.pseudobulk(subset(small_multiome()), "cell_type", min_cells=1)


def test_empty_string_labels_raise():
    mdata = small_multiome()
    mdata.obs["cell_type"] = ["x", "", "y", " ", "z"]
    with pytest.raises(ValueError, match="2 cell\\(s\\) have an empty label '' in groupby column"):
        scget.pp.pseudobulk(mdata, "cell_type", min_cells=1)


def test_labels_naming_the_same_group_raise_with_the_cause():
    mdata = small_multiome()
    mdata.obs["cell_type"] = pd.Series([1, "1", "y", "y", 2], index=CELLS, dtype=object)
    with pytest.raises(ValueError, match=r"mixes label types \(int, str\).*\[\(1,\), \('1',\)\]"):
        scget.pp.pseudobulk(mdata, "cell_type", min_cells=1)
    mdata.obs["cell_type"] = ["a_b", "a", "a", "y", "z"]
    mdata.obs["sample"] = ["c", "b_c", "b_c", "s", "s"]
    with pytest.raises(ValueError, match=r"with '_' .*\('a', 'b_c'\), \('a_b', 'c'\)"):
        scget.pp.pseudobulk(mdata, ["cell_type", "sample"], min_cells=1)


def _with_design(mdata):
    """Cells of samples s1 (control, batch a), s2 (treated, batch a), s3 (treated, b)."""
    mdata.obs["sample"] = ["s1", "s2", "s1", "s3", "s2"]
    mdata.obs["condition"] = pd.Categorical(
        ["control", "treated", "control", "treated", "treated"], categories=["control", "treated"]
    )
    mdata.obs["batch"] = ["a", "a", "a", "b", "a"]
    mdata.obs["score"] = np.arange(5.0)  # per cell: not a sample-level covariate
    return mdata


def test_samples_make_pseudobulks_with_their_covariates(caplog):
    mdata = _with_design(small_multiome())
    with caplog.at_level("INFO", logger="scget"):
        pb = scget.pp.pseudobulk(mdata, groupby="cell_type", sample="sample", min_cells=1)
    assert list(pb.obs_names) == ["x_s1", "x_s2", "y_s1", "y_s3", "z_s2"]
    assert list(pb.obs.columns[:4]) == ["cell_type", "sample", "condition", "batch"]
    assert "score" not in pb.obs.columns
    assert pb.obs["condition"].tolist() == ["control", "treated", "control", "treated", "treated"]
    assert list(pb.obs["condition"].cat.categories) == ["control", "treated"]
    assert pb.obs["batch"].tolist() == ["a", "a", "a", "b", "a"]
    np.testing.assert_array_equal(pb["rna"].layers["counts"][0], RNA_COUNTS[0])  # x_s1
    params = scget.get.params(pb, "pseudobulk")
    assert params["groupby"] == ["cell_type"] and params["sample"] == "sample"
    assert params["covariates"] == ["condition", "batch"]
    # one sample per condition in x and y is said plainly
    assert "fewer than 2 samples" in caplog.text


def test_named_covariates_must_be_constant_within_samples():
    mdata = _with_design(small_multiome())
    pb = scget.pp.pseudobulk(
        mdata, groupby="cell_type", sample="sample", covariates=["condition"], min_cells=1
    )
    assert "batch" not in pb.obs.columns
    mdata.obs["condition"] = ["control", "treated", "treated", "treated", "treated"]
    with pytest.raises(ValueError, match="Sample 's1' has 2 values of covariate 'condition'"):
        scget.pp.pseudobulk(
            mdata, groupby="cell_type", sample="sample", covariates=["condition"], min_cells=1
        )
    with pytest.raises(KeyError, match="'donor' was not found"):
        scget.pp.pseudobulk(mdata, groupby="cell_type", sample="donor", min_cells=1)
    with pytest.raises(ValueError, match="other than groupby"):
        scget.pp.pseudobulk(mdata, groupby="cell_type", sample="cell_type", min_cells=1)
