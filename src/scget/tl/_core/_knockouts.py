"""Exact attributions from forward passes: what removing an input does to a gene's output.

:func:`knockout` runs, for every promoter window, the window as it is and one copy per
removed input, in one engine pass (:func:`scget.tl._core._promoters.run_copies`, through
the entry point of the gradient attributions too); a copy's input is zeroed on the device by the
pass's transform. The copies of a window follow each other, so the batches cover several
inputs of few windows. The attribution of an input is the reference output minus the
output without it: positive where the input raises the gene's predicted expression.

- ``"motifs"``: one copy per feature present in the window (a motif with a nonzero
  score in one of its regions, and accessibility), its column zeroed in every region;
- ``"regions"``: one copy per region of the window, all its features (motif scores and
  accessibility) zeroed, as :func:`scget.tl.delete_regions` removes a region: the token
  stays, with its TSS indicators and position, so the window keeps its layout.

:func:`pair_interactions` runs, for chosen motifs of each window, every single and every
pairwise knockout: the interaction of two motifs is what removing both changes beyond
the sum of what removing each does.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse
import torch

from ._model import GETModel
from ._promoters import Promoters, run_copies, window_peaks

#: Attribution methods of :func:`scget.tl.gene_by_motif` and :func:`scget.tl.region_importance`.
METHODS = ("gradient", "knockout")


def check_method(method: str) -> str:
    """Return ``method`` if it is one of :data:`METHODS`; raise ``ValueError`` otherwise."""
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; choose from {list(METHODS)}.")
    return method


def knockout(
    promoters: Promoters,
    model: GETModel,
    what: Literal["motifs", "regions"],
    *,
    batch_size: int,
    device: str | None,
    desc: str,
) -> np.ndarray:
    """Reference minus knocked-out output of every promoter window, per removed input.

    Parameters
    ----------
    promoters
        The chosen promoter windows (:func:`scget.tl._core._promoters.promoters`).
    model
        The model.
    what
        ``"motifs"``: each input feature zeroed in every region of the window;
        ``"regions"``: every feature of each region zeroed.
    batch_size, device, desc
        Window copies per forward pass, torch device, progress label.

    Returns
    -------
    float64 array, windows x features (``"motifs"``; zero for features absent from the
    window) or windows x window size (``"regions"``; zero at padding).
    """
    peaks = window_peaks(promoters, model.window_size)
    # windows x removable inputs
    present = _present_features(promoters, peaks) if what == "motifs" else peaks >= 0
    window, removed = np.nonzero(present)
    # each window's reference (removed = -1) just before its copies
    counts = present.sum(axis=1)
    window = np.concatenate([np.arange(len(present)), window])
    removed = np.concatenate([np.full(len(present), -1), removed])
    order = np.argsort(window, kind="stable")
    window, removed = window[order], removed[order]
    transform = _zeroing(removed[:, None], axis=2 if what == "motifs" else 1)
    options = {"transform": transform, "batch_size": batch_size, "device": device, "desc": desc}
    output = run_copies(promoters, window, model, **options)
    reference = np.flatnonzero(removed < 0)
    effects = np.zeros(present.shape)
    knocked = removed >= 0
    effects[window[knocked], removed[knocked]] = (
        np.repeat(output[reference], counts) - output[knocked]
    )
    return effects


def pair_interactions(
    promoters: Promoters,
    model: GETModel,
    chosen: np.ndarray,
    *,
    batch_size: int,
    device: str | None,
    desc: str,
) -> np.ndarray:
    """Pairwise interactions of the ``chosen`` features of every promoter window.

    For features ``a`` and ``b`` of a window with output ``f`` (``f_a``: without ``a``,
    its column zeroed in every region; ``f_ab``: without both), the interaction is
    ``f - f_a - f_b + f_ab``: positive where the two raise the output together by more
    than the sum of their separate effects (they cooperate), negative where together
    they do less (they compete or are redundant). It is zero where either is absent.

    Parameters
    ----------
    promoters
        The promoter windows.
    model
        The model.
    chosen
        Windows x k feature numbers (distinct within a row).
    batch_size, device, desc
        Window copies per forward pass, torch device, progress label.

    Returns
    -------
    float64 array, windows x pairs: the pairs ``(chosen[:, i], chosen[:, j])`` for
    ``i, j = np.triu_indices(k, 1)``, in that order.
    """
    n, k = chosen.shape
    first, second = np.triu_indices(k, 1)
    none = np.full((n, 1), -1)
    removed = np.stack(  # per window: the reference, each single knockout, each pair
        [
            np.hstack([none, chosen, chosen[:, first]]),
            np.hstack([none, np.full((n, k), -1), chosen[:, second]]),
        ],
        axis=-1,
    )
    copies_per_window = removed.shape[1]
    window = np.repeat(np.arange(n), copies_per_window)
    transform = _zeroing(removed.reshape(-1, 2), axis=2)
    options = {"transform": transform, "batch_size": batch_size, "device": device, "desc": desc}
    output = run_copies(promoters, window, model, **options).reshape(n, copies_per_window)
    single = output[:, 1 : k + 1]
    return output[:, :1] - single[:, first] - single[:, second] + output[:, k + 1 :]


def _zeroing(removed: np.ndarray, axis: int):
    """An engine transform zeroing, in each window copy, what its row of ``removed`` names.

    ``removed``: copies x m feature numbers (``axis=2``, the column in every region) or
    region positions (``axis=1``, every feature of the region); -1 removes nothing.
    """

    def transform(x, rows):
        x = x.clone()
        for column in removed[rows].T:
            chosen = torch.from_numpy(column).to(x.device)
            copies = torch.nonzero(chosen >= 0).flatten()
            if axis == 2:
                x[copies, :, chosen[copies]] = 0
            else:
                x[copies, chosen[copies], :] = 0
        return x

    return transform


def _present_features(promoters: Promoters, peaks: np.ndarray) -> np.ndarray:
    """Windows x features: True for the motifs scored in a region of the window.

    Accessibility, the last feature, counts as present in every window.
    """
    valid = peaks >= 0
    incidence = scipy.sparse.csr_matrix(
        (np.ones(valid.sum()), (np.nonzero(valid)[0], peaks[valid])),
        shape=(len(peaks), len(promoters.inputs.motifs)),
    )
    nonzero = scipy.sparse.csr_matrix(promoters.inputs.motifs != 0, dtype=np.float64)
    motifs = (incidence @ nonzero).toarray() > 0
    return np.column_stack([motifs, np.ones(len(peaks), dtype=bool)])
