from __future__ import annotations

import logging

import pandas as pd
import pytest

from scget.tl._core._split import make_split

COUNTS = pd.Series(
    [400, 300, 250, 120, 60, 30], index=["chr1", "chr2", "chr10", "chr3", "chrX", "chr4"]
)
GROUPS = ["A", "B", "C"]


def test_test_validation_and_training_parts_are_disjoint():
    split = make_split(COUNTS, GROUPS, leave_out_chromosomes=["chr2"], leave_out_groups="B")
    assert split["test_chromosomes"] == ["chr2"]
    assert split["leave_out_groups"] == ["B"]
    # remaining 860 regions: chr3 has 120 / 860 = 14 %, the closest share to 12.5 %
    assert split["valid_chromosomes"] == ["chr3"]
    assert split["train_chromosomes"] == ["chr1", "chr4", "chr10", "chrX"]
    parts = [set(split[k]) for k in ("train_chromosomes", "valid_chromosomes", "test_chromosomes")]
    assert set.union(*parts) == set(COUNTS.index)
    assert sum(len(p) for p in parts) == len(COUNTS)


def test_nothing_left_out_still_validates_on_a_held_out_chromosome(caplog):
    with caplog.at_level(logging.INFO, logger="scget"):
        logging.getLogger("scget").propagate = True
        try:
            split = make_split(COUNTS, GROUPS)
        finally:
            logging.getLogger("scget").propagate = False
    assert split["test_chromosomes"] == [] and split["leave_out_groups"] == []
    assert split["valid_chromosomes"] == ["chr3"]
    assert "chr3" not in split["train_chromosomes"]
    assert "no test set" in caplog.text and "chr3" in caplog.text


def test_explicit_validation_chromosomes():
    split = make_split(COUNTS, GROUPS, valid_chromosomes=["chr1", "chr4"])
    assert split["valid_chromosomes"] == ["chr1", "chr4"]
    with pytest.raises(ValueError, match="both validation and test"):
        make_split(COUNTS, GROUPS, leave_out_chromosomes=["chr1"], valid_chromosomes=["chr1"])


def test_bad_leave_outs_raise():
    with pytest.raises(ValueError, match="chr22"):
        make_split(COUNTS, GROUPS, leave_out_chromosomes=["chr22"])
    with pytest.raises(ValueError, match="'Z'"):
        make_split(COUNTS, GROUPS, leave_out_groups=["Z"])
    with pytest.raises(ValueError, match="no group to train"):
        make_split(COUNTS, GROUPS, leave_out_groups=GROUPS)
    with pytest.raises(ValueError, match="at least two"):
        make_split(COUNTS, GROUPS, leave_out_chromosomes=list(COUNTS.index[1:]))


def test_validation_groups_replace_the_validation_chromosome():
    split = make_split(COUNTS, GROUPS, leave_out_groups=["B"], valid_groups=["C"])
    assert split["valid_groups"] == ["C"] and split["valid_chromosomes"] == []
    assert split["train_chromosomes"] == ["chr1", "chr2", "chr3", "chr4", "chr10", "chrX"]
    with pytest.raises(ValueError, match="both validation and test groups"):
        make_split(COUNTS, GROUPS, leave_out_groups=["B"], valid_groups=["B"])
    with pytest.raises(ValueError, match="no group to train"):
        make_split(COUNTS, GROUPS, leave_out_groups=["B"], valid_groups=["A", "C"])
    with pytest.raises(ValueError, match="not both"):
        make_split(COUNTS, GROUPS, valid_groups=["C"], valid_chromosomes=["chr1"])
