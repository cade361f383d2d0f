"""The metrics of an evaluation: one table row per group, setting and method."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import pearsonr, spearmanr

from ..._shared.logging import logger

#: Metrics of each row of an evaluation.
METRICS = ("pearson", "spearman", "r2", "centred_r", "slope", "intercept")
#: The metrics of :func:`regression_metrics`, in its order.
PAIRED_METRICS = ("pearson", "spearman", "r2", "slope", "intercept")
#: Why a method has no prediction for a group, where the method does not say.
NO_PREDICTION = "no prediction for this group"


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
    reference
        Groups x genes: each gene's mean observed value over the training groups other
        than the group itself, the origin of the centred score (:func:`centred_pearson`).
    reasons
        Method -> why it has no prediction for a group where its predictions are all NaN
        (:data:`NO_PREDICTION` for a method not listed).
    named
        The methods the user named; one scored in none of the settings held gets a row
        per group and setting with NaN metrics and the reason.
    """

    groups: pd.Index
    genes: pd.Index
    observed: np.ndarray
    settings: dict[str, np.ndarray]
    predictions: dict[str, np.ndarray]
    setting_methods: Mapping[str, Sequence[str]]
    reference: np.ndarray
    reasons: Mapping[str, str] = field(default_factory=dict)
    named: Sequence[str] = ()

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
    """Build the tidy metrics table, one row per group, setting and method.

    ``count`` names the column of the number of scored genes (or regions). A method with
    no prediction for a group of a setting it is scored in, and a method the user named
    that is scored in none of the settings held, keep their rows: NaN metrics, ``count``
    0 and why in ``reason`` (empty for the scored rows). One warning names them all.
    """
    rows, unscored = [], {}
    named_elsewhere = {
        method: ", ".join(s for s, scored in evaluated.setting_methods.items() if method in scored)
        for method in evaluated.named
        if not any(method in evaluated.setting_methods[s] for s in evaluated.settings)
    }
    for setting, mask in evaluated.settings.items():
        for row, group in enumerate(evaluated.groups):
            genes = mask[row]
            if not genes.any():
                continue
            observed = evaluated.observed[row, genes]
            reference = evaluated.reference[row, genes]
            for method in evaluated.methods_of(setting):
                predicted = evaluated.predictions[method][row, genes]
                if np.isfinite(predicted).all():
                    metrics = dict(
                        zip(PAIRED_METRICS, regression_metrics(observed, predicted), strict=True),
                        centred_r=centred_pearson(observed, predicted, reference),
                    )
                    rows.append(_row(group, setting, method, metrics, n=int(genes.sum())))
                    continue
                reason = evaluated.reasons.get(method, NO_PREDICTION)
                unscored.setdefault((method, reason), []).append(f"{setting}: {group}")
                rows.append(_row(group, setting, method, {}, reason=reason))
            for method, settings in named_elsewhere.items():
                reason = f"scored in the {settings} setting(s) only"
                unscored.setdefault((method, reason), []).append(f"{setting}: {group}")
                rows.append(_row(group, setting, method, {}, reason=reason))
    if not rows:
        raise ValueError(
            "No group has evaluated genes: no gene with an accessible TSS peak on the test "
            "chromosomes (or in the left-out groups)."
        )
    if unscored:
        what = [f"{m!r} ({', '.join(where)}): {why}" for (m, why), where in unscored.items()]
        logger.warning(
            f"Could not score {len({m for m, _ in unscored})} requested method(s); their rows "
            f"hold NaN metrics and the reason: {'; '.join(what)}"
        )
    table = pd.DataFrame(rows, columns=["group", "setting", "method", *METRICS, count, "reason"])
    table[list(METRICS)] = table[list(METRICS)].astype(np.float64)
    table[count] = table[count].astype(np.int64)
    return table


def _row(
    group: str, setting: str, method: str, metrics: dict, *, n: int = 0, reason: str = ""
) -> list:
    """One table row (metrics left out are NaN), in the column order of :func:`score_table`."""
    return [group, setting, method, *(metrics.get(m, np.nan) for m in METRICS), n, reason]


def centred_pearson(observed: np.ndarray, predicted: np.ndarray, reference: np.ndarray) -> float:
    """Pearson r between the observed and the predicted deviations from ``reference``.

    ``r(observed - reference, predicted - reference)``. With ``reference`` each gene's
    mean over the training groups, it scores what sets a group apart from the others
    rather than each gene's own level, which the mean training expression alone already
    predicts. NaN with fewer than two values, a non-finite value or a constant deviation
    (the mean training expression itself: 0 everywhere).

    Returns
    -------
    The centred Pearson r.
    """
    observed, predicted, reference = (
        np.asarray(a, dtype=np.float64) for a in (observed, predicted, reference)
    )
    deviations = observed - reference, predicted - reference
    if not all(np.isfinite(d).all() for d in deviations) or not _vary(*deviations):
        return np.nan
    return float(pearsonr(*deviations)[0])


def _vary(*values: np.ndarray) -> bool:
    """Whether there are at least two values and none of the arrays is constant."""
    return len(values[0]) >= 2 and all(np.ptp(v) > 0 for v in values)


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
    observed = np.asarray(observed, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    pearson = spearman = r2 = slope = intercept = np.nan
    if _vary(observed, predicted):
        pearson = float(pearsonr(observed, predicted)[0])
        spearman = float(spearmanr(observed, predicted)[0])
        centred = predicted - predicted.mean()
        slope = float(centred @ (observed - observed.mean()) / (centred @ centred))
        intercept = float(observed.mean() - slope * predicted.mean())
    total = float(((observed - observed.mean()) ** 2).sum()) if len(observed) else 0.0
    if total > 0:
        r2 = 1.0 - float(((observed - predicted) ** 2).sum()) / total
    return pearson, spearman, r2, slope, intercept
