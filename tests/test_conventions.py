"""Conventions every public function keeps (as scanpy's test_package_structure.py)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import scget

NAMESPACES = ("pp", "tl", "get", "pl", "datasets", "motifs", "genome", "nn")
API = (Path(__file__).parents[1] / "docs" / "api.md").read_text()
#: Names the first parameter of a function on data may have.
DATA_NAMES = {"pb", "mdata", "data"}


def _public():
    for namespace in NAMESPACES:
        module = getattr(scget, namespace)
        for name in module.__all__:
            yield namespace, name, getattr(module, name)


PUBLIC = list(_public())
FUNCTIONS = [
    (ns, name, obj)
    for ns, name, obj in PUBLIC
    if inspect.isfunction(obj) and ns in ("pp", "tl", "get", "pl")
]


@pytest.mark.parametrize(("namespace", "name", "obj"), PUBLIC, ids=lambda v: str(v)[:30])
def test_every_export_is_listed_in_the_api_page(namespace, name, obj):
    section = API.split(f"currentmodule:: scget.{namespace}")[1].split("```")[0]
    listed = rf"^\s+{name}$|^\.\. data:: {name}$"
    assert re.search(listed, section, re.M), f"scget.{namespace}.{name} not in api.md"


@pytest.mark.parametrize(("namespace", "name", "function"), FUNCTIONS, ids=lambda v: str(v)[:30])
def test_data_first_then_keyword_only_options(namespace, name, function):
    parameters = list(inspect.signature(function).parameters.values())
    assert parameters[0].name in DATA_NAMES, f"{namespace}.{name}: first parameter"
    positional = [p.name for p in parameters if p.kind is not p.KEYWORD_ONLY]
    # predict and scan_motifs take their second input (model, genome) positionally
    assert len(positional) <= 2, f"{namespace}.{name}: options must be keyword-only"


@pytest.mark.parametrize(("namespace", "name", "function"), FUNCTIONS, ids=lambda v: str(v)[:30])
def test_copy_returns_the_object_or_none(namespace, name, function):
    if "copy" not in inspect.signature(function).parameters:
        return
    assert inspect.signature(function).parameters["copy"].default is False
    returns = function.__doc__.split("Returns\n")[1]
    assert "copy" in returns.split("\n\n")[0].lower() or "None" in returns, name


@pytest.mark.parametrize("name", scget.pl.__all__)
def test_every_plot_takes_the_figure_options(name):
    parameters = inspect.signature(getattr(scget.pl, name)).parameters
    assert {"ax", "figsize", "return_fig", "save", "show"} <= set(parameters)


@pytest.mark.parametrize(("namespace", "name", "obj"), PUBLIC, ids=lambda v: str(v)[:30])
def test_no_docstring_keeps_an_unfilled_fragment(namespace, name, obj):
    docs = [obj.__doc__ or ""]
    if inspect.isclass(obj):
        docs += [m.__doc__ or "" for _, m in inspect.getmembers(obj, inspect.isfunction)]
    for doc in docs:
        assert not re.search(r"^\s*\{[a-z_]+\}", doc, re.M), f"{namespace}.{name}"
