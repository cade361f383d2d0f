import numpy as np
import pandas as pd
import pytest

from scget.motifs import load_jaspar
from scget.motifs._jaspar import DEFAULT_JASPAR, _shipped_table_path, jaspar_cluster_table


def test_default_jaspar():
    motifs = load_jaspar()
    assert len(motifs) == 879
    assert motifs.info.loc["MA0004.1", "name"] == "Arnt"
    np.testing.assert_allclose(motifs["MA0004.1"][0], np.array([4, 16, 0, 0]) / 20)
    assert motifs.info["cluster"].isin(motifs.clusters).all()
    assert 100 < len(motifs.clusters) < 400
    cluster_of = motifs.info.set_index(motifs.info["name"].str.upper())["cluster"]
    assert cluster_of["FOXA1"] == cluster_of["FOXA2"] == cluster_of["FOXC1"]
    assert cluster_of["GATA1"] == cluster_of["GATA4"]
    assert cluster_of["FOXA1"] != cluster_of["SOX2"] != cluster_of["GATA1"]


def test_unknown_release():
    with pytest.raises(ValueError, match="JASPAR1999"):
        load_jaspar("JASPAR1999")


@pytest.mark.slow
def test_shipped_table_equals_recomputation():
    shipped = pd.read_csv(_shipped_table_path(*DEFAULT_JASPAR), sep="\t", index_col=0)
    fresh = jaspar_cluster_table()
    pd.testing.assert_series_equal(shipped["cluster"], fresh["cluster"], check_names=False)
