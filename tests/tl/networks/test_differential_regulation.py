"""differential_regulation: scores and tests against hand computations, planted shifts,
storage, and bad designs refused before any model runs."""

from __future__ import annotations

import mudata
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from _replicates import MOTIFS, replicate_pb
from statsmodels.stats.multitest import multipletests

import scget
from scget._shared.constants import GENE_BY_MOTIF_KEY, PSEUDOBULK_KEY, group_slot
from scget._shared.storage import read_params, write_result
from scget.tl._networks import _differential_regulation as _differential


@pytest.fixture
def pb():
    return replicate_pb()


def _strength(pb, group: str) -> tuple[list[str], list[pd.DataFrame], pd.DataFrame]:
    """The group's pseudobulks, their attributions and the mean |attribution| per gene."""
    names = [n for n in pb.obs_names if n.startswith(f"{group}_")]
    frames = [pb["rna"].varm[group_slot(GENE_BY_MOTIF_KEY, n)][MOTIFS] for n in names]
    return names, frames, sum(f.abs() for f in frames) / len(frames)


def test_motif_scores_and_tests_match_a_hand_computation(pb):
    table = scget.tl.differential_regulation(
        pb, "condition", on="gene_by_motif", n_targets=5, groups=["B"]
    )
    names, frames, strength = _strength(pb, "B")
    x = sm.add_constant((pb.obs.loc[names, "condition"] == "treated").to_numpy(float))
    pvalues = []
    for motif in MOTIFS:
        targets = strength[motif].nlargest(5).index
        y = np.array([f.loc[targets, motif].mean() for f in frames])
        fit = sm.OLS(y, x).fit()
        row = table[table["source"] == motif].iloc[0]
        assert row["effect"] == pytest.approx(fit.params[1], rel=1e-5)
        assert row["se"] == pytest.approx(fit.bse[1], rel=1e-5)
        assert row["stat"] == pytest.approx(fit.tvalues[1], rel=1e-5)
        assert row["pvalue"] == pytest.approx(fit.pvalues[1], rel=1e-5)
        assert row["mean_reference"] == pytest.approx(y[:3].mean(), rel=1e-5)
        pvalues.append(fit.pvalues[1])
    np.testing.assert_allclose(table["padj"], multipletests(pvalues, method="fdr_bh")[1])
    assert set(table["contrast"]) == {"treated_vs_control"}
    assert list(table.columns) == [
        "group", "source", "contrast", "effect", "se", "stat", "pvalue", "padj", "mean_reference",
    ]  # fmt: skip


def test_weights_and_covariates_are_the_statsmodels_wls_fit(pb):
    table = scget.tl.differential_regulation(
        pb,
        "condition",
        on="gene_by_motif",
        groups=["A"],
        covariates=["batch"],
        weights="n_cells",
        n_targets=5,
    )
    names = [n for n in pb.obs_names if n.startswith("A_")]
    obs = pb.obs.loc[names]
    frames = [pb["rna"].varm[group_slot(GENE_BY_MOTIF_KEY, n)]["M3"] for n in names]
    strength = sum(f.abs() for f in frames) / len(frames)
    targets = strength.nlargest(5).index
    y = np.array([f.loc[targets].mean() for f in frames])
    x = np.column_stack(
        [np.ones(len(obs)), obs["condition"] == "treated", obs["batch"] == "b2"]
    ).astype(float)
    fit = sm.WLS(y, x, weights=obs["n_cells"].to_numpy(float)).fit()
    row = table[table["source"] == "M3"].iloc[0]
    assert row["stat"] == pytest.approx(fit.tvalues[1], rel=1e-5)
    assert row["pvalue"] == pytest.approx(fit.pvalues[1], rel=1e-5)


def test_the_planted_shift_is_found_and_nothing_else(pb):
    table = scget.tl.differential_regulation(pb, "condition", on="gene_by_motif", n_targets=10)
    called = table[table["padj"] < 0.05]
    assert called[["group", "source"]].values.tolist() == [["A", "M0"]]
    assert called["effect"].iloc[0] == pytest.approx(1.0, abs=0.15)
    # the reference flips the sign
    flipped = scget.tl.differential_regulation(
        pb, "condition", on="gene_by_motif", reference="treated", n_targets=10
    )
    np.testing.assert_allclose(flipped["effect"], -table["effect"], rtol=1e-6)
    assert set(flipped["contrast"]) == {"control_vs_treated"}


def test_a_single_motif_is_tested_alone(pb):
    table = scget.tl.differential_regulation(pb, "condition", motifs=["M0"], n_targets=10)
    assert table["source"].tolist() == ["M0", "M0"]
    whole = scget.tl.differential_regulation(pb, "condition", n_targets=10)
    np.testing.assert_allclose(table["stat"], whole.loc[whole["source"] == "M0", "stat"])


def test_gene_level_tests_each_motif_target(pb):
    table = scget.tl.differential_regulation(
        pb, "condition", on="gene_by_motif", level="gene", n_targets=10
    )
    assert len(table) == 2 * len(MOTIFS) * 10
    assert {"source", "target"} <= set(table.columns)
    called = table[table["padj"] < 0.05]
    planted = (called["group"] == "A") & (called["source"] == "M0")
    assert planted.sum() >= 8 and planted.mean() >= 0.8  # BH 0.05 allows a stray call
    assert set(called.loc[planted, "target"]) <= {f"g{i:02d}" for i in range(10)}


def test_target_expression_is_the_signed_mean_expression_of_the_attributed_targets(pb):
    table = scget.tl.differential_regulation(
        pb, "condition", on="target_expression", n_targets=5, groups=["B"]
    )
    names, frames, strength = _strength(pb, "B")
    sign = np.sign(sum(frames) / len(frames))  # the way each motif acts on each gene
    expression = pd.DataFrame(
        pb["rna"].X.astype(np.float64), index=pb.obs_names, columns=pb["rna"].var_names
    )
    x = sm.add_constant((pb.obs.loc[names, "condition"] == "treated").to_numpy(float))
    background = expression.loc[names].mean(axis=1).to_numpy()  # every gene of the pseudobulk
    for motif in MOTIFS:
        targets = strength[motif].nlargest(5).index
        relative = expression.loc[names, targets].to_numpy() - background[:, None]
        y = (relative * sign.loc[targets, motif].to_numpy()).mean(axis=1)
        fit = sm.OLS(y, x).fit()
        row = table[table["source"] == motif].iloc[0]
        assert row["effect"] == pytest.approx(fit.params[1], rel=1e-5)
        assert row["pvalue"] == pytest.approx(fit.pvalues[1], rel=1e-5)
        assert row["mean_reference"] == pytest.approx(y[:3].mean(), rel=1e-5)


def test_target_expression_finds_the_planted_change_of_the_targets(pb):
    table = scget.tl.differential_regulation(pb, "condition", on="target_expression", n_targets=10)
    top = table.loc[table["effect"].abs().idxmax()]
    assert (top["group"], top["source"]) == ("A", "M0")
    assert top["pvalue"] == table["pvalue"].min()
    # log10 fold change of the targets beyond the mean of the 60 genes (10 rose by 0.5)
    assert top["effect"] == pytest.approx(0.5 - 0.5 / 6, abs=0.05)
    # other motifs of A: their noisy targets' changes, each signed by the motif's
    # (random) mean attribution: +0.5 for a changed gene, -0.5 / 6 for every gene
    _, frames, strength = _strength(pb, "A")
    sign = np.sign(sum(frames) / len(frames))
    changed = np.array([f"g{i:02d}" for i in range(10)])
    for motif in MOTIFS:
        targets = strength[motif].nlargest(10).index
        signs = sign.loc[targets, motif].to_numpy()
        expected = (0.5 * signs[targets.isin(changed)].sum() - 0.5 / 6 * signs.sum()) / 10
        row = table[(table["group"] == "A") & (table["source"] == motif)].iloc[0]
        assert row["effect"] == pytest.approx(expected, abs=0.04)
    # in B nothing changed: no effect is a tenth of the planted one
    assert table.loc[table["group"] == "B", "effect"].abs().max() < 0.05
    genes = scget.tl.differential_regulation(
        pb, "condition", on="target_expression", level="gene", n_targets=10, groups=["A"]
    )
    planted = genes[(genes["source"] == "M0") & (genes["padj"] < 0.05)]
    assert set(planted["target"]) == {f"g{i:02d}" for i in range(10)}
    assert (planted["effect"] > 0).all()
    assert scget.get.params(pb, "differential_regulation")["on"] == "target_expression"


def test_target_expression_reads_a_repressor_whose_targets_rise_as_less_active(pb):
    """The effect is the regulator's activity: its targets' change signed by how it acts."""
    activator = scget.tl.differential_regulation(
        pb, "condition", on="target_expression", n_targets=10, groups=["A"]
    ).set_index("source")
    for name in pb.obs_names:  # the model now says M0 represses its targets
        slot = pb["rna"].varm[group_slot(GENE_BY_MOTIF_KEY, name)]
        slot["M0"] = -slot["M0"]
    repressor = scget.tl.differential_regulation(
        pb, "condition", on="target_expression", n_targets=10, groups=["A"]
    ).set_index("source")
    assert activator.loc["M0", "effect"] == pytest.approx(0.5 - 0.5 / 6, abs=0.05)
    assert repressor.loc["M0", "effect"] == pytest.approx(-activator.loc["M0", "effect"])
    assert repressor.loc["M0", "pvalue"] == pytest.approx(activator.loc["M0", "pvalue"])
    others = [m for m in MOTIFS if m != "M0"]
    np.testing.assert_allclose(repressor.loc[others, "effect"], activator.loc[others, "effect"])


def test_accessibility_deviations_match_a_hand_computation(pb):
    table = scget.tl.differential_regulation(pb, "condition", on="accessibility")
    counts = pd.DataFrame(
        pb["atac"].layers["counts"], index=pb.obs_names, columns=pb["atac"].var_names
    )
    weights = pb["atac"].varm["motif_scores"]
    names = [n for n in pb.obs_names if n.startswith("B_")]
    all_counts = counts.loc[names].sum(axis=0)  # the cell type's pseudobulks
    expected = (all_counts @ weights) / all_counts.sum()
    share = counts.loc[names] @ weights
    share = share.div(counts.loc[names].sum(axis=1), axis=0)
    deviation = np.log2(share / expected)
    treated = (pb.obs.loc[names, "condition"] == "treated").to_numpy()
    difference = deviation[treated].mean() - deviation[~treated].mean()
    rows = table[table["group"] == "B"].set_index("source")
    np.testing.assert_allclose(rows["effect"], difference[rows.index], rtol=1e-6)
    reference = deviation[~treated].mean()[rows.index]
    np.testing.assert_allclose(rows["mean_reference"], reference, rtol=1e-6)
    top = rows["pvalue"].idxmin()
    assert top == "M1" and rows.loc["M1", "effect"] > 0.3


def test_paired_samples_block_by_donor(pb):
    pb.obs["donor"] = pb.obs["sample"].astype(str).str[-1].astype("category")
    table = scget.tl.differential_regulation(
        pb, "condition", on="gene_by_motif", paired_by="donor", n_targets=10
    )
    called = table[table["padj"] < 0.05]
    assert called[["group", "source"]].values.tolist() == [["A", "M0"]]
    mixed = scget.tl.differential_regulation(
        pb,
        "condition",
        on="gene_by_motif",
        paired_by="donor",
        regression="mixed",
        n_targets=10,
        groups=["A"],
    )
    m0 = mixed[mixed["source"] == "M0"].iloc[0]
    assert m0["padj"] < 0.05 and m0["effect"] == pytest.approx(1.0, abs=0.15)


def test_the_table_is_stored_and_read_back(pb, tmp_path):
    table = scget.tl.differential_regulation(pb, "condition", covariates=["batch"], n_targets=10)
    path = tmp_path / "pb.h5mu"
    pb.write_h5mu(path)
    again = mudata.read_h5mu(path)
    pd.testing.assert_frame_equal(scget.get.differential_regulation(again), table)
    only = scget.get.differential_regulation(again, group="A", source="M0")
    assert len(only) == 1 and only["padj"].iloc[0] < 0.05
    params = scget.get.params(again, "differential_regulation")
    assert params["covariates"] == ["batch"] and params["reference"] == "control"
    stored = scget.get.params(again, "gene_by_motif").get("method", "gradient")
    assert params["attribution"] == stored  # which attributions were compared


@pytest.fixture
def no_model(monkeypatch):
    """Fail if a score is computed or a model fitted: bad designs must fail before."""

    def fail(*args, **kwargs):
        raise AssertionError("a score or model was computed before the design was checked")

    for name in ("target_scores", "accessibility_deviations", "fit_contrasts"):
        monkeypatch.setattr(_differential, name, fail)


def _drop(pb, keep):
    """The pseudobulks ``keep`` with their records (a subset, as after filtering)."""
    sub = pb[keep].copy()
    write_result(sub, PSEUDOBULK_KEY, sub.obs, read_params(pb, PSEUDOBULK_KEY))
    return sub


def test_an_unbalanced_design_is_said_and_tested(pb, caplog):
    keep = pb.obs_names[~pb.obs_names.isin(["A_trt3"])]
    with caplog.at_level("INFO", logger="scget"):
        table = scget.tl.differential_regulation(_drop(pb, keep), "condition", n_targets=10)
    assert "Group 'A': unbalanced samples per 'condition' {'control': 3, 'treated': 2}" in (
        caplog.text
    )
    in_a = table.loc[table["group"] == "A"].set_index("source")
    assert in_a["effect"].abs().idxmax() == "M0" and in_a.loc["M0", "padj"] < 0.01


def test_one_sample_per_condition_is_refused(pb, no_model):
    keep = pb.obs_names[pb.obs["sample"].isin(["ctrl1", "trt1"]).to_numpy()]
    with pytest.raises(ValueError, match=r"fewer than 2.*at least 2 samples of every condition"):
        scget.tl.differential_regulation(_drop(pb, keep), "condition")


def test_a_group_short_of_replicates_is_named_with_the_groups_that_can_be_tested(pb):
    keep = pb.obs_names[~pb.obs_names.isin(["B_trt2", "B_trt3"])]
    short = _drop(pb, keep)
    with pytest.raises(ValueError) as error:
        scget.tl.differential_regulation(short, "condition", on="accessibility")
    message = str(error.value)
    assert "'B' has {'control': 3, 'treated': 1}, ['treated'] fewer than 2" in message
    assert "'A' has" not in message and "groups=['A']" in message
    table = scget.tl.differential_regulation(short, "condition", on="accessibility", groups=["A"])
    assert set(table["group"]) == {"A"}


def test_a_covariate_confounded_with_the_condition_is_refused(pb, no_model):
    pb.obs["site"] = pb.obs["condition"].map({"control": "x", "treated": "y"})
    with pytest.raises(ValueError, match="'site' is confounded with 'condition'"):
        scget.tl.differential_regulation(pb, "condition", covariates=["site"])


def test_pseudobulks_without_samples_are_refused(pb, no_model):
    params = {**read_params(pb, PSEUDOBULK_KEY), "sample": None}
    write_result(pb, PSEUDOBULK_KEY, pb.obs, params)
    with pytest.raises(ValueError, match=r"without samples.*sample='<donor column>'"):
        scget.tl.differential_regulation(pb, "condition")


def test_a_missing_sample_column_is_named(pb, no_model):
    pb.obs = pb.obs.drop(columns="sample")
    with pytest.raises(KeyError, match=r"sample column .*'sample' is not a column of pb.obs"):
        scget.tl.differential_regulation(pb, "condition")


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"condition": "treatment"}, KeyError, "condition 'treatment' is not a column"),
        ({"reference": "vehicle"}, ValueError, "reference 'vehicle' is not a level"),
        ({"groups": ["Z"]}, ValueError, r"groups \['Z'\]"),
        ({"on": "knockout"}, ValueError, "on must be one of"),
        ({"on": "accessibility", "level": "gene"}, ValueError, 'needs on="gene_by_motif" or'),
        ({"regression": "mixed"}, ValueError, "needs paired_by"),
        ({"weights": "batch"}, ValueError, "must be positive numbers"),
        ({"n_targets": 0}, ValueError, "n_targets"),
    ],
)
def test_bad_arguments_are_refused(pb, no_model, arguments, error, match):
    arguments = {"condition": "condition", **arguments}
    with pytest.raises(error, match=match):
        scget.tl.differential_regulation(pb, **arguments)


def test_the_old_model_keyword_is_regression_behind_a_future_warning(pb, no_model):
    with (
        pytest.warns(FutureWarning, match="model= is renamed regression="),
        pytest.raises(ValueError, match='regression="mixed" needs paired_by'),
    ):
        scget.tl.differential_regulation(pb, "condition", model="mixed")


def test_a_sample_in_two_conditions_is_refused(pb, no_model):
    condition = pb.obs["condition"].astype(str).copy()
    condition.loc["B_ctrl1"] = "treated"
    pb.obs["condition"] = condition.astype("category")
    with pytest.raises(ValueError, match="Sample 'ctrl1' is in several conditions"):
        scget.tl.differential_regulation(pb, "condition")


def test_gene_by_motif_must_cover_every_tested_pseudobulk(pb, no_model):
    pb.uns["scget"][GENE_BY_MOTIF_KEY]["result"] = pb.uns["scget"][GENE_BY_MOTIF_KEY][
        "result"
    ].iloc[1:]
    with pytest.raises(ValueError, match="lacks 1 tested pseudobulk"):
        scget.tl.differential_regulation(pb, "condition")
