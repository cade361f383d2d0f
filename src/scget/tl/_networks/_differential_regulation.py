"""Differential regulation between conditions, with samples as replicates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from ..._shared.constants import ATAC, DIFFERENTIAL_KEY, GENE_BY_MOTIF_KEY, MOTIF_KEY, RNA
from ..._shared.docs import inject_docs
from ..._shared.logging import progress
from ..._shared.storage import finish_writer, read_params, read_result, writable
from ..._shared.utils import name_list, renamed_keywords
from ._design import resolve_design
from ._linear_models import FIT_COLUMNS, adjust, fit_contrasts
from ._regulator_scores import accessibility_deviations, target_scores

#: Where the regulator scores come from.
SOURCES = ("gene_by_motif", "target_expression", "accessibility")
#: The scores read from GET's targets, and what they average over the targets.
TARGET_SOURCES = {"gene_by_motif": "attribution", "target_expression": "expression"}
LEVELS = ("motif", "gene")
REGRESSIONS = ("ols", "mixed")
#: Targets per motif whose attributions make its score (default).
N_TARGETS = 100


@renamed_keywords(model="regression")
@inject_docs()
def differential_regulation(
    pb,
    condition: str,
    *,
    reference: str | None = None,
    groups: str | Sequence[str] | None = None,
    covariates: Sequence[str] = (),
    paired_by: str | None = None,
    regression: Literal["ols", "mixed"] = "ols",
    weights: str | None = None,
    on: Literal["gene_by_motif", "target_expression", "accessibility"] = "target_expression",
    level: Literal["motif", "gene"] = "motif",
    motifs: Sequence[str] | None = None,
    n_targets: int = N_TARGETS,
    key: str = GENE_BY_MOTIF_KEY,
    rna: str = RNA,
    atac: str = ATAC,
    motif_key: str = MOTIF_KEY,
    key_added: str = DIFFERENTIAL_KEY,
    copy: bool = False,
):
    """Regulators whose activity differs between conditions, per cell type, samples as replicates.

    Each pseudobulk is one sample of one cell type (:func:`scget.pp.pseudobulk` with
    ``sample=``). Per cell type and regulator (motif cluster), a score per pseudobulk:

    - ``on="target_expression"`` (the default): GET names the motif's ``n_targets``
      targets, the genes of largest mean absolute attribution
      (:func:`scget.tl.gene_by_motif`, run on every tested pseudobulk) over the cell
      type's pseudobulks, chosen without looking at the condition, each signed by the
      motif's mean attribution to it (+1 activated, -1 repressed). The score is the mean
      over the targets of the sign times the target's expression in the pseudobulk
      (``.X`` of the RNA modality, log10 TPM for :func:`scget.pp.pseudobulk`) minus the
      mean over all its genes, so the effect is the targets' mean log10 fold change
      beyond the genes as a whole, counted the way the regulator acts: positive when it
      is more active. Their observed expression shows the regulator's activity, and not
      only through accessibility (``docs/differential.md``).
    - ``on="gene_by_motif"``: the mean attribution of the motif over the same targets.
      The attributions are those of the stored run, gradient x input or exact knockouts
      (``scget.tl.gene_by_motif(..., method="knockout")``); the method is recorded as
      ``attribution``.
    - ``on="accessibility"``, without a model: a chromVAR-like deviation, the log2 ratio
      of the share of the pseudobulk's ATAC counts in the motif's peaks (weighted by
      motif score) to that share over the cell type's pseudobulks.

    With ``level="gene"`` (GET's targets only), each (motif, target gene) pair is a
    score of its own; with ``on="target_expression"`` that score is the gene's relative
    expression times its sign for the motif.

    Then, per score, a linear model of the score on the condition (and ``covariates``)
    across the cell type's pseudobulks: ordinary least squares, or weighted least
    squares with ``weights`` (statsmodels). Paired samples (``paired_by``) add the
    pairing unit to the model: as a fixed effect by default (the paired t-test's
    generalisation), or as a random intercept of a mixed model with
    ``regression="mixed"``. Each non-reference level is a contrast against ``reference``;
    p-values are adjusted by Benjamini-Hochberg across the scores of a cell type and
    contrast. ``docs/differential.md`` states the assumptions.

    Parameters
    ----------
    {mdata_pb} Made with ``sample=``; needs ``.obs[condition]``.
    condition
        ``pb.obs`` column of the condition (a sample-level covariate).
    reference
        The level every other is compared with; ``None``: the first category (or the
        first in sorted order).
    groups
        Cell types to test (``"_"``-joined ``groupby`` labels); ``None``: all.
    covariates
        Further ``pb.obs`` columns in the model (batch, sex...): categorical ones as
        indicators, numeric ones centred. One confounded with the condition is refused.
    paired_by
        ``pb.obs`` column of the unit the samples are paired by (the donor of a
        before/after design).
    regression
        With ``paired_by``: ``"ols"``, the unit as a fixed effect (t tests with exact
        degrees of freedom), or ``"mixed"``, a random intercept per unit
        (``statsmodels.MixedLM``, REML, Wald z tests: anti-conservative with few units,
        see ``docs/differential.md``). ``model=``, its old name, is accepted with a
        FutureWarning until the next release.
    weights
        ``pb.obs`` column of WLS weights, e.g. ``"n_cells"``; ``None``: OLS.
    on
        ``"target_expression"`` (the expression of GET's targets), ``"gene_by_motif"``
        (GET's attributions) or ``"accessibility"`` (no model).
    level
        ``"motif"``: one test per (cell type, motif); ``"gene"``: one per (cell type,
        motif, target gene), not with ``on="accessibility"``.
    motifs
        Motif clusters to test; ``None``: all.
    n_targets
        Target genes per motif (not with ``on="accessibility"``).
    key
        ``key_added`` of :func:`scget.tl.gene_by_motif` to read.
    {rna}
    {atac}
    {motif_key}
    {key_added}
    {copy}

    Returns
    -------
    The long table (with ``copy``, the modified copy instead), one row per test, in
    decoupler's convention: ``group`` (cell type), ``source`` (motif cluster),
    ``target`` (gene; with ``level="gene"`` only), ``contrast`` (``"<level>_vs_<reference>"``),
    ``effect`` (the condition's coefficient: the difference in score, covariates held
    fixed), ``se``, ``stat`` (t, or z for a mixed model), ``pvalue``, ``padj``
    (Benjamini-Hochberg), ``mean_reference`` (mean score in the reference samples).
    Writes it, replacing an earlier run, as ``pb.uns["scget"][key_added]["result"]``;
    read it with :func:`scget.get.differential_regulation`.

    Raises
    ------
    KeyError
        If ``pb`` is no pseudobulk, a named column is missing from ``pb.obs``, or
        ``on`` reads GET's targets and gene-by-motif has not run under ``key``.
    ValueError
        Before any score is computed: if the pseudobulks were made without samples, a
        sample is in two conditions, a tested cell type has fewer than two samples of a
        condition, a covariate is confounded with the condition, no degree of freedom is
        left, gene-by-motif lacks a tested pseudobulk, or an option is unknown.

    Examples
    --------
    >>> samples = scget.pp.pseudobulk(mdata, groupby="cell_type", sample="sample", min_cells=10)
    >>> scget.pp.scan_motifs(samples, genome=mdata.uns["simulation"]["genome"])
    >>> table = scget.tl.differential_regulation(samples, "condition", on="accessibility")
    >>> table.columns.tolist()
    ['group', 'source', 'contrast', 'effect', 'se', 'stat', 'pvalue', 'padj', 'mean_reference']
    """
    groups = name_list(groups)
    if regression not in REGRESSIONS:
        raise ValueError(f"regression must be one of {REGRESSIONS}, got {regression!r}.")
    if regression == "mixed" and paired_by is None:
        raise ValueError('regression="mixed" needs paired_by, the unit of its random intercept.')
    if on not in SOURCES:
        raise ValueError(f"on must be one of {SOURCES}, got {on!r}.")
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}.")
    if level == "gene" and on not in TARGET_SOURCES:
        raise ValueError(
            'level="gene" needs on="gene_by_motif" or "target_expression" '
            "(accessibility has no genes)."
        )
    if isinstance(n_targets, bool) or not isinstance(n_targets, int) or n_targets < 1:
        raise ValueError(f"n_targets must be a positive integer, got {n_targets!r}.")
    design = resolve_design(
        pb,
        condition,
        reference=reference,
        groups=groups,
        covariates=covariates,
        paired_by=paired_by,
        mixed=regression == "mixed",
        weights=weights,
    )
    if on in TARGET_SOURCES:
        _check_attributed(pb, key, design.obs.index)
    parts = []
    for group in progress(design.groups, desc="differential_regulation"):
        matrix = design.matrices[group]
        names = list(matrix.index)
        if on in TARGET_SOURCES:
            scores = target_scores(
                pb,
                names,
                key=key,
                motifs=motifs,
                n_targets=n_targets,
                level=level,
                of=TARGET_SOURCES[on],
            )
        else:
            scores = accessibility_deviations(
                pb, names, atac=atac, motif_key=motif_key, motifs=motifs
            )
        rows = design.obs.loc[names]
        fits = fit_contrasts(
            scores,
            matrix,
            design.contrasts,
            weights=None if weights is None else rows[weights].to_numpy(np.float64),
            pairs=rows[paired_by].astype(str).to_numpy() if regression == "mixed" else None,
        )
        is_reference = (rows[condition].astype(str) == design.reference).to_numpy()
        mean_reference = scores[is_reference].mean(axis=0).to_numpy()
        for contrast, fit in fits.items():
            parts.append(_rows(fit, group, f"{contrast}_vs_{design.reference}", mean_reference))
    table = pd.concat(parts, ignore_index=True)
    params = {
        "condition": condition,
        "reference": design.reference,
        "contrasts": design.contrasts,
        "groups": design.groups,
        "covariates": [covariates] if isinstance(covariates, str) else list(covariates),
        "paired_by": paired_by,
        "regression": regression,
        "weights": weights,
        "sample": design.sample,
        "on": on,
        "level": level,
        "motifs": None if motifs is None else list(motifs),
        "n_targets": n_targets,
        "key": key,
        "attribution": (
            read_params(pb, key).get("method", "gradient") if on in TARGET_SOURCES else None
        ),
        "rna": rna,
        "atac": atac,
        "motif_key": motif_key,
    }
    pb = writable(pb, copy)
    called = int((table["padj"] < 0.05).sum())
    message = (
        f"differential_regulation: {len(table)} tests in {len(design.groups)} group(s), "
        f"{called} with padj < 0.05."
    )
    return finish_writer(pb, key_added, table, params, copy=copy, returns=table, message=message)


def _check_attributed(pb, key: str, names: pd.Index) -> None:
    """Raise unless gene-by-motif has run on every tested pseudobulk."""
    done = set(read_result(pb, key, writer="scget.tl.gene_by_motif")["group"].astype(str))
    missing = [name for name in names if name not in done]
    if missing:
        raise ValueError(
            f"gene_by_motif under {key!r} lacks {len(missing)} tested pseudobulk(s), e.g. "
            f"{missing[:3]}; run scget.tl.gene_by_motif(pb, model) on every pseudobulk "
            "of the tested groups (groups=None does all)."
        )


def _rows(fit: pd.DataFrame, group: str, contrast: str, mean_reference) -> pd.DataFrame:
    """The table rows of one (group, contrast): BH within them."""
    index = fit.index
    if isinstance(index, pd.MultiIndex):
        keys = {"source": index.get_level_values(0), "target": index.get_level_values(1)}
    else:
        keys = {"source": index}
    frame = pd.DataFrame(
        {
            "group": group,
            **{name: np.asarray(values, dtype=str) for name, values in keys.items()},
            "contrast": contrast,
            **{column: fit[column].to_numpy() for column in FIT_COLUMNS},
        }
    )
    frame["padj"] = adjust(frame["pvalue"])
    frame["mean_reference"] = mean_reference
    return frame
