"""Fixtures of the datasets tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def pbmc_h5mu(shared_data):
    """The real 10x PBMC multiome subset as stored (its recorded fragments path is stale)."""
    import warnings

    import mudata as md
    from _pbmc import H5MU

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return md.read_h5mu(shared_data / "pbmc_multiome_subset" / H5MU)


@pytest.fixture(scope="session")
def cellranger_outs(shared_data, pbmc_h5mu, tmp_path_factory):
    """A Cell Ranger ARC output folder of the subset: the .h5 matrix and the fragments."""
    from _pbmc import FRAGMENTS, write_cellranger_h5

    from scget.datasets._read import FRAGMENTS_FILE, MATRIX_FILE

    outs = tmp_path_factory.mktemp("outs")
    write_cellranger_h5(pbmc_h5mu, outs / MATRIX_FILE)
    for suffix in ("", ".tbi"):
        source = shared_data / "pbmc_multiome_subset" / f"{FRAGMENTS}{suffix}"
        (outs / f"{FRAGMENTS_FILE}{suffix}").symlink_to(source)
    return outs
