"""``scget demo``: the whole pipeline on a simulated multiome, end to end.

simulate -> pseudobulk -> scan motifs -> TSS targets -> fine-tuning, with a held-out
chromosome and a held-out group, of one model for new genes and one for new groups ->
predict -> evaluate against the baselines -> write the ``.h5mu``, the checkpoints and a
markdown report.
"""

from __future__ import annotations

import argparse
import time
from contextlib import contextmanager
from pathlib import Path

from .. import datasets, pp, tl
from .._shared.constants import SETTINGS
from .._shared.logging import logger

#: The report's setting served by the model for new groups (the others: new genes).
NEW_GROUP_SETTING = SETTINGS[0]
#: Key of the evaluation of the model for new groups (``"evaluation"``: for new genes).
NEW_GROUPS_EVALUATION = "evaluation_new_groups"


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
#: :func:`tl.pretrain` and :func:`tl.finetune` (no tuning of the demo's own).
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
    # `scget --help` imports this module: pandas, scipy and torch load when the command runs.
    from .._shared.utils import atomic_directory, check_output_folder, resolve_device

    out = check_output_folder(args.out, args.overwrite)
    resolve_device(args.device)
    with atomic_directory(out) as staging:
        _pipeline(args, staging)
    logger.info("demo: wrote %s", out.resolve())
    return 0


def _pipeline(args: argparse.Namespace, out: Path) -> None:
    """Run the demo pipeline and write its outputs into the folder ``out``."""
    import pandas as pd

    # `scget --help` imports this module: pandas, scipy and torch load when the command runs.
    from .._shared.genomic import chromosome_sort_key, peak_coordinates
    from .._shared.utils import mudata_update_quietly
    from ..tl._evaluation._evaluate import SETTING_METHODS
    from .demo_report import report

    size = _SIZES[args.size]
    timer = _Timer()

    with timer.step("simulate"):
        # in the cache, not the staging folder: the paths recorded in pb stay valid
        mdata = datasets.simulate_multiome(**size["simulation"], seed=args.seed)
        files = mdata.uns["simulation"]
    with timer.step("pseudobulk"):
        pb = pp.pseudobulk(mdata, groupby="cell_type", min_cells=size["min_cells"])
    with timer.step("scan motifs"):
        pp.scan_motifs(pb, genome=files["genome"])
    with timer.step("TSS targets"):
        pp.annotate_tss(pb, gtf=files["gtf"])

    groups = list(pb.obs_names)
    held_out_group = groups[-1]
    chromosomes = sorted(
        set(peak_coordinates(pb["atac"])["chrom"]),
        key=chromosome_sort_key,
    )
    held_out_chromosome = chromosomes[-1]
    # One model per setting (docs/model.md, "New groups and new genes"): the held-out
    # chromosome's genes (in every group) are new genes; the held-out group on the
    # training chromosomes is a new group. No pretraining: it gained nothing measurable.
    split = {"leave_out_chromosomes": [held_out_chromosome], "leave_out_groups": [held_out_group]}
    models = {}
    for target in ("new genes", "new groups"):
        with timer.step(f"fine-tune for {target}"):
            models[target] = tl.finetune(
                pb, target=target, device=args.device, seed=args.seed, **split
            )
    model = models["new genes"]
    with timer.step("predict and evaluate"):
        tl.predict(pb, model)
        genes_table = tl.evaluate(pb, model=model)
        # the held-out group's predictions of the model for new groups replace the others;
        # it is scored on the methods of the setting it serves (the report shows no other)
        tl.predict(pb, models["new groups"], groups=[held_out_group])
        groups_table = tl.evaluate(
            pb,
            model=models["new groups"],
            methods=SETTING_METHODS[NEW_GROUP_SETTING],
            key_added=NEW_GROUPS_EVALUATION,
        )
    table = pd.concat(
        [
            genes_table[genes_table["setting"] != NEW_GROUP_SETTING],
            groups_table[groups_table["setting"] == NEW_GROUP_SETTING],
        ],
        ignore_index=True,
    )

    model.save(out / "model")
    models["new groups"].save(out / "model_new_groups")
    with mudata_update_quietly():
        pb.write_h5mu(out / "pseudobulk.h5mu")
    text = report(pb, table, models, timer.seconds, seed=args.seed, size=args.size)
    (out / "report.md").write_text(text)
