"""Training curves of a GET model."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import LogLocator, NullFormatter

from .. import get
from .._shared.constants import FINETUNE_KEY
from .._shared.logging import logger
from ._plotter import plot_function


@plot_function(figsize=(4, 3))
def history(data, *, key: str = FINETUNE_KEY, log: bool = True, ax=None) -> None:
    """Plot training and validation loss per epoch, marking the best validation epoch.

    Parameters
    ----------
    data
        A pseudobulk :class:`~mudata.MuData` trained on (its history is read with
        :func:`scget.get.history`), a :class:`scget.tl.GETModel` (its ``history``) or a
        DataFrame with the columns ``epoch``, ``train_loss`` and, when validated,
        ``valid_loss``.
    key
        The training's ``key_added``, when ``data`` is a MuData.
    log
        Logarithmic loss axis; falls back to linear (with a log message) when a loss is
        not positive (the Poisson loss can be negative).
    {plot}

    Returns
    -------
    {plot_returns}

    Raises
    ------
    ValueError
        If the history is empty or lacks ``epoch``/``train_loss``.
    KeyError
        If a MuData holds no training under ``key``.

    Examples
    --------
    >>> scget.pl.history(model, show=False)
    """
    params: dict = {}
    if isinstance(data, pd.DataFrame):
        table = data
    elif hasattr(data, "uns"):
        table = get.history(data, key=key)
        params = get.params(data, key)
    else:
        table = getattr(data, "history", None)
        params = getattr(data, "params", None) or {}
    if not isinstance(table, pd.DataFrame):
        raise ValueError(
            "data must be a MuData, a GETModel or a DataFrame of the training history, "
            f"got {type(data).__name__}."
        )
    missing = {"epoch", "train_loss"} - set(table.columns)
    if missing or table.empty:
        raise ValueError(
            f"The history needs rows and the columns epoch and train_loss (missing: "
            f"{sorted(missing)}, rows: {len(table)})."
        )
    curves = [("train_loss", "train")]
    if "valid_loss" in table.columns and table["valid_loss"].notna().any():
        curves.append(("valid_loss", "valid"))
    losses = table[[column for column, _ in curves]].to_numpy(dtype=float)
    for column, label in curves:
        finite = table[column].notna()
        ax.plot(table.loc[finite, "epoch"], table.loc[finite, column], marker=".", label=label)
    if len(curves) == 2:
        best = table.loc[table["valid_loss"].idxmin()]
        ax.axvline(
            best["epoch"],
            color="grey",
            linestyle="--",
            linewidth=0.8,
            label=f"best valid (epoch {int(best['epoch'])})",
        )
    if log and np.nanmin(losses) > 0:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_minor_formatter(NullFormatter())
    elif log:
        logger.info("A loss is not positive; plotting the loss on a linear axis.")
    ax.set_xlabel("epoch")
    ax.set_ylabel(_loss_name(params))
    ax.legend(frameon=False)


def _loss_name(params: dict) -> str:
    """The axis label of a training's loss, from its recorded parameters."""
    if "mask_ratio" in params:
        return "masked-region loss (MSE)"
    if "loss" not in params:
        return "loss"
    objective = params.get("objective", "expression")
    return f"{params['loss']} loss ({objective})"
