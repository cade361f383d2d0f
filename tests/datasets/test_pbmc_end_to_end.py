"""Real data end to end: Cell Ranger ARC files -> labels -> pseudobulks -> targets."""

from __future__ import annotations

import numpy as np
import pytest
from _pbmc import covered_peaks, label_cells

import scget


@pytest.mark.realdata
def test_pbmc_subset_from_cellranger_files_to_targets(cellranger_outs, shared_data):
    mdata = scget.read_10x_multiome(cellranger_outs)
    mdata.obs["cluster"] = label_cells(mdata)
    pb = scget.pp.pseudobulk(mdata, groupby="cluster", min_cells=50)
    assert pb.n_obs >= 3
    assert pb.obs["n_cells"].sum() > 900

    # the fragments file recorded by the reader, counted per cluster, gives Cell Ranger's
    # counts on every peak it covers in full (the subset's fragments are windows)
    recounted = scget.pp.recount_peaks(mdata, groupby="cluster")
    fragments = mdata["atac"].uns["files"]["fragments"]
    recounted = recounted[pb.obs_names, pb["atac"].var_names]
    covered = covered_peaks(fragments, pb["atac"].var_names)
    assert covered.sum() >= 100
    np.testing.assert_array_equal(
        recounted.layers["counts"][:, covered], pb["atac"].layers["counts"][:, covered]
    )
    assert (recounted.layers["counts"] <= pb["atac"].layers["counts"]).all()

    scget.pp.annotate_tss(pb, gtf=shared_data / "gene_annotation" / "tss.parquet")
    var = pb["rna"].var
    assert (var["strand"] != "").all()  # every marker gene is annotated
    assert (var["tss_peaks"] != "").sum() >= 30  # most have their TSS in a peak
    # LYZ (plus strand): its monocyte cluster has the highest target at its TSS peak
    peak = var.loc["LYZ", "tss_peaks"].split(";")[0]
    target = pb["atac"][:, peak].layers["target_plus"].ravel()
    assert pb.obs_names[np.argmax(target)].startswith("LYZ")
    assert target.max() == pytest.approx(pb["rna"][:, "LYZ"].X.max())
