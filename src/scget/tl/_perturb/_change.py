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
from .._core._model import GETModel
from .._core._promoters import Promoters, per_gene, run_copies, window_peaks


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

    Returns
    -------
    The change (groups x genes, NaN where the gene has no changed window) and the
    number of windows run per group.
    """
    peaks = window_peaks(promoters, model.window_size)
    groups = promoters.table["group"].to_numpy()
    hit = (peaks >= 0) & changed[groups[:, None], np.maximum(peaks, 0)]
    affected = np.flatnonzero(hit.any(axis=1))
    windows = np.bincount(groups[affected], minlength=shape[0])
    values = np.zeros(len(promoters.table))
    if not len(affected):
        logger.warning(f"{desc}: no chosen window holds a changed region; nothing changes.")
    else:
        mask = np.concatenate([np.zeros_like(hit[affected]), hit[affected]])
        columns = np.zeros(promoters.inputs.n_features, dtype=bool)
        columns[features] = True

        def transform(x, rows):
            zero = torch.from_numpy(mask[rows]).to(x.device)[..., None]
            keep = ~(zero & torch.from_numpy(columns).to(x.device))
            return x * keep

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
