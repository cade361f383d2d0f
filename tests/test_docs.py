import re
from pathlib import Path

import pytest

import scget
from scget._docs import FRAGMENTS, fill_docs, inject_docs


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
    """Docstrings take their fragments from ``FRAGMENTS``; no module keeps its own."""
    package = Path(scget.__file__).parent
    decorators = [
        (path.name, arguments)
        for path in package.rglob("*.py")
        for arguments in re.findall(r"@inject_docs\((.*?)\)", path.read_text())
    ]
    assert len(decorators) > 10
    assert [d for d in decorators if d[1]] == []
    for name in ("model", "genes_groups", "errors", "change", "returns", "unmatched", "run_args"):
        assert name in FRAGMENTS
