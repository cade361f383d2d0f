"""Attributions of an ensemble of models: each model's, averaged.

Fine-tuning the same data with another seed gives a model that predicts about as well
and explains differently: which genes a motif matters most for changes with the seed.
The mean over a few seeds keeps what the models agree on (``docs/differential.md``, "An
ensemble of models").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ._model import GETModel, check_models
from ._promoters import Promoters, promoters


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


def explained_windows(
    pb, model: GETModel | Sequence[GETModel], **choice
) -> tuple[list[GETModel], Promoters]:
    """The models of ``model`` (one or an ensemble) and the promoter windows they explain.

    The windows are chosen with the first model and its expression prior hidden:
    interpretation explains a gene from its sequence and accessibility.
    ``choice``: ``genes``, ``groups``, ``rna``, ``atac`` and ``motif_key`` of
    :func:`scget.tl._core._promoters.promoters`.
    """
    models = check_models(model)
    return models, promoters(pb, models[0], prior=False, **choice)
