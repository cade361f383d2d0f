import numpy as np
import pytest

from scget.tl._evaluation._scoring import regression_metrics


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
