"""Render the plot gallery (docs/gallery.md) from the trained demo.

Usage: ``python docs/gallery.py PB.h5mu MODEL_DIR TRUTH.pkl``: a pseudobulk of a
simulated multiome with ``scget.tl.evaluate`` and ``scget.tl.gene_by_motif`` results, the
model trained on it (``scget.tl.GETModel.save``) and a pickled dict of the simulation's
truth tables (``drivers``, ``links``, ``tfs``, as ``simulate_multiome`` records them in
``uns["simulation"]``). The inputs are only read: the interpretation and perturbation
runs go into the pseudobulk in memory, on a few genes and groups to stay fast.
"""

from __future__ import annotations

import argparse
import logging
import pickle
from pathlib import Path

import matplotlib.pyplot as plt
import mudata as md

import scget

OUT = Path(__file__).parent / "_static" / "gallery"
GROUPS = ["type_01", "type_02", "type_03"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pb", type=Path)
    parser.add_argument("model", type=Path)
    parser.add_argument("truth", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    pb = md.read_h5mu(args.pb)
    model = scget.tl.GETModel.load(args.model)
    with open(args.truth, "rb") as handle:
        truth = pickle.load(handle)
    OUT.mkdir(parents=True, exist_ok=True)

    gene = truth["links"].groupby("gene").size().idxmax()
    var = pb["rna"].var
    tss, chrom = int(var.loc[gene, "tss"]), var.loc[gene, "chrom"]
    near = var[(var["chrom"] == chrom) & ((var["tss"] - tss).abs() < 60_000)].index.tolist()
    scget.tl.region_importance(pb, model, genes=near, groups=GROUPS, device="cpu")
    scget.tl.motif_network(pb, method="spearman", groups=GROUPS, n_bootstraps=2)
    sample = var.index[:: max(len(var) // 400, 1)].tolist()
    scget.tl.embed_regulatory(pb, model, genes=sample, groups=GROUPS, device="cpu")
    driver = truth["tfs"].iloc[1]["motif"]
    scget.tl.knockout_motifs(
        pb, model, motifs=[driver], genes=sample, groups=GROUPS[:1], device="cpu"
    )

    def save(name: str, plot, *args, **kwargs) -> None:
        plot(*args, save=OUT / f"{name}.png", **kwargs)
        plt.close("all")

    links = truth["links"][truth["links"]["gene"] == gene]
    save("tracks", scget.pl.tracks, pb, gene=gene, flank=60_000, groups=GROUPS, links=links)
    save("gene_by_motif", scget.pl.gene_by_motif, pb, n_top=20, center=True)
    top_driver = truth["drivers"].loc[truth["drivers"]["effect"].abs().idxmax()]
    save(
        "motif_importance",
        scget.pl.motif_importance,
        pb,
        top_driver["gene"],
        group=GROUPS[0],
        motifs=scget.motifs.load_jaspar(),
    )
    planted = truth["tfs"]["motif"].tolist()
    save("motif_network", scget.pl.motif_network, pb, group=GROUPS[0], motifs=planted, top=30)
    save("regulatory_embedding", scget.pl.regulatory_embedding, pb, color="group")
    save("regulatory_embedding_motif", scget.pl.regulatory_embedding, pb, color=driver)
    effects = truth["drivers"][truth["drivers"]["motif"] == driver].set_index("gene")["effect"]
    save(
        "perturbation",
        scget.pl.perturbation,
        pb,
        "knockout_motifs",
        group=GROUPS[0],
        measured=-effects,
    )
    save("evaluation", scget.pl.evaluation, pb, reference=True)
    scget.tl.regulator_targets(pb, planted, group=GROUPS)
    scget.tl.enrichment(pb, scget.datasets.planted_gene_sets(truth["drivers"]))
    save("enrichment", scget.pl.enrichment, pb, group=GROUPS[0])


if __name__ == "__main__":
    main()
