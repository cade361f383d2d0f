"""regulator_catalogue, regulator_targets and enrichment against hand computations."""

from __future__ import annotations

import mudata as md
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import scget
from scget._shared.constants import MOTIFS_KEY
from scget._shared.storage import write_result


@pytest.fixture
def pb(sem_pb):
    """The SEM pseudobulk with motif clusters' TFs and expression, and TSS peaks."""
    pb, _, motifs = sem_pb
    pb = pb.copy()
    clusters = pd.DataFrame(
        # motif databases name TFs in their own case (JASPAR: "Hmx2" for the gene HMX2)
        {"tf_names": [f"Tf{i:02d}a;TF{i:02d}B" for i in range(len(motifs))]},
        index=pd.Index(motifs, name="cluster"),
    )
    write_result(pb, MOTIFS_KEY, clusters, {})
    # TF00A is expressed in group a only; TF01B in both; everything else off
    rna = pb["rna"]
    tf_genes = pd.Index(["TF00A", "TF01B"])
    expression = np.array([[2.0, 1.0], [0.0, 1.0]], dtype=np.float32)
    genes = rna.var_names.append(tf_genes)
    X = np.zeros((2, len(genes)), dtype=np.float32)
    X[:, -2:] = expression
    import anndata as ad

    new_rna = ad.AnnData(X=X, obs=rna.obs.copy(), var=pd.DataFrame(index=genes))
    for name, block in rna.varm.items():
        new_rna.varm[name] = block.reindex(genes)
    # every gene has its own TSS peak, closed in group b for the first 1,000 genes
    new_rna.var["tss_peaks"] = [f"p{i}" for i in range(len(genes))]
    accessibility = np.ones((2, len(genes)), dtype=np.float32)
    accessibility[1, :1000] = 0
    atac = ad.AnnData(
        X=accessibility, obs=rna.obs.copy(), var=pd.DataFrame(index=new_rna.var["tss_peaks"])
    )
    out = md.MuData({"rna": new_rna, "atac": atac})
    out.uns.update(pb.uns)
    return out


def test_catalogue_keeps_the_top_share_with_expressed_tfs(pb):
    network = scget.tl.motif_network(pb, method="spearman", n_bootstraps=0, min_weight=0)
    catalogue = scget.tl.regulator_catalogue(pb, top=0.1)
    for group, edges in network.groupby("group"):
        kept = catalogue[catalogue["group"] == group]
        assert len(kept) == int(np.ceil(0.1 * len(edges)))
        assert kept["weight"].abs().min() >= edges["weight"].abs().quantile(0.89)
    everything = scget.tl.regulator_catalogue(pb, top=1.0)
    labels = everything.melt(
        id_vars="group", value_vars=["source", "target"], value_name="motif"
    ).assign(tfs=np.concatenate([everything["source_tfs"], everything["target_tfs"]]))
    # labelled with the genes' own names
    expected = {("a", "M00"): "TF00A", ("b", "M00"): "", ("a", "M01"): "TF01B"}
    expected |= {("b", "M01"): "TF01B", ("a", "M02"): ""}
    for (group, motif), tfs in expected.items():
        assert set(labels.loc[(labels["group"] == group) & (labels["motif"] == motif), "tfs"]) == {
            tfs
        }
    stored = scget.get.regulator_catalogue(pb, group="b")
    pd.testing.assert_frame_equal(
        stored, everything[everything["group"] == "b"].reset_index(drop=True)
    )


def test_targets_are_the_top_genes_of_the_motif_column(pb):
    table = scget.tl.regulator_targets(pb, "M03", groups="a", top=0.1)
    assert scget.get.params(pb, "regulator_targets")["attribution"] == "gradient"
    column = scget.get.gene_by_motif(pb, group="a")["M03"]
    expected = column.sort_values(ascending=False).index[:500]
    assert table["gene"].tolist() == list(expected)
    assert table["rank"].tolist() == list(range(1, 501))
    repressed = scget.tl.regulator_targets(pb, ["M03"], groups="a", top=5, direction="repressed")
    assert repressed["gene"].tolist() == list(column.sort_values().index[:5])
    assert set(table["tfs"]) == {""}  # neither TF03A nor TF03B is expressed
    stored = scget.get.regulator_targets(pb, motif="M03", group="a")
    pd.testing.assert_frame_equal(stored, repressed.reset_index(drop=True))


def test_targets_of_a_motif_named_like_a_gene(pb):
    """A gene may carry its motif cluster's name (CTCF): the targets are still genes."""
    pb = pb.copy()
    names = pb["rna"].var_names.to_list()
    names[7] = "M03"
    pb["rna"].var_names = names
    pb.update()
    table = scget.tl.regulator_targets(pb, "M03", groups="a", top=5)
    column = scget.get.gene_by_motif(pb, group="a")["M03"]
    assert table["gene"].tolist() == list(column.sort_values(ascending=False).index[:5])


def test_enrichment_p_value_is_the_hypergeometric_tail(pb, tmp_path):
    targets = scget.tl.regulator_targets(pb, "M03", groups=["a", "b"], top=50)
    chosen = targets.loc[targets["group"] == "a", "gene"].tolist()
    gmt = tmp_path / "sets.gmt"
    gmt.write_text(
        "hit\tplanted\t" + "\t".join([*chosen[:20], "g4999", "g4998"]) + "\n"
        "other\trandom\t" + "\t".join(f"g{i}" for i in range(1000, 1100)) + "\n"
    )
    table = scget.tl.enrichment(pb, gmt)
    row = table[(table["group"] == "a") & (table["term"] == "hit")].iloc[0]
    background = 5002  # every gene has an open TSS peak in group a
    expected = stats.hypergeom.sf(20 - 1, background, 22, 50)
    assert row["n_genes"] == 20 and row["set_size"] == 22 and row["gene_ratio"] == 20 / 50
    assert row["pvalue"] == pytest.approx(expected, rel=1e-9, abs=0)
    # the overlap's genes, sorted (gseapy's order follows the hash seed)
    assert row["genes"].split(";") == sorted(chosen[:20])
    # group b's background leaves out the 1,000 genes closed there
    open_in_b = set(pb["rna"].var_names[1000:])
    hit_b = table[(table["group"] == "b") & (table["term"] == "hit")].iloc[0]
    assert hit_b["set_size"] == len(open_in_b & {*chosen[:20], "g4999", "g4998"})
    path = tmp_path / "pb.h5mu"
    pb.write_h5mu(path)
    back = scget.get.enrichment(md.read_h5mu(path), group="a")
    pd.testing.assert_frame_equal(back, scget.get.enrichment(pb, group="a"))


def test_enrichment_of_a_plain_list_and_bad_input(pb):
    sets = {"first": ["g1", "g2", "g3"], "second": ["g10", "g11"]}
    table = scget.tl.enrichment(["g1", "g2"], sets, background=[f"g{i}" for i in range(100)])
    assert table["term"].tolist() == ["first"] and (table["group"] == "query").all()
    with pytest.raises(ValueError, match="does not exist"):
        scget.tl.enrichment(pb, "missing.gmt")
    with pytest.raises(ValueError, match="no gene in the background"):
        scget.tl.enrichment(pb, sets, genes=["NOT_A_GENE"])
    with pytest.raises(ValueError, match="Unknown motif cluster"):
        scget.tl.regulator_targets(pb, "NOPE", groups="a")
    with pytest.raises(ValueError, match="top is a share"):
        scget.tl.regulator_targets(pb, "M01", groups="a", top=1.5)
    with pytest.raises(ValueError, match="top is a share"):
        scget.tl.regulator_catalogue(pb, top=0)


def test_shipped_and_planted_gene_sets():
    from scget.tl._networks._enrichment import read_gmt

    sets = read_gmt(scget.datasets.gene_sets())
    assert "MS4A1" in sets["B_cells"] and len(sets) == 10
    drivers = pd.DataFrame(
        {"gene": ["x", "y", "z"], "motif": ["GATA", "GATA", "GATA"], "effect": [0.5, -0.2, 0.01]}
    )
    planted = scget.datasets.planted_gene_sets(drivers, min_effect=0.05)
    assert planted == {"GATA_activated": ["x"], "GATA_repressed": ["y"]}


def test_changing_a_read_table_leaves_the_stored_result_intact(pb):
    scget.tl.motif_network(pb, method="spearman", n_bootstraps=0, min_weight=0)
    edges = scget.get.motif_network(pb)
    edges["pair"] = [frozenset(p) for p in zip(edges["source"], edges["target"], strict=True)]
    edges.loc[0, "weight"] = 99.0
    stored = scget.get.motif_network(pb)
    assert "pair" not in stored.columns and stored.loc[0, "weight"] != 99.0


def test_regulator_targets_old_group_keyword_warns_and_still_works(pb):
    with pytest.warns(FutureWarning, match="group= is renamed groups="):
        old = scget.tl.regulator_targets(pb, "M03", group="a", top=5)
    pd.testing.assert_frame_equal(old, scget.tl.regulator_targets(pb, "M03", groups="a", top=5))
    with pytest.raises(TypeError, match="pass groups= only"):
        scget.tl.regulator_targets(pb, "M03", group="a", groups="a")
