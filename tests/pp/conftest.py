"""Fixtures of the pp tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def pbmc(shared_data):
    """The real 10x PBMC multiome subset, cells labelled by clustering their marker genes.

    ``.obs["cluster"]``: :func:`_pbmc.label_cells`.
    """
    import warnings

    import mudata as md
    from _pbmc import FRAGMENTS, H5MU, label_cells

    folder = shared_data / "pbmc_multiome_subset"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mdata = md.read_h5mu(folder / H5MU)
    mdata.obs["cluster"] = label_cells(mdata)
    return mdata, folder / FRAGMENTS


@pytest.fixture(scope="session")
def simulated(tmp_path_factory):
    """A small simulated multiome (3 cell types, 60 genes, 300 peaks) and its files."""
    import scget

    return scget.datasets.simulate_multiome(
        n_cells=300,
        n_cell_types=3,
        n_genes=60,
        n_chromosomes=2,
        n_tfs=4,
        path=tmp_path_factory.mktemp("simulated"),
        seed=1,
    )
