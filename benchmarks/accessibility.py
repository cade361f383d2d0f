"""Accessibility prediction of GET on the demo simulation, and the effect of "joint" training.

Uses a pseudobulk written by ``scget demo`` (its simulation, pseudobulk, motif scan and TSS
targets), pretrains as the demo does, then fine-tunes with the demo's split (last chromosome
and last group held out) once with ``objective="expression"`` (unless
``--no-expression``) and once per pair of ``--weights`` and ``--hidden``
(``accessibility_hidden``) with ``objective="joint"``. With ``--per-group`` it fine-tunes
instead one ``objective="accessibility"`` model per group on that group alone (the other
groups left out, as the paper fine-tuned per cell type), predicts each group with its own
model (``predict(groups=[group])``) and scores every group on the held-out chromosome.
Prints:

- the expression results of each fine-tune (``scget.tl.evaluate``, mean Pearson over
  groups per setting);
- per group, ``scget.tl.evaluate(level="accessibility")``: the Pearson correlation over
  the group's accessible peaks on the held-out chromosome between the observed
  accessibility score and GET's accessibility head (joint), a motif-only linear
  regression fitted on the group's own peaks on the training chromosomes, the mean
  score of the same peak in the training groups, and its score in the training group
  best correlated on the other chromosomes (with ``--per-group``: every other group).

Usage::

    python benchmarks/accessibility.py --pb scget_demo/pseudobulk.h5mu
    python benchmarks/accessibility.py --pb scget_demo/pseudobulk.h5mu --per-group
"""

from __future__ import annotations

import argparse
import json
import time

import mudata
import pandas as pd

import scget
from scget._shared.constants import ACCESSIBILITY_HIDDEN
from scget._shared.genomic import peak_coordinates
from scget._shared.utils import mudata_update_quietly

SCALE = "\nFor scale, not as a target: the paper's K562 ATAC, leave-out chromosome, r 0.81."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pb", required=True, help="pseudobulk.h5mu written by scget demo")
    parser.add_argument("--weights", type=float, nargs="+", default=[1.0])
    parser.add_argument(
        "--hidden",
        type=float,
        nargs="+",
        default=[ACCESSIBILITY_HIDDEN],
        help="shares of regions whose accessibility is hidden (accessibility_hidden)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-expression",
        action="store_true",
        help='skip the fine-tune with objective="expression" (only the joint ones)',
    )
    parser.add_argument(
        "--per-group",
        action="store_true",
        help='one objective="accessibility" model per group, instead of the joint ones',
    )
    parser.add_argument(
        "--extra",
        type=json.loads,
        default={},
        help="further finetune options as JSON, e.g. '{\"feature_dropout\": 0}'",
    )
    args = parser.parse_args()
    with mudata_update_quietly():
        pb = mudata.read_h5mu(args.pb)
    chromosomes = sorted(
        set(peak_coordinates(pb["atac"])["chrom"]), key=scget._shared.genomic.chromosome_sort_key
    )
    split = {
        "leave_out_chromosomes": [chromosomes[-1]],
        "leave_out_groups": [list(pb.obs_names)[-1]],
    }
    pretrained = scget.tl.pretrain(
        pb, leave_out_chromosomes=split["leave_out_chromosomes"], seed=args.seed
    )
    if args.per_group:
        per_group(pb, pretrained, split["leave_out_chromosomes"], args.seed, args.extra)
        return
    runs = [] if args.no_expression else [("expression", {})]
    runs += [
        ("joint", {"accessibility_weight": w, "accessibility_hidden": h})
        for w in args.weights
        for h in args.hidden
    ]
    expression = {}
    for objective, options in runs:
        label = objective + "".join(f", {k.split('_')[1]} {v:g}" for k, v in options.items())
        start = time.perf_counter()
        model = scget.tl.finetune(
            pb,
            model=pretrained,
            objective=objective,
            seed=args.seed,
            **split,
            **options,
            **args.extra,
        )
        seconds = time.perf_counter() - start
        scget.tl.predict(pb, model)
        table = scget.tl.evaluate(pb, model=model, methods=["GET"])
        expression[label] = table.groupby("setting")["pearson"].mean()
        best = model.params["best_epoch"]
        print(f"\n== {label}: fine-tuned in {seconds:.0f} s, best epoch {best}")
        if model.predicts_accessibility:
            atac = scget.tl.evaluate(pb, model=model, level="accessibility")
            print(atac.to_markdown(index=False, floatfmt=".3f"))
            print(atac.groupby(["setting", "method"])["pearson"].mean().to_markdown())
    print("\n== expression: mean Pearson over groups per setting (GET)")
    print(pd.DataFrame(expression).to_markdown(floatfmt=".3f"))
    print(SCALE)


def per_group(pb, pretrained, test: list[str], seed: int, extra: dict) -> None:
    """Fine-tune, predict and score one accessibility-only model per group."""
    groups = list(pb.obs_names)
    seconds, epochs = {}, {}
    for group in groups:
        start = time.perf_counter()
        model = scget.tl.finetune(
            pb,
            model=pretrained,
            objective="accessibility",
            leave_out_chromosomes=test,
            leave_out_groups=[other for other in groups if other != group],
            seed=seed,
            **extra,
        )
        seconds[group] = time.perf_counter() - start
        epochs[group] = model.params["best_epoch"]
        scget.tl.predict(pb, model, groups=[group])
    split = {key: model.split[key] for key in ("test_chromosomes", "valid_chromosomes")}
    table = scget.tl.evaluate(pb, split=split, level="accessibility")
    wide = table.pivot(index="group", columns="method", values="pearson")
    wide["GET - linear"] = wide["GET"] - wide["motif-only linear"]
    wide["fine-tune s"] = pd.Series(seconds)
    wide["best epoch"] = pd.Series(epochs)
    print(f"\n== one accessibility model per group (options {extra}); Pearson r over each")
    print(f"group's accessible peaks on {', '.join(test)}")
    print(wide.to_markdown(floatfmt=".3f"))
    print("\nmean over groups:")
    print(wide.mean().to_markdown(floatfmt=".3f"))
    above = int((wide["GET - linear"] > 0).sum())
    print(f"GET above the motif-only linear fit in {above} of {len(wide)} groups")
    print(SCALE)


if __name__ == "__main__":
    main()
