"""Samples as replicates: sample-level covariates of cells, and the design they make."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .._shared.logging import logger
from ._groups import find_labels


def sample_covariates(
    mdata,
    cells: pd.Index,
    sample: pd.Series,
    covariates: Sequence[str] | None,
    *,
    exclude: Sequence[str],
    modalities: Sequence[str],
) -> pd.DataFrame:
    """The covariates of each sample: ``.obs`` columns constant within every sample.

    Parameters
    ----------
    mdata
        The cell-level MuData.
    cells
        The cells pooled (their sample is ``sample``).
    sample
        Sample of each cell of ``cells`` (missing: the cell is pooled in no sample).
    covariates
        Columns that must be sample-level (an error names a sample with two values);
        ``None``: every column of ``mdata.obs`` (not modality-prefixed) that is constant
        within every sample, found by itself.
    exclude
        Columns never taken as covariates (the grouping columns).
    modalities
        Modalities whose ``.obs`` is searched for a named covariate.

    Returns
    -------
    One row per sample (indexed by it), one column per covariate.

    Raises
    ------
    KeyError
        If a named covariate is in no ``.obs``.
    ValueError
        If a named covariate takes two values in one sample.
    """
    given = covariates is not None
    if given:
        names = [covariates] if isinstance(covariates, str) else list(covariates)
    else:
        names = [c for c in mdata.obs.columns if ":" not in c and c not in exclude]
    pooled = sample.notna().to_numpy()
    columns = {}
    for name in names:
        values = find_labels(mdata, name, modalities).reindex(cells)[pooled]
        per_sample = values.groupby(sample[pooled].to_numpy(), observed=True, dropna=False)
        n_values = per_sample.nunique(dropna=False)
        if (n_values > 1).any():
            if not given:
                continue
            bad = n_values.index[n_values > 1][0]
            seen = sorted(map(str, values[(sample[pooled] == bad).to_numpy()].unique()))
            raise ValueError(
                f"Sample {bad!r} has {len(seen)} values of covariate {name!r} ({seen}): a "
                "sample-level covariate (condition, batch) must be constant within each "
                "sample. Fix the labels, or name a finer sample column (e.g. one per "
                "donor and condition)."
            )
        first = per_sample.first()
        if isinstance(values.dtype, pd.CategoricalDtype):
            first = first.astype(values.dtype).cat.remove_unused_categories()
        columns[name] = first
    table = pd.DataFrame(columns)
    if names and not given:
        logger.info(f"Sample-level covariates kept in .obs: {list(table.columns)}.")
    return table


def log_design(obs: pd.DataFrame, groupby: Sequence[str], sample: str, covariates) -> None:
    """Say plainly, per group, how many samples each covariate level kept.

    A level with a single sample in a group, beside levels with more, is a warning (no
    replicate-aware test can compare it there); unequal numbers of samples per level
    are logged. Covariates with one sample per level (sample names) are not.
    """
    for column in covariates:
        counts = obs.groupby([*groupby, column], observed=False)[sample].nunique()
        counts = counts.unstack(column).fillna(0).astype(int)
        for group, row in counts.iterrows():
            per_level = {str(level): int(n) for level, n in row.items()}
            single = [level for level, n in per_level.items() if n < 2]
            if single and len(single) < len(per_level):
                logger.warning(
                    f"Pseudobulks of {group!r}: samples per {column!r} {per_level}; "
                    f"{single} have fewer than 2 samples, so no replicate-aware test "
                    "can compare them there."
                )
            elif len(set(per_level.values())) > 1:
                logger.info(
                    f"Pseudobulks of {group!r}: unbalanced samples per {column!r} {per_level}."
                )
