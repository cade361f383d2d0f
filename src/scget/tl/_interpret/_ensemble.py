"""Attributions of an ensemble of models: each model's, averaged.

Fine-tuning the same data with another seed gives a model that predicts about as well
and explains differently: which genes a motif matters most for changes with the seed.
The mean over a few seeds keeps what the models agree on (``docs/differential.md``, "An
ensemble of models").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .._core._model import GETModel


def mean_over_models(
    models: Sequence[GETModel],
    attribute: Callable[[GETModel, str], dict[str, np.ndarray]],
    desc: str,
) -> dict[str, np.ndarray]:
    """Each part of ``attribute(model, label)`` averaged over ``models``.

    ``label`` is the progress label of the model's pass: ``desc``, followed by the
    model's number when there are several.
    """
    total: dict[str, np.ndarray] = {}
    for number, model in enumerate(models):
        label = desc if len(models) == 1 else f"{desc} (model {number + 1}/{len(models)})"
        for name, values in attribute(model, label).items():
            total[name] = values if name not in total else total[name] + values
    return {name: values / len(models) for name, values in total.items()}
