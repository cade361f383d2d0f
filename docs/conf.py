"""Sphinx configuration for the scget documentation."""

from importlib.metadata import version as _version

project = "scget"
author = "scget developers"
copyright = "2026, scget developers"
release = _version("scget")

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
]
# Sphinx's own type hints, in the parameter descriptions (sphinx-autodoc-typehints parsed
# every docstring again, printing a deprecation line and unplaced docutils errors per page)
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"
autosummary_generate = True
autodoc_member_order = "bysource"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
# scget's Returns sections are prose (what is returned, then the slots written), not
# numpydoc's "name : type" entries, which napoleon would split at every colon
napoleon_custom_sections = ["Returns"]
nb_execution_mode = "off"
myst_enable_extensions = ["colon_fence", "dollarmath"]
# .rst first: autosummary writes its stubs (reStructuredText) with the first suffix
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "sphinx_book_theme"
html_title = "scget"
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "anndata": ("https://anndata.readthedocs.io/en/stable/", None),
    "mudata": ("https://mudata.readthedocs.io/en/latest/", None),
    "scanpy": ("https://scanpy.readthedocs.io/en/stable/", None),
    "torch": ("https://pytorch.org/docs/stable/", None),
}
