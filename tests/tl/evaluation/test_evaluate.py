import logging
from types import SimpleNamespace

import mudata as md
import numpy as np
import pandas as pd
import pytest
from _evaluation_pb import CHROMS, GENES_PER_CHROM, GROUPS, make_evaluation_pb
from _written import written_slots

import scget
from scget._shared.storage import write_result
from scget.tl._evaluation._evaluate import (
    METHODS,
    SETTING_METHODS,
    EvaluationParams,
    evaluated_predictions,
    resolve_split,
)
from scget.tl._evaluation._scoring import METRICS, PAIRED_METRICS, regression_metrics

FAST = dict(mlp_epochs=1)
CHR3 = {"test_chromosomes": ["chr3"], "leave_out_groups": []}


@pytest.fixture(scope="module")
def pb_evaluated():
    pb = make_evaluation_pb()
    split = {"test_chromosomes": ["chr3"], "leave_out_groups": ["D"]}
    table = scget.tl.evaluate(pb, split=split, **FAST)
    return pb, table


def _expected_genes(group, test_chroms, left_out):
    chroms = CHROMS if group in left_out else test_chroms
    genes = {f"g{CHROMS.index(c) + 1}_{i}" for c in chroms for i in range(GENES_PER_CHROM)}
    if group == "A" and "chr3" in chroms:
        genes.discard("g3_0")  # its TSS peak has no counts in A
    return genes


@pytest.mark.parametrize(
    ("test_chroms", "left_out"),
    [(["chr3"], []), ([], ["D"]), (["chr3"], ["D"]), (["chr1", "chr3"], ["A"])],
)
def test_evaluated_genes_are_held_out_with_accessible_promoters(test_chroms, left_out):
    pb = make_evaluation_pb()
    split = {"test_chromosomes": test_chroms, "leave_out_groups": left_out}
    scget.tl.evaluate(pb, split=split, methods=["GET", "TSS accessibility"])
    points = scget.get.evaluated_genes(pb, method="TSS accessibility")
    for group in GROUPS:
        genes = set(points.loc[points["group"] == group, "gene"])
        expected = _expected_genes(group, test_chroms, left_out)
        assert genes == expected, group


def _genes_on(*chroms):
    return {f"g{CHROMS.index(c) + 1}_{i}" for c in chroms for i in range(GENES_PER_CHROM)}


def test_each_setting_scores_its_groups_and_genes():
    pb = make_evaluation_pb()
    split = resolve_split(
        pb,
        split={
            "test_chromosomes": ["chr3"],
            "valid_chromosomes": ["chr2"],
            "leave_out_groups": ["D"],
        },
    )
    result = evaluated_predictions(pb, EvaluationParams(split=split, methods=["GET"]))
    expected = {
        "held-out group": {"D": _genes_on("chr1")},  # training chromosomes only, not chr2
        "held-out chromosome": {g: _genes_on("chr3") for g in "ABC"},
        "held-out both": {"D": _genes_on("chr3")},
    }
    expected["held-out chromosome"]["A"].discard("g3_0")  # its TSS peak has no counts in A
    assert set(result.settings) == set(expected)
    for setting, mask in result.settings.items():
        got = {g: set(result.genes[mask[row]]) for row, g in enumerate(GROUPS) if mask[row].any()}
        assert got == expected[setting], setting
    only_groups = resolve_split(pb, split={"leave_out_groups": ["D"]})
    params = EvaluationParams(split=only_groups, methods=["GET"])
    assert set(evaluated_predictions(pb, params).settings) == {"held-out group"}


def test_table_columns_methods_and_same_genes(pb_evaluated):
    pb, table = pb_evaluated
    assert list(table.columns) == ["group", "setting", "method", *METRICS, "n_genes", "reason"]
    assert set(table["method"]) == set(METHODS)
    for setting, rows in table.groupby("setting"):
        assert set(rows["method"]) == set(SETTING_METHODS[setting]), setting
    assert table.groupby(["group", "setting"])["n_genes"].nunique().eq(1).all()
    n_genes = table.groupby(["setting", "group"])["n_genes"].first().to_dict()
    assert n_genes == {
        ("held-out chromosome", "A"): 5,
        ("held-out chromosome", "B"): 6,
        ("held-out chromosome", "C"): 6,
        ("held-out both", "D"): 6,
        ("held-out group", "D"): 12,
    }
    get = table[table["method"] == "GET"].set_index("group")
    assert (get["pearson"] > 0.99).all()
    assert get["slope"].to_numpy() == pytest.approx(1, abs=0.1)
    pd.testing.assert_frame_equal(scget.get.evaluation(pb), table)
    assert scget.get.params(pb, "evaluation")["split"]["test_chromosomes"] == ["chr3"]


def test_get_metrics_match_a_direct_computation(pb_evaluated):
    pb, table = pb_evaluated
    observed = pb["rna"].X[1]
    predicted = pb["rna"].layers["get_pred"][1]
    genes = [f"g3_{i}" for i in range(GENES_PER_CHROM)]
    idx = pb["rna"].var_names.get_indexer(genes)
    expected = regression_metrics(observed[idx], predicted[idx])
    row = table[(table["group"] == "B") & (table["method"] == "GET")].iloc[0]
    np.testing.assert_allclose(row[list(PAIRED_METRICS)].astype(float), expected)


def test_mean_training_expression_of_left_out_group_matches_hand_value(pb_evaluated):
    pb, table = pb_evaluated
    idx = pb["rna"].var_names.get_indexer([f"g3_{i}" for i in range(GENES_PER_CHROM)])
    observed = pb["rna"].X[:, idx].astype(float)
    expected = regression_metrics(observed[3], observed[:3].mean(axis=0))
    row = table[
        (table["group"] == "D")
        & (table["setting"] == "held-out both")
        & (table["method"] == "mean training expression")
    ]
    np.testing.assert_allclose(row[list(PAIRED_METRICS)].to_numpy(float)[0], expected)


def test_perfect_predictor_scores_one():
    pb = make_evaluation_pb()
    rna = pb["rna"]
    rna.layers["get_pred"] = np.where(np.isnan(rna.layers["get_pred"]), np.nan, rna.X)
    table = scget.tl.evaluate(pb, split=CHR3, methods=["GET"])
    assert table["pearson"].to_numpy() == pytest.approx(1.0)
    assert table["spearman"].to_numpy() == pytest.approx(1.0)
    assert table["r2"].to_numpy() == pytest.approx(1.0)
    assert table["slope"].to_numpy() == pytest.approx(1.0)
    assert table["intercept"].to_numpy() == pytest.approx(0.0, abs=1e-9)


def test_missing_get_prediction_drops_the_gene_for_every_method(scget_log):
    pb = make_evaluation_pb()
    col = pb["rna"].var_names.get_loc("g3_1")
    pb["rna"].layers["get_pred"][1, col] = np.nan
    table = scget.tl.evaluate(pb, split=CHR3, methods=["GET", "TSS accessibility"])
    assert "no 'GET' prediction" in scget_log.text
    assert dict(table.groupby("group")["n_genes"].first()) == {"A": 5, "B": 5, "C": 6, "D": 6}


def test_baselines_only_without_get_layer(caplog):
    pb = make_evaluation_pb()
    del pb["rna"].layers["get_pred"]
    methods = ["TSS accessibility", "mean training expression"]
    table = scget.tl.evaluate(pb, split={**CHR3, "leave_out_groups": ["D"]}, methods=methods)
    assert set(table["method"]) == set(methods)
    chromosome = table[table["setting"] == "held-out chromosome"]
    assert set(chromosome["method"]) == {"TSS accessibility"}  # as the paper scores it
    with pytest.raises(KeyError, match=r"scget\.tl\.predict"):
        scget.tl.evaluate(pb, split=CHR3, methods=["GET"])


def test_rerun_overwrites_and_round_trips(tmp_path):
    pb = make_evaluation_pb()
    scget.tl.evaluate(pb, split=CHR3, methods=["GET", "TSS accessibility"])
    table = scget.tl.evaluate(pb, split=CHR3, methods=["GET"], seed=3)
    pd.testing.assert_frame_equal(scget.get.evaluation(pb), table)
    assert scget.get.params(pb, "evaluation")["seed"] == 3
    # the first run's TSS accessibility layer is stale: removed, nothing appended
    assert [k for k in pb["rna"].layers if k.startswith("evaluation:")] == [
        "evaluation:GET",
        "evaluation:evaluated:held-out chromosome",
    ]
    path = tmp_path / "pb.h5mu"
    pb.write_h5mu(path)
    back = md.read_h5mu(path)
    pd.testing.assert_frame_equal(scget.get.evaluation(back), table)
    assert scget.get.params(back, "evaluation") == scget.get.params(pb, "evaluation")
    assert scget.get.params(back, "evaluation")["methods"] == ["GET"]
    pd.testing.assert_frame_equal(scget.get.evaluated_genes(back), scget.get.evaluated_genes(pb))


def test_copy_returns_the_evaluated_copy_and_leaves_pb_untouched():
    pb = make_evaluation_pb()
    before = written_slots(pb)
    copied = scget.tl.evaluate(pb, split=CHR3, methods=["GET"], copy=True)
    assert isinstance(copied, md.MuData) and copied is not pb
    assert written_slots(pb) == before
    assert "evaluation:GET" in copied["rna"].layers
    table = scget.tl.evaluate(pb, split=CHR3, methods=["GET"])
    pd.testing.assert_frame_equal(scget.get.evaluation(copied), table)


def test_model_is_the_second_argument():
    pb = make_evaluation_pb()
    positional = scget.tl.evaluate(pb, SimpleNamespace(split=CHR3), methods=["GET"])
    by_name = scget.tl.evaluate(pb, model=SimpleNamespace(split=CHR3), methods=["GET"])
    pd.testing.assert_frame_equal(positional, by_name)


def test_split_sources_model_and_finetune_params():
    pb = make_evaluation_pb()
    by_model = scget.tl.evaluate(pb, model=SimpleNamespace(split=CHR3), methods=["GET"])
    write_result(pb, "finetune", None, {"split": {**CHR3, "valid_chromosomes": None}})
    by_params = scget.tl.evaluate(pb, methods=["GET"])
    pd.testing.assert_frame_equal(by_model, by_params)


def test_clear_errors():
    pb = make_evaluation_pb()
    with pytest.raises(ValueError, match="No split"):
        scget.tl.evaluate(pb)
    with pytest.raises(ValueError, match="not groups of pb"):
        scget.tl.evaluate(pb, split={"leave_out_groups": ["Z"]})
    with pytest.raises(ValueError, match="holds out nothing"):
        scget.tl.evaluate(pb, split={"train_chromosomes": ["chr1"]})
    with pytest.raises(ValueError, match="Unknown method"):
        scget.tl.evaluate(pb, split=CHR3, methods=["GET", "oracle"])
    with pytest.raises(ValueError, match="holds out nothing"):
        scget.tl.evaluate(pb, split={"test_chromosome": ["chr3"]})  # misspelt key: ignored
    del pb["atac"].varm["motif_scores"]
    with pytest.raises(KeyError, match="motif_scores"):
        scget.tl.evaluate(pb, split=CHR3, methods=["MLP"])
    assert "scget" not in pb.uns


def test_no_evaluated_gene_is_a_clear_error():
    pb = make_evaluation_pb()
    chrom = pb["rna"].var["chrom"].astype(str)
    pb["rna"].var["chrom"] = chrom.where(chrom != "chr3", "chr1")  # no gene left on chr3
    with pytest.raises(ValueError, match="No group has evaluated genes"):
        scget.tl.evaluate(pb, split=CHR3, **FAST)


def _scored_d(pb, table, method, setting):
    return table[
        (table["group"] == "D") & (table["setting"] == setting) & (table["method"] == method)
    ].iloc[0]


def test_mean_plus_accessibility_change_matches_hand_computation(pb_evaluated):
    pb, table = pb_evaluated
    rna, atac = pb["rna"], pb["atac"]
    genes = rna.var["tss_peaks"] != ""
    peak = atac.var_names.get_indexer(rna.var.loc[genes, "tss_peaks"])
    access = np.asarray(atac.X, np.float64)[:, peak]  # one TSS peak per gene
    observed = np.asarray(rna.X, np.float64)[:, genes.to_numpy()]
    chrom = rna.var.loc[genes, "chrom"].to_numpy()
    train = chrom != "chr3"
    # beta: least squares through the origin of the training groups' (A-C) deviations
    # from their mean, on the accessible TSS genes of the training chromosomes
    d_access = access[:3] - access[:3].mean(axis=0)
    d_expr = observed[:3] - observed[:3].mean(axis=0)
    fit = (access[:3] >= 0.05) & train
    beta = (d_access[fit] @ d_expr[fit]) / (d_access[fit] @ d_access[fit])
    predicted = observed[:3].mean(axis=0) + beta * (access[3] - access[:3].mean(axis=0))
    for setting, genes_of in (("held-out group", train), ("held-out both", ~train)):
        row = _scored_d(pb, table, "mean + TSS accessibility change", setting)
        expected = regression_metrics(observed[3, genes_of], predicted[genes_of])
        np.testing.assert_allclose(row[list(PAIRED_METRICS)].to_numpy(float), expected)
        deviations = observed[3] - observed[:3].mean(axis=0)
        centred = np.corrcoef(deviations[genes_of], (predicted - observed[:3].mean(0))[genes_of])
        assert row["centred_r"] == pytest.approx(centred[0, 1])
    assert row["reason"] == "" and row["n_genes"] == 6


def test_centred_r_of_every_method_is_around_the_training_mean(pb_evaluated):
    pb, table = pb_evaluated
    idx = pb["rna"].var_names.get_indexer([f"g1_{i}" for i in range(GENES_PER_CHROM)])
    idx = np.concatenate([idx, idx + GENES_PER_CHROM])  # chr1 and chr2
    observed = np.asarray(pb["rna"].X, np.float64)[:, idx]
    reference = observed[:3].mean(axis=0)
    get = np.asarray(pb["rna"].layers["get_pred"], np.float64)[3, idx]
    row = _scored_d(pb, table, "GET", "held-out group")
    expected = np.corrcoef(observed[3] - reference, get - reference)[0, 1]
    assert row["centred_r"] == pytest.approx(expected)
    # the training mean has no deviation of its own; B is centred on A and C
    assert np.isnan(_scored_d(pb, table, "mean training expression", "held-out group")["centred_r"])
    chr3 = pb["rna"].var_names.get_indexer([f"g3_{i}" for i in range(GENES_PER_CHROM)])
    x = np.asarray(pb["rna"].X, np.float64)[:, chr3]
    pred = np.asarray(pb["rna"].layers["get_pred"], np.float64)[1, chr3]
    others = x[[0, 2]].mean(axis=0)
    b = table[(table["group"] == "B") & (table["method"] == "GET")].iloc[0]
    assert b["centred_r"] == pytest.approx(np.corrcoef(x[1] - others, pred - others)[0, 1])


def test_requested_methods_it_cannot_score_are_named_and_kept(scget_log, tmp_path):
    pb = make_evaluation_pb()
    # the MLP is scored on held-out chromosomes only, and the split holds none
    scget.tl.evaluate(pb, split={"leave_out_groups": ["D"]}, methods=["GET", "MLP"], **FAST)
    mlp = scget.get.evaluation(pb).set_index("method").loc["MLP"]
    assert mlp["reason"] == "scored in the held-out chromosome, held-out both setting(s) only"
    assert "'MLP' (held-out group: D): scored in the held-out chromosome" in scget_log.text
    scget_log.clear()
    split = {"leave_out_groups": GROUPS}  # no training group left
    methods = ["GET", "mean training expression", "mean + TSS accessibility change"]
    table = scget.tl.evaluate(pb, split=split, methods=methods)
    warnings = [r.getMessage() for r in scget_log.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    for method in methods[1:]:
        assert repr(method) in warnings[0]
    assert len(table) == len(GROUPS) * len(methods)
    scored = table["method"] == "GET"
    assert (table.loc[scored, "reason"] == "").all()
    assert table.loc[scored, "pearson"].notna().all()
    assert table.loc[~scored, list(METRICS)].isna().all().all()
    assert (table.loc[~scored, "n_genes"] == 0).all()
    reasons = table[~scored].groupby("method")["reason"].agg(set).to_dict()
    assert reasons == {
        "mean training expression": {"no training group other than the group itself"},
        "mean + TSS accessibility change": {
            "no beta: no training group's TSS accessibility on the training chromosomes "
            "differs from the other training groups' mean"
        },
    }
    pb.write_h5mu(tmp_path / "pb.h5mu")
    pd.testing.assert_frame_equal(scget.get.evaluation(md.read_h5mu(tmp_path / "pb.h5mu")), table)


def test_matched_mixture_baseline_predicts_a_mixed_group_from_its_parts():
    """A held-out group whose chromatin is 1/4 A + 3/4 C is predicted as that mix of their RNA."""
    pb = make_evaluation_pb()
    access = np.asarray(pb["atac"].X, np.float64)
    pb["atac"].X = access.copy()
    pb["atac"].X[3] = 0.25 * access[0] + 0.75 * access[2]
    method = "matched mixture + TSS accessibility change"
    table = scget.tl.evaluate(pb, split=CHR3 | {"leave_out_groups": ["D"]}, methods=["GET", method])
    observed = np.asarray(pb["rna"].X, np.float64)
    predicted = np.asarray(pb["rna"].layers[f"evaluation:{method}"], np.float64)[3]
    expected = 0.25 * observed[0] + 0.75 * observed[2]  # no TSS change from the mix
    scored = np.isfinite(predicted)
    assert scored.sum() >= 6
    np.testing.assert_allclose(predicted[scored], expected[scored], rtol=1e-5)
    row = table[(table["method"] == method) & (table["setting"] == "held-out group")].iloc[0]
    assert row["reason"] == "" and row["pearson"] > 0.9
