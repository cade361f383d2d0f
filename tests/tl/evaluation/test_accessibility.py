import numpy as np
import pandas as pd
import pytest
from _evaluation_pb import CLOSED_TSS, PEAKS_PER_CHROM, make_evaluation_pb

import scget
from scget.tl._evaluation._scoring import METRICS, PAIRED_METRICS, regression_metrics

SPLIT = {"test_chromosomes": ["chr3"], "leave_out_groups": ["D"]}


def _with_predicted_accessibility(noise: float = 0.05):
    pb = make_evaluation_pb()
    atac = pb["atac"]
    rng = np.random.default_rng(1)
    predicted = atac.X + rng.normal(0, noise, atac.shape)
    atac.layers["get_accessibility"] = np.where(atac.layers["counts"] > 0, predicted, np.nan)
    return pb


@pytest.fixture(scope="module")
def evaluated():
    pb = _with_predicted_accessibility()
    return pb, scget.tl.evaluate(pb, split=SPLIT, level="accessibility")


def _row(table, group, method):
    return table[(table["group"] == group) & (table["method"] == method)].iloc[0]


def test_accessible_peaks_of_the_test_chromosome_are_scored_per_setting(evaluated):
    pb, table = evaluated
    assert list(table.columns) == ["group", "setting", "method", *METRICS, "n_regions", "reason"]
    counts = table.groupby(["setting", "group"])["n_regions"].unique().map(list).to_dict()
    assert CLOSED_TSS[:2] == ("A", "chr3")  # group A has a closed peak on chr3
    assert counts == {
        ("held-out chromosome", "A"): [PEAKS_PER_CHROM - 1],
        ("held-out chromosome", "B"): [PEAKS_PER_CHROM],
        ("held-out chromosome", "C"): [PEAKS_PER_CHROM],
        ("held-out both", "D"): [PEAKS_PER_CHROM],
    }
    assert set(table["method"]) == {
        "GET",
        "motif-only linear",
        "mean training accessibility",
        "top-correlated training group",
    }
    atac = pb["atac"]
    chr3 = np.arange(atac.n_vars) >= 2 * PEAKS_PER_CHROM
    peaks = chr3 & (atac.layers["counts"][0] > 0)  # group A, without its closed peak
    expected = regression_metrics(atac.X[0, peaks], atac.layers["get_accessibility"][0, peaks])
    got = _row(table, "A", "GET")[list(PAIRED_METRICS)].to_numpy(float)
    np.testing.assert_allclose(got, expected)
    pd.testing.assert_frame_equal(scget.get.evaluation(pb, level="accessibility"), table)
    assert scget.get.params(pb, "evaluation_accessibility")["level"] == "accessibility"
    assert "evaluation" not in pb.uns["scget"]  # the expression evaluation is its own


def test_baselines_match_hand_computations(evaluated):
    pb, table = evaluated
    atac = pb["atac"]
    score = np.asarray(atac.X, dtype=np.float64)
    motifs = atac.varm["motif_scores"].to_numpy(np.float64)
    test = np.arange(atac.n_vars) >= 2 * PEAKS_PER_CHROM  # chr3
    # B: least squares with an intercept on its own peaks of chr1 and chr2
    design = np.hstack([motifs, np.ones((atac.n_vars, 1))])
    coef = np.linalg.lstsq(design[~test], score[1, ~test], rcond=None)[0]
    expected = regression_metrics(score[1, test], design[test] @ coef)
    got = _row(table, "B", "motif-only linear")[list(PAIRED_METRICS)].to_numpy(float)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    # D (left out): the mean of the training groups A, B and C
    expected = regression_metrics(score[3, test], score[:3, test].mean(axis=0))
    got = _row(table, "D", "mean training accessibility")[list(PAIRED_METRICS)].to_numpy(float)
    np.testing.assert_allclose(got, expected)
    # B: the training group best correlated with it off chr3 (A or C)
    r = {o: np.corrcoef(score[1, ~test], score[o, ~test])[0, 1] for o in (0, 2)}
    best = max(r, key=r.get)
    expected = regression_metrics(score[1, test], score[best, test])
    got = _row(table, "B", "top-correlated training group")[list(PAIRED_METRICS)].to_numpy(float)
    np.testing.assert_allclose(got, expected)


@pytest.mark.parametrize(
    ("change", "kwargs", "error", "message"),
    [
        (None, {"level": "peaks"}, ValueError, "level must be one of"),
        (None, {"split": {"test_chromosomes": ["chr9"]}}, ValueError, "held-out chromosomes"),
        ("drop GET", {"methods": ["GET"]}, KeyError, "get_accessibility"),
        (None, {"methods": ["TSS accessibility"]}, ValueError, "Unknown method"),
    ],
)
def test_bad_requests_are_refused(change, kwargs, error, message):
    pb = _with_predicted_accessibility()
    if change == "drop GET":
        del pb["atac"].layers["get_accessibility"]
    options = {"split": SPLIT, "level": "accessibility", **kwargs}
    with pytest.raises(error, match=message):
        scget.tl.evaluate(pb, **options)
