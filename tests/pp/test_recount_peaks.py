"""scget.pp.recount_peaks: hand counts, union with reference peaks, real 10x data."""

from __future__ import annotations

import gzip
import math

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from _pbmc import covered_peaks

import scget

PEAKS = ["chr1:100-200", "chr1:300-400", "chr2:0-50"]
FRAGMENTS = [
    ("chr1", 90, 150, "c1", 3),  # one insertion in peak 0
    ("chr1", 120, 180, "c1", 1),  # both insertions in peak 0
    ("chr1", 150, 350, "c2", 1),  # one insertion in peak 0, one in peak 1
    ("chr1", 199, 200, "c2", 1),  # 199 in peak 0; 200 is past its end
    ("chr1", 250, 300, "c3", 1),  # insertion 300 is peak 1's first base; fragment ends before it
    ("chr2", 10, 20, "c3", 1),  # both insertions in peak 2
    ("chr2", 10, 20, "other", 1),  # not a cell of the data
]
INSERTIONS = [[3, 0, 0], [2, 1, 0], [0, 1, 2]]
OVERLAPPING_FRAGMENTS = [[2, 0, 0], [2, 1, 0], [0, 0, 1]]


def write_fragments(path, rows=FRAGMENTS, *, compress=True) -> str:
    text = "# id=test\n" + "".join("\t".join(map(str, row)) + "\n" for row in rows)
    if compress:
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return str(path)


def atac_cells() -> md.MuData:
    atac = ad.AnnData(
        sp.csr_matrix((3, 3), dtype=np.float32),
        obs=pd.DataFrame({"cell_type": ["g1", "g1", "g2"]}, index=["c1", "c2", "c3"]),
        var=pd.DataFrame(index=PEAKS),
    )
    rna = ad.AnnData(np.ones((3, 1), np.float32), obs=pd.DataFrame(index=["c1", "c2", "c3"]))
    return md.MuData({"atac": atac, "rna": rna})


@pytest.mark.parametrize("compress", [True, False])
def test_per_cell_counts_equal_hand_counts(tmp_path, compress):
    path = write_fragments(tmp_path / "fragments.tsv", compress=compress)
    counts = scget.pp.recount_peaks(atac_cells(), path, chunk_size=2)
    assert sp.issparse(counts.X) and counts.X.dtype == np.float32
    assert list(counts.var_names) == PEAKS and list(counts.obs_names) == ["c1", "c2", "c3"]
    np.testing.assert_array_equal(counts.X.toarray(), INSERTIONS)
    overlaps = scget.pp.recount_peaks(atac_cells(), path, count="fragments")
    np.testing.assert_array_equal(overlaps.X.toarray(), OVERLAPPING_FRAGMENTS)
    summary = scget.get.result(counts, "recount_peaks")
    assert summary["n_fragments_read"] == 7 and summary["n_fragments_of_cells"] == 6


def test_per_group_counts_and_score(tmp_path):
    path = write_fragments(tmp_path / "fragments.tsv.gz")
    groups = scget.pp.recount_peaks(atac_cells(), path, groupby="cell_type")
    np.testing.assert_array_equal(groups.layers["counts"], [[5, 1, 0], [0, 1, 2]])
    assert groups.obs["n_cells"].tolist() == [2, 1]
    assert groups.obs["n_fragments"].tolist() == [6, 3]
    top = math.log10(5 / 6 * 1e5 + 1)
    np.testing.assert_allclose(groups.X[0], [1, math.log10(1 / 6 * 1e5 + 1) / top, 0], rtol=1e-6)


def test_union_with_reference_peaks(tmp_path):
    path = write_fragments(tmp_path / "fragments.tsv.gz")
    bed = tmp_path / "reference.bed"
    bed.write_text("track name=ref\nchr3\t0\t100\nchr1\t140\t260\n")
    union = scget.pp.recount_peaks(atac_cells(), path, reference=bed)
    # data peak chr1:100-200 overlaps the reference chr1:140-260: the reference wins
    assert list(union.var_names) == ["chr1:140-260", "chr1:300-400", "chr2:0-50", "chr3:0-100"]
    assert union.var["origin"].tolist() == ["reference", "data", "data", "reference"]
    # insertions in [140, 260): c1 150, 180; c2 150, 199, 200; c3 250
    np.testing.assert_array_equal(union.X.toarray()[:, 0], [2, 3, 1])

    resized = scget.pp.recount_peaks(atac_cells(), path, reference=["chr1:150-155"], width=20)
    assert list(resized.var_names) == ["chr1:150-155", "chr1:340-360", "chr2:15-35"]
    np.testing.assert_array_equal(resized.X.toarray(), [[1, 0, 0], [1, 1, 0], [0, 0, 1]])
    assert scget.get.result(resized, "recount_peaks")["n_replaced"] == 1


def test_rerun_and_round_trip(tmp_path):
    path = write_fragments(tmp_path / "fragments.tsv.gz")
    first = scget.pp.recount_peaks(atac_cells(), path, groupby="cell_type")
    second = scget.pp.recount_peaks(atac_cells(), path, groupby="cell_type")
    np.testing.assert_array_equal(first.X, second.X)
    first.write_h5ad(tmp_path / "counts.h5ad")
    back = ad.read_h5ad(tmp_path / "counts.h5ad")
    pd.testing.assert_frame_equal(back.var, first.var)
    pd.testing.assert_frame_equal(back.obs, first.obs)
    np.testing.assert_array_equal(back.layers["counts"], first.layers["counts"])


def test_bad_input(tmp_path):
    path = write_fragments(tmp_path / "fragments.tsv.gz")
    with pytest.raises(FileNotFoundError):
        scget.pp.recount_peaks(atac_cells(), tmp_path / "absent.tsv.gz")
    (tmp_path / "bad.tsv").write_text("chr1\tabc\t10\tc1\n")
    with pytest.raises(ValueError, match="does not look like a fragments file"):
        scget.pp.recount_peaks(atac_cells(), tmp_path / "bad.tsv")
    with pytest.raises(ValueError, match="count must be one of"):
        scget.pp.recount_peaks(atac_cells(), path, count="reads")
    with pytest.raises(ValueError, match="width"):
        scget.pp.recount_peaks(atac_cells(), path, width=0)
    with pytest.raises(KeyError, match="groupby column 'sample'"):
        scget.pp.recount_peaks(atac_cells(), path, groupby="sample")
    strangers = write_fragments(tmp_path / "strangers.tsv.gz", [("chr1", 1, 5, "zz", 1)])
    with pytest.raises(ValueError, match="belongs to a cell"):
        scget.pp.recount_peaks(atac_cells(), strangers)
    cells = atac_cells()
    cells.mod["atac"].var_names = ["a", "b", "c"]
    with pytest.raises(ValueError, match="cannot be parsed"):
        scget.pp.recount_peaks(cells, path)
    with pytest.raises(ValueError, match=r"none is recorded in the ATAC data's uns\['files'\]"):
        scget.pp.recount_peaks(atac_cells())


def test_malformed_and_truncated_fragments_name_the_file_and_line(tmp_path):
    rows = [*FRAGMENTS[:3], ("chr1", "12x", 180, "c1", 1), *FRAGMENTS[3:]]
    malformed = write_fragments(tmp_path / "malformed.tsv.gz", rows)
    with pytest.raises(ValueError, match=r"malformed.tsv.gz, line 5: malformed fragment 'chr1"):
        scget.pp.recount_peaks(atac_cells(), malformed, chunk_size=2)
    path = write_fragments(tmp_path / "fragments.tsv.gz", FRAGMENTS * 200)
    data = open(path, "rb").read()
    truncated = tmp_path / "truncated.tsv.gz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        ValueError, match=r"truncated.tsv.gz is truncated or corrupt after line \d+"
    ):
        scget.pp.recount_peaks(atac_cells(), truncated, chunk_size=100)
    truncated.write_bytes(data[:40])
    with pytest.raises(ValueError, match="truncated or corrupt after line 0"):
        scget.pp.recount_peaks(atac_cells(), truncated)


def test_fragments_recorded_in_the_data(tmp_path):
    """Without a path, the fragments file recorded as muon records it is counted."""
    path = write_fragments(tmp_path / "fragments.tsv.gz")
    cells = atac_cells()
    cells["atac"].uns["files"] = {"fragments": path}
    recorded = scget.pp.recount_peaks(cells)
    np.testing.assert_array_equal(
        recorded.X.toarray(), scget.pp.recount_peaks(cells, path).X.toarray()
    )
    assert recorded.X.sum() > 0


@pytest.mark.realdata
def test_pbmc_fragments_reproduce_the_10x_matrix(pbmc):
    """Insertions counted from the fragments file reproduce Cell Ranger ARC's peak matrix.

    The fragments file shipped with the subset holds only the fragments of windows
    around the marker genes (367,439 rows, 24,508 barcodes), so peaks extending past a
    window lose counts. On every peak with fragments within 2 kb on both sides (fully
    inside a window), the counts are equal cell by cell; elsewhere they are never larger.
    """
    mdata, fragments = pbmc
    counts = scget.pp.recount_peaks(mdata, fragments)
    recounted = counts[:, mdata["atac"].var_names].X.toarray()
    original = mdata["atac"].X.toarray()
    assert (recounted <= original).all()

    covered = covered_peaks(fragments, mdata["atac"].var_names)
    assert covered.sum() >= 100
    np.testing.assert_array_equal(recounted[:, covered], original[:, covered])
    # the other definition (fragments overlapping a peak) does not reproduce the matrix
    overlaps = scget.pp.recount_peaks(mdata, fragments, count="fragments")
    assert (
        overlaps[:, mdata["atac"].var_names].X.toarray()[:, covered] != original[:, covered]
    ).any()


def test_simulated_fragments_reproduce_the_matrix(simulated):
    """The simulator counts insertions in peaks, as Cell Ranger and recount_peaks do."""
    counts = scget.pp.recount_peaks(simulated, simulated.uns["simulation"]["fragments"])
    np.testing.assert_array_equal(counts.X.toarray(), simulated["atac"].X.toarray())
    assert list(counts.var_names) == list(simulated["atac"].var_names)
