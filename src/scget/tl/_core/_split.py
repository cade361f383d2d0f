"""Train / validation / test split by chromosomes and groups."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..._shared.genomic import chromosome_sort_key
from ..._shared.logging import logger

#: Keys of a split (lists of str): what a model was trained, validated and tested on.
SPLIT_KEYS = (
    "train_chromosomes",
    "valid_chromosomes",
    "test_chromosomes",
    "leave_out_groups",
    "valid_groups",
)
#: Share of the training regions aimed at when picking the validation chromosome.
VALID_FRACTION = 0.125


def make_split(
    regions_per_chromosome: pd.Series,
    groups: Sequence[str],
    *,
    leave_out_chromosomes: Sequence[str] | None = None,
    leave_out_groups: Sequence[str] | None = None,
    valid_chromosomes: Sequence[str] | None = None,
    valid_groups: Sequence[str] | None = None,
) -> dict[str, list[str]]:
    """Split chromosomes and groups into training, validation and test parts.

    ``leave_out_chromosomes`` (in every group) and ``leave_out_groups`` (on every
    chromosome) form the test set, never used for training or early stopping. The
    validation part is separate from both: either ``valid_groups``, training groups
    held out on every remaining chromosome (validation by new groups), or validation
    chromosome(s) of the training groups; when neither is given, the remaining
    chromosome whose share of the remaining regions is closest to
    :data:`VALID_FRACTION` is held out (ties: the first in natural order), and logged.

    Parameters
    ----------
    regions_per_chromosome
        Accessible regions per chromosome (index: chromosome names).
    groups
        All group names.
    leave_out_chromosomes
        Test chromosomes.
    leave_out_groups
        Test groups.
    valid_chromosomes
        Validation chromosomes; picked automatically when ``None`` and no
        ``valid_groups`` are given.
    valid_groups
        Validation groups (on the training chromosomes); then no chromosome is held out
        for validation.

    Returns
    -------
    Dict of lists with the :data:`SPLIT_KEYS`; the training groups are all groups
    but ``leave_out_groups`` and ``valid_groups``.

    Raises
    ------
    ValueError
        Unknown chromosomes or groups, overlapping parts, or no chromosome left to
        train or validate on.
    """
    chromosomes = sorted((str(c) for c in regions_per_chromosome.index), key=chromosome_sort_key)
    groups = [str(g) for g in groups]
    test = _known(leave_out_chromosomes, chromosomes, "leave_out_chromosomes", "chromosomes")
    left_groups = _known(leave_out_groups, groups, "leave_out_groups", "groups")
    if len(left_groups) == len(groups):
        raise ValueError(f"leave_out_groups={left_groups} leaves no group to train on.")
    checking = _known(valid_groups, groups, "valid_groups", "groups")
    if set(checking) & set(left_groups):
        raise ValueError(
            f"{sorted(set(checking) & set(left_groups))} are both validation and test groups."
        )
    if checking and len(checking) + len(left_groups) == len(groups):
        raise ValueError(
            f"valid_groups={checking} and leave_out_groups={left_groups} leave no group to "
            "train on."
        )
    if checking and valid_chromosomes:
        raise ValueError(
            "Pass valid_groups or valid_chromosomes, not both: a model validates on new "
            "groups or on new chromosomes."
        )
    remaining = [c for c in chromosomes if c not in test]
    if checking:
        valid = []
        logger.info(f"Validating (early stopping) on held-out training group(s) {checking}.")
    elif valid_chromosomes is None:
        if len(remaining) < 2:
            raise ValueError(
                f"Only {remaining} remain after leave_out_chromosomes={test}; at least two "
                "chromosomes are needed (one to train on, one to validate on)."
            )
        valid = [_pick_valid(regions_per_chromosome[remaining])]
        logger.info(f"Validating (early stopping) on held-out chromosome {valid[0]}.")
    else:
        valid = _known(valid_chromosomes, chromosomes, "valid_chromosomes", "chromosomes")
        overlap = sorted(set(valid) & set(test), key=chromosome_sort_key)
        if overlap:
            raise ValueError(f"{overlap} are both validation and test chromosomes.")
    train = [c for c in remaining if c not in valid]
    if not train:
        raise ValueError("No chromosome is left for training; leave out fewer chromosomes.")
    if not test and not left_groups:
        logger.info(
            "Nothing was left out (leave_out_chromosomes, leave_out_groups): there is no test "
            f"set; validation uses held-out {'group' if checking else 'chromosome'}(s) "
            f"{checking or valid}, never trained on."
        )
    return {
        "train_chromosomes": train,
        "valid_chromosomes": valid,
        "test_chromosomes": test,
        "leave_out_groups": left_groups,
        "valid_groups": checking,
    }


def _known(values: Sequence[str] | str | None, known: list[str], arg: str, what: str) -> list[str]:
    """``values`` as a list of names, each checked against ``known``."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    values = [str(v) for v in values]
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ValueError(f"{arg}: {unknown} not found; the {what} with data are {known}.")
    return [v for v in known if v in values]


def _pick_valid(counts: pd.Series) -> str:
    """Return the chromosome whose share of ``counts`` is closest to :data:`VALID_FRACTION`."""
    share = counts / counts.sum()
    distance = (share - VALID_FRACTION).abs()
    return str(distance.index[int(distance.to_numpy().argmin())])
