"""simulate_multiome: determinism, counts, files, planted truth, round trip, bad input."""

from __future__ import annotations

import gzip

import mudata
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import scget
from scget._shared.utils import check_counts

SMALL = {
    "n_cells": 300,
    "n_cell_types": 6,
    "n_genes": 150,
    "n_tfs": 16,
    "rna_depth": 1000,
    "seed": 0,
}


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    return scget.datasets.simulate_multiome(**SMALL, path=tmp_path_factory.mktemp("sim"))


def _pseudobulk(mdata, mod):
    """Summed counts per cell type (types x features), in category order."""
    cell_type = mdata.obs["cell_type"]
    onehot = sp.csr_matrix(pd.get_dummies(cell_type).to_numpy(dtype=np.float64).T)
    return np.asarray((onehot @ mdata[mod].X).todense())


def _log_tpm(counts):
    return np.log10(counts / counts.sum(axis=1, keepdims=True) * 1e6 + 1)


def _read_fasta(path):
    sequences, name = {}, None
    for line in open(path):
        if line.startswith(">"):
            name = line[1:].strip()
            sequences[name] = []
        else:
            sequences[name].append(line.strip())
    return {key: "".join(parts) for key, parts in sequences.items()}


def test_same_seed_same_data(sim, tmp_path):
    again = scget.datasets.simulate_multiome(**SMALL, path=tmp_path)
    for mod in ("rna", "atac"):
        assert (sim[mod].X != again[mod].X).nnz == 0
        assert list(sim[mod].var_names) == list(again[mod].var_names)
    assert list(sim.obs_names) == list(again.obs_names)
    assert list(sim.obs["cell_type"]) == list(again.obs["cell_type"])
    for key in ("drivers", "links", "interactions", "tfs", "tf_activity"):
        pd.testing.assert_frame_equal(sim.uns["simulation"][key], again.uns["simulation"][key])
    for key in ("genome", "gtf"):
        with (
            open(sim.uns["simulation"][key], "rb") as a,
            open(again.uns["simulation"][key], "rb") as b,
        ):
            assert a.read() == b.read()
    with gzip.open(sim.uns["simulation"]["fragments"]) as a:
        with gzip.open(again.uns["simulation"]["fragments"]) as b:
            assert a.read() == b.read()


def test_other_seed_other_data(sim, tmp_path):
    other = scget.datasets.simulate_multiome(**{**SMALL, "seed": 1}, path=tmp_path)
    assert (sim["rna"].X != other["rna"].X).nnz > 0
    assert list(sim["atac"].var_names) != list(other["atac"].var_names)


def test_counts_are_sparse_integers(sim):
    for mod in ("rna", "atac"):
        matrix = sim[mod].X
        assert sp.issparse(matrix)
        check_counts(matrix, mod)
        assert np.all(matrix.data == np.round(matrix.data)) and matrix.data.min() > 0
        assert matrix.nnz / np.prod(matrix.shape) < 0.75
        assert np.all(np.asarray(matrix.sum(axis=1)).ravel() > 0)
    # library sizes vary between cells
    depth = np.asarray(sim["rna"].X.sum(axis=1)).ravel()
    assert depth.std() / depth.mean() > 0.2


def test_count_models(tmp_path):
    """Negative binomial counts are overdispersed relative to Poisson ones, same means."""
    tiny = {"n_cells": 400, "n_cell_types": 1, "n_genes": 40, "n_tfs": 4, "rna_depth": 2000}
    ratios = {}
    for model in ("poisson", "nb"):
        mdata = scget.datasets.simulate_multiome(**tiny, count_model=model, path=tmp_path / model)
        counts = mdata["rna"].X.toarray()
        scaled = counts / counts.sum(axis=1, keepdims=True) * 2000
        ratios[model] = np.median(scaled.var(axis=0) / scaled.mean(axis=0))
    assert ratios["poisson"] < 2 < ratios["nb"]


def test_default_path_is_in_the_cache():
    mdata = scget.datasets.simulate_multiome(n_cells=50, n_cell_types=2, n_genes=20, n_tfs=2)
    genome = mdata.uns["simulation"]["genome"]
    assert genome.startswith(str(scget.settings.cachedir / "simulations"))


TINY = {"n_cells": 50, "n_cell_types": 2, "n_genes": 20, "n_tfs": 2}


def test_same_folder_same_simulation_is_reused(tmp_path):
    first = scget.datasets.simulate_multiome(**TINY, path=tmp_path)
    files = {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    again = scget.datasets.simulate_multiome(**TINY, path=tmp_path)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == files
    assert (first["atac"].X != again["atac"].X).nnz == 0
    assert again.uns["simulation"]["genome"] == first.uns["simulation"]["genome"]
    (tmp_path / "fragments.tsv.gz.tbi").unlink()  # an incomplete folder is written again
    scget.datasets.simulate_multiome(**TINY, path=tmp_path)
    assert (tmp_path / "fragments.tsv.gz.tbi").is_file()


def test_folder_of_another_simulation_is_refused(tmp_path):
    first = scget.datasets.simulate_multiome(**TINY, path=tmp_path)
    genome = open(first.uns["simulation"]["genome"], "rb").read()
    with pytest.raises(FileExistsError, match=r"another simulation \(seed: 0 -> 1\).*another path"):
        scget.datasets.simulate_multiome(**TINY, seed=1, path=tmp_path)
    assert open(first.uns["simulation"]["genome"], "rb").read() == genome
    (tmp_path / "simulation.json").unlink()
    with pytest.raises(FileExistsError, match="without their record"):
        scget.datasets.simulate_multiome(**TINY, path=tmp_path)


def test_default_folder_depends_on_the_motifs():
    jaspar = scget.motifs.load_jaspar()
    clusters = jaspar.clusters
    ids = [jaspar.members(c)[0] for c in clusters[:4]]
    first = scget.datasets.simulate_multiome(**TINY, motifs=jaspar.subset(ids[:3]))
    genome = open(first.uns["simulation"]["genome"], "rb").read()
    other = scget.datasets.simulate_multiome(**TINY, motifs=jaspar.subset(ids[1:]))
    assert other.uns["simulation"]["genome"] != first.uns["simulation"]["genome"]
    assert open(first.uns["simulation"]["genome"], "rb").read() == genome


def test_sizes_and_names(sim):
    assert sim["rna"].shape == (300, 150)
    assert sim["atac"].shape == (300, sim.uns["simulation"]["params"]["n_peaks"]) == (300, 750)
    assert sim.obs["cell_type"].nunique() == 6
    assert set(sim["atac"].var["chrom"]) == {"chr1", "chr2", "chr3", "chr4"}
    table = scget._shared.genomic.parse_peak_names(sim["atac"].var_names)
    assert (table["start"].to_numpy() == sim["atac"].var["start"].to_numpy()).all()
    # peaks are sorted and disjoint within each chromosome
    for _, peaks in table.groupby("chrom"):
        assert np.all(peaks["start"].to_numpy()[1:] >= peaks["end"].to_numpy()[:-1])
    assert (sim["atac"].var["sim_role"] == "promoter").sum() == 150


def test_fragments_recount_the_atac_matrix(sim):
    import pysam

    atac = sim["atac"]
    barcode = {name: i for i, name in enumerate(sim.obs_names)}
    rows, columns = [], []
    with pysam.TabixFile(sim.uns["simulation"]["fragments"]) as fragments:
        for column, (chrom, start, end) in enumerate(
            zip(atac.var["chrom"], atac.var["start"], atac.var["end"], strict=True)
        ):
            # fragments ending at a peak's first base can insert inside it at their end
            for line in fragments.fetch(chrom, max(start - 1, 0), end):
                fields = line.split("\t")
                for site in (int(fields[1]), int(fields[2])):  # Tn5 insertions
                    if start <= site < end:
                        rows.append(barcode[fields[3]])
                        columns.append(column)
    recount = sp.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=atac.shape)
    assert abs(recount - atac.X).sum() == 0


def test_recount_peaks_reads_the_recorded_fragments(sim):
    assert sim["atac"].uns["files"]["fragments"] == sim.uns["simulation"]["fragments"]
    recounted = scget.pp.recount_peaks(sim)
    assert (recounted[:, sim["atac"].var_names].X != sim["atac"].X).nnz == 0


def test_fragments_file_format(sim):
    with gzip.open(sim.uns["simulation"]["fragments"], "rt") as handle:
        lines = [handle.readline().rstrip("\n").split("\t") for _ in range(2000)]
    assert all(len(fields) == 5 for fields in lines)
    starts = [int(f[1]) for f in lines if f[0] == lines[0][0]]
    assert starts == sorted(starts)
    assert all(int(f[2]) > int(f[1]) and int(f[4]) >= 1 for f in lines)
    assert {f[3] for f in lines} <= set(sim.obs_names)


def test_genome_and_gtf(sim):
    files = sim.uns["simulation"]
    genome = _read_fasta(files["genome"])
    assert sum(len(s) for s in genome.values()) == files["params"]["genome_size"]
    fai = pd.read_csv(files["genome"] + ".fai", sep="\t", header=None)
    assert dict(zip(fai[0], fai[1], strict=True)) == {k: len(v) for k, v in genome.items()}
    gc = np.mean([base in "GC" for base in genome["chr1"][:200_000]])
    assert 0.35 < gc < 0.5

    gtf = pd.read_csv(files["gtf"], sep="\t", header=None, comment="#")
    assert set(gtf[2]) == {"gene", "transcript", "exon"}
    genes = gtf[gtf[2] == "gene"]
    assert len(genes) == 150
    assert genes[8].str.contains('gene_id "').all() and genes[8].str.contains('gene_type "').all()
    names = genes[8].str.extract(r'gene_name "([^"]+)"')[0]
    assert list(names) == list(sim["rna"].var_names)
    assert set(genes[6]) == {"+", "-"}
    # the promoter peak of each gene holds its strand-aware TSS (GTF: 1-based, inclusive)
    tss = np.where(genes[6] == "+", genes[3] - 1, genes[4] - 1)
    var = sim["atac"].var
    promoters = var[var["sim_role"] == "promoter"].set_index("sim_gene").loc[names]
    assert (promoters["chrom"].to_numpy() == genes[0].to_numpy()).all()
    assert (promoters["start"].to_numpy() <= tss).all() and (
        tss < promoters["end"].to_numpy()
    ).all()


def test_planted_motifs_are_in_the_sequence(sim):
    """PWM log-odds scores are higher in peaks holding a TF's sites than in background peaks."""
    motifs = scget.motifs.load_jaspar()
    genome = _read_fasta(sim.uns["simulation"]["genome"])
    var = sim["atac"].var
    sites = sim["atac"].varm["sim_sites"]
    code = {"A": 0, "C": 1, "G": 2, "T": 3}
    background = var.index[var["sim_role"] == "background"][:40]
    for tf in sim.uns["simulation"]["tfs"].itertuples():
        logodds = np.log2(motifs[tf.motif_id] / 0.25 + 1e-3)
        both = [logodds, logodds[::-1, ::-1]]

        def best(peak, both=both):
            chrom, start, end = var.loc[peak, ["chrom", "start", "end"]]
            seq = np.array([code[b] for b in genome[chrom][start:end]])
            windows = np.lib.stride_tricks.sliding_window_view(seq, len(both[0]))
            return max(m[np.arange(len(m)), windows].sum(axis=1).max() for m in both)

        holders = sites.index[sites[tf.motif] > 0][:40]
        assert np.mean([best(p) for p in holders]) > np.mean([best(p) for p in background]) + 3


def _dominant_drivers(drivers):
    """Each gene's strongest driver, where it is strong and twice as strong as the next."""
    ranked = drivers.assign(size=drivers["effect"].abs()).sort_values("size", ascending=False)
    first = ranked.groupby("gene").nth(0).set_index("gene")
    second = ranked.groupby("gene").nth(1).set_index("gene")["size"]
    runner_up = second.reindex(first.index).fillna(0.0)
    return first[(first["size"] > 0.5) & (first["size"] > 2 * runner_up)]


def test_driven_genes_follow_tf_activity(sim):
    """Pseudobulk expression of genes with a strong planted driver tracks its activity."""
    truth = sim.uns["simulation"]
    log_tpm = _log_tpm(_pseudobulk(sim, "rna"))
    activity = truth["tf_activity"].loc[sim.obs["cell_type"].cat.categories]
    dominant = _dominant_drivers(truth["drivers"])
    correlations = {"activator": [], "repressor": []}
    for gene, row in dominant.iterrows():
        values = log_tpm[:, sim["rna"].var_names.get_loc(gene)]
        correlations[row["role"]].append(np.corrcoef(values, activity[row["motif"]])[0, 1])
    assert len(correlations["activator"]) >= 10 and len(correlations["repressor"]) >= 3
    assert np.median(correlations["activator"]) > 0.6
    assert np.median(correlations["repressor"]) < -0.3
    # the gene named after a TF is expressed where the TF is active
    own = [
        np.corrcoef(log_tpm[:, sim["rna"].var_names.get_loc(t.gene)], activity[t.motif])[0, 1]
        for t in truth["tfs"].itertuples()
    ]
    assert np.median(own) > 0.5


def test_linked_enhancers_open_where_their_tfs_are_active(sim):
    truth = sim.uns["simulation"]
    counts = _pseudobulk(sim, "atac")
    accessibility = counts / counts.sum(axis=1, keepdims=True)
    activity = truth["tf_activity"].loc[sim.obs["cell_type"].cat.categories]
    sites = sim["atac"].varm["sim_sites"]
    enhancers = sim["atac"].var_names.get_indexer(truth["links"]["peak"].unique())
    pioneers = truth["tfs"][truth["tfs"]["pioneer"] > 0.3]
    assert len(pioneers) > 0
    for tf in pioneers.itertuples():
        holders = enhancers[sites.iloc[enhancers][tf.motif].to_numpy() > 0]
        opened = accessibility[:, holders].sum(axis=1)
        assert np.corrcoef(opened, activity[tf.motif])[0, 1] > 0.5


def test_truth_tables_are_consistent(sim):
    truth = sim.uns["simulation"]
    motifs = scget.motifs.load_jaspar()
    tfs = truth["tfs"]
    assert tfs["motif"].is_unique
    assert set(tfs["motif"]) <= set(motifs.clusters)
    assert (motifs.info.loc[tfs["motif_id"], "cluster"].to_numpy() == tfs["motif"].to_numpy()).all()
    assert set(truth["tf_activity"].columns) == set(tfs["motif"])
    assert truth["tf_activity"].to_numpy().min() >= 0 and truth["tf_activity"].to_numpy().max() <= 1

    drivers = truth["drivers"]
    assert set(drivers["gene"]) <= set(sim["rna"].var_names)
    assert set(drivers["motif"]) <= set(tfs["motif"])
    # repressors with sites only in the promoter lower expression; activators raise it
    solo = drivers[(drivers["enhancer_sites"] == 0) & (drivers["promoter_sites"] > 0)]
    assert (solo.loc[solo["role"] == "activator", "effect"] > 0).all()
    assert (solo.loc[solo["role"] == "repressor", "effect"] < 0).all()

    links = truth["links"]
    var = sim["atac"].var.loc[links["peak"]]
    assert (var["sim_role"] == "enhancer").all()
    assert (var["sim_gene"].to_numpy() == links["gene"].to_numpy()).all()
    assert links["distance"].between(1_000, 1_100_000).all()
    # closer enhancers weigh more (power-law contact)
    assert links["weight"].corr(np.log(links["distance"]), method="spearman") < -0.5

    interactions = truth["interactions"]
    assert set(interactions["kind"]) <= {"cooperative", "competitive"}
    assert (interactions["kind"] == "cooperative").any()
    assert set(interactions["motif_a"]) | set(interactions["motif_b"]) <= set(tfs["motif"])


def test_write_read_round_trip(sim, tmp_path):
    path = tmp_path / "sim.h5mu"
    sim.write_h5mu(path)
    back = mudata.read_h5mu(path)
    truth, read = sim.uns["simulation"], back.uns["simulation"]
    assert set(truth) == set(read)
    for key, value in truth.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(value, read[key])
        elif isinstance(value, dict):
            assert value == {k: v.item() if hasattr(v, "item") else v for k, v in read[key].items()}
        else:
            assert value == read[key]
    pd.testing.assert_frame_equal(sim.obs, back.obs)
    for mod in ("rna", "atac"):
        assert (sim[mod].X != back[mod].X).nnz == 0
        pd.testing.assert_frame_equal(sim[mod].var, back[mod].var)
        for key in sim[mod].varm:
            pd.testing.assert_frame_equal(sim[mod].varm[key], back[mod].varm[key])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n_cells": -5}, "n_cells must be positive"),
        ({"n_genes": 0}, "n_genes must be positive"),
        ({"n_cells": 3, "n_cell_types": 4}, "more than n_cells"),
        ({"n_cells": 10.5}, "n_cells must be an integer"),
        ({"n_peaks": 50, "n_genes": 60}, "fewer than n_genes"),
        ({"genome_size": 100_000}, "too small"),
        ({"count_model": "zip"}, "count_model"),
        ({"enhancer_fraction": 1.5}, "enhancer_fraction"),
        ({"rna_depth": -1}, "rna_depth"),
        ({"n_tfs": 10_000}, "n_tfs"),
    ],
)
def test_bad_arguments_raise(arguments, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        scget.datasets.simulate_multiome(**{**SMALL, **arguments}, path=tmp_path)
    assert not any(tmp_path.iterdir())


def test_simulating_raises_no_mudata_update_warning(tmp_path):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scget.datasets.simulate_multiome(**SMALL, path=tmp_path)
    assert not [w for w in caught if issubclass(w.category, FutureWarning)]


#: SHA-1 of TINY's counts, cells, truth tables, genome and fragments at 559b4bf, before
#: the ``design`` option existed.
_TINY_FINGERPRINT = "18de1a6daa6879bac88ae7ba37d830828c8db8f8"


def _fingerprint(mdata) -> str:
    import hashlib

    digest = hashlib.sha1()
    for mod in ("rna", "atac"):
        matrix = mdata[mod].X.tocsr()
        matrix.sort_indices()
        for array in (matrix.data, matrix.indices, matrix.indptr):
            digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(mdata.obs["cell_type"].astype(str).str.cat().encode())
    digest.update("".join(mdata.obs_names).encode())
    for name in ("drivers", "links", "tf_activity"):
        digest.update(mdata.uns["simulation"][name].to_csv().encode())
    digest.update(open(mdata.uns["simulation"]["genome"], "rb").read())
    digest.update(gzip.decompress(open(mdata.uns["simulation"]["fragments"], "rb").read()))
    return digest.hexdigest()


def test_without_a_design_the_simulation_is_unchanged(tmp_path):
    mdata = scget.datasets.simulate_multiome(**TINY, path=tmp_path)
    assert _fingerprint(mdata) == _TINY_FINGERPRINT
    assert "design" not in mdata.uns["simulation"]["params"]
    assert "sample" not in mdata.obs


@pytest.fixture(scope="module")
def designed(tmp_path_factory):
    design = scget.datasets.ConditionDesign(n_samples=3, n_changed=2, sample_noise=0.05)
    return scget.datasets.simulate_multiome(
        n_cells=600, n_cell_types=3, n_genes=60, n_tfs=6, design=design,
        path=tmp_path_factory.mktemp("design"),
    )  # fmt: skip


def test_a_design_makes_samples_and_records_the_planted_shifts(designed):
    truth = designed.uns["simulation"]
    samples = truth["samples"]
    assert list(samples["condition"]) == ["control"] * 3 + ["treated"] * 3
    assert samples["n_cells"].sum() == designed.n_obs
    counted = designed.obs["sample"].value_counts().reindex(samples["sample"]).to_numpy()
    np.testing.assert_array_equal(counted, samples["n_cells"])
    assert counted.max() > counted.min()  # unbalanced
    assert (designed.obs.groupby(["sample", "cell_type"], observed=False).size() > 0).all()
    # every sample in one condition
    assert (designed.obs.groupby("sample", observed=True)["condition"].nunique() == 1).all()
    differential = truth["differential"]
    assert (differential.groupby("cell_type")["changed"].sum() == 2).all()
    assert (differential.loc[~differential["changed"], "shift"] == 0).all()
    # each profile's activity: the cell type's, shifted where planted, plus sample noise
    activity = truth["sample_activity"]
    for row in differential.itertuples():
        names = [f"{row.cell_type}_{s}" for s in samples["sample"]]
        values = activity.loc[names, row.motif].to_numpy()
        change = values[3:].mean() - values[:3].mean()
        assert change == pytest.approx(row.shift, abs=0.15)


def test_the_null_design_is_one_option_away(tmp_path):
    design = scget.datasets.ConditionDesign(n_samples=2, n_changed=0)
    mdata = scget.datasets.simulate_multiome(
        **{**TINY, "n_cells": 200}, design=design, path=tmp_path
    )
    assert not mdata.uns["simulation"]["differential"]["changed"].any()


@pytest.mark.parametrize(
    ("design", "match"),
    [
        ({"n_samples": 0}, "n_samples"),
        ({"conditions": ("a",)}, "two distinct"),
        ({"n_changed": 3}, "n_changed"),
        ({"n_changed": 1, "shift": -1.0}, "shift"),
        ({"n_changed": 1, "changed": {"type_09": ["x"]}}, "type_09"),
    ],
)
def test_bad_designs_are_refused(tmp_path, design, match):
    with pytest.raises(ValueError, match=match):
        scget.datasets.simulate_multiome(
            **TINY, design=scget.datasets.ConditionDesign(**design), path=tmp_path
        )
