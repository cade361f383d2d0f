"""The real PBMC multiome subset (../shared/data): labelling, Cell Ranger files, covered peaks.

Shared by tests/pp and tests/datasets (``tests/`` is on ``sys.path`` through its conftest).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scget._shared.genomic import parse_peak_names

H5MU = "test_rna_atac.h5mu"
FRAGMENTS = "test_rna_atac_fragments.tsv.gz"


def label_cells(mdata) -> pd.Categorical:
    """Cluster labels of the cells from their marker genes.

    k-means (k=5) on 10 principal components of the scaled log-normalised marker genes;
    each cluster is named after its top marker among MS4A1 (B), LYZ (monocytes), GNLY
    (NK) and IL7R (T).
    """
    import scanpy as sc
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    rna = mdata["rna"].copy()
    sc.pp.normalize_total(rna, target_sum=1e4)
    sc.pp.log1p(rna)
    sc.pp.scale(rna)
    sc.tl.pca(rna, n_comps=10, random_state=0)
    with threadpool_limits(1):  # many threads on a tiny problem are slow on busy machines
        clusters = KMeans(5, n_init=10, random_state=0).fit_predict(rna.obsm["X_pca"])
    means = mdata["rna"].to_df().groupby(clusters).mean()
    top = means[["MS4A1", "LYZ", "GNLY", "IL7R"]].idxmax(axis=1)
    names = {k: f"{top[k]}_{k}" for k in means.index}
    return pd.Categorical([names[k] for k in clusters])


def write_cellranger_h5(mdata, path: Path) -> Path:
    """Write ``mdata`` as Cell Ranger ARC's ``filtered_feature_bc_matrix.h5`` (format v3).

    Genes are named by ``var["gene_ids"]`` (ids) and var_names (names), peaks by their
    ``chrom:start-end`` names; counts are stored as int32, barcodes x features in CSC
    order (one column per barcode), as Cell Ranger writes them.
    """
    import h5py
    import scipy.sparse as sp

    rna, atac = mdata["rna"], mdata["atac"]
    counts = sp.hstack([rna.X, atac.X]).tocsr().astype(np.int32)  # cells x features
    n_genes, n_peaks = rna.n_vars, atac.n_vars
    features = {
        "id": [*rna.var["gene_ids"], *atac.var_names],
        "name": [*rna.var_names, *atac.var_names],
        "feature_type": ["Gene Expression"] * n_genes + ["Peaks"] * n_peaks,
        "genome": ["GRCh38"] * (n_genes + n_peaks),
        "interval": [*rna.var["interval"], *atac.var_names],
    }
    with h5py.File(path, "w") as handle:
        matrix = handle.create_group("matrix")
        matrix["barcodes"] = np.array(mdata.obs_names, dtype="S")
        matrix["data"] = counts.data
        matrix["indices"] = counts.indices.astype(np.int64)
        matrix["indptr"] = counts.indptr.astype(np.int64)
        matrix["shape"] = np.array([counts.shape[1], counts.shape[0]], dtype=np.int32)
        group = matrix.create_group("features")
        for key, values in features.items():
            group[key] = np.array(values, dtype="S")
        group["_all_tag_keys"] = np.array([b"genome", b"interval"])
    return path


def covered_peaks(fragments: Path, peak_names) -> np.ndarray:
    """Peaks with fragments within 2 kb on both sides: fully inside the subset's windows.

    The fragments file shipped with the subset holds only the fragments of windows around
    the marker genes, so only these peaks can be recounted in full.
    """
    table = pd.read_csv(fragments, sep="\t", header=None, comment="#", usecols=[0, 1, 2])
    table.columns = ["chrom", "start", "end"]
    peaks = parse_peak_names(peak_names)
    covered = np.zeros(len(peaks), dtype=bool)
    for chrom, rows in peaks.reset_index(drop=True).groupby("chrom").groups.items():
        ends = np.sort(table.loc[table["chrom"] == chrom, "end"].to_numpy())
        starts = np.sort(table.loc[table["chrom"] == chrom, "start"].to_numpy())
        start, end = peaks["start"].to_numpy()[rows], peaks["end"].to_numpy()[rows]
        # a fragment ending in (start - 2 kb, start] and one starting in [end, end + 2 kb)
        left = np.searchsorted(ends, start, "right") > np.searchsorted(ends, start - 2000, "right")
        right = np.searchsorted(starts, end + 2000, "left") > np.searchsorted(starts, end, "left")
        covered[rows] = left & right
    return covered
