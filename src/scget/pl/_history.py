"""Training curves of a GET model."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .._docs import inject_docs
from .._logging import logger
from ._plotter import finish, new_axes


@inject_docs()
def history(
    model_or_history,
    *,
    log: bool = True,
    ax=None,
    figsize: tuple[float, float] = (4, 3),
    dpi: int = 100,
    return_fig: bool = False,
    save: str | os.PathLike | None = None,
):
    """Plot training and validation loss per epoch, marking the best validation epoch.

    Parameters
    ----------
    model_or_history
        A :class:`scget.tl.GETModel` (its ``history``) or a DataFrame with the columns
        ``epoch``, ``train_loss`` and, when validated, ``valid_loss``.
    log
        Logarithmic loss axis; falls back to linear (with a log message) when a loss is
        not positive (the Poisson loss can be negative).
    {plot}

    Returns
    -------
    The figure when ``return_fig``, else ``None``.

    Raises
    ------
    ValueError
        If the history is empty or lacks ``epoch``/``train_loss``.
    """
    table = getattr(model_or_history, "history", model_or_history)
    if not isinstance(table, pd.DataFrame):
        raise ValueError(
            "model_or_history must be a GETModel or a DataFrame of the training history, "
            f"got {type(model_or_history).__name__}."
        )
    missing = {"epoch", "train_loss"} - set(table.columns)
    if missing or table.empty:
        raise ValueError(
            f"The history needs rows and the columns epoch and train_loss (missing: "
            f"{sorted(missing)}, rows: {len(table)})."
        )
    fig, ax = new_axes(ax, figsize, dpi)
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
    elif log:
        logger.info("A loss is not positive; plotting the loss on a linear axis.")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend(frameon=False)
    return finish(fig, return_fig=return_fig, save=save)
