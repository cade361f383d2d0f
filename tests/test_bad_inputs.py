"""Every public function of scget.pp, tl, get, pl and datasets refuses a bad input clearly.

One table, :data:`CASES`: each row calls a public function with one bad input (an
unknown group, a wrong type, a missing prerequisite result, a bad parameter value) and
names the error class and a fragment of its message. A test checks that the table covers
every public function, so that functions merged later get their row.
"""

from __future__ import annotations

import inspect
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
        lambda x: tl.regulator_targets(x.pb(), "m0", group="A"),
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
        "Unknown peaks ['garbage']",
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
        "Unknown motif clusters ['NOPE'] in the element scores",
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
        "get.insertion",
        lambda x: get.insertion(x.pb()),
        KeyError,
        _missing("insert_elements", "insert_elements"),
    ),
    Case(
        "get.perturbation",
        lambda x: get.perturbation(x.pb()),
        KeyError,
        _missing("knockout_motifs", "knockout_motifs"),
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
