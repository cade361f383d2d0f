"""The expression head's direct map of the prior, fixed at a linear model of the training groups.

A network with an expression prior adds to each region's expression logit a linear map of
the region's prior channels and accessibility (``GETNetwork.prior_head``). Left to train,
the network routes the prior through the transformer instead, and predicts a new group's
changes less well than a linear model of the same inputs. Anchored, the map is the
least-squares fit of the training groups' expression at their TSS regions on the gene's
mean training expression, its accessibility, its mean training accessibility and the
motif channel (:data:`scget.nn.PRIOR_CHANNELS`), and stays fixed while the rest of the
network learns what that linear model misses. The network's expression output is then a
sharp Softplus (:data:`EXPRESSION_BETA`), the identity within 1e-4 above 0.7, so that it
does not bend the linear model for lowly expressed genes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch

from ...nn._config import PRIOR_CHANNELS, PRIOR_PRESENT
from ...nn._network import PRIOR_SCALE
from .._core._windows import RegionInputs

#: Sharpness of an anchored network's expression Softplus
#: (:attr:`scget.nn.GETConfig.expression_beta`).
EXPRESSION_BETA = 10.0
#: Prior channels the anchor reads beside the gene's own strand's expression (channel 0
#: or 1): presence (an intercept where the prior is present), mean accessibility, motif
#: channel.
SHARED_CHANNELS = tuple(
    PRIOR_CHANNELS.index(name)
    for name in ("prior_present", "mean_accessibility", "motif_accessibility_change")
)


def fit_prior_anchor(
    inputs: RegionInputs, groups: Sequence[str], chromosomes: Sequence[str]
) -> np.ndarray:
    """Least-squares coefficients of the expression at TSS regions on the prior.

    The rows are the TSS regions (per strand) of ``groups`` on ``chromosomes`` where the
    expression prior is present; the columns the prior of the region's strand, the
    :data:`SHARED_CHANNELS` and the region's accessibility; the target the region's
    expression on that strand.

    Parameters
    ----------
    inputs
        Model inputs with targets and an expression prior
        (:func:`scget.tl._core._prior.add_prior`).
    groups
        The groups fitted (the training groups).
    chromosomes
        The chromosomes fitted (the training chromosomes).

    Returns
    -------
    Five coefficients: own strand's prior, presence, mean accessibility, motif channel,
    accessibility.

    Raises
    ------
    ValueError
        If no TSS region with a prior has a target in ``groups``.
    """
    if inputs.tss is None:
        raise ValueError("Anchoring the prior needs TSS indicators; run scget.pp.annotate_tss.")
    groups, chromosomes = set(groups), list(chromosomes)
    rows, targets = [], []
    for group in inputs.groups:
        if group.name not in groups or group.targets is None or group.prior is None:
            continue
        present = group.prior[:, PRIOR_PRESENT] > 0
        fitted = np.isin(inputs.chrom[group.peaks], chromosomes) & present
        for strand in (0, 1):
            keep = fitted & (inputs.tss[group.peaks, strand] > 0)
            prior = group.prior[keep]
            columns = [prior[:, strand], *prior[:, SHARED_CHANNELS].T, group.accessibility[keep]]
            rows.append(np.column_stack(columns))
            targets.append(group.targets[keep, strand])
    if not rows or sum(len(t) for t in targets) == 0:
        raise ValueError(
            f"No TSS region with an expression prior and a target in groups {sorted(groups)}: "
            "nothing to anchor the prior on (train without anchor_prior)."
        )
    design = np.vstack(rows).astype(np.float64)
    coefficients, *_ = np.linalg.lstsq(design, np.concatenate(targets), rcond=None)
    return coefficients


def anchor_prior_head(network, coefficients: np.ndarray) -> None:
    """Set ``network.prior_head`` to ``coefficients`` (:func:`fit_prior_anchor`), per strand.

    Output ``s`` reads the prior of strand ``s`` (not the other strand's), then the shared
    channels and the accessibility with the same coefficients. The expression output
    becomes a Softplus of sharpness :data:`EXPRESSION_BETA`.
    """
    network.config = dataclasses.replace(network.config, expression_beta=EXPRESSION_BETA)
    weight = network.prior_head.weight
    values = torch.zeros_like(weight)
    for strand in (0, 1):
        values[strand, strand] = float(coefficients[0])
        for channel, coefficient in zip(SHARED_CHANNELS, coefficients[1:4], strict=True):
            values[strand, channel] = float(coefficient)
        values[strand, -1] = float(coefficients[4])
    with torch.no_grad():
        weight.copy_(values / PRIOR_SCALE)
