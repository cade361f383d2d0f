"""The replicate design of a pseudobulk: samples, conditions, covariates, checked up front.

Every check runs before a score is computed or a model fitted, so that a bad design
fails at once with what is wrong and how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..._shared.constants import PSEUDOBULK_KEY
from ..._shared.logging import logger
from ..._shared.storage import read_params


@dataclass
class Design:
    """The tested pseudobulks and their model matrix per group.

    Attributes
    ----------
    obs
        The tested pseudobulks' ``.obs``, with ``group`` (the cell type) added.
    condition, reference
        The condition column and its reference level.
    contrasts
        The other levels, each tested against ``reference``.
    groups
        The tested groups (cell types), in order.
    sample
        The sample column.
    paired_by
        Column of the pairing unit (donor), or ``None``.
    weights
        Column of the WLS weights, or ``None``.
    matrices
        Per group: the model matrix (pseudobulks x terms): ``const``, one indicator per
        contrast level (named after it), then the covariates' columns and, paired
        without a mixed model, the pairing unit's indicators.
    """

    obs: pd.DataFrame
    condition: str
    reference: str
    contrasts: list[str]
    groups: list[str]
    sample: str
    paired_by: str | None
    weights: str | None
    matrices: dict[str, pd.DataFrame]


def resolve_design(
    pb,
    condition: str,
    *,
    reference: str | None,
    groups: Sequence[str] | None,
    covariates: Sequence[str],
    paired_by: str | None,
    mixed: bool,
    weights: str | None,
) -> Design:
    """Read and check the design of ``pb``'s pseudobulks (made with ``sample=``).

    Raises
    ------
    KeyError
        If ``pb`` is no pseudobulk, or a named column is not in ``pb.obs``.
    ValueError
        If the pseudobulks were made without samples, a sample is in two conditions, a
        tested group has fewer than two samples of a condition, a covariate is
        confounded with the condition, no residual degree of freedom is left, or a
        value is missing.
    """
    record = read_params(pb, PSEUDOBULK_KEY, writer="scget.pp.pseudobulk")
    sample = record.get("sample")
    groupby = list(record["groupby"])
    if sample is None:
        raise ValueError(
            "These pseudobulks were made without samples, so there are no replicates to "
            "test: run scget.pp.pseudobulk(mdata, groupby="
            f"{groupby[0] if len(groupby) == 1 else groupby!r}, sample='<donor column>') so "
            "that each pseudobulk is one sample of one cell type."
        )
    obs = pb.obs
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    for role, column in (
        ("the sample column recorded by scget.pp.pseudobulk", sample),
        ("condition", condition),
        *(("covariate", c) for c in covariates),
        *(("groupby column recorded by scget.pp.pseudobulk", c) for c in groupby),
        ("paired_by", paired_by),
        ("weights", weights),
    ):
        if column is not None and column not in obs.columns:
            raise KeyError(
                f"{role} {column!r} is not a column of pb.obs ({list(obs.columns)}). "
                "Sample-level columns are carried by scget.pp.pseudobulk(..., sample=..., "
                "covariates=[...])."
            )
    for column in (condition, *covariates, paired_by, weights):
        if column is not None and obs[column].isna().any():
            raise ValueError(f"pb.obs[{column!r}] has missing values; fill or drop them.")
    if condition in covariates or condition in (sample, *groupby):
        raise ValueError(
            f"condition {condition!r} cannot also be the sample, a groupby column or a covariate."
        )
    obs = obs.copy()
    obs["group"] = obs[groupby].astype(str).agg("_".join, axis=1)
    _check_one_condition_per_sample(obs, sample, condition)
    levels = _levels(obs[condition])
    if reference is None:
        reference = levels[0]
    if reference not in levels:
        raise ValueError(f"reference {reference!r} is not a level of {condition!r}: {levels}.")
    contrasts = [level for level in levels if level != reference]
    if not contrasts:
        raise ValueError(f"{condition!r} has only the level {reference!r}; nothing to compare.")
    if weights is not None and not (pd.to_numeric(obs[weights], errors="coerce") > 0).all():
        raise ValueError(f"weights pb.obs[{weights!r}] must be positive numbers.")
    all_groups = list(dict.fromkeys(obs["group"]))
    if groups is None:
        groups = all_groups
    else:
        groups = [groups] if isinstance(groups, str) else list(groups)
        unknown = sorted(set(groups) - set(all_groups))
        if unknown:
            raise ValueError(f"groups {unknown} are not among the pseudobulks' {all_groups}.")
    obs = obs[obs["group"].isin(groups).to_numpy()]
    _check_replicated(obs, groups, sample, condition, [reference, *contrasts])
    matrices = {}
    for group in groups:
        rows = obs[(obs["group"] == group).to_numpy()]
        _check_one_pseudobulk_per_sample(rows, group, sample)
        fixed = covariates if paired_by is None or mixed else [*covariates, paired_by]
        matrices[group] = _model_matrix(rows, group, condition, contrasts, fixed, mixed)
    return Design(
        obs, condition, reference, contrasts, groups, sample, paired_by, weights, matrices
    )


def _levels(values: pd.Series) -> list[str]:
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.astype(str))
        return [str(c) for c in values.cat.categories if str(c) in present]
    return sorted(set(values.astype(str)))


def _values_per_level(obs: pd.DataFrame, by: str, column: str) -> dict[str, list[str]]:
    """The distinct values of ``column`` (as strings) per level of ``by``."""
    grouped = obs.groupby(obs[by].astype(str))[column]
    return grouped.agg(lambda values: sorted(set(map(str, values)))).to_dict()


def _check_one_condition_per_sample(obs: pd.DataFrame, sample: str, condition: str) -> None:
    mixed = {
        name: levels
        for name, levels in _values_per_level(obs, sample, condition).items()
        if len(levels) > 1
    }
    if mixed:
        name, levels = next(iter(mixed.items()))
        raise ValueError(
            f"Sample {name!r} is in several conditions ({levels}): a sample "
            f"must belong to one level of {condition!r}. If one donor was measured in both, "
            "give each (donor, condition) its own sample label and pass the donor as "
            "paired_by."
        )


def _check_replicated(obs, groups, sample, condition, levels) -> None:
    """Raise, naming every group short of replicates and the groups that can be tested."""
    counts = (
        obs.groupby([obs["group"], obs[condition].astype(str)])[sample]
        .nunique()
        .unstack(fill_value=0)
        .reindex(index=groups, columns=levels, fill_value=0)
    )
    short = counts[(counts < 2).any(axis=1)]
    for group, row in counts.drop(short.index).iterrows():
        if row.nunique() > 1:
            logger.info(f"Group {group!r}: unbalanced samples per {condition!r} {row.to_dict()}.")
    if short.empty:
        return
    described = "; ".join(
        f"{group!r} has {row.to_dict()}, {list(row.index[row < 2])} fewer than 2"
        for group, row in short.iterrows()
    )
    testable = [group for group in groups if group not in short.index]
    remedy = (
        f"or test the groups that have them with groups={testable!r}"
        if testable
        else "no group has 2 samples of every condition"
    )
    raise ValueError(
        f"Samples per {condition!r}: {described}. A replicate-aware test needs at least 2 "
        "samples of every condition (one sample per condition gives no estimate of the "
        "variance between samples). Add samples, lower min_cells in scget.pp.pseudobulk "
        f"if pseudobulks were dropped, {remedy}."
    )


def _check_one_pseudobulk_per_sample(rows, group, sample) -> None:
    if rows[sample].nunique() != len(rows):
        raise ValueError(
            f"Group {group!r} has several pseudobulks of one sample; each pseudobulk must "
            f"be one sample ({sample!r}) of one group."
        )


def _model_matrix(rows, group, condition, contrasts, covariates, mixed) -> pd.DataFrame:
    """``const``, condition indicators and covariate columns; rank and df checked."""
    matrix = pd.DataFrame({"const": 1.0}, index=rows.index)
    for level in contrasts:
        matrix[level] = (rows[condition].astype(str) == level).astype(float)
    base = matrix.to_numpy()
    for name in covariates:
        block = _covariate_columns(rows[name], name)
        if np.linalg.matrix_rank(np.column_stack([base, block])) < base.shape[1] + block.shape[1]:
            raise ValueError(
                f"Covariate {name!r} is confounded with {condition!r} in group {group!r} "
                f"(or constant there): its values per condition "
                f"{_values_per_level(rows, condition, name)} "
                "leave the condition effect inestimable. Drop the covariate, or add "
                "samples that cross it with the condition."
            )
        for j, column in enumerate(block.columns):
            matrix[column] = block.iloc[:, j].to_numpy()
    rank = np.linalg.matrix_rank(matrix.to_numpy())
    if rank < matrix.shape[1]:
        raise ValueError(
            f"The covariates {covariates} are collinear in group {group!r}; drop one of them."
        )
    residual = len(rows) - rank
    if residual < 1 and not mixed:
        raise ValueError(
            f"Group {group!r} has {len(rows)} pseudobulks for {rank} model terms (intercept, "
            f"condition, covariates {covariates}): no degree of freedom is left to estimate "
            "the variance between samples. Use fewer covariates or more samples."
        )
    return matrix


def _covariate_columns(values: pd.Series, name: str) -> pd.DataFrame:
    """A numeric covariate, centred; a categorical one as indicators of all but its first level."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return pd.DataFrame(
            {name: values.to_numpy(float) - values.to_numpy(float).mean()}, index=values.index
        )
    dummies = pd.get_dummies(values.astype(str), prefix=name, prefix_sep=":", dtype=float)
    return dummies.iloc[:, 1:]
