"""The tutorial notebooks: valid, and calling only scget functions that exist."""

from __future__ import annotations

import re
from functools import reduce
from pathlib import Path

import pytest

import scget

NOTEBOOKS = sorted((Path(__file__).parents[1] / "tutorials").glob("*.ipynb"))
#: ``scget.a.b...`` attribute chains in code.
_CALLS = re.compile(r"\bscget(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_valid_and_uses_existing_functions(path):
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    chains = set(_CALLS.findall(code))
    assert chains
    for chain in chains:
        names = chain.split(".")[1:]
        reduce(getattr, names, scget)  # AttributeError names a missing function


@pytest.mark.parametrize("name", ["pbmc_multiome.ipynb", "differential.ipynb"])
def test_the_long_tutorials_are_shipped_unexecuted(name):
    import nbformat

    notebook = nbformat.read(NOTEBOOKS[0].with_name(name), as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)


def test_the_differential_tutorial_draws_the_volcano_and_the_heatmap():
    import nbformat

    notebook = nbformat.read(NOTEBOOKS[0].with_name("differential.ipynb"), as_version=4)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "scget.pl.differential_regulation(pb, group=" in code
    assert 'scget.pl.differential_regulation(pb, kind="heatmap"' in code


def test_the_interpretation_tutorial_is_executed_and_draws_every_plot():
    import nbformat

    notebook = nbformat.read(NOTEBOOKS[0].with_name("interpretation.ipynb"), as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    drawn = {
        name.split(".")[-1]
        for c in code
        if any(t.startswith("gallery:") for t in c.metadata.get("tags", []))
        for name in _CALLS.findall(c.source)
        if name.startswith("scget.pl.")
    }
    # the quickstart's, and the differential tutorial's
    interpretive = set(scget.pl.__all__) - {"history", "prediction", "differential_regulation"}
    assert interpretive <= drawn, interpretive - drawn
