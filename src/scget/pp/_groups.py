"""Cell-to-group assignment for pseudobulks: labels looked up by barcode, group codes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._shared.logging import logger


def as_columns(groupby: str | Sequence[str]) -> list[str]:
    """``groupby`` as a non-empty list of column names."""
    columns = [groupby] if isinstance(groupby, str) else list(groupby)
    if not columns or not all(isinstance(c, str) for c in columns):
        raise ValueError(f"groupby must be a column name or a list of names, got {groupby!r}.")
    return columns


def find_labels(mdata, column: str, modalities: Sequence[str]) -> pd.Series:
    """Return the ``.obs`` column ``column`` of ``mdata``, else of one of its modalities.

    Raises
    ------
    KeyError
        If no ``.obs`` holds the column; the message lists where it was looked for.
    """
    if column in mdata.obs.columns:
        return mdata.obs[column]
    for mod in modalities:
        if column in mdata[mod].obs.columns:
            return mdata[mod].obs[column]
    places = ", ".join(["mdata.obs", *(f"mdata[{m!r}].obs" for m in modalities)])
    raise KeyError(
        f"groupby column {column!r} was not found in {places}. Add the cell labels there "
        "(e.g. mdata.obs['cell_type'] = ...) or pass the name of an existing column."
    )


def assign_groups(labels: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Assign each cell the code of the group formed by its labels.

    Parameters
    ----------
    labels
        One row per cell, one column per ``groupby`` key. Cells with a missing label
        belong to no group.

    Returns
    -------
    ``codes``, the group index of every cell (-1 for none), and ``groups``, one row per
    group indexed by its name (labels joined by ``"_"``), with the label columns as
    categoricals. Groups are ordered as the categories (or sorted values) of the labels.

    Raises
    ------
    ValueError
        If no cell has a complete label, a label is an empty string, or two groups would
        get the same name (labels of mixed types such as ``1`` and ``"1"``, or labels
        containing ``"_"``).
    """
    columns = list(labels.columns)
    complete = labels.notna().all(axis=1).to_numpy()
    if not complete.any():
        raise ValueError(f"Every cell has a missing value in {columns}; no group can be formed.")
    if not complete.all():
        logger.info(f"{(~complete).sum()} cell(s) with a missing {columns} label are left out.")
    labelled = labels[complete].astype("category")
    for column in columns:
        _check_blank_labels(labelled[column], column)
    grouped = labelled.groupby(columns, observed=True, sort=True)
    codes = np.full(len(labels), -1, dtype=np.int64)
    codes[complete] = grouped.ngroup().to_numpy()
    keys = grouped.size().index.to_frame(index=False)
    for column in columns:
        unused = labelled[column].cat.categories.difference(keys[column].unique())
        if len(unused):
            logger.info(f"{column!r} categories without cells are skipped: {list(unused)}.")
    for column in columns:
        keys[column] = keys[column].astype(
            pd.CategoricalDtype(labelled[column].cat.remove_unused_categories().cat.categories)
        )
    names = keys.astype(str).agg("_".join, axis=1)
    if names.duplicated().any():
        _raise_duplicate_names(keys[columns], names)
    keys.index = pd.Index(names.to_numpy(), name=None)
    return codes, keys


def _check_blank_labels(labels: pd.Series, column: str) -> None:
    """Raise ``ValueError`` if a label of ``labels`` (categorical) is an empty string."""
    blank = [c for c in labels.cat.categories if isinstance(c, str) and not c.strip()]
    if blank:
        raise ValueError(
            f"{int(labels.isin(blank).sum())} cell(s) have an empty label {blank[0]!r} in "
            f"groupby column {column!r}, which cannot name a group. Set these labels to "
            "missing (None or NaN) to leave the cells out, or give them a name."
        )


def _raise_duplicate_names(keys: pd.DataFrame, names: pd.Series) -> None:
    """Raise the ``ValueError`` explaining why groups ``keys`` share the ``names`` given."""
    name = names[names.duplicated()].iloc[0]
    clash = [tuple(row) for row in keys[(names == name).to_numpy()].itertuples(index=False)]
    mixed = {
        column: sorted({type(v).__name__ for v in keys[column].cat.categories})
        for column in keys.columns
    }
    mixed = {column: kinds for column, kinds in mixed.items() if len(kinds) > 1}
    if mixed:
        column, kinds = next(iter(mixed.items()))
        raise ValueError(
            f"groupby column {column!r} mixes label types ({', '.join(kinds)}): the labels "
            f"{clash} would all name the group {name!r}. Convert the column to one type, e.g. "
            f"mdata.obs[{column!r}] = mdata.obs[{column!r}].astype(str)."
        )
    raise ValueError(
        f"Joining the labels of {list(keys.columns)} with '_' gives duplicate group names: "
        f"{clash} are all named {name!r}; remove '_' from the labels."
    )
