"""The demo's ``report.md``: a verdict per setting, what the numbers mean, the models."""

from __future__ import annotations

import pandas as pd

from .._shared.constants import SETTINGS
from ..tl._evaluation._scoring import METRICS

#: What each baseline predicts, in a sentence.
METHODS = {
    "GET": "the fine-tuned model's predicted log10(TPM + 1).",
    "mean training expression": "the gene's mean expression over the training cell types.",
    "mean + TSS accessibility change": (
        "the mean training expression plus one fitted factor times the change of the "
        "gene's TSS accessibility in the new cell type."
    ),
    "matched mixture + TSS accessibility change": (
        "the same, with both means over the mix of training cell types whose chromatin "
        "best matches the new one (the strongest simple predictor)."
    ),
    "top-correlated training group": (
        "the expression of the training cell type most correlated with the new one."
    ),
    "TSS accessibility": "the accessibility score of the gene's TSS peak (another scale).",
    "gene activity": "ATAC counts over the gene body and promoter (another scale).",
    "linear regression": "a linear model of the TSS region's motif and accessibility features.",
    "random forest": "a random forest on the same features.",
    "MLP": "a small neural network on the same features.",
}
#: What each setting asks, in a sentence.
SETTING_MEANING = {
    "held-out group": "a cell type never trained on, genes of the training chromosomes",
    "held-out chromosome": "genes never trained on, in the training cell types",
    "held-out both": "genes never trained on, in a cell type never trained on",
}
#: Methods whose predictions are not log10(TPM + 1): R^2, slope and intercept mean little.
OTHER_SCALE = ("TSS accessibility", "gene activity")


def report(pb, table: pd.DataFrame, models: dict, timings: dict, seed: int, size: str) -> str:
    """The markdown report of ``scget demo``.

    Parameters
    ----------
    pb
        The demo's pseudobulk MuData.
    table
        The evaluation: one row per group, setting and method (``tl.evaluate``'s columns).
    models
        The fine-tuned models by target (``"new genes"``, ``"new groups"``).
    timings
        Seconds per step.
    seed, size
        The demo's options.

    Returns
    -------
    The report's text.
    """
    summary = _summary(table)
    split = models["new genes"].split
    lines = [
        "# scget demo report",
        "",
        f"A simulated multiome (seed {seed}, size '{size}') with known regulatory truth: "
        f"{pb.n_obs} cell types (pseudobulks), {pb['atac'].n_vars} peaks, "
        f"{pb['rna'].n_vars} genes, {pb['atac'].varm['motif_scores'].shape[1]} motif "
        f"clusters. Held out: cell type {', '.join(split['leave_out_groups'])} and "
        f"chromosome {', '.join(split['test_chromosomes'])}.",
        "",
        "## Verdict",
        "",
        *[_verdict(setting, summary) for setting in SETTINGS if setting in set(summary["setting"])],
        "",
        "## How to read the numbers",
        "",
        "- **r** (`pearson`): correlation of predicted and observed expression over the "
        "held-out genes, per cell type, then averaged. It ignores scale.",
        "- **centred r** (`centred_r`): the same on each gene's deviation from its mean "
        "over the training cell types. Most of a new cell type's expression is each gene's "
        "own level; this scores what sets the cell type apart.",
        "- **R^2** (`r2`): 1 - residual / total sum of squares of the observed values. It "
        "needs predictions on the scale of log10(TPM + 1): for "
        f"{' and '.join(OTHER_SCALE)}, which are on another scale, it is strongly negative "
        "and says nothing; judge them by r.",
        "- **slope, intercept**: the calibration line observed = intercept + slope x "
        "predicted; a calibrated prediction has slope 1 and intercept 0.",
        "",
        "The methods:",
        "",
        *[f"- **{method}**: {text}" for method, text in METHODS.items()],
        "",
        "## Mean over cell types",
        "",
    ]
    for setting in SETTINGS:
        rows = summary[summary["setting"] == setting].drop(columns="setting")
        if len(rows):
            lines += [f"### {setting}: {SETTING_MEANING[setting]}", ""]
            lines += [rows.to_markdown(index=False, floatfmt=".3f"), ""]
    lines += ["## The models", "", *_models(models), ""]
    lines += [
        "## Timings (s)",
        "",
        *[f"- {name}: {seconds:.1f}" for name, seconds in timings.items()],
        f"- total: {sum(timings.values()):.1f}",
        "",
        "Measurements behind these defaults and the known limits: `docs/model.md` of the "
        "scget repository (the documentation's Benchmarks pages); the evaluation's "
        "definitions: `help(scget.tl.evaluate)`.",
        "",
        "<details><summary>Per cell type</summary>",
        "",
        _per_group(table).to_markdown(index=False, floatfmt=".3f"),
        "",
        "</details>",
        "",
    ]
    return "\n".join(lines)


def _summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean of each metric per setting and method, settings in headline order, best r first."""
    summary = table.groupby(["setting", "method"], sort=False)[list(METRICS)].mean().reset_index()
    summary["setting"] = pd.Categorical(summary["setting"], categories=list(SETTINGS))
    summary = summary.sort_values(["setting", "pearson"], ascending=[True, False])
    summary["setting"] = summary["setting"].astype(str)
    return summary.reset_index(drop=True)


def _verdict(setting: str, summary: pd.DataFrame) -> str:
    """One line: where GET ranks by mean r in ``setting``, and what beats it."""
    rows = summary[(summary["setting"] == setting) & summary["pearson"].notna()]
    ranked = list(rows["method"])
    r = dict(zip(rows["method"], rows["pearson"], strict=True))
    line = f"- **{setting}** ({SETTING_MEANING[setting]}): "
    if "GET" not in r:
        return line + "GET was not scored."
    rank = ranked.index("GET") + 1
    line += f"GET ranks {rank} of {len(ranked)} by mean r ({r['GET']:.3f})"
    ahead = [f"{method} ({r[method]:.3f})" for method in ranked[: rank - 1]]
    if ahead:
        return line + f"; ahead of it: {', '.join(ahead)}."
    runner_up = ranked[1] if len(ranked) > 1 else None
    return line + (f"; next: {runner_up} ({r[runner_up]:.3f})." if runner_up else ".")


def _models(models: dict) -> list[str]:
    """A line per model: its target, architecture, validation and training."""
    lines = []
    for target, model in models.items():
        params, split = model.params, model.split
        training = params.get("training", {})
        valid = split.get("valid_groups") or split.get("valid_chromosomes") or []
        lines.append(
            f"- for **{target}**: preset {params.get('preset') or 'from a checkpoint'}, "
            f"architecture `{params.get('architecture')}`, validated on "
            f"{', '.join(map(str, valid)) or '-'}; best epoch {params.get('best_epoch')} of "
            f"at most {training.get('max_epochs', '?')}. The held-out "
            f"{'cell type' if target == 'new groups' else 'chromosome (and both)'} is scored "
            "with this model."
        )
    return lines


def _per_group(table: pd.DataFrame) -> pd.DataFrame:
    """The evaluation table, headline setting first (``reason`` only where one is given)."""
    shown = table if table["reason"].ne("").any() else table.drop(columns="reason")
    order = pd.Categorical(shown["setting"], categories=list(SETTINGS))
    return shown.assign(_order=order).sort_values(["_order", "group"]).drop(columns="_order")
