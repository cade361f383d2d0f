"""Every public ``pp``, ``tl``, ``get`` and ``pl`` function has an Examples section that runs.

The examples run as doctests (``ELLIPSIS``, ``NORMALIZE_WHITESPACE``) in the namespace a
user of the tutorials has, built once per session from a small simulation:

- ``scget``;
- ``mdata``: :func:`scget.datasets.simulate_multiome`'s cells (3 cell types, 90 genes on
  3 chromosomes, 6 planted TFs; two conditions of two samples each);
- ``pb``: their pseudobulk per cell type (``type_01`` ... ``type_03``), motifs scanned,
  TSS annotated, and ``model`` fine-tuned on it (tiny preset, two epochs, ``chr3`` left
  out);
- ``samples``: the pseudobulk per cell type and sample, motifs scanned.

Each example gets its own copy of ``pb`` and ``samples``, so examples do not depend on one
another's order; ``matplotlib`` draws with the Agg backend.
"""

from __future__ import annotations

import doctest
import inspect
import re

import pytest

import scget

NAMESPACES = ("pp", "tl", "get", "pl")
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
#: The numpydoc heading of the section, and the section ending the docstring.
_EXAMPLES = re.compile(r"^\s*Examples\n\s*--------\n", re.MULTILINE)
_HEADING = re.compile(r"^\s*[A-Z][A-Za-z ]+\n\s*-{3,}\n", re.MULTILINE)


def _public():
    """The exports that need an example: not exceptions, not deprecated names."""
    for namespace in NAMESPACES:
        module = getattr(scget, namespace)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, Exception):
                continue
            if (obj.__doc__ or "").lstrip().startswith("Deprecated"):
                continue
            yield f"{namespace}.{name}", obj


PUBLIC = dict(_public())


def examples_section(doc: str | None) -> str | None:
    """The text of the docstring's Examples section, or ``None`` without one."""
    found = _EXAMPLES.search(doc or "")
    return None if found is None else doc[found.end() :]


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_function_ends_with_examples(name):
    doc = PUBLIC[name].__doc__
    section = examples_section(doc)
    assert section is not None, f"scget.{name} has no numpydoc 'Examples' section"
    assert ">>> " in section, f"scget.{name}: its Examples section has no '>>>' line"
    assert not _HEADING.search(section), f"scget.{name}: Examples must be the last section"


@pytest.fixture(scope="session")
def namespace(tmp_path_factory):
    """The objects the examples use (see the module docstring)."""
    import matplotlib
    import torch

    matplotlib.use("Agg")
    threads, n_jobs = torch.get_num_threads(), scget.settings.n_jobs
    torch.set_num_threads(1)
    scget.settings.n_jobs = 1  # the examples are small: no worker processes
    design = scget.datasets.ConditionDesign(n_samples=2, n_changed=2)
    mdata = scget.datasets.simulate_multiome(
        n_cells=400,
        n_cell_types=3,
        n_genes=90,
        n_chromosomes=3,
        n_tfs=6,
        design=design,
        path=tmp_path_factory.mktemp("simulation"),
        seed=0,
    )
    genome = mdata.uns["simulation"]["genome"]
    pb = scget.pp.pseudobulk(mdata, groupby="cell_type", min_cells=20)
    scget.pp.scan_motifs(pb, genome=genome)
    scget.pp.annotate_tss(pb, gtf=mdata.uns["simulation"]["gtf"])
    model = scget.tl.finetune(pb, leave_out_chromosomes=["chr3"], max_epochs=2)
    samples = scget.pp.pseudobulk(mdata, groupby="cell_type", sample="sample", min_cells=10)
    scget.pp.scan_motifs(samples, genome=genome)
    yield {"scget": scget, "mdata": mdata, "pb": pb, "model": model, "samples": samples}
    torch.set_num_threads(threads)
    scget.settings.n_jobs = n_jobs


@pytest.mark.parametrize("name", PUBLIC)
def test_examples_run(name, namespace, tmp_path, monkeypatch):
    section = examples_section(PUBLIC[name].__doc__)
    if section is None:
        pytest.fail(f"scget.{name} has no Examples section")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)  # examples writing files write them here
    globs = {**namespace, "pb": namespace["pb"].copy(), "samples": namespace["samples"].copy()}
    test = doctest.DocTestParser().get_doctest(section, globs, f"scget.{name}", None, 0)
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    try:
        result = runner.run(test, out=report.append, clear_globs=True)
    finally:
        plt.close("all")
    assert result.attempted > 0, f"scget.{name}: no example ran"
    assert result.failed == 0, "".join(report)
