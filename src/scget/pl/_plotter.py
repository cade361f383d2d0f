"""Figure handling shared by the plots: ``ax``, ``figsize``, ``dpi``, ``return_fig``, ``save``."""

from __future__ import annotations

import os


def new_axes(ax=None, figsize: tuple[float, float] = (4, 3), dpi: int = 100):
    """Return the figure and axes to draw on: ``ax`` and its figure, or a new pair."""
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    if ax is not None:
        if not isinstance(ax, Axes):
            raise ValueError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}.")
        return ax.figure, ax
    if len(figsize) != 2:
        raise ValueError(f"figsize must be (width, height), got {figsize!r}.")
    return plt.subplots(figsize=figsize, dpi=dpi)


def finish(fig, *, return_fig: bool = False, save: str | os.PathLike | None = None):
    """Save ``fig`` when ``save`` is given; return it when ``return_fig``."""
    if save is not None:
        fig.savefig(save, bbox_inches="tight")
    return fig if return_fig else None
