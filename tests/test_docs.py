import pytest

from scget._docs import fill_docs, inject_docs


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
