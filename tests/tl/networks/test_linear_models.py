import numpy as np

from scget.tl._networks._linear_models import adjust


def test_adjust_is_benjamini_hochberg_by_hand_and_keeps_nan():
    pvalues = [0.04, np.nan, 0.01, 0.03, 0.5, np.inf]
    # finite p sorted: 0.01, 0.03, 0.04, 0.5 (m = 4); p * m / rank: 0.04, 0.06, 0.0533.., 0.5;
    # the running minimum from the largest rank down gives 0.04, 0.0533.., 0.0533.., 0.5
    expected = [0.16 / 3, np.nan, 0.04, 0.16 / 3, 0.5, np.nan]
    np.testing.assert_allclose(adjust(pvalues), expected)


def test_adjust_of_nothing_finite_is_all_nan():
    assert np.isnan(adjust([np.nan, np.nan])).all()
    assert adjust([]).shape == (0,)
