import ast
import re
from pathlib import Path

import pytest

import scget
from scget._shared.docs import FRAGMENTS, fill_docs, inject_docs


def test_fragments_take_the_placeholder_indentation_and_keep_literal_braces():
    text = 'Summary {"n_layers": 2} and {}.\n\n    Parameters\n    ----------\n    {seed} More.\n'
    filled = fill_docs(text)
    assert filled == (
        'Summary {"n_layers": 2} and {}.\n\n    Parameters\n    ----------\n'
        "    seed\n        Random seed; the same seed gives the same result. More.\n"
    )


def test_extra_fragments_and_unknown_placeholders():
    @inject_docs(extra="x\n    An extra option.")
    def function():
        """Do nothing.

        Parameters
        ----------
        {extra}
        """

    assert "        x\n            An extra option.\n" in function.__doc__
    with pytest.raises(KeyError, match="nope"):
        fill_docs("    {nope}")


def test_one_registry_holds_every_written_fragment():
    """Docstrings take written fragments from ``FRAGMENTS`` only; a decorator may add
    only the fragments generated from the training records (``Record.fragments()``)."""
    calls = [
        node
        for path in Path(scget.__file__).parent.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "inject_docs"
    ]
    assert len(calls) > 10
    for call in calls:
        assert not call.args
        for keyword in call.keywords:
            generated = (
                isinstance(keyword.value, ast.Call) and keyword.value.func.attr == "fragments"
            )
            assert keyword.arg is None and generated, ast.unparse(call)
    for name in ("model", "genes_groups", "errors", "change", "returns", "unmatched", "run_args"):
        assert name in FRAGMENTS


DOCS = Path(__file__).parents[2] / "docs"
#: A measured figure: a correlation, AUROC or R^2 value, or a time in seconds.
FIGURE = re.compile(r"\b(r|AUROC|R\^2) -?\d\.\d\d|\b\d+(\.\d+)? s\b")


def _public_docs():
    for namespace in ("pp", "tl", "get", "pl"):
        module = getattr(scget, namespace)
        for name in module.__all__:
            yield f"{namespace}.{name}", getattr(module, name).__doc__ or ""


def test_docstrings_link_to_the_figures_in_the_docs():
    """Figures live in docs/; a docstring names the section (``:ref:``) that holds them."""
    labels = {
        label
        for page in DOCS.glob("*.md")
        for label in re.findall(r"^\((.+)\)=$", page.read_text(), re.M)
    }
    links = 0
    for name, doc in _public_docs():
        assert not FIGURE.search(doc), f"{name}: {FIGURE.search(doc).group()}"
        for label in re.findall(r":ref:`([^`<]+)`", doc):
            assert label in labels, f"{name} links to {label!r}, a label no docs page has"
            links += 1
    assert links >= 5
