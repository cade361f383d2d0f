import numpy as np
import pandas as pd
import pytest

from scget.motifs import MotifCollection


def _collection():
    matrices = {"m1": [[4, 0, 0, 0], [0, 2, 2, 0]], "m2": np.eye(4), "m3": [[1, 1, 1, 1]]}
    info = pd.DataFrame(
        {"name": ["A", "B", "C"], "cluster": ["x", "y", "x"]}, index=["m1", "m2", "m3"]
    )
    return MotifCollection(matrices, info)


def test_rows_normalised_and_order():
    motifs = _collection()
    assert list(motifs) == ["m1", "m2", "m3"]
    assert len(motifs) == 3
    np.testing.assert_allclose(motifs["m1"], [[1, 0, 0, 0], [0, 0.5, 0.5, 0]])
    assert motifs.clusters == ["x", "y"]
    assert motifs.members("x") == ["m1", "m3"]
    table = motifs.cluster_table()
    assert table.loc["x", "n_motifs"] == 2
    assert table.loc["x", "tf_names"] == "A;C"


def test_subset_keeps_cluster_order():
    motifs = MotifCollection(_collection().matrices, _collection().info, cluster_order=["y", "x"])
    sub = motifs.subset(["m3", "m2"])
    assert sub.ids == ["m3", "m2"]
    assert sub.clusters == ["y", "x"]
    assert motifs.subset(["m1"]).clusters == ["x"]
    with pytest.raises(KeyError, match="nope"):
        motifs.subset(["nope"])


def test_defaults_without_info():
    motifs = MotifCollection({"b": np.eye(4), "a": np.eye(4)})
    assert motifs.info["cluster"].tolist() == ["b", "a"]
    assert motifs.clusters == ["a", "b"]


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (np.ones((4, 3)), "length, 4"),
        (-np.ones((2, 4)), "negative"),
        ([[0, 0, 0, 0]], "sum to zero"),
    ],
)
def test_bad_matrices(matrix, message):
    with pytest.raises(ValueError, match=message):
        MotifCollection({"m": matrix})


def test_bad_info_and_order():
    with pytest.raises(ValueError, match="missing"):
        MotifCollection({"m": np.eye(4)}, pd.DataFrame({"name": ["A"]}, index=["other"]))
    with pytest.raises(ValueError, match="cluster_order"):
        MotifCollection({"m": np.eye(4)}, cluster_order=["m", "extra"])


def test_cluster_names_are_storable_in_h5(tmp_path):
    import anndata as ad
    import numpy as np
    import pandas as pd

    from scget.motifs import MotifCollection

    info = pd.DataFrame({"name": ["A", "B"], "cluster": ["AP1/1", "AP1/2"]}, index=["m1", "m2"])
    motifs = MotifCollection({"m1": np.eye(4), "m2": np.eye(4)[::-1]}, info)
    assert motifs.clusters == ["AP1.1", "AP1.2"]
    adata = ad.AnnData(np.zeros((1, 3), dtype=np.float32))
    adata.varm["scores"] = pd.DataFrame(
        np.ones((3, 2), dtype=np.float32), index=adata.var_names, columns=motifs.clusters
    )
    adata.write_h5ad(tmp_path / "a.h5ad")
    assert list(ad.read_h5ad(tmp_path / "a.h5ad").varm["scores"].columns) == motifs.clusters
