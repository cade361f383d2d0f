"""Every public function of scget.pp, tl, get, pl and datasets refuses a bad input clearly.

One table, :data:`CASES`: each row calls a public function with one bad input (an
unknown group, a wrong type, a missing prerequisite result, a bad parameter value) and
names the error class and a fragment of its message. A test checks that the table covers
every public function, so that functions merged later get their row.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import scget

sys.path.insert(0, str(Path(__file__).parent / "tl"))
from _planted import planted_pb, tiny_kwargs

#: The namespaces whose public functions (``__all__``, classes and constants aside) are
#: covered.
NAMESPACES = ("pp", "tl", "get", "pl", "datasets")


@dataclass
class Inputs:
    """What the calls need: a fresh planted pseudobulk, cells, a tiny model, a folder."""

    model: scget.tl.GETModel
    tmp: Path

    @staticmethod
    def pb() -> md.MuData:
        return planted_pb()

    @staticmethod
    def cells() -> md.MuData:
        obs = pd.DataFrame({"cell_type": ["a", "a", "b"]}, index=["c1", "c2", "c3"])
        atac = ad.AnnData(
            sp.csr_matrix(np.ones((3, 2), np.float32)),
            obs=obs,
            var=pd.DataFrame(index=["chr1:0-100", "chr1:200-300"]),
        )
        rna = ad.AnnData(np.ones((3, 1), np.float32), obs=obs.copy(), var=pd.DataFrame(index=["g"]))
        return md.MuData({"rna": rna, "atac": atac})


@dataclass
class Case:
    """A public function (``namespace.name``), a bad call of it, the error it must raise."""

    function: str
    call: Callable[[Inputs], object]
    error: type[Exception]
    message: str


def _missing(key: str, writer: str) -> str:
    return f"No scget result under uns['scget'][{key!r}]; run scget.tl.{writer}(...) first"


def _state(inputs: Inputs, content: bytes) -> Path:
    """A checkpoint folder holding a fine-tuning state file of ``content`` (torn, or empty)."""
    folder = inputs.tmp / f"state-{len(content)}"
    folder.mkdir(exist_ok=True)
    (folder / "finetune_state.pt").write_bytes(content)
    return folder


pp, tl, get, pl, datasets = (getattr(scget, ns) for ns in NAMESPACES)

CASES = [
    # pp
    Case(
        "pp.pseudobulk",
        lambda x: pp.pseudobulk(x.cells(), groupby="sample"),
        KeyError,
        "groupby column 'sample' was not found",
    ),
    Case(
        "pp.pseudobulk",
        lambda x: pp.pseudobulk(x.cells()["rna"], groupby="cell_type"),
        TypeError,
        "Expected a MuData (modalities 'rna' and 'atac'), got AnnData. Put the modalities",
    ),
    Case(
        "pp.recount_peaks",
        lambda x: pp.recount_peaks(x.cells(), x.tmp / "absent.tsv.gz"),
        FileNotFoundError,
        "absent.tsv.gz does not exist",
    ),
    Case(
        "pp.annotate_tss",
        lambda x: pp.annotate_tss(x.cells(), gtf=x.tmp / "genes.gtf"),
        ValueError,
        "it is not a pseudobulk (cell-level data?)",
    ),
    Case(
        "pp.scan_motifs",
        lambda x: pp.scan_motifs(["chr1:0-50"]),
        ValueError,
        "Scanning peaks needs a genome",
    ),
    Case(
        "pp.scan_motifs",
        lambda x: pp.scan_motifs("chr1:0-50"),
        TypeError,
        "data must be a MuData, an AnnData of peaks, a peak DataFrame, a list of peak names",
    ),
    Case(
        "pp.scan_motifs",
        lambda x: pp.scan_motifs(["ACGT"], motifs="homer"),
        ValueError,
        "motifs must be a MotifCollection, 'jaspar' or 'vierstra'; got 'homer'",
    ),
    Case(
        "pp.scan_motifs",
        lambda x: pp.scan_motifs(["ACGT"], device="mps"),
        ValueError,
        "device must be None or 'cpu' (MOODS) or a CUDA device",
    ),
    # tl
    Case("tl.pretrain", lambda x: tl.pretrain(x.pb(), preset="huge"), ValueError, "preset 'huge'"),
    Case(
        "tl.pretrain",
        lambda x: tl.pretrain("pb.h5mu"),
        TypeError,
        "got str. Read the file first: mudata.read_h5mu('pb.h5mu')",
    ),
    Case(
        "tl.finetune",
        lambda x: tl.finetune(x.pb(), leave_out_groups=["nowhere"], **tiny_kwargs()),
        ValueError,
        "leave_out_groups: ['nowhere'] not found",
    ),
    Case(
        "tl.finetune",
        lambda x: tl.finetune(x.pb(), model="model.pt"),
        TypeError,
        "model must be a GETModel",
    ),
    Case(
        "tl.finetune",
        lambda x: tl.finetune(x.pb(), checkpoint_dir=_state(x, b""), **tiny_kwargs()),
        FileExistsError,
        "holds the training state of an earlier run: pass resume=True",
    ),
    Case(
        "tl.finetune",
        lambda x: tl.finetune(
            x.pb(), checkpoint_dir=_state(x, b"torn"), resume=True, **tiny_kwargs()
        ),
        ValueError,
        "cannot be read as a training state",
    ),
    Case(
        "tl.finetune",
        lambda x: tl.finetune(x.pb(), objective="atac", **tiny_kwargs()),
        ValueError,
        "objective must be one of ('expression', 'accessibility', 'joint'), got 'atac'",
    ),
    Case(
        "tl.predict",
        lambda x: tl.predict(x.pb(), "model.pt"),
        TypeError,
        "model must be a GETModel (the result of scget.tl.finetune, or GETModel.load(path)",
    ),
    Case("tl.evaluate", lambda x: tl.evaluate(x.pb()), ValueError, "No split to evaluate"),
    Case(
        "tl.gene_by_motif",
        lambda x: tl.gene_by_motif(x.pb(), x.model, genes=["NOPE"]),
        KeyError,
        "Unknown genes ['NOPE']",
    ),
    Case(
        "tl.gene_by_motif",
        lambda x: tl.gene_by_motif(x.pb(), "model.pt"),
        TypeError,
        "model must be a GETModel",
    ),
    Case(
        "tl.region_importance",
        lambda x: tl.region_importance(x.pb(), x.model, groups=["nowhere"]),
        KeyError,
        "Unknown groups ['nowhere'] (not in pb.obs_names)",
    ),
    Case(
        "tl.embed_regulatory",
        lambda x: tl.embed_regulatory(x.pb(), x.model, layer=99),
        IndexError,
        "layer 99 is out of range",
    ),
    Case(
        "tl.motif_network",
        lambda x: tl.motif_network(x.pb()),
        KeyError,
        _missing("gene_by_motif", "gene_by_motif"),
    ),
    Case(
        "tl.regulator_catalogue",
        lambda x: tl.regulator_catalogue(x.pb()),
        KeyError,
        _missing("motif_network", "motif_network"),
    ),
    Case(
        "tl.regulator_targets",
        lambda x: tl.regulator_targets(x.pb(), "m0", groups="A"),
        KeyError,
        _missing("gene_by_motif", "gene_by_motif"),
    ),
    Case(
        "tl.enrichment",
        lambda x: tl.enrichment(x.pb(), x.tmp / "absent.gmt"),
        ValueError,
        "absent.gmt' does not exist",
    ),
    Case(
        "tl.differential_regulation",
        lambda x: tl.differential_regulation(x.pb(), "condition"),
        KeyError,
        "No scget result under uns['scget']['pseudobulk']; run scget.pp.pseudobulk(...) first",
    ),
    Case(
        "tl.enhancer_gene",
        lambda x: tl.enhancer_gene(x.pb(), x.model, methods="bogus"),
        ValueError,
        "Unknown methods ['bogus']",
    ),
    Case(
        "tl.export_enhancer_gene",
        lambda x: tl.export_enhancer_gene(x.pb(), x.tmp / "links.bedpe"),
        KeyError,
        "No scget result under uns['scget']['enhancer_gene']",
    ),
    Case(
        "tl.knockout_motifs",
        lambda x: tl.knockout_motifs(x.pb(), x.model, motifs=["NOPE"]),
        KeyError,
        "Unknown motif clusters ['NOPE']; give at least one",
    ),
    Case(
        "tl.knockout_motifs",
        lambda x: tl.knockout_motifs(x.pb(), x.model, motifs=[]),
        KeyError,
        "No motif cluster given; give at least one of the model's motif clusters",
    ),
    Case(
        "tl.delete_regions",
        lambda x: tl.delete_regions(x.pb(), x.model, regions=["garbage"]),
        KeyError,
        "1 of 1 regions are unknown peaks (not in pb[\"atac\"].var_names): 'garbage'",
    ),
    Case(
        "tl.insert_elements",
        lambda x: tl.insert_elements(
            x.pb(), x.model, elements=pd.DataFrame({"NOPE": [1.0]}), group="A"
        ),
        ValueError,
        "needs the accessibility head, which this model did not train",
    ),
    Case(
        "tl.insert_elements",
        lambda x: tl.insert_elements(
            x.pb(), x.model, elements=pd.DataFrame({"NOPE": [1.0]}), group="A", readout="expression"
        ),
        KeyError,
        "1 of 1 columns of the element scores are unknown motif clusters: 'NOPE'",
    ),
    Case(
        "tl.variant_effect",
        lambda x: tl.variant_effect(
            x.pb(),
            x.model,
            variants=pd.DataFrame({"chrom": ["chr1"], "pos": [10], "ref": ["A"], "alt": ["C"]}),
            genome=x.tmp / "none.fa",
            method="exact",
        ),
        ValueError,
        "method must be 'model' or 'first_order', got 'exact'",
    ),
    # get
    Case("get.params", lambda x: get.params(x.pb(), "nope"), KeyError, "uns['scget']['nope']"),
    Case("get.result", lambda x: get.result(x.pb(), "nope"), KeyError, "uns['scget']['nope']"),
    Case("get.history", lambda x: get.history(x.pb()), KeyError, _missing("finetune", "finetune")),
    Case(
        "get.history",
        lambda x: get.history(x.tmp / "pb.h5mu"),
        TypeError,
        "Expected a MuData or AnnData holding scget results, got",
    ),
    Case(
        "get.predictions",
        lambda x: get.predictions(x.pb(), level="both"),
        ValueError,
        "level must be one of ['gene', 'plus', 'minus', 'accessibility'], got 'both'",
    ),
    Case(
        "get.evaluation",
        lambda x: get.evaluation(x.pb()),
        KeyError,
        _missing("evaluation", "evaluate"),
    ),
    Case(
        "get.evaluated_genes",
        lambda x: get.evaluated_genes(x.pb()),
        KeyError,
        _missing("evaluation", "evaluate"),
    ),
    Case(
        "get.gene_by_motif",
        lambda x: get.gene_by_motif(x.pb()),
        KeyError,
        _missing("gene_by_motif", "gene_by_motif"),
    ),
    Case(
        "get.region_importance",
        lambda x: get.region_importance(x.pb()),
        KeyError,
        _missing("region_importance", "region_importance"),
    ),
    Case(
        "get.regulatory_embedding",
        lambda x: get.regulatory_embedding(x.pb()),
        KeyError,
        _missing("regulatory_embedding", "embed_regulatory"),
    ),
    Case(
        "get.motif_network",
        lambda x: get.motif_network(x.pb()),
        KeyError,
        _missing("motif_network", "motif_network"),
    ),
    Case(
        "get.enrichment",
        lambda x: get.enrichment(x.pb()),
        KeyError,
        _missing("enrichment", "enrichment"),
    ),
    Case(
        "get.differential_regulation",
        lambda x: get.differential_regulation(x.pb()),
        KeyError,
        _missing("differential_regulation", "differential_regulation"),
    ),
    Case(
        "get.enhancer_gene",
        lambda x: get.enhancer_gene(x.pb()),
        KeyError,
        _missing("enhancer_gene", "enhancer_gene"),
    ),
    Case(
        "get.insert_elements",
        lambda x: get.insert_elements(x.pb()),
        KeyError,
        _missing("insert_elements", "insert_elements"),
    ),
    Case(
        "get.knockout_motifs",
        lambda x: get.knockout_motifs(x.pb()),
        KeyError,
        _missing("knockout_motifs", "knockout_motifs"),
    ),
    Case(
        "get.delete_regions",
        lambda x: get.delete_regions(x.pb()),
        KeyError,
        _missing("delete_regions", "delete_regions"),
    ),
    Case(
        "get.perturbation",
        lambda x: get.perturbation(x.pb()),
        KeyError,
        _missing("knockout_motifs", "knockout_motifs"),
    ),
    Case(
        "get.insertion",
        lambda x: get.insertion(x.pb()),
        KeyError,
        _missing("insert_elements", "insert_elements"),
    ),
    Case(
        "get.regulator_targets",
        lambda x: get.regulator_targets(x.pb()),
        KeyError,
        _missing("regulator_targets", "regulator_targets"),
    ),
    Case(
        "get.regulator_catalogue",
        lambda x: get.regulator_catalogue(x.pb()),
        KeyError,
        _missing("regulator_catalogue", "regulator_catalogue"),
    ),
    Case(
        "get.variant_effect",
        lambda x: get.variant_effect(x.pb()),
        KeyError,
        _missing("variant_effect", "variant_effect"),
    ),
    # pl
    Case("pl.history", lambda x: pl.history(x.pb()), KeyError, _missing("finetune", "finetune")),
    Case(
        "pl.prediction",
        lambda x: pl.prediction(x.pb()),
        KeyError,
        _missing("evaluation", "evaluate"),
    ),
    Case(
        "pl.tracks",
        lambda x: pl.tracks(x.pb(), gene="NOPE"),
        KeyError,
        "gene 'NOPE' is not in the RNA modality's var_names",
    ),
    Case(
        "pl.gene_by_motif",
        lambda x: pl.gene_by_motif(x.pb()),
        KeyError,
        _missing("gene_by_motif", "gene_by_motif"),
    ),
    Case(
        "pl.motif_importance",
        lambda x: pl.motif_importance(x.pb(), "g", group="A"),
        KeyError,
        _missing("gene_by_motif", "gene_by_motif"),
    ),
    Case(
        "pl.motif_network",
        lambda x: pl.motif_network(x.pb(), group="A"),
        KeyError,
        _missing("motif_network", "motif_network"),
    ),
    Case(
        "pl.regulatory_embedding",
        lambda x: pl.regulatory_embedding(x.pb()),
        KeyError,
        _missing("regulatory_embedding", "embed_regulatory"),
    ),
    Case(
        "pl.enrichment",
        lambda x: pl.enrichment(x.pb()),
        KeyError,
        _missing("enrichment", "enrichment"),
    ),
    Case(
        "pl.differential_regulation",
        lambda x: pl.differential_regulation(x.pb()),
        KeyError,
        _missing("differential_regulation", "differential_regulation"),
    ),
    Case(
        "pl.perturbation",
        lambda x: pl.perturbation(x.pb(), "knockout_motifs"),
        KeyError,
        _missing("knockout_motifs", "knockout_motifs"),
    ),
    Case(
        "pl.evaluation",
        lambda x: pl.evaluation(x.pb()),
        KeyError,
        _missing("evaluation", "evaluate"),
    ),
    # datasets
    Case(
        "datasets.gene_sets",
        lambda x: datasets.gene_sets("hallmark"),
        ValueError,
        "No shipped gene sets 'hallmark'; choose from ['pbmc_markers']",
    ),
    Case(
        "datasets.planted_gene_sets",
        lambda x: datasets.planted_gene_sets(x.pb()),
        KeyError,
        'No uns["simulation"]["drivers"]: give the MuData of',
    ),
    Case(
        "datasets.simulate_multiome",
        lambda x: datasets.simulate_multiome(n_cells=-5),
        ValueError,
        "n_cells must be positive, got -5",
    ),
    Case(
        "datasets.read_10x_multiome",
        lambda x: datasets.read_10x_multiome(x.tmp / "absent"),
        FileNotFoundError,
        "absent does not exist",
    ),
    Case(
        "datasets.pbmc10k_multiome",
        lambda x: datasets.pbmc10k_multiome("pbmc3k"),
        TypeError,
        "takes 0 positional arguments",
    ),
    Case("datasets.genome", lambda x: datasets.genome("hg99"), ValueError, "Unknown genome 'hg99'"),
    Case(
        "datasets.gene_annotation",
        lambda x: datasets.gene_annotation(species="martian"),
        ValueError,
        "Unknown species 'martian'",
    ),
    Case(
        "datasets.published_checkpoint",
        lambda x: datasets.published_checkpoint("nope"),
        ValueError,
        "Unknown published checkpoint 'nope'",
    ),
]


def public_functions() -> set[str]:
    """``namespace.name`` of every function in the ``__all__`` of :data:`NAMESPACES`."""
    return {
        f"{ns}.{name}"
        for ns in NAMESPACES
        for name in getattr(scget, ns).__all__
        if inspect.isfunction(getattr(getattr(scget, ns), name))
    }


def test_the_table_covers_every_public_function():
    covered = {case.function for case in CASES}
    missing = sorted(public_functions() - covered)
    assert not missing, (
        f"No bad-input case in tests/test_bad_inputs.py for {', '.join(missing)}: add a "
        "Case(...) row for each to CASES."
    )
    assert not covered - public_functions(), "CASES names functions that are not public"


@pytest.fixture(scope="module")
def model() -> scget.tl.GETModel:
    """A tiny model fine-tuned for one epoch (bad inputs fail before it is used)."""
    return scget.tl.finetune(planted_pb(), **tiny_kwargs(max_epochs=1))


@pytest.mark.parametrize("case", CASES, ids=[case.function for case in CASES])
def test_bad_input_raises_a_clear_error(case, model, tmp_path):
    with pytest.raises(case.error) as raised:
        case.call(Inputs(model=model, tmp=tmp_path))
    assert case.message in str(raised.value.args[0])  # args: a KeyError's str() is quoted


# Things a user names that match nothing: each is reported, before any model
# computation, naming the problem, and the user's MuData is left as it was.


def _regions(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["chrom", "start", "end"])


def _bed(x: Inputs, text: str) -> Path:
    path = x.tmp / "regions.bed"
    path.write_text(text)
    return path


def _elements_on(x: Inputs) -> Path:
    path = x.tmp / "genome.fa"
    path.write_text(">chr1\n" + "ACGT" * 250 + "\n")
    return path


UNMATCHED_CASES = {
    "delete_regions: start and end swapped": (
        lambda x, pb: tl.delete_regions(
            pb, x.model, regions=_regions(("chr1", 5100, 5400), ("chr1", 10400, 10100))
        ),
        ValueError,
        "1 of 2 regions in the table overlap no peak: chr1:10400-10100: start > end (start "
        "and end swapped?). Check the chromosome names",
    ),
    "delete_regions: chromosome naming": (
        lambda x, pb: tl.delete_regions(
            pb, x.model, regions=_regions(("chr1", 5100, 5400), ("2", 5100, 5400))
        ),
        ValueError,
        "2:5100-5400: no peak on chromosome '2' (did you mean 'chr2'?)",
    ),
    "delete_regions: BED line of a file": (
        lambda x, pb: tl.delete_regions(
            pb, x.model, regions=_bed(x, "track name=t\nchr1 5100 5400 a\nchr1 0 10 far\n")
        ),
        ValueError,
        "'far' chr1:0-10 (line 3): overlaps no peak",
    ),
    "delete_regions: unreadable BED line": (
        lambda x, pb: tl.delete_regions(
            pb, x.model, regions=_bed(x, "chr1\t5100\t5400\nchr1\t5k\n")
        ),
        ValueError,
        "regions.bed line 2: expected an interval 'chrom start end [name ...]'",
    ),
    "delete_regions: unknown option": (
        lambda x, pb: tl.delete_regions(pb, x.model, regions="chr1:5000-5500", unmatched="skip"),
        ValueError,
        "unmatched must be one of ['error', 'warn'], got 'skip'",
    ),
    "knockout_motifs: unknown peak": (
        lambda x, pb: tl.knockout_motifs(
            pb, x.model, motifs="M0", peaks=["chr1:5000-5500", "chr1:1-2"]
        ),
        KeyError,
        "knockout_motifs: 1 of 2 peaks are unknown peaks",
    ),
    "knockout_motifs: peak without the motif": (
        lambda x, pb: tl.knockout_motifs(
            pb, x.model, motifs="M1", peaks=["chr1:5000-5500", "chr1:20000-20500"]
        ),
        ValueError,
        "1 of 2 peaks hold no site of the motifs knocked out ['M1'] (all scores 0): "
        "chr1:5000-5500. Knock out in peaks that hold the motifs",
    ),
    "knockout_motifs: region of a table": (
        lambda x, pb: tl.knockout_motifs(
            pb, x.model, motifs="M1", peaks=_regions(("chr1", 20100, 20200), ("1", 20100, 20200))
        ),
        ValueError,
        "1 of 2 regions in the table overlap no peak: 1:20100-20200: no peak on chromosome "
        "'1' (did you mean 'chr1'?)",
    ),
    "variant_effect: variant in no peak": (
        lambda x, pb: tl.variant_effect(
            pb,
            x.model,
            variants=pd.DataFrame(
                {"chrom": ["chr1", "1"], "pos": [5100, 5100], "ref": ["A", "A"], "alt": "C"}
            ),
            genome=x.tmp / "none.fa",
        ),
        ValueError,
        "1 of 2 variants lie in no peak: 1:5100:A>C: no peak on chromosome '1' (did you "
        "mean 'chr1'?)",
    ),
    "insert_elements: element off the genome": (
        lambda x, pb: tl.insert_elements(
            pb,
            x.model,
            elements=pd.DataFrame(
                {"chrom": ["chr1", "1"], "start": [0, 0], "end": [100, 100]}, index=["e1", "e2"]
            ),
            genome=_elements_on(x),
            group="A",
            readout="expression",
        ),
        ValueError,
        "1 of 2 elements lie off the genome genome.fa: e2 1:0-100: chromosome '1' is not in "
        "genome.fa (did you mean 'chr1'?)",
    ),
}


def assert_unchanged(pb: md.MuData, before: md.MuData) -> None:
    """``pb`` holds what ``before`` (its copy) holds: matrices, layers, varm, obs, var, uns."""
    assert set(pb.mod) == set(before.mod) and set(pb.uns) == set(before.uns)
    for name, adata in pb.mod.items():
        old = before[name]
        assert set(adata.layers) == set(old.layers) and set(adata.varm) == set(old.varm)
        for new_array, old_array in [(adata.X, old.X)] + [
            (adata.layers[k], old.layers[k]) for k in old.layers
        ]:
            np.testing.assert_array_equal(_dense(new_array), _dense(old_array))
        for key in old.varm:
            np.testing.assert_array_equal(np.asarray(adata.varm[key]), np.asarray(old.varm[key]))
        pd.testing.assert_frame_equal(adata.var, old.var)
        pd.testing.assert_frame_equal(adata.obs, old.obs)
        assert set(adata.uns) == set(old.uns)


def _dense(array) -> np.ndarray:
    return array.toarray() if sp.issparse(array) else np.asarray(array)


@pytest.mark.parametrize("name", list(UNMATCHED_CASES))
def test_what_matches_nothing_is_reported_and_the_data_is_unchanged(name, model, tmp_path):
    call, error, message = UNMATCHED_CASES[name]
    pb = planted_pb()
    before = pb.copy()
    with pytest.raises(error) as raised:
        call(Inputs(model=model, tmp=tmp_path), pb)
    assert message in str(raised.value.args[0])
    assert_unchanged(pb, before)


def test_read_gtf_names_an_empty_or_foreign_file(tmp_path):
    empty = tmp_path / "genes.gtf"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=f"GTF file {empty} is empty \\(0 bytes\\)"):
        scget.genome.read_gtf(empty)
    page = tmp_path / "genes.gtf.gz"
    page.write_bytes(b"<html><body>Not Found</body></html>\n")
    with pytest.raises(ValueError, match=f"Cannot read {page} as a GTF file") as raised:
        scget.genome.read_gtf(page)
    assert "9 tab-separated columns" in str(raised.value)


def test_cli_verbosity_out_of_range_is_a_usage_error(capsys):
    from scget.cli import main

    with pytest.raises(SystemExit) as raised:
        main(["-v", "9", "demo"])
    assert raised.value.code == 2
    assert "argument -v/--verbosity: invalid choice: 9 (choose from 0, 1, 2, 3)" in (
        capsys.readouterr().err
    )


def test_evaluate_names_every_requested_baseline_it_cannot_score(scget_log):
    """Not an error: the table keeps the baselines' rows, NaN, with the reason, and it warns."""
    pb = planted_pb()
    groups = list(pb.obs_names)
    methods = ["TSS accessibility", "mean training expression", "top-correlated training group"]
    table = tl.evaluate(pb, split={"leave_out_groups": groups}, methods=methods)
    warnings = [r.getMessage() for r in scget_log.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Could not score 2 requested method(s)" in warnings[0]
    unscored = table[table["method"] != "TSS accessibility"]
    assert len(unscored) == 2 * len(groups) and unscored["pearson"].isna().all()
    assert set(unscored["reason"]) == {"no training group other than the group itself"}
