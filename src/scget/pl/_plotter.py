"""The figure handling every plot shares: scanpy's ``ax``, ``return_fig``, ``save``, ``show``.

A plot is written as a drawing function that takes its data first, then ``ax`` and its
own keyword options, and draws on ``ax``; :func:`plot_function` turns it into the public
plot: it makes the figure (or uses ``ax``), saves and returns it, and gives the public
signature and docstring the shared options (also ``figsize`` and ``dpi``).
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from .._shared.docs import fill_docs


def plot_function(*, figsize: tuple[float, float]) -> Callable[[Callable], Callable]:
    """Decorator making a public plot from a drawing function.

    The drawing function's docstring holds ``{plot}`` among its parameters and
    ``{plot_returns}`` under Returns; its ``ax`` parameter receives the axes to draw on.

    Parameters
    ----------
    figsize
        Default size (inches) of a new figure.

    Returns
    -------
    The decorator.
    """

    def decorator(draw: Callable) -> Callable:
        @functools.wraps(draw)
        def plot(
            *args: Any,
            ax=None,
            figsize: tuple[float, float] = figsize,
            dpi: int = 100,
            return_fig: bool = False,
            save: str | os.PathLike | None = None,
            show: bool | None = None,
            **kwargs: Any,
        ):
            fig, axes = new_axes(ax, figsize, dpi)
            try:
                draw(*args, ax=axes, **kwargs)
            except Exception:
                if ax is None:
                    _close(fig)
                raise
            result = finish(fig, return_fig=return_fig, save=save)
            if show:
                plt.show()
            elif show is False and ax is None and not return_fig:
                _close(fig)
            return result

        signature = inspect.signature(draw)
        keyword = inspect.Parameter.KEYWORD_ONLY
        kept = [p for name, p in signature.parameters.items() if name != "ax"]
        shared = [
            inspect.Parameter("ax", keyword, default=None, annotation="Axes | None"),
            inspect.Parameter(
                "figsize", keyword, default=figsize, annotation="tuple[float, float]"
            ),
            inspect.Parameter("dpi", keyword, default=100, annotation="int"),
            inspect.Parameter("return_fig", keyword, default=False, annotation="bool"),
            inspect.Parameter("save", keyword, default=None, annotation="str | PathLike | None"),
            inspect.Parameter("show", keyword, default=None, annotation="bool | None"),
        ]
        plot.__signature__ = signature.replace(
            parameters=kept + shared, return_annotation="Figure | None"
        )
        plot.__doc__ = fill_docs(draw.__doc__ or "", plot_returns=_RETURNS)
        return plot

    return decorator


_RETURNS = "The :class:`~matplotlib.figure.Figure` when ``return_fig``, else ``None``."


def new_axes(ax=None, figsize: tuple[float, float] = (4, 3), dpi: int = 100):
    """Return the figure and axes to draw on: ``ax`` and its figure, or a new pair."""
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


def split_axes(ax, shares, *, vertical: bool = True, gap: float = 0.04) -> list:
    """Divide ``ax`` into panels (inset axes) and hide it, for plots of several panels.

    Parameters
    ----------
    ax
        The axes a plot was given (see :func:`plot_function`).
    shares
        Relative size of each panel: heights top to bottom when ``vertical``, else widths
        left to right.
    vertical
        Stack the panels top to bottom (else side by side).
    gap
        Space between panels, as a share of ``ax``.

    Returns
    -------
    The panels, in order; they are ``ax.child_axes``.
    """
    shares = np.asarray(shares, dtype=float)
    sizes = shares / shares.sum() * (1 - gap * (len(shares) - 1))
    ax.set_axis_off()
    panels, position = [], 0.0
    for size in sizes:
        if vertical:
            bounds = [0.0, 1.0 - position - size, 1.0, size]
        else:
            bounds = [position, 0.0, size, 1.0]
        panels.append(ax.inset_axes(bounds))
        position += size + gap
    return panels


def _close(fig) -> None:
    plt.close(fig)
