"""motif_network: direction, frequencies, Spearman, storage and bad input."""

from __future__ import annotations

import mudata as md
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import scget


def _edges(B, motifs, threshold=0.05):
    target, source = np.nonzero(np.abs(B) >= threshold)
    return {(motifs[s], motifs[t]) for s, t in zip(source, target, strict=True)}


def test_lingam_recovers_the_true_dag_in_its_direction(sem_pb):
    pb, B, motifs = sem_pb
    table = scget.tl.motif_network(pb, groups=["a"], n_bootstraps=2, n_jobs=1)
    found = set(zip(table["source"], table["target"], strict=True))
    truth = _edges(B, motifs)
    precision = len(found & truth) / len(found)
    recall = len(found & truth) / len(truth)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)
    # the transposed reading (target causes source) recovers none of it
    assert len({(t, s) for s, t in found} & truth) / len(truth) < 0.1
    # weights are the true effects of source on target
    true_weight = {(motifs[s], motifs[t]): B[t, s] for s, t in zip(*np.nonzero(B.T), strict=True)}
    hits = table[[pair in truth for pair in zip(table["source"], table["target"], strict=True)]]
    assert (
        np.sign(hits["weight"])
        == np.sign([true_weight[p] for p in zip(hits["source"], hits["target"], strict=True)])
    ).all()
    assert set(table["group"]) == {"a"} and "accessibility" not in set(table["source"])
    assert hits["frequency"].between(0, 1).all() and hits["frequency"].mean() > 0.9


def test_bootstraps_in_two_processes_equal_one(sem_pb):
    pb, _, motifs = sem_pb
    options = {"groups": ["b"], "motifs": motifs[:8], "n_bootstraps": 2, "seed": 4}
    serial = scget.tl.motif_network(pb.copy(), n_jobs=1, **options)
    parallel = scget.tl.motif_network(pb.copy(), n_jobs=2, **options)
    pd.testing.assert_frame_equal(serial, parallel)
    assert serial["frequency"].between(0, 1).all() and serial["frequency"].max() == 1


def test_spearman_matches_scipy_and_adjusts_pvalues(sem_pb):
    pb, _, motifs = sem_pb
    table = scget.tl.motif_network(
        pb, method="spearman", groups=["b"], n_bootstraps=0, min_weight=0
    )
    attributions = scget.get.gene_by_motif(pb, group="b")[motifs]
    rho, pvalue = stats.spearmanr(attributions.to_numpy())
    assert len(table) == len(motifs) * (len(motifs) - 1) // 2
    i, j = motifs.index(table["source"][0]), motifs.index(table["target"][0])
    assert table["weight"][0] == pytest.approx(rho[i, j], abs=1e-6)
    assert table["pvalue"][0] == pytest.approx(pvalue[i, j], rel=1e-6)
    np.testing.assert_allclose(table["padj"], stats.false_discovery_control(table["pvalue"]))
    assert table["frequency"].isna().all()


def test_agnostic_network_survives_h5mu_and_reruns_replace(sem_pb, tmp_path):
    pb, _, motifs = sem_pb
    pb = pb.copy()
    scget.tl.motif_network(pb, method="spearman", n_bootstraps=1, n_jobs=1)
    scget.tl.motif_network(pb, agnostic=True, n_genes=4000, motifs=motifs[:10], n_bootstraps=0)
    pb.write_h5mu(tmp_path / "pb.h5mu")
    back = scget.get.motif_network(md.read_h5mu(tmp_path / "pb.h5mu"))
    assert set(back["group"]) == {"all"}
    assert set(back["source"]) | set(back["target"]) <= set(motifs[:10])
    pd.testing.assert_frame_equal(back, scget.get.motif_network(pb))
    assert scget.get.params(pb, "motif_network")["agnostic"] is True


def test_graph_export_keeps_direction_and_weights(sem_pb):
    pb, _, _ = sem_pb
    pb = pb.copy()
    table = scget.tl.motif_network(pb, groups=["a"], n_bootstraps=0)
    graph = scget.get.motif_network(pb, group="a", graph=True)
    first = table.iloc[0]
    assert graph.is_directed() and graph.number_of_edges() == len(table)
    assert graph[first["source"]][first["target"]]["weight"] == pytest.approx(first["weight"])


def test_bad_input_is_refused_before_any_fit(sem_pb):
    pb, _, _ = sem_pb
    with pytest.raises(ValueError, match="method must be"):
        scget.tl.motif_network(pb, method="pearson")
    with pytest.raises(ValueError, match="no gene-by-motif results"):
        scget.tl.motif_network(pb, groups=["z"])
    with pytest.raises(ValueError, match="Unknown motif clusters"):
        scget.tl.motif_network(pb, motifs=["NOPE"])
    with pytest.raises(ValueError, match="agnostic=True"):
        scget.tl.motif_network(pb, n_genes=15)
    empty = md.MuData({"rna": pb["rna"][:, :0].copy(), "atac": pb["atac"].copy()})
    with pytest.raises(KeyError, match=r"scget\.tl\.gene_by_motif"):
        scget.tl.motif_network(empty)


def test_lingam_reports_no_pruned_or_self_edges(sem_pb):
    pb, B, _ = sem_pb
    table = scget.tl.motif_network(pb, groups=["a"], n_bootstraps=0, min_weight=0)
    assert (table["weight"] != 0).all() and (table["source"] != table["target"]).all()
    assert len(table) < B.size / 2
