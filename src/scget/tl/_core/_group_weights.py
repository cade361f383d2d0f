"""How the groups a prior is formed from weigh in each group's prior, leaving the group out.

The expression prior (:mod:`._prior`) and the baselines of :func:`scget.tl.evaluate` both
give a group what the *other* training groups say about it: their plain mean, or the
mixture of them whose accessibility matches the group's best.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize

#: Mixture weights below this are the solver's round-off, set to 0.
_ROUND_OFF = 1e-8


def prior_weights(
    members: np.ndarray, profiles: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """How much each member row weighs in every row's prior, leaving the row itself out.

    Without ``profiles``, the members other than the row weigh alike (their mean). With
    them, the weights are the mixture of the other members' profiles closest to the
    row's own in least squares, with weights >= 0 that sum to 1: a new cell type whose
    chromatin looks like that of two known ones takes its prior mostly from those two.

    Parameters
    ----------
    members
        Boolean, one per row: the rows that may weigh.
    profiles
        Rows x features (for example each group's accessibility over the peaks).

    Returns
    -------
    Weights, rows x rows (row ``g``: the weight of each row in ``g``'s prior; 0 outside
    the members and on the diagonal), and, per row, whether any member is left.
    """
    members = np.asarray(members, dtype=bool)
    others = members[None, :] & ~np.eye(len(members), dtype=bool)
    present = others.any(axis=1)
    if profiles is None:
        return others / np.maximum(others.sum(axis=1, keepdims=True), 1), present
    profiles = np.asarray(profiles, dtype=np.float64)
    gram = profiles @ profiles.T
    weights = np.zeros((len(members), len(members)))
    for row in np.flatnonzero(present):
        used = np.flatnonzero(others[row])
        weights[row, used] = _simplex_least_squares(gram[np.ix_(used, used)], gram[used, row])
    return weights, present


def _simplex_least_squares(gram: np.ndarray, cross: np.ndarray) -> np.ndarray:
    """Weights w >= 0 with sum 1 minimising ``w @ gram @ w - 2 cross @ w``."""
    if len(cross) == 1:
        return np.ones(1)
    scale = max(float(np.abs(gram).max()), np.finfo(float).tiny)
    gram, cross = gram / scale, cross / scale
    start = np.full(len(cross), 1 / len(cross))
    result = scipy.optimize.minimize(
        lambda w: (w @ gram @ w - 2 * cross @ w, 2 * (gram @ w - cross)),
        start,
        jac=True,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * len(cross),
        constraints={"type": "eq", "fun": lambda w: w.sum() - 1, "jac": lambda w: np.ones_like(w)},
        options={"ftol": 1e-12, "maxiter": 500},
    )
    weights = np.where(result.x > _ROUND_OFF, result.x, 0.0)  # the solver's round-off
    return weights / weights.sum()
