"""The offset of the path without an expression prior, measured on the validation chromosomes.

A network with an expression prior is trained on windows in which each region's prior is
hidden at random (``prior_dropout``), so it seldom sees a window in which no region has
one, which is what every window of a new chromosome is. The genes of the validation
chromosomes are such genes: the mean of their observed minus predicted expression, in
the training groups, is how far that path sits from the data on genes the network was not
trained on (:attr:`scget.nn.GETConfig.no_prior_offset` adds it back).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..._shared.constants import MIN_ACCESSIBILITY, PREDICTION_LAYERS
from .._core._model import GETModel
from .._core._predict import _fill_layers
from .._core._windows import RegionInputs


def no_prior_offset(
    model: GETModel,
    inputs: RegionInputs,
    *,
    groups: Sequence[str],
    chromosomes: Sequence[str],
    batch_size: int,
    device,
) -> tuple[float, int] | None:
    """Mean observed minus predicted expression of the TSS regions on ``chromosomes``.

    Each accessible TSS region (score >= ``MIN_ACCESSIBILITY``) of ``groups`` on
    ``chromosomes`` is predicted as :func:`scget.tl.predict` predicts it (tiled windows;
    ``inputs`` carries no prior there) and compared, on the strand of each TSS it holds,
    with its expression target.

    Returns
    -------
    The mean residual (log10(TPM + 1)) and the number of (group, region, strand) values
    it averages, or ``None`` when there are none (no TSS annotation, or no accessible
    TSS region there).
    """
    if inputs.tss is None:
        return None
    chosen = np.array([inputs.group_names.index(g) for g in groups], dtype=np.int64)
    shape = (len(inputs.groups), len(inputs.motifs))
    needed = np.zeros(shape, dtype=bool)
    for number in chosen:
        group = inputs.groups[number]
        for _, lo, hi in group.segment_of(chromosomes):
            needed[number, group.peaks[lo:hi]] = True
    layers = {name: np.full(shape, np.nan, dtype=np.float32) for name in PREDICTION_LAYERS}
    no_tss = np.zeros(shape[1], dtype=bool)  # tiled windows do not read it
    passes = [(("expression",), None, None)]
    options = {"batch_size": batch_size, "device": device, "tss_windows": "tiled"}
    options["desc"] = "offset without a prior"
    _fill_layers(layers, model, inputs, chosen, no_tss, passes, needed=needed, **options)
    residuals = []
    for number in chosen:
        group = inputs.groups[number]
        on = needed[number, group.peaks]
        if group.score is not None:
            on &= group.score >= MIN_ACCESSIBILITY
        for strand, name in enumerate(PREDICTION_LAYERS):
            rows = on & (inputs.tss[group.peaks, strand] > 0)
            predicted = layers[name][number, group.peaks[rows]]
            residuals.append(group.targets[rows, strand] - predicted)
    residuals = np.concatenate(residuals) if residuals else np.empty(0)
    residuals = residuals[np.isfinite(residuals)]
    if not len(residuals):
        return None
    return float(residuals.mean()), len(residuals)
