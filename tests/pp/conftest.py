"""Fixtures of the pp tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def pbmc(shared_data):
    """The real 10x PBMC multiome subset, cells labelled by clustering their marker genes.

    Clusters: k-means (k=5) on 10 principal components of the scaled log-normalised
    45 marker genes; ``.obs["cluster"]`` is named after each cluster's top marker.
    """
    import warnings

    import mudata as md
    import pandas as pd
    import scanpy as sc
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    folder = shared_data / "pbmc_multiome_subset"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mdata = md.read_h5mu(folder / "test_rna_atac.h5mu")
    rna = mdata["rna"].copy()
    sc.pp.normalize_total(rna, target_sum=1e4)
    sc.pp.log1p(rna)
    sc.pp.scale(rna)
    sc.tl.pca(rna, n_comps=10, random_state=0)
    with threadpool_limits(1):  # many threads on a tiny problem are slow on busy machines
        clusters = KMeans(5, n_init=10, random_state=0).fit_predict(rna.obsm["X_pca"])
    means = mdata["rna"].to_df().groupby(clusters).mean()
    markers = ["MS4A1", "LYZ", "GNLY", "IL7R"]  # B, monocyte, NK, T
    top = means[markers].idxmax(axis=1)
    names = {k: f"{top[k]}_{k}" for k in means.index}
    mdata.obs["cluster"] = pd.Categorical([names[k] for k in clusters])
    return mdata, folder / "test_rna_atac_fragments.tsv.gz"


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
