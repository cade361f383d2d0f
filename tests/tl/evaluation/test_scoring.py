import logging

import numpy as np
import pandas as pd
import pytest

from scget.tl._evaluation._scoring import (
    METRICS,
    PAIRED_METRICS,
    EvaluatedPredictions,
    centred_pearson,
    regression_metrics,
    score_table,
)


def test_regression_metrics_hand_computed():
    pearson, spearman, r2, slope, intercept = regression_metrics([1, 2, 3, 4], [1, 3, 2, 4])
    assert pearson == pytest.approx(0.8)
    assert spearman == pytest.approx(0.8)
    assert r2 == pytest.approx(1 - 2 / 5)
    # observed ~ a + b * predicted: b = sum(dp * do) / sum(dp^2) = 4 / 5, a = 2.5 - b * 2.5
    assert slope == pytest.approx(0.8)
    assert intercept == pytest.approx(0.5)
    assert np.isnan(regression_metrics([1.0], [1.0])).all()
    constant = regression_metrics([1, 2, 3], [2, 2, 2])
    assert np.isnan(constant[:2]).all() and constant[2] == pytest.approx(0.0)
    assert np.isnan(constant[3:]).all()


def _tiny(predictions, *, setting_methods=None, reasons=None, named=()):
    """Training groups A and B, held-out group C, four genes scored in C."""
    observed = np.array([[1.0, 2, 3, 4], [3, 2, 1, 0], [3, 1, 4, 0]])
    training_mean = observed[:2].mean(axis=0)  # 2 everywhere
    reference = np.vstack([observed[1], observed[0], training_mean])
    scored = np.zeros(observed.shape, bool)
    scored[2] = True
    return EvaluatedPredictions(
        groups=pd.Index(["A", "B", "C"]),
        genes=pd.Index([f"g{i}" for i in range(4)]),
        observed=observed,
        settings={"held-out group": scored},
        predictions=predictions,
        setting_methods=setting_methods or {"held-out group": list(predictions)},
        reference=reference,
        reasons=reasons or {},
        named=named,
    )


def test_centred_r_correlates_deviations_from_the_training_mean():
    # deviations of C from the training mean 2: observed (1, -1, 2, -2), predicted
    # (1, -1, 1, -1): r = 6 / (sqrt(10) * 2)
    predicted = np.array([[np.nan] * 4, [np.nan] * 4, [3, 1, 3, 1]])
    table = score_table(_tiny({"X": predicted}))
    row = table.iloc[0]
    assert row["centred_r"] == pytest.approx(3 / np.sqrt(10))
    np.testing.assert_allclose(
        row[list(PAIRED_METRICS)].astype(float), regression_metrics([3, 1, 4, 0], [3, 1, 3, 1])
    )
    assert row["reason"] == "" and row["n_genes"] == 4
    assert centred_pearson([3, 1, 4, 0], [3, 1, 3, 1], [2, 2, 2, 2]) == pytest.approx(0.9487, 1e-4)
    # the reference itself has no deviation to correlate; a NaN reference scores nothing
    assert np.isnan(centred_pearson([3, 1, 4, 0], [2, 2, 2, 2], [2, 2, 2, 2]))
    assert np.isnan(centred_pearson([3, 1, 4, 0], [3, 1, 3, 1], [np.nan, 2, 2, 2]))


def test_unscored_methods_keep_a_row_with_the_reason(scget_log):
    scored = np.array([[np.nan] * 4, [np.nan] * 4, [3, 1, 3, 1]])
    methods = {"X": scored, "Y": np.full((3, 4), np.nan), "Z": np.zeros((3, 4))}
    evaluated = _tiny(
        methods,
        setting_methods={"held-out group": ["X", "Y"], "held-out chromosome": ["Z"]},
        reasons={"Y": "no training group other than the group itself"},
        named=["X", "Y", "Z"],
    )
    table = score_table(evaluated).set_index("method")
    assert list(table.index) == ["X", "Y", "Z"]
    assert table.loc["X", "reason"] == ""
    assert table.loc["Y", "reason"] == "no training group other than the group itself"
    assert table.loc["Z", "reason"] == "scored in the held-out chromosome setting(s) only"
    assert table.loc[["Y", "Z"], list(METRICS)].isna().all().all()
    assert table.loc[["Y", "Z"], "n_genes"].tolist() == [0, 0]
    warnings = [r.getMessage() for r in scget_log.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "'Y' (held-out group: C): no training group" in warnings[0]
    assert "'Z' (held-out group: C): scored in the held-out chromosome" in warnings[0]
    # a method the user did not name is not scored where it does not belong, silently
    evaluated.named = ()
    assert list(score_table(evaluated)["method"]) == ["X", "Y"]
