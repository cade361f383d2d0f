"""Interpretation on the demo simulation: speed, memory and recovery of the planted truth.

Part 1 (speed, one group): windows/s of :func:`scget.tl.gene_by_motif` against the
engine's forward pass that :func:`scget.tl.predict` runs, on the same promoter windows,
and against a per-window ``torch.autograd`` loop; the peak memory of ``gene_by_motif``
at 1x, 2x and 4x the genes (each in a fresh process).

Part 2 (recovery), per seed (``--seeds``, default 0 1 2): the ``scget demo`` simulation
(3,000 genes), fine-tuned with the defaults (last chromosome and last group held out;
pseudobulk and model cached per seed). Each attribution method (``--methods``: gradient,
knockout) runs on the same fixed draw of ``--genes-per-split`` held-out-chromosome genes
and as many training-chromosome genes, in a training group and the held-out group (the
knockout costs about 100 times the gradient, so not every gene); against the
simulation's ``drivers``, ``links``, ``tfs`` and ``interactions``, for each set of genes:

- AUROC of |gene-by-motif| (mean over the two groups) for planted driver (gene, motif)
  pairs, over all motifs and within the planted TFs' motifs, beside a rule of thumb
  without a model: each motif's scores summed over the gene's window, each region
  weighted by accessibility / (distance + 1 kb);
- sign agreement with the planted role for drivers with |effect| above the median, and
  for drivers whose sites lie only in enhancers;
- AUPRC of region importance for planted enhancer links over each gene's non-TSS
  regions, beside distance alone and the one-window ceiling (planted enhancers ranked by
  closeness: which peaks are enhancers is known, not which gene each acts on), and the
  mean importance per band of distance and planted role;
- the planted TF pairs' ranks in each group's ``motif_network`` (Spearman; ICA-LiNGAM
  too when there are more genes than motifs);
- per planted activator, the AUROC of its knockout attribution for the stronger half of
  its planted targets against the other genes (minus ``knockout_motifs``' change);
- each method's seconds per window, and the minutes for every gene of one group;
- each interpretation goal (driver AUROC, sign, links, knockouts, pairs), met or missed,
  with the best method's figure;
- AUROC of regulatory-embedding closeness (every gene of the two groups) for gene pairs
  sharing their main driver, beside the same AUROC of the observed and predicted
  expression across the groups.

Part 3 (pairs), per seed: gradient gene-by-motif of the same two groups for every
held-out-chromosome gene and, apart, for every training-chromosome gene, then
``motif_network`` by Spearman, ICA-LiNGAM and pairwise knockout interactions
(``method="interaction"``, its 12 top motifs per gene) on each. Printed per gene set,
network and group:
the planted TF pairs' ranks among all pairs of motifs (top 1 %: rank <= 205 of 20,503),
each with the sign of its weight beside the planted kind (cooperative +, competitive -),
and each network's seconds.

Part 4 (knockouts), per seed: every gene of the same two groups; each planted activator
knocked out alone with :func:`scget.tl.knockout_motifs`, once holding the accessibility
input as observed and once with an accessibility model (fine-tuned per seed with
``objective="accessibility"`` on the same split, cached) that closes the chromatin the
motif's sites opened. Printed per gene set: the AUROC of each activator's knockout (minus
the change) for the stronger half of its planted targets against every other gene,
beside the rule of thumb's window sum for that motif; the mean and the activators
reaching 0.8; the accessibility model's fine-tuning time and each knockout's seconds.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/interpret.py [--cache /tmp/scget_interpret]
    OMP_NUM_THREADS=1 python benchmarks/interpret.py --parts recovery --seeds 0 \
        --genes-per-split 40
    OMP_NUM_THREADS=1 python benchmarks/interpret.py --parts recovery --seeds 0 \
        --methods gradient --cache /tmp/scget_interpret_nosparsity \
        --extra '{"motif_sparsity": 0}'
    OMP_NUM_THREADS=1 python benchmarks/interpret.py --parts recovery --seeds 0 \
        --cache /tmp/scget_interpret_hg38_density --bp-per-gene 49000
    OMP_NUM_THREADS=1 python benchmarks/interpret.py --parts recovery --methods gradient \
        --models 3   # attributions averaged over 3 fine-tuning seeds
    OMP_NUM_THREADS=1 python benchmarks/interpret.py --parts pairs --seeds 0 1 2
    OMP_NUM_THREADS=2 python benchmarks/interpret.py --parts knockouts --threads 2
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import pickle
import resource
import threading
import time
from pathlib import Path

import mudata
import numpy as np
import pandas as pd
import scipy.sparse
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

import scget
from scget._shared.genomic import chromosome_sort_key
from scget._shared.utils import mudata_update_quietly
from scget.tl._core._engine import forward, on_device
from scget.tl._core._promoters import promoters
from scget.tl._core._windows import WindowDataset, region_context

#: The demo pseudobulk of each seed, shared with ``benchmarks/model_quality.py``.
PSEUDOBULK = "/tmp/scget_model_quality/demo_seed{seed}.h5mu"
N_GENES = 3000
#: Distance (bp) added to each region's distance to the TSS in the no-model reference.
CONTACT = 1_000
#: Bands of distance to the TSS (bp) of the region importance table by role.
BANDS = [0, 2_000, 10_000, 50_000, 200_000, np.inf]
BAND_NAMES = ["< 2 kb", "2-10 kb", "10-50 kb", "50-200 kb", "> 200 kb"]
CPU = torch.device("cpu")


def load(
    cache: Path, extra: dict, bp_per_gene: int | None = None, seed: int = 0, n_models: int = 1
):
    """The demo pseudobulk, the simulation's truth tables and the fine-tuned models (cached).

    ``extra`` are fine-tuning options beside the defaults (the model is cached per cache
    folder: use another ``--cache`` for other options). ``bp_per_gene`` simulates a genome
    of that many bp per gene instead of the simulator's default (its pseudobulk is then
    cached in ``cache`` rather than shared with ``benchmarks/model_quality.py``). Model
    ``k`` of ``n_models`` is fine-tuned with seed ``seed + 100 k``.
    """
    truth_path = cache / f"truth_seed{seed}.pkl"
    pseudobulk = Path(PSEUDOBULK.format(seed=seed))
    if bp_per_gene is not None:
        pseudobulk = cache / f"pseudobulk_seed{seed}.h5mu"
    if not truth_path.exists() or not pseudobulk.exists():
        size = {} if bp_per_gene is None else {"genome_size": N_GENES * bp_per_gene}
        mdata = scget.datasets.simulate_multiome(
            n_genes=N_GENES, seed=seed, path=cache / f"simulation_seed{seed}", **size
        )
        files = mdata.uns["simulation"]
        with open(truth_path, "wb") as handle:
            pickle.dump({k: files[k] for k in ("drivers", "links", "tfs", "interactions")}, handle)
        if not pseudobulk.exists():
            pb = scget.pp.pseudobulk(mdata, groupby="cell_type", min_cells=50)
            scget.pp.scan_motifs(pb, genome=files["genome"])
            scget.pp.annotate_tss(pb, gtf=files["gtf"])
            pseudobulk.parent.mkdir(parents=True, exist_ok=True)
            pb.write_h5mu(pseudobulk)
    with open(truth_path, "rb") as handle:
        truth = pickle.load(handle)
    with mudata_update_quietly():
        pb = mudata.read_h5mu(pseudobulk)
    chromosomes = sorted(set(pb["atac"].var["chrom"]), key=chromosome_sort_key)
    models = []
    for number in range(n_models):
        model_path = cache / (f"model_seed{seed}" + (f"_{number}" if number else ""))
        if model_path.exists():
            models.append(scget.tl.GETModel.load(model_path))
            continue
        models.append(
            scget.tl.finetune(
                pb,
                leave_out_chromosomes=[chromosomes[-1]],
                leave_out_groups=[list(pb.obs_names)[-1]],
                **{"seed": seed + 100 * number, **extra},
            )
        )
        models[-1].save(model_path)
    return pb, truth, models, chromosomes[-1]


def _genes(pb, model, group: str, n: int) -> list[str]:
    """``n`` genes with an accessible TSS peak in ``group`` (fixed random draw)."""
    chosen = promoters(
        pb, model, genes=None, groups=[group], rna="rna", atac="atac", motif_key="motif_scores"
    )
    names = pb["rna"].var_names[np.unique(chosen.table["gene"])]
    return list(np.random.default_rng(0).permutation(names)[:n])


def speed(pb, model, group: str, n_genes: int, batch_size: int) -> None:
    """Windows/s of gene_by_motif, the forward pass and a per-window backward loop."""
    genes = _genes(pb, model, group, n_genes)
    chosen = promoters(
        pb, model, genes=genes, groups=[group], rna="rna", atac="atac", motif_key="motif_scores"
    )
    windows = chosen.table[["group", "start", "length"]].to_numpy()
    size = model.window_size
    with on_device(model.network, CPU) as network:
        start = time.perf_counter()
        forward(
            network, chosen.inputs, windows, window_size=size, batch_size=batch_size, device=CPU
        )
        predict_rate = len(windows) / (time.perf_counter() - start)
        dataset = WindowDataset(chosen.inputs, windows, size)
        n_loop = min(100, len(windows))
        start = time.perf_counter()
        for i in range(n_loop):
            item = dataset[i]
            x = item["x"][None].clone().requires_grad_(True)
            context = {key: value[None] for key, value in region_context(item).items()}
            out = network(x, **context).expression
            row = chosen.table.iloc[i]
            (grad,) = torch.autograd.grad(out[0, row["offset"], row["strand"]], x)
            (grad * x).sum(1).detach().numpy()
        loop_rate = n_loop / (time.perf_counter() - start)
    start = time.perf_counter()
    scget.tl.gene_by_motif(
        pb, model, genes=genes, groups=[group], device="cpu", batch_size=batch_size
    )
    gbm_rate = len(windows) / (time.perf_counter() - start)
    print(
        f"\n== speed: {len(genes)} genes, {len(windows)} promoter windows of {size} regions, "
        f"group {group}, batch {batch_size}, CPU, {torch.get_num_threads()} torch thread(s)"
    )
    print(f"forward (predict's engine pass): {predict_rate:8.1f} windows/s")
    print(
        f"gene_by_motif (whole function):  {gbm_rate:8.1f} windows/s "
        f"({predict_rate / gbm_rate:.2f}x predict's time per window; goal < 3x)"
    )
    print(
        f"per-window autograd loop:        {loop_rate:8.1f} windows/s "
        f"(gene_by_motif {gbm_rate / loop_rate:.1f}x faster; goal >= 5x)"
    )


def _rss() -> int:
    """Resident memory of this process now (bytes, Linux)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()


def _peak_memory(model_path: str, seed: int, group: str, genes: list[str], queue) -> None:
    """In a fresh process: peak RSS (MiB) above the RSS before one gene_by_motif call."""
    logging.getLogger("scget").setLevel(logging.WARNING)
    scget.settings.verbosity = 1
    torch.set_num_threads(1)
    with mudata_update_quietly():
        pb = mudata.read_h5mu(PSEUDOBULK.format(seed=seed))
    model = scget.tl.GETModel.load(model_path)
    before = _rss()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], _rss())

    sampler = threading.Thread(target=sample)
    sampler.start()
    scget.tl.gene_by_motif(pb, model, genes=genes, groups=[group], device="cpu")
    done.set()
    sampler.join()
    queue.put(((max(peak[0], _rss()) - before) / 2**20, before / 2**20))


def memory(pb, model, group: str, n_genes: int, model_path: Path, seed: int) -> None:
    """Peak-RSS growth of gene_by_motif at 1x, 2x and 4x ``n_genes``, one process each."""
    print("\n== memory: peak RSS above the RSS before gene_by_motif (fresh process each)")
    context = multiprocessing.get_context("spawn")
    everything = _genes(pb, model, group, 4 * n_genes)
    for factor in (1, 2, 4):
        queue = context.Queue()
        process = context.Process(
            target=_peak_memory,
            args=(str(model_path), seed, group, everything[: factor * n_genes], queue),
        )
        process.start()
        growth, base = queue.get()
        process.join()
        print(f"{factor}x ({factor * n_genes} genes): +{growth:7.1f} MiB over {base:.0f} MiB")


def _split(genes: pd.Index, pb, chromosome: str) -> dict[str, np.ndarray]:
    held = pb["rna"].var.loc[genes, "chrom"].astype(str).to_numpy() == chromosome
    return {f"held-out chromosome {chromosome}": held, "training chromosomes": ~held}


def _driver_pairs(values: pd.DataFrame, drivers: pd.MultiIndex) -> pd.DataFrame:
    """Long (gene, motif, value, driver) table of a genes x motifs frame."""
    pairs = values.stack().rename("value").reset_index()
    pairs.columns = ["gene", "motif", "value"]
    pairs["driver"] = pd.MultiIndex.from_frame(pairs[["gene", "motif"]]).isin(drivers)
    return pairs


def _window_motifs(regions: pd.DataFrame, pb) -> pd.DataFrame:
    """Genes x motifs: motif scores summed over each gene's window, no model.

    ``regions`` has one row per (``target`` gene, ``source`` peak) of the windows, TSS
    peaks included, with its ``distance`` to the TSS and ``accessibility`` (mean over
    groups). Each region counts by its accessibility divided by its distance plus
    :data:`CONTACT` bp.
    """
    peaks = regions["source"].astype(str).to_numpy()
    rows, names = pd.factorize(regions["target"].astype(str))
    scores = pb["atac"].varm["motif_scores"]
    weight = regions["accessibility"] / (regions["distance"].abs() + CONTACT)
    window = scipy.sparse.csr_matrix(
        (weight.to_numpy(), (rows, scores.index.get_indexer(peaks))),
        shape=(len(names), len(scores)),
    )
    return pd.DataFrame(window @ scores.to_numpy(), index=names, columns=scores.columns)


def _chosen(pb, model, groups: list[str], chromosome: str, n: int) -> dict[str, list[str]]:
    """Per split, ``n`` genes (a fixed draw) with an accessible TSS peak in every group."""
    table = promoters(
        pb, model, genes=None, groups=groups, rna="rna", atac="atac", motif_key="motif_scores"
    ).table
    everywhere = table.groupby("gene")["group"].nunique() == len(groups)
    names = pb["rna"].var_names[everywhere.index[everywhere.to_numpy()]]
    rng = np.random.default_rng(0)
    return {
        name: sorted(rng.permutation(names[held])[:n])
        for name, held in _split(names, pb, chromosome).items()
    }


def _attribute(pb, model, method: str, genes: list[str], groups: list[str], batch_size: int):
    """One method's gene-by-motif, region importance, networks and seconds per window."""
    options = {"genes": genes, "groups": groups, "method": method, "device": "cpu"}
    seconds = {}
    for name, function in (
        ("motifs", scget.tl.gene_by_motif),
        ("regions", scget.tl.region_importance),
    ):
        start = time.perf_counter()
        function(pb, model, batch_size=batch_size, **options)
        seconds[name] = time.perf_counter() - start
    regions = _regions(pb)
    # LiNGAM's ICA needs more genes than motifs
    names = (
        ("spearman", "lingam")
        if len(genes) > pb["atac"].varm["motif_scores"].shape[1]
        else ("spearman",)
    )
    networks = {
        name: scget.tl.motif_network(pb, method=name, n_bootstraps=0, key_added=f"net_{name}")
        for name in names
    }
    motifs = scget.get.gene_by_motif(pb).drop(columns="accessibility")
    return motifs.groupby(level="gene").mean(), regions, networks, seconds


def _regions(pb) -> pd.DataFrame:
    """The stored region importance per (``target`` gene, ``source`` peak), over groups:
    mean ``weight`` and ``accessibility``, and the ``distance`` to the TSS."""
    return (
        scget.get.region_importance(pb)
        .groupby(["target", "source"], observed=True)
        .agg(
            weight=("weight", "mean"),
            distance=("distance", "first"),
            accessibility=("accessibility", "mean"),
        )
        .reset_index()
    )


def _sign(mean: pd.DataFrame, drivers: pd.DataFrame) -> tuple[float, int]:
    """Sign agreement with the planted role, drivers with |effect| above their median."""
    strong = drivers[drivers["effect"].abs() > drivers["effect"].abs().median()]
    values = mean.stack().reindex(pd.MultiIndex.from_frame(strong[["gene", "motif"]]))
    expected = np.where(strong["role"].to_numpy() == "activator", 1, -1)
    found = np.isfinite(values.to_numpy())
    return float(np.mean(np.sign(values.to_numpy()[found]) == expected[found])), int(found.sum())


def _pair_ranks(table: pd.DataFrame, planted: set) -> list[int]:
    """Ranks of the planted pairs among a network's unordered pairs (larger |weight|)."""
    found = _planted_edges(table, dict.fromkeys(planted))
    return sorted(rank for rank, _ in found.values() if rank)


def _knockout_aurocs(mean: pd.DataFrame, drivers: pd.DataFrame, motifs) -> dict[str, float]:
    """Per motif: AUROC of its knockout attribution for the stronger half of its targets
    against every other gene (the tutorial's figure from ``knockout_motifs``, whose
    change is minus this attribution)."""
    aurocs = {}
    for motif in motifs:
        effect = drivers[drivers["motif"] == motif].set_index("gene")["effect"]
        target = mean.index.isin(effect.index[effect > effect.median()])
        if 0 < target.sum() < len(target):
            aurocs[motif] = roc_auc_score(target, mean[motif])
    return aurocs


def recovery(pb, truth, models, chromosome: str, args) -> None:
    """Planted-truth recovery of each attribution method, the networks and the embedding.

    The attributions are the mean over ``models`` (an ensemble when there are several);
    the promoter windows and the embedding are the first model's.
    """
    model = models[0]
    groups = [str(pb.obs_names[0]), str(pb.obs_names[-1])]
    splits = _chosen(pb, model, groups, chromosome, args.genes_per_split)
    genes = sorted(g for names in splits.values() for g in names)
    windows = len(
        promoters(
            pb, model, genes=genes, groups=groups, rna="rna", atac="atac", motif_key="motif_scores"
        ).table
    )
    group_windows = len(
        promoters(
            pb,
            model,
            genes=None,
            groups=groups[:1],
            rna="rna",
            atac="atac",
            motif_key="motif_scores",
        ).table
    )
    results = {
        method: _attribute(pb, models, method, genes, groups, args.batch_size)
        for method in args.methods
    }
    drivers = truth["drivers"]
    driver_index = pd.MultiIndex.from_frame(drivers[["gene", "motif"]])
    tfs = truth["tfs"]
    enhancer_only = drivers[(drivers["promoter_sites"] == 0) & (drivers["enhancer_sites"] > 0)]
    interactions = truth["interactions"]
    planted = {frozenset(p) for p in zip(interactions.motif_a, interactions.motif_b, strict=True)}
    links = pd.MultiIndex.from_frame(truth["links"][["gene", "peak"]])
    n_motifs = len(next(iter(results.values()))[0].columns)
    top = round(0.01 * n_motifs * (n_motifs - 1) / 2)
    print(
        f"\n== recovery, seed {args.seed}: {len(genes)} genes (a fixed draw among those with an "
        f"accessible TSS peak in both groups) in groups {groups} (a training group, the "
        f"held-out one): {windows} promoter windows; values averaged over the two groups"
        f" and {len(models)} model(s); "
        f"load {os.getloadavg()[0]:.1f}, {torch.get_num_threads()} torch thread(s)"
    )
    for method, (_, _, _, seconds) in results.items():
        per_window = {name: value / windows for name, value in seconds.items()}
        print(
            f"{method}: {per_window['motifs']:.3f} s per window for gene-by-motif, "
            f"{per_window['regions']:.3f} s for region importance; for every gene of one group "
            f"({group_windows} windows): {per_window['motifs'] * group_windows / 60:.1f} min "
            "gene-by-motif (at this rate)"
        )
    for name, chosen in splits.items():
        print(f"\n-- {name}: {len(chosen)} genes")
        rows = {}
        for method, (motifs, regions, networks, _) in results.items():
            mean = motifs.loc[chosen]
            pairs = _driver_pairs(mean, driver_index)
            in_tfs = pairs["motif"].isin(tfs["motif"])
            part = regions[regions["target"].isin(chosen)]
            reference = _driver_pairs(_window_motifs(part, pb)[mean.columns], driver_index)
            part = part[part["distance"] != 0].copy()  # the TSS peak itself
            part["link"] = pd.MultiIndex.from_frame(part[["target", "source"]]).isin(links)
            roles = pb["atac"].var["sim_role"].reindex(part["source"].astype(str))
            part["role"] = roles.to_numpy()
            sign, n_sign = _sign(mean, drivers[drivers["gene"].isin(chosen)])
            only = enhancer_only[enhancer_only["gene"].isin(chosen)]
            enhancer_sign, n_enhancer = _sign(mean, only)
            rows[method] = {
                "driver AUROC": roc_auc_score(pairs["driver"], pairs["value"].abs()),
                "in TF motifs": roc_auc_score(
                    pairs["driver"][in_tfs], pairs["value"][in_tfs].abs()
                ),
                "sign": sign,
                "sign, enhancer-only": enhancer_sign,
                "link AUPRC": average_precision_score(part["link"], part["weight"]),
            }
            ranks = {
                f"{net} {group}": _pair_ranks(edges, planted)
                for net, table in networks.items()
                for group, edges in table.groupby("group", observed=True)
            }
            print(f"{method}: planted TF pairs' ranks (top 1 %: rank <= {top}): {ranks}")
            rows[method]["pairs in a top 1 %"] = max(
                sum(rank <= top for rank in found) for found in ranks.values()
            )
            if method == "knockout":
                aurocs = _knockout_aurocs(
                    mean, drivers, tfs.loc[tfs["role"] == "activator", "motif"]
                )
                print(
                    "knockout AUROC per planted activator (stronger half of its targets vs "
                    "other genes): " + ", ".join(f"{m} {v:.2f}" for m, v in aurocs.items())
                )
            print(f"{method}: ", end="")
            _importance_by_role(part)
        in_tfs = reference["motif"].isin(tfs["motif"])
        rows["rule of thumb / distance / one-window ceiling"] = {
            "driver AUROC": roc_auc_score(reference["driver"], reference["value"]),
            "in TF motifs": roc_auc_score(reference["driver"][in_tfs], reference["value"][in_tfs]),
            "link AUPRC": average_precision_score(part["link"], -part["distance"].abs()),
            "link ceiling": average_precision_score(
                part["link"], (part["role"] == "enhancer") / part["distance"].abs()
            ),
        }
        print(pd.DataFrame(rows).T.round(3).to_string())
        print(
            f"({n_sign} drivers with |effect| above the median, {n_enhancer} enhancer-only; "
            f"{int(part['link'].sum())} planted links among {len(part)} (gene, region) pairs)"
        )
        _verdict(rows, aurocs if "knockout" in results else {})
    _embedding(pb, model, drivers, chromosome, groups, args.batch_size)


def pairs(pb, truth, models, chromosome: str, seed: int, batch_size: int) -> None:
    """The planted TF pairs in each network of a training and the held-out group, fitted to
    every held-out-chromosome gene and, apart, to every training-chromosome gene."""
    groups = [str(pb.obs_names[0]), str(pb.obs_names[-1])]
    interactions = truth["interactions"]
    kinds = {
        frozenset(pair): kind
        for *pair, kind in zip(
            interactions.motif_a, interactions.motif_b, interactions.kind, strict=True
        )
    }
    n_motifs = pb["atac"].varm["motif_scores"].shape[1]
    top = round(0.01 * n_motifs * (n_motifs - 1) / 2)
    best = {}
    print(
        f"\n== pairs, seed {seed}: {groups}, {len(models)} model(s); "
        f"load {os.getloadavg()[0]:.1f}, {torch.get_num_threads()} torch thread(s)"
    )
    splits = _split(pb["rna"].var_names, pb, chromosome)
    for number, (split, held) in enumerate(splits.items()):
        genes = list(pb["rna"].var_names[held])
        key = f"pairs_{number}"
        start = time.perf_counter()
        scget.tl.gene_by_motif(
            pb, models, genes=genes, groups=groups, batch_size=batch_size, device="cpu",
            key_added=key,
        )  # fmt: skip
        seconds = time.perf_counter() - start
        print(f"-- {split}: {len(genes)} genes; gradient gene-by-motif {seconds:.0f} s")
        for method in ("spearman", "lingam", "interaction"):
            options = {
                "method": method,
                "n_bootstraps": 0,
                "key": key,
                "key_added": f"{key}_{method}",
            }
            start = time.perf_counter()
            if method == "interaction":
                table = scget.tl.motif_network(
                    pb, models, batch_size=batch_size, device="cpu", **options
                )
            else:
                table = scget.tl.motif_network(pb, **options)
            seconds = time.perf_counter() - start
            for group, edges in table.groupby("group", observed=True):
                found = _planted_edges(edges, kinds)
                in_top = sum(0 < rank <= top for rank, _ in found.values())
                best[(split, method)] = max(best.get((split, method), 0), in_top)
                print(
                    f"{method} {group} ({seconds:.0f} s for both groups): "
                    f"{in_top} planted pairs in the top 1 % "
                    f"(rank <= {top}); "
                    + ", ".join(
                        f"{'-'.join(sorted(pair))} ({kinds[pair][:4]}) "
                        + (f"{rank} {sign}" if rank else "no edge")
                        for pair, (rank, sign) in found.items()
                    )
                )
    for split in splits:
        found = {method: count for (name, method), count in best.items() if name == split}
        winner = max(found, key=found.get)
        print(
            f"goal >= 2 planted pairs in a group's top 1 % ({split}): "
            f"{'met' if found[winner] >= 2 else 'MISSED'} (best: {winner}, {found[winner]})"
        )


def knockouts(pb, truth, model, chromosome: str, args) -> None:
    """Per planted activator, its knockout's AUROC on every gene of a training and the
    held-out group, with the accessibility held as observed and closed by a model."""
    groups = [str(pb.obs_names[0]), str(pb.obs_names[-1])]
    splits = _chosen(pb, model, groups, chromosome, 10**9)
    genes = sorted(g for names in splits.values() for g in names)
    tfs, drivers = truth["tfs"], truth["drivers"]
    activators = list(tfs.loc[tfs["role"] == "activator", "motif"])
    path = args.cache / f"accessibility_model_seed{args.seed}"
    started, cached = time.perf_counter(), path.exists()
    if cached:
        accessibility_model = scget.tl.GETModel.load(path)
    else:
        accessibility_model = scget.tl.finetune(
            pb,
            objective="accessibility",
            leave_out_chromosomes=[chromosome],
            leave_out_groups=[groups[-1]],
            seed=args.seed,
        )
        accessibility_model.save(path)
    print(
        f"\n== knockouts, seed {args.seed}: {len(genes)} genes in groups {groups}, "
        f"{len(activators)} planted activators; accessibility model "
        + ("cached" if cached else f"fine-tuned in {time.perf_counter() - started:.0f} s")
        + f"; load {os.getloadavg()[0]:.1f}, "
        f"{torch.get_num_threads()} torch thread(s)"
    )
    effects, seconds = {}, {}
    for name, closing in (("accessibility observed", None), ("closed", accessibility_model)):
        started = time.perf_counter()
        columns = {}
        for motif in activators:
            change = scget.tl.knockout_motifs(
                pb,
                model,
                motifs=motif,
                genes=genes,
                groups=groups,
                accessibility_model=closing,
                batch_size=args.batch_size,
            )
            columns[motif] = -change.loc[groups, genes].fillna(0.0).mean(axis=0)
        effects[name] = pd.DataFrame(columns)
        seconds[name] = (time.perf_counter() - started) / len(activators)
    print(
        "seconds per activator (both groups): "
        + ", ".join(f"{name} {value:.0f}" for name, value in seconds.items())
    )
    # the windows' regions with their distance and accessibility, for the rule of thumb
    scget.tl.region_importance(
        pb, model, genes=genes, groups=groups, batch_size=args.batch_size, device="cpu"
    )
    reference = _window_motifs(_regions(pb), pb)[activators]
    for split, chosen in splits.items():
        rows = {
            name: _knockout_aurocs(values.loc[chosen], drivers, activators)
            for name, values in effects.items()
        }
        rows["rule of thumb (window sum)"] = _knockout_aurocs(
            reference.reindex(chosen), drivers, activators
        )
        table = pd.DataFrame(rows).T
        table["mean"] = table.mean(axis=1)
        reached = (table[activators] >= 0.8).sum(axis=1)
        table["reach 0.8"] = [f"{count}/{len(activators)}" for count in reached]
        print(f"\n-- {split}: {len(chosen)} genes")
        print(table.round(3).to_string())


def _planted_edges(edges: pd.DataFrame, kinds: dict) -> dict:
    """Each planted pair's rank among the network's pairs (larger |weight| first; 0 for a
    pair without an edge) and its weight's sign, + or -."""
    pair = [frozenset(p) for p in zip(edges["source"], edges["target"], strict=True)]
    strongest = edges.assign(pair=pair, strength=edges["weight"].abs()).sort_values(
        "strength", ascending=False
    )
    strongest = strongest.drop_duplicates("pair").reset_index(drop=True)
    position = pd.Series(strongest.index + 1, index=strongest["pair"])
    weight = pd.Series(strongest["weight"].to_numpy(), index=strongest["pair"])
    return {
        planted: (
            int(position.get(planted, 0)),
            "+" if weight.get(planted, 0.0) > 0 else "-" if weight.get(planted, 0.0) < 0 else "0",
        )
        for planted in kinds
    }


def _verdict(rows: dict, aurocs: dict[str, float]) -> None:
    """Each interpretation goal: met or missed, with the best method's figure."""
    reference = rows.pop("rule of thumb / distance / one-window ceiling")
    table = pd.DataFrame(rows).T
    goals = [
        ("driver AUROC", ">=", reference["driver AUROC"]),
        ("in TF motifs", ">", reference["in TF motifs"]),
        ("sign", ">=", 0.8),
        ("sign, enhancer-only", ">=", 0.8),
        ("link AUPRC", ">", reference["link AUPRC"]),
        ("pairs in a top 1 %", ">=", 2),
    ]
    for column, relation, goal in goals:
        best = table[column].idxmax()
        value = table.loc[best, column]
        met = value >= goal if relation == ">=" else value > goal
        where = " of these genes' Spearman or LiNGAM networks" if column.startswith("pairs") else ""
        print(
            f"goal {column}{where} {relation} {goal:.3f}: {'met' if met else 'MISSED'} "
            f"(best: {best}, {value:.3f})"
        )
    print("(the interaction network on every gene: --parts pairs)")
    if aurocs:
        below = {motif: round(value, 2) for motif, value in aurocs.items() if value < 0.8}
        print(
            f"goal knockout AUROC >= 0.8 for every activator: "
            f"{'met' if not below else f'MISSED for {below}'}"
        )


def _embedding(pb, model, drivers: pd.DataFrame, chromosome: str, groups, batch_size: int):
    """AUROC of regulatory-embedding closeness for genes sharing their main driver."""
    embedding = scget.tl.embed_regulatory(
        pb, model, groups=groups, device="cpu", batch_size=batch_size
    )
    cells = embedding.to_df().groupby(embedding.obs["gene"].to_numpy()).mean()
    profiles = pb["rna"].to_df().T[groups]  # genes x groups, observed
    states = embedding.obs[["group", "gene"]].astype(str)
    predictions = embedding.obs.pivot_table(
        index="gene", columns="group", values="predicted", observed=True
    )
    predictions.index = predictions.index.astype(str)
    # each gene's states across groups, z-scored per (gene, dimension): genes x (group, dim)
    cube = embedding.to_df().set_index(pd.MultiIndex.from_frame(states)).unstack("group")
    programs = _z_scored(cube.dropna().stack(level=0, future_stack=True)).unstack()
    main = drivers.loc[drivers["effect"].abs().groupby(drivers["gene"]).idxmax()]
    main = main.set_index("gene")["motif"]
    rng = np.random.default_rng(0)
    held = _split(cells.index, pb, chromosome)
    print(f"\n== regulatory embedding, every gene of groups {groups}")
    for name, chosen in held.items():
        names = [g for g in cells.index[chosen] if g in main.index]
        auroc, n_same, n_pairs = _nearer_auroc(cells.loc[names], main, rng)
        within = [
            _nearer_auroc(frame[frame.index.isin(names)], main, rng)[0]
            for frame in _group_states(embedding)
        ]
        centred = programs.loc[programs.index.isin(names)]
        observed, predicted = (_z_scored(frame.loc[names]) for frame in (profiles, predictions))
        print(
            f"{name}: embedding AUROC, pairs sharing the main driver nearer: {auroc:.3f} "
            f"({n_same} of {n_pairs} pairs; state averaged over groups); within each group: "
            f"median {np.median(within):.3f}; states across groups, z-scored per gene and "
            f"dimension: {_nearer_auroc(centred, main, rng)[0]:.3f}; for scale, expression "
            f"across groups (z-scored per gene), observed: "
            f"{_nearer_auroc(observed, main, rng)[0]:.3f}, GET's prediction: "
            f"{_nearer_auroc(predicted.dropna(), main, rng)[0]:.3f}"
        )


def _importance_by_role(regions: pd.DataFrame) -> None:
    """Mean region importance by planted role, per band of distance to the TSS."""
    kind = regions["role"].where(~regions["link"], "own enhancer")
    kind = kind.replace({"enhancer": "other genes' enhancer"})
    band = pd.cut(regions["distance"].abs(), BANDS, labels=BAND_NAMES)
    table = regions["weight"].groupby([band, kind], observed=True).mean().unstack()
    print("mean region importance by distance to the TSS and planted role:")
    print(table.round(3).to_string())


def _z_scored(frame: pd.DataFrame) -> pd.DataFrame:
    """Each row centred and scaled to unit standard deviation."""
    centred = frame.sub(frame.mean(axis=1), axis=0)
    return centred.div(centred.std(axis=1) + 1e-9, axis=0)


def _nearer_auroc(states: pd.DataFrame, main: pd.Series, rng) -> tuple[float, int, int]:
    """AUROC of closeness (Euclidean) for random gene pairs sharing their main driver."""
    a, b = rng.integers(0, len(states), (2, 50_000))
    a, b = a[a != b], b[a != b]
    values, same = states.to_numpy(), main.loc[states.index].to_numpy()
    label = same[a] == same[b]
    distance = np.linalg.norm(values[a] - values[b], axis=1)
    return roc_auc_score(label, -distance), int(label.sum()), len(label)


def _group_states(embedding) -> list[pd.DataFrame]:
    """The embedding's states per group, indexed by gene."""
    frame = embedding.to_df()
    frame.index = embedding.obs["gene"].astype(str).to_numpy()
    groups = embedding.obs["group"].astype(str).to_numpy()
    return [frame[groups == group] for group in np.unique(groups)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/scget_interpret"))
    parser.add_argument("--genes", type=int, default=250, help="genes of the speed test (1x)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--extra", type=json.loads, default={}, help="JSON fine-tuning options beside the defaults"
    )
    parser.add_argument(
        "--bp-per-gene",
        type=int,
        help="simulate this many bp of genome per gene (hg38, GENCODE: about 49,000) instead "
        "of the simulator's default; needs its own --cache",
    )
    parser.add_argument(
        "--parts", nargs="+", default=["speed", "memory", "recovery"], help="parts to run"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--methods", nargs="+", default=["gradient", "knockout"], help="attribution methods"
    )
    parser.add_argument(
        "--genes-per-split",
        type=int,
        default=40,
        help="recovery: genes of the held-out chromosome and of the training chromosomes",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument(
        "--models",
        type=int,
        default=1,
        help="recovery: models fine-tuned per seed (seeds s, s + 100, ...) whose "
        "attributions are averaged",
    )
    args = parser.parse_args()
    logging.getLogger("scget").setLevel(logging.WARNING)
    scget.settings.verbosity = 1  # no progress bars
    torch.set_num_threads(args.threads)
    args.cache.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        args.seed = seed
        pb, truth, models, chromosome = load(
            args.cache, args.extra, args.bp_per_gene, seed, args.models
        )
        model = models[0]
        group = str(pb.obs_names[0])
        if "speed" in args.parts:
            speed(pb, model, group, args.genes, args.batch_size)
        if "memory" in args.parts:
            memory(pb, model, group, args.genes, args.cache / f"model_seed{seed}", seed)
        if "recovery" in args.parts:
            recovery(pb, truth, models, chromosome, args)
        if "pairs" in args.parts:
            pairs(pb, truth, models, chromosome, seed, args.batch_size)
        if "knockouts" in args.parts:
            knockouts(pb, truth, model, chromosome, args)


if __name__ == "__main__":
    main()
