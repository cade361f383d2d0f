"""Replicate-aware tests of a condition effect on many responses (statsmodels).

Each response (a regulator's score over one group's pseudobulks) is fitted with the same
model matrix: ordinary least squares, weighted least squares (weights per pseudobulk), or a
linear mixed model with a random intercept per pairing unit (donor) when samples are
paired. Least squares fit every response in one statsmodels call (the matrix is shared);
each coefficient's t statistic uses the response's own residual variance, exactly as one
fit per response would.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..._shared.logging import logger, progress

#: Columns of a fitted contrast.
FIT_COLUMNS = ("effect", "se", "stat", "pvalue")


def fit_contrasts(
    scores: pd.DataFrame,
    matrix: pd.DataFrame,
    contrasts: list[str],
    *,
    weights: np.ndarray | None = None,
    pairs: np.ndarray | None = None,
) -> dict[str, pd.DataFrame]:
    """Fit every column of ``scores`` on ``matrix``; return each contrast's coefficient.

    Parameters
    ----------
    scores
        Pseudobulks x responses.
    matrix
        Pseudobulks x terms (from the design), same rows.
    contrasts
        Terms of ``matrix`` to report.
    weights
        WLS weights per pseudobulk (inverse variances); ``None``: OLS.
    pairs
        Pairing unit of each pseudobulk: fit a mixed model with a random intercept per
        unit (``statsmodels.MixedLM``, REML) instead of least squares.

    Returns
    -------
    Per contrast, responses x (``effect``, ``se``, ``stat``, ``pvalue``); NaN for a
    response that is constant or not finite (nothing to test).
    """
    y = scores.to_numpy(np.float64)
    x = matrix.to_numpy(np.float64)
    testable = np.isfinite(y).all(axis=0) & (
        np.ptp(y, axis=0) > 1e-12 * (np.abs(y).max(axis=0) + 1e-300)
    )
    out = np.full((len(contrasts), y.shape[1], len(FIT_COLUMNS)), np.nan)
    terms = [matrix.columns.get_loc(c) for c in contrasts]
    if testable.any():
        fitted = (
            _mixed(y[:, testable], x, pairs, terms)
            if pairs is not None
            else _least_squares(y[:, testable], x, weights, terms)
        )
        out[:, testable] = fitted
    return {
        contrast: pd.DataFrame(out[i], index=scores.columns, columns=list(FIT_COLUMNS))
        for i, contrast in enumerate(contrasts)
    }


def _least_squares(y, x, weights, terms) -> np.ndarray:
    """OLS/WLS of all responses at once: contrasts x responses x (effect, se, t, p)."""
    import statsmodels.api as sm

    w = np.ones(len(x)) if weights is None else np.asarray(weights, np.float64)
    result = sm.WLS(y, x, weights=w).fit()
    df = result.df_resid
    # statsmodels squeezes a single response: terms x responses, observations x responses
    params = np.asarray(result.params).reshape(x.shape[1], -1)
    scale = (np.asarray(result.wresid).reshape(len(x), -1) ** 2).sum(axis=0) / df
    out = np.empty((len(terms), y.shape[1], len(FIT_COLUMNS)))
    for i, term in enumerate(terms):
        se = np.sqrt(result.normalized_cov_params[term, term] * scale)
        t = params[term] / se
        out[i] = np.column_stack([params[term], se, t, 2 * stats.t.sf(np.abs(t), df)])
    return out


def _mixed(y, x, pairs, terms) -> np.ndarray:
    """A random-intercept mixed model per response: contrasts x responses x (effect, se, z, p)."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    out = np.full((len(terms), y.shape[1], len(FIT_COLUMNS)), np.nan)
    failed = 0
    for j in progress(range(y.shape[1]), desc="mixed models", leave=False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                result = sm.MixedLM(y[:, j], x, groups=pairs).fit(reml=True)
            except (np.linalg.LinAlgError, ValueError):
                failed += 1
                continue
        for i, term in enumerate(terms):
            out[i, j] = (
                result.fe_params[term],
                result.bse_fe[term],
                result.tvalues[term],
                result.pvalues[term],
            )
    if failed:
        logger.warning(f"{failed} mixed model(s) failed to fit; their rows are NaN.")
    return out


def adjust(pvalues) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (statsmodels' ``fdrcorrection``); NaN stays NaN.

    The one adjustment of the networks wing: the differential tests and the motif
    networks' edges. The finite p-values are adjusted among themselves.
    """
    from statsmodels.stats.multitest import fdrcorrection

    values = np.asarray(pvalues, dtype=np.float64)
    adjusted = np.full(len(values), np.nan)
    finite = np.isfinite(values)
    if finite.any():
        adjusted[finite] = fdrcorrection(values[finite], method="indep")[1]
    return adjusted
