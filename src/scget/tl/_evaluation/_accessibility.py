"""Predicted accessibility (the accessibility head) against region-level baselines.

Used by :func:`scget.tl.evaluate` with ``level="accessibility"``: every method predicts
each group's accessibility score (``["atac"].X``) of each peak, and a group is scored
on its accessible peaks (counts > 0) on the held-out chromosomes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..._shared.constants import COUNTS_LAYER, SETTINGS
from ..._shared.genomic import peak_coordinates
from ..._shared.utils import modality, to_dense
from ._baselines import (
    LINEAR_RIDGE,
    NO_OTHER_TRAINING_GROUP,
    mean_training_expression,
    top_correlated_group,
)
from ._scoring import EvaluatedPredictions, common_scored

#: Methods scored on accessibility, in table order.
ACCESSIBILITY_METHODS = (
    "GET",
    "motif-only linear",
    "mean training accessibility",
    "top-correlated training group",
)
#: The settings of accessibility scoring: the held-out chromosomes, in the training
#: groups and in the left-out ones.
ACCESSIBILITY_SETTINGS = SETTINGS[1:]


def motif_linear(motif_scores: np.ndarray, accessibility: np.ndarray, train: np.ndarray):
    """Per group, least squares of the accessibility score on the peak's own motif scores.

    Parameters
    ----------
    motif_scores
        Peaks x motifs.
    accessibility
        Observed accessibility scores, groups x peaks.
    train
        Boolean groups x peaks: the regions each group's fit uses.

    Returns
    -------
    Groups x peaks predictions; all NaN for a group with fewer than two training regions.
    """
    from sklearn.linear_model import Ridge

    result = np.full(accessibility.shape, np.nan)
    for group, rows in enumerate(train):
        if rows.sum() < 2:
            continue
        fit = Ridge(alpha=LINEAR_RIDGE, solver="cholesky")
        fit.fit(motif_scores[rows], accessibility[group, rows])
        result[group] = fit.predict(motif_scores)
    return result


def accessibility_predictions(
    pb,
    split: dict[str, list[str]],
    methods: Sequence[str],
    *,
    layer: str,
    atac: str,
    motif_key: str,
) -> EvaluatedPredictions:
    """Observed and predicted accessibility and the regions each setting scores.

    - ``"GET"``: ``["atac"].layers[layer]`` (from :func:`scget.tl.predict`).
    - ``"motif-only linear"``: :func:`motif_linear`, fitted on each group's own
      accessible peaks on the training chromosomes (neither test nor validation).
    - ``"mean training accessibility"``: the peak's mean score over the training groups,
      the group itself excluded.
    - ``"top-correlated training group"``: the score of the peak in the training group
      (other than the group) best correlated with the group over the peaks off the test
      chromosomes.

    Returns
    -------
    The observed scores and the predictions (groups x peaks; ``genes`` holds the peak
    names), with the regions each setting scores.

    Raises
    ------
    ValueError
        If the split has no test chromosomes, none of the peaks lies on them, or it
        names unknown groups.
    KeyError
        If a method's input is missing.
    """
    atac_ad = modality(pb, atac)
    groups = pd.Index(atac_ad.obs_names.astype(str))
    test = split["test_chromosomes"]
    chrom = peak_coordinates(atac_ad)["chrom"].astype(str).to_numpy()
    on_test = np.isin(chrom, test)
    if not on_test.any():
        raise ValueError(
            "Accessibility is scored on held-out chromosomes, and no peak lies on the "
            f"split's test chromosomes {test}; fine-tune with leave_out_chromosomes=[...]."
        )
    missing = sorted(set(split["leave_out_groups"]) - set(groups))
    if missing:
        raise ValueError(
            f"leave_out_groups {missing} are not groups of pb; groups: {list(groups)}."
        )
    if "GET" in methods and layer not in atac_ad.layers:
        raise KeyError(
            f"method 'GET' needs pb[{atac!r}].layers[{layer!r}]; run scget.tl.predict with a "
            "model that predicts accessibility, or leave 'GET' out of methods."
        )
    if "motif-only linear" in methods and motif_key not in atac_ad.varm:
        raise KeyError(f"pb[{atac!r}].varm has no {motif_key!r}; run scget.pp.scan_motifs.")
    if COUNTS_LAYER not in atac_ad.layers:
        raise KeyError(f"pb[{atac!r}].layers has no {COUNTS_LAYER!r}; run scget.pp.pseudobulk.")

    observed = to_dense(atac_ad.X, np.float64)
    regions = to_dense(atac_ad.layers[COUNTS_LAYER]) > 0
    on_train = ~np.isin(chrom, [*test, *split["valid_chromosomes"]])
    left_out = np.asarray(groups.isin(split["leave_out_groups"]))
    train_groups = ~left_out
    reference = mean_training_expression(observed, train_groups)
    predictions: dict[str, np.ndarray] = {}
    if "GET" in methods:
        predictions["GET"] = to_dense(atac_ad.layers[layer], np.float64)
    if "motif-only linear" in methods:
        scores = np.asarray(atac_ad.varm[motif_key], dtype=np.float64)
        predictions["motif-only linear"] = motif_linear(scores, observed, regions & on_train)
    if "mean training accessibility" in methods:
        predictions["mean training accessibility"] = reference
    if "top-correlated training group" in methods:
        predictions["top-correlated training group"] = top_correlated_group(
            observed, train_groups, ~on_test
        )
    masks = (train_groups[:, None] & on_test, left_out[:, None] & on_test)
    settings = {
        name: common_scored(mask & regions, predictions, groups, unit="region")
        for name, mask in zip(ACCESSIBILITY_SETTINGS, masks, strict=True)
    }
    return EvaluatedPredictions(
        groups=groups,
        genes=pd.Index(atac_ad.var_names.astype(str)),
        observed=observed,
        settings={name: mask for name, mask in settings.items() if mask.any()},
        predictions={m: predictions[m] for m in methods},
        setting_methods=dict.fromkeys(ACCESSIBILITY_SETTINGS, ACCESSIBILITY_METHODS),
        reference=reference,
        reasons={
            "GET": f"pb[{atac!r}].layers[{layer!r}] has no prediction for the group",
            "motif-only linear": "fewer than two accessible peaks on the training chromosomes",
            "mean training accessibility": NO_OTHER_TRAINING_GROUP,
            "top-correlated training group": NO_OTHER_TRAINING_GROUP,
        },
    )
