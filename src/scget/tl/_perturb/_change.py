"""The predicted change of a perturbation, shared by the perturbation functions.

A perturbation zeroes some input features of some peaks in some groups. :func:`change`
runs the reference and the perturbed version of every promoter window that holds a
changed region in one engine pass (the perturbed copies are transformed on the
device, batch by batch), and averages the change of the output at the TSS peak over
each gene's windows as ``get_pred`` does: a gene's change is its perturbed minus its
reference predicted log10(TPM + 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..._shared.logging import logger
from ..._shared.storage import finish_writer
from .._core._model import GETModel, check_model
from .._core._promoters import Promoters, per_gene, run_copies, window_peaks
from .._core._windows import then, zeroing_columns


def change(
    promoters: Promoters,
    model: GETModel,
    changed: np.ndarray,
    features: np.ndarray,
    *,
    shape: tuple[int, int],
    batch_size: int,
    device: str | None,
    desc: str,
    accessibility: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Predicted change of each gene when ``features`` of the ``changed`` regions are zeroed.

    Parameters
    ----------
    promoters
        The chosen promoter windows (:func:`scget.tl._core._promoters.promoters`).
    model
        The model.
    changed
        Groups x peaks, True where the peak's features are zeroed in the group.
    features
        Input columns zeroed (numbers into ``promoters.inputs.feature_names``).
    shape
        Groups x genes of the RNA modality.
    batch_size, device, desc
        Windows per pass, torch device, progress label.
    accessibility
        Groups x peaks, added to the accessibility score (the last input column, clipped
        at 0) of every region in the perturbed windows; a region whose accessibility
        changes is a changed region.

    Returns
    -------
    The change (groups x genes, NaN where the gene has no changed window) and the
    number of windows run per group.
    """
    peaks = window_peaks(promoters, model.window_size)
    groups = promoters.table["group"].to_numpy()
    zeroed = (peaks >= 0) & changed[groups[:, None], np.maximum(peaks, 0)]
    hit = zeroed
    if accessibility is not None:
        opened = np.where(peaks >= 0, accessibility[groups[:, None], np.maximum(peaks, 0)], 0.0)
        opened = opened.astype(np.float32)
        hit = zeroed | (opened != 0)
    affected = np.flatnonzero(hit.any(axis=1))
    windows = np.bincount(groups[affected], minlength=shape[0])
    values = np.zeros(len(promoters.table))
    if not len(affected):
        logger.warning(f"{desc}: no chosen window holds a changed region; nothing changes.")
    else:
        mask = np.concatenate([np.zeros_like(zeroed[affected]), zeroed[affected]])
        transform = zeroing_columns(features, mask, promoters.inputs.n_features)
        if accessibility is not None:
            added = np.concatenate([np.zeros_like(opened[affected]), opened[affected]])
            transform = then(transform, _shifting_accessibility(added))

        output = run_copies(
            promoters,
            np.tile(affected, 2),
            model,
            transform=transform,
            batch_size=batch_size,
            device=device,
            desc=desc,
        )
        values[affected] = output[len(affected) :] - output[: len(affected)]
    deltas = per_gene(values, promoters, shape)
    touched = per_gene(hit.any(axis=1).astype(np.float64), promoters, shape)
    deltas[~(touched > 0)] = np.nan
    return deltas, windows


def _shifting_accessibility(added: np.ndarray):
    """Engine transform adding ``added`` (copies x positions) to the accessibility, clipped at 0."""

    def transform(x, rows):
        shift = torch.from_numpy(added[rows]).to(x.device, x.dtype)
        return torch.cat([x[..., :-1], (x[..., -1] + shift).clamp(min=0)[..., None]], -1)

    return transform


def check_accessibility_model(accessibility_model, model: GETModel, *, caller: str) -> None:
    """Raise if ``accessibility_model`` cannot tell how a perturbation changes accessibility.

    It must predict accessibility from the same input features as ``model``, whose
    accessibility input must be quantitative (a change can be added to it).
    """
    accessibility_model = check_model(accessibility_model)
    if not accessibility_model.predicts_accessibility:
        raise ValueError(
            f"{caller}: accessibility_model does not predict accessibility (objective "
            f"{accessibility_model.objective!r}). Fine-tune one with "
            'scget.tl.finetune(pb, objective="accessibility") (or "joint").'
        )
    if list(accessibility_model.feature_names) != list(model.feature_names):
        raise ValueError(
            f"{caller}: accessibility_model reads other input features than model; fine-tune "
            "both on the same motif scan."
        )
    if model.binary:
        raise ValueError(
            f"{caller}: model reads binary accessibility, to which a predicted change of "
            "accessibility cannot be added; use a model fine-tuned on quantitative "
            "accessibility (binary=False) or leave accessibility_model out."
        )


def store_change(
    pb,
    deltas: np.ndarray,
    windows: np.ndarray,
    promoters: Promoters,
    params: Mapping[str, Any],
    *,
    key: str,
    what: str,
    copy: bool,
) -> pd.DataFrame:
    """Write the change as ``["rna"].layers[key]`` and the record ``key``.

    Returns the change (groups x genes) as stored, float32, or with ``copy`` ``pb`` (the
    writers' convention, :func:`scget._shared.storage.finish_writer`).
    """
    rna = promoters.params["rna"]
    adata = pb[rna]
    deltas = adata.layers[key] = deltas.astype(np.float32)
    names = [str(name) for name in adata.obs_names[promoters.groups]]
    n_genes = np.isfinite(deltas[promoters.groups]).sum(axis=1)
    summary = pd.DataFrame(
        {"group": names, "n_genes": n_genes, "n_windows": windows[promoters.groups]}
    )
    frame = pd.DataFrame(
        deltas, index=adata.obs_names.astype(str).copy(), columns=adata.var_names.astype(str)
    )
    return finish_writer(
        pb,
        key,
        summary,
        params,
        slots=[(rna, "layers", key)],
        copy=copy,
        returns=frame,
        message=f"{what}: {int(n_genes.sum())} (group, gene) changes from {windows.sum()} windows.",
    )
