"""The metrics of an evaluation: one table row per group, setting and method."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..._logging import logger

#: Metrics of each row of an evaluation.
METRICS = ("pearson", "spearman", "r2", "slope", "intercept")


@dataclass
class EvaluatedPredictions:
    """Observed and predicted values (gene expression, or accessibility) on the evaluated genes.

    Attributes
    ----------
    groups, genes
        Group and gene (or peak) names.
    observed
        Observed log10(TPM + 1) or accessibility scores, groups x genes (or peaks).
    settings
        Setting -> boolean groups x genes: the genes each group is scored on in that
        setting (only the settings the split holds).
    predictions
        Method -> groups x genes predictions (all NaN for a group the method cannot score).
    setting_methods
        Setting -> the methods scored in it.
    """

    groups: pd.Index
    genes: pd.Index
    observed: np.ndarray
    settings: dict[str, np.ndarray]
    predictions: dict[str, np.ndarray]
    setting_methods: Mapping[str, Sequence[str]]

    @property
    def evaluated(self) -> np.ndarray:
        """Boolean groups x genes: the genes each group is scored on in any setting."""
        return np.logical_or.reduce([np.zeros(self.observed.shape, bool), *self.settings.values()])

    def methods_of(self, setting: str) -> list[str]:
        """The methods scored in ``setting``."""
        return [m for m in self.predictions if m in self.setting_methods[setting]]


def common_scored(
    evaluated: np.ndarray, predictions: dict, groups: pd.Index, *, unit: str = "gene"
) -> np.ndarray:
    """Drop the genes (or regions) a method able to score the group leaves without prediction."""
    common = evaluated.copy()
    for method, values in predictions.items():
        finite = np.isfinite(values)
        scored = finite.any(axis=1)
        lost = common & ~finite & scored[:, None]
        if lost.any():
            per_group = {g: int(n) for g, n in zip(groups, lost.sum(axis=1), strict=True) if n}
            logger.warning(
                f"{int(lost.sum())} evaluated {unit}(s) have no {method!r} prediction and are "
                f"left out for every method: {per_group}"
            )
        common &= finite | ~scored[:, None]
    return common


def score_table(evaluated: EvaluatedPredictions, *, count: str = "n_genes") -> pd.DataFrame:
    """Build the tidy metrics table, one row per group, setting and method able to score it.

    ``count`` names the column of the number of scored genes (or regions).
    """
    rows = []
    for setting, mask in evaluated.settings.items():
        methods = evaluated.methods_of(setting)
        for row, group in enumerate(evaluated.groups):
            genes = mask[row]
            if not genes.any():
                continue
            observed = evaluated.observed[row, genes]
            for method in methods:
                predicted = evaluated.predictions[method][row, genes]
                if not np.isfinite(predicted).all():
                    logger.info(f"{method!r} cannot score group {group!r} (no training group)")
                    continue
                metrics = regression_metrics(observed, predicted)
                rows.append([group, setting, method, *metrics, int(genes.sum())])
    if not rows:
        raise ValueError(
            "No group has evaluated genes: no gene with an accessible TSS peak on the test "
            "chromosomes (or in the left-out groups)."
        )
    table = pd.DataFrame(rows, columns=["group", "setting", "method", *METRICS, count])
    table[list(METRICS)] = table[list(METRICS)].astype(np.float64)
    table[count] = table[count].astype(np.int64)
    return table


def regression_metrics(
    observed: np.ndarray, predicted: np.ndarray
) -> tuple[float, float, float, float, float]:
    """Pearson r, Spearman rho, ``R^2 = 1 - SS_res / SS_tot`` and the calibration line.

    The calibration line is the least-squares fit ``observed ~ intercept + slope *
    predicted``. Correlations and the line are NaN with fewer than two values or a
    constant input; ``R^2`` is NaN when the observed values are constant.

    Returns
    -------
    ``(pearson, spearman, r2, slope, intercept)``.
    """
    from scipy.stats import pearsonr, spearmanr

    observed = np.asarray(observed, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    pearson = spearman = r2 = slope = intercept = np.nan
    if len(observed) >= 2 and np.ptp(observed) > 0 and np.ptp(predicted) > 0:
        pearson = float(pearsonr(observed, predicted)[0])
        spearman = float(spearmanr(observed, predicted)[0])
        centred = predicted - predicted.mean()
        slope = float(centred @ (observed - observed.mean()) / (centred @ centred))
        intercept = float(observed.mean() - slope * predicted.mean())
    total = float(((observed - observed.mean()) ** 2).sum()) if len(observed) else 0.0
    if total > 0:
        r2 = 1.0 - float(((observed - predicted) ** 2).sum()) / total
    return pearson, spearman, r2, slope, intercept
