"""The return convention of the tl writers, written once in scget._shared.storage."""

from __future__ import annotations

import inspect
import logging
import re
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import scget
from scget._shared.storage import finish_writer, read_record, writable

TL = Path(scget.__file__).parent / "tl"
#: The public tl functions that store a record under ``key_added`` and take ``copy``.
COPYING = [
    name
    for name in scget.tl.__all__
    if inspect.isfunction(getattr(scget.tl, name))
    and {"key_added", "copy"} <= set(inspect.signature(getattr(scget.tl, name)).parameters)
]


def _data() -> ad.AnnData:
    return ad.AnnData(np.zeros((2, 3), dtype=np.float32))


def test_the_copy_is_written_and_returned_the_input_untouched(caplog):
    data, table = _data(), pd.DataFrame({"x": [1, 2]})
    target = writable(data, True)
    target.layers["written"] = np.ones((2, 3), dtype=np.float32)
    with caplog.at_level(logging.INFO, logger="scget"):
        returned = finish_writer(
            target,
            "run",
            table,
            {"a": 1},
            copy=True,
            returns=table,
            slots=[(None, "layers", "written")],
            message="run: 2 rows.",
        )
    assert returned is target and returned is not data
    assert "scget" not in data.uns and "written" not in data.layers
    assert list(read_record(returned, "run")) == ["result", "params", "slots"]
    assert "run: 2 rows." in caplog.text


def test_without_copy_the_answer_is_returned_and_extra_entries_follow_the_slots():
    data, table = _data(), pd.DataFrame({"x": [1, 2]})
    assert writable(data, False) is data
    extra = {"second": pd.DataFrame({"y": [3.0]})}
    assert finish_writer(data, "run", table, {}, copy=False, returns=table, extra=extra) is table
    assert list(data.uns["scget"]["run"]) == ["result", "params", "slots", "second"]
    assert finish_writer(data, "slots_only", table, {}, copy=False) is None


def test_an_answer_the_record_does_not_hold_comes_with_the_copy():
    data, model = _data(), object()
    pair = finish_writer(
        writable(data, True), "train", pd.DataFrame(), {}, copy=True, returns=model,
        answer_with_copy=True,
    )  # fmt: skip
    assert pair[0] is model and isinstance(pair[1], ad.AnnData) and pair[1] is not data
    assert finish_writer(data, "train", pd.DataFrame(), {}, copy=False, returns=model) is model


def test_no_tl_module_writes_a_record_or_copies_by_hand():
    """Every tl writer ends through finish_writer: no write_result, no copy of its own."""
    hand_made = re.compile(r"write_result\(|\b(pb|data|mdata)\.copy\(\)| if copy else ")
    found = [
        f"{path.relative_to(TL)}: {match.group()}"
        for path in TL.rglob("*.py")
        for match in hand_made.finditer(path.read_text())
    ]
    assert found == []


@pytest.mark.parametrize("name", COPYING)
def test_each_writer_with_copy_passes_it_on(name):
    source = inspect.getsource(getattr(scget.tl, name))
    assert "copy=copy" in source, f"tl.{name} does not hand copy to the storage helpers"
