"""Conventions every public function keeps (as scanpy's test_package_structure.py)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import scget

NAMESPACES = ("pp", "tl", "get", "pl", "datasets", "motifs", "genome", "nn")
API = (Path(__file__).parents[1] / "docs" / "api.md").read_text()
#: A numpydoc Returns section naming a slot of the data a function was given.
WRITES_INTO_PB = re.compile(r"``pb(\[|\.(uns|obs|var|layers|obsm|varm|X)\b)")


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


def _first_parameter_entry(function) -> str:
    """The first sentence of the docstring entry of the first parameter."""
    doc = inspect.cleandoc(function.__doc__)
    entry = re.split(r"\n(?=\S)", doc.split("Parameters\n----------\n")[1])[0]
    description = " ".join(entry.split("\n")[1:]).split()
    return re.split(r"(?<=\.)\s(?=[A-Z])", " ".join(description))[0]


def _kind_of_data(function) -> str:
    """``pb``, ``mdata`` or ``data``: what the first parameter takes, as its entry says."""
    entry = _first_parameter_entry(function)
    if re.search(r"\bor\b", entry):
        return "data"  # several kinds of input
    if re.match(r"(A )?[Pp]seudobulk\b", entry):
        return "pb"
    if re.match(r"Cell-level\b", entry):
        return "mdata"
    raise AssertionError(f"the entry must open with what it takes, got {entry!r}")


@pytest.mark.parametrize(("namespace", "name", "function"), FUNCTIONS, ids=lambda v: str(v)[:30])
def test_the_data_argument_is_named_after_what_it_takes(namespace, name, function):
    """``pb`` takes a pseudobulk, ``mdata`` cells, ``data`` several kinds of input."""
    if function.__doc__.startswith("Deprecated name of"):
        return  # documented by the function it names
    first = next(iter(inspect.signature(function).parameters))
    assert first == _kind_of_data(function), f"{namespace}.{name}: first parameter {first!r}"


@pytest.mark.parametrize(("namespace", "name", "function"), FUNCTIONS, ids=lambda v: str(v)[:30])
def test_data_first_then_keyword_only_options(namespace, name, function):
    parameters = list(inspect.signature(function).parameters.values())
    positional = [p.name for p in parameters if p.kind is not p.KEYWORD_ONLY]
    # the second input (model, genome, motif, condition...) may be positional
    assert len(positional) <= 2, f"{namespace}.{name}: options must be keyword-only"


CASES = [pytest.param(ns, name, f, id=f"{ns}.{name}") for ns, name, f in FUNCTIONS]


@pytest.mark.parametrize(("namespace", "name", "function"), CASES)
def test_model_is_the_second_parameter_everywhere(namespace, name, function):
    """A GET model, where a function takes one, comes second and may be positional."""
    parameters = list(inspect.signature(function).parameters.values())
    models = [i for i, p in enumerate(parameters) if p.name == "model"]
    if models:
        kind = parameters[models[0]].kind
        assert models == [1], f"{namespace}.{name}: model is parameter {models[0] + 1}"
        assert kind is kind.POSITIONAL_OR_KEYWORD, f"{namespace}.{name}: model keyword-only"


def _group_parameters(function) -> dict[str, inspect.Parameter]:
    parameters = inspect.signature(function).parameters
    return {n: p for n, p in parameters.items() if "group" in n and n != "groupby"}


@pytest.mark.parametrize(("namespace", "name", "function"), CASES)
def test_group_parameters_are_named_and_typed_alike(namespace, name, function):
    """``groups`` (or ``..._groups``): a string or a list; ``group``: exactly one."""
    for parameter, value in _group_parameters(function).items():
        where = f"{namespace}.{name}({parameter}=)"
        assert parameter in ("group", "groups") or parameter.endswith("_groups"), where
        annotation = str(value.annotation)
        if parameter == "group":
            assert "Sequence" not in annotation, f"{where}: several groups are groups="
        else:
            assert {"str", "Sequence[str]"} <= set(annotation.split(" | ")), where


@pytest.mark.parametrize(("namespace", "name", "function"), CASES)
def test_group_parameters_go_through_the_shared_helpers(namespace, name, function):
    """A string is one group, never a list of characters: name_list or one_name on entry."""
    source = inspect.getsource(inspect.unwrap(function))
    for parameter in _group_parameters(function):
        helper = "one_name" if parameter == "group" else "name_list"
        assert f"{helper}({parameter})" in source, f"{namespace}.{name}: {helper}({parameter})"


@pytest.mark.parametrize(("namespace", "name", "function"), CASES)
def test_every_function_writing_into_its_data_takes_copy(namespace, name, function):
    """Where a function stores a result (``key_added``, or slots of ``pb`` in Returns)."""
    parameters = inspect.signature(function).parameters
    returns = inspect.cleandoc(function.__doc__).split("Returns\n-------\n")[-1]
    if "key_added" in parameters or WRITES_INTO_PB.search(returns):
        assert "copy" in parameters, f"{namespace}.{name} writes but takes no copy="


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


@pytest.mark.parametrize("name", scget.pl.__all__)
def test_every_plot_is_made_by_the_shared_figure_handling(name):
    """So that it honours the options (tests/pl/test_conventions_in_use.py calls each)."""
    from scget.pl._plotter import plot_function

    shared = plot_function(figsize=(1, 1))(lambda ax: None)
    assert getattr(scget.pl, name).__code__ is shared.__code__, f"pl.{name}"


@pytest.mark.parametrize(("namespace", "name", "obj"), PUBLIC, ids=lambda v: str(v)[:30])
def test_no_docstring_keeps_an_unfilled_fragment(namespace, name, obj):
    docs = [obj.__doc__ or ""]
    if inspect.isclass(obj):
        docs += [m.__doc__ or "" for _, m in inspect.getmembers(obj, inspect.isfunction)]
    for doc in docs:
        assert not re.search(r"^\s*\{[a-z_]+\}", doc, re.M), f"{namespace}.{name}"
