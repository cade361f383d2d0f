"""``scget demo``: the whole pipeline on a simulated multiome, end to end.

simulate -> pseudobulk -> scan motifs -> TSS targets -> brief pretraining ->
fine-tuning with a held-out chromosome and a held-out group -> predict -> evaluate
against the baselines -> write the ``.h5mu``, the checkpoint and a markdown report.
"""

from __future__ import annotations

import argparse
import time
from contextlib import contextmanager
from pathlib import Path

from ._logging import logger


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``scget demo``."""
    parser.add_argument("--out", type=Path, default=Path("scget_demo"), help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument(
        "--size",
        choices=("tiny", "default"),
        default="default",
        help="'tiny' finishes in about a minute (a smoke test); 'default' is the real demo",
    )
    parser.add_argument("--device", default="auto", help="torch device (auto, cpu, cuda, mps)")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace the outputs of a non-empty --out"
    )


#: Simulation sizes of the two demo sizes; training uses the defaults of
#: :func:`scget.tl.pretrain` and :func:`scget.tl.finetune` (no tuning of the demo's own).
#: 3,000 genes give the model enough distinct windows to generalise to a held-out
#: chromosome.
_SIZES = {
    "tiny": {
        "simulation": {"n_cells": 400, "n_cell_types": 4, "n_genes": 150, "n_chromosomes": 3},
        "min_cells": 20,
    },
    "default": {"simulation": {"n_genes": 3000}, "min_cells": 50},
}


class _Timer:
    """Wall time of each named pipeline step, for the report."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def step(self, name: str):
        logger.info("demo: %s ...", name)
        start = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - start
        logger.info("demo: %s done in %.1f s", name, self.seconds[name])


def run(args: argparse.Namespace) -> int:
    """Run the demo pipeline and write its outputs under ``args.out``.

    The options are checked first (a non-empty ``--out`` needs ``--overwrite``); the
    outputs are written into a temporary folder that replaces ``--out`` only when the
    whole pipeline succeeded.
    """
    from ._utils import atomic_directory, check_output_folder, resolve_device

    out = check_output_folder(args.out, args.overwrite)
    resolve_device(args.device)
    with atomic_directory(out) as staging:
        _pipeline(args, staging)
    logger.info("demo: wrote %s", out.resolve())
    return 0


def _pipeline(args: argparse.Namespace, out: Path) -> None:
    """Run the demo pipeline and write its outputs into the folder ``out``."""
    import scget

    from ._utils import mudata_update_quietly

    size = _SIZES[args.size]
    timer = _Timer()

    with timer.step("simulate"):
        # in the cache, not the staging folder: the paths recorded in pb stay valid
        mdata = scget.datasets.simulate_multiome(**size["simulation"], seed=args.seed)
        files = mdata.uns["simulation"]
    with timer.step("pseudobulk"):
        pb = scget.pp.pseudobulk(mdata, groupby="cell_type", min_cells=size["min_cells"])
    with timer.step("scan motifs"):
        scget.pp.scan_motifs(pb, genome=files["genome"])
    with timer.step("TSS targets"):
        scget.pp.annotate_tss(pb, gtf=files["gtf"])

    groups = list(pb.obs_names)
    held_out_group = groups[-1]
    chromosomes = sorted(
        set(scget._genomic.peak_coordinates(pb["atac"])["chrom"]),
        key=scget._genomic.chromosome_sort_key,
    )
    held_out_chromosome = chromosomes[-1]
    # Pretraining is self-supervised on accessibility: like GET's, it may see the held-out
    # group's ATAC (never its expression); the test chromosome stays unseen throughout.
    with timer.step("pretrain"):
        pretrained = scget.tl.pretrain(
            pb,
            leave_out_chromosomes=[held_out_chromosome],
            device=args.device,
            seed=args.seed,
        )
    with timer.step("fine-tune"):
        model = scget.tl.finetune(
            pb,
            model=pretrained,
            leave_out_chromosomes=[held_out_chromosome],
            leave_out_groups=[held_out_group],
            device=args.device,
            seed=args.seed,
        )
    with timer.step("predict"):
        scget.tl.predict(pb, model)
    with timer.step("evaluate"):
        table = scget.tl.evaluate(pb, model=model)

    model.save(out / "model")
    with mudata_update_quietly():
        pb.write_h5mu(out / "pseudobulk.h5mu")
    (out / "report.md").write_text(_report(pb, model, table, timer, args))


def _report(pb, model, table, timer: _Timer, args: argparse.Namespace) -> str:
    """The markdown report: data, split, evaluation table, timings."""
    from .tl._evaluation._scoring import METRICS

    split = model.split
    summary = (
        table.groupby(["setting", "method"])[list(METRICS)]
        .mean()
        .reset_index()
        .sort_values(["setting", "pearson"], ascending=[True, False])
    )
    # the reason column only where a method could not be scored
    per_group = table if table["reason"].ne("").any() else table.drop(columns="reason")
    lines = [
        "# scget demo report",
        "",
        f"Simulated multiome (seed {args.seed}, size '{args.size}'): "
        f"{pb.n_obs} pseudobulks, {pb['atac'].n_vars} peaks, {pb['rna'].n_vars} genes, "
        f"{pb['atac'].varm['motif_scores'].shape[1]} motif clusters.",
        "",
        "## Split",
        "",
        f"- test chromosomes: {', '.join(split['test_chromosomes']) or '-'}",
        f"- validation chromosomes: {', '.join(split['valid_chromosomes']) or '-'}",
        f"- held-out groups: {', '.join(split['leave_out_groups']) or '-'}",
        "",
        "## Held-out genes: mean over groups, per setting",
        "",
        "- held-out group: the held-out groups' genes on the training chromosomes;",
        "- held-out chromosome: the training groups' genes on the test chromosomes;",
        "- held-out both: the held-out groups' genes on the test chromosomes.",
        "",
        "`centred_r` is the Pearson r of observed and predicted deviations from each gene's "
        "mean over the training groups: what sets a group apart, beyond each gene's own level.",
        "",
        summary.to_markdown(index=False, floatfmt=".3f"),
        "",
        "## Per group",
        "",
        per_group.to_markdown(index=False, floatfmt=".3f"),
        "",
        "## Timings (s)",
        "",
        *[f"- {name}: {seconds:.1f}" for name, seconds in timer.seconds.items()],
        f"- total: {sum(timer.seconds.values()):.1f}",
        "",
    ]
    return "\n".join(lines)
