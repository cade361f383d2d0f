"""Evaluate GET's gene expression predictions against the paper's baselines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..._shared.constants import (
    ACCESSIBILITY_PREDICTION_LAYER,
    ATAC,
    COUNTS_LAYER,
    EVALUATED_GENES,
    FINETUNE_KEY,
    GENE_PREDICTION_LAYER,
    MIN_ACCESSIBILITY,
    MOTIF_KEY,
    RNA,
    SETTINGS,
    TARGET_LAYERS,
    UNS_KEY,
    evaluation_key,
    evaluation_layer,
)
from ..._shared.docs import inject_docs
from ..._shared.genomic import peak_coordinates
from ..._shared.logging import logger
from ..._shared.storage import finish_writer, read_params, writable
from ..._shared.utils import modality, resolve_n_jobs, to_dense
from .._core._genes import accessible_tss, tss_peak_matrix
from .._core._group_weights import prior_weights
from .._core._split import SPLIT_KEYS
from ._accessibility import ACCESSIBILITY_METHODS, accessibility_predictions
from ._baselines import (
    FEATURE_METHODS,
    GENE_ACTIVITY_UPSTREAM,
    NO_OTHER_TRAINING_GROUP,
    accessibility_change,
    feature_baselines,
    gene_activity,
    gene_peak_overlap,
    mean_training_expression,
    top_correlated_group,
    tss_accessibility,
)
from ._scoring import EvaluatedPredictions, common_scored, score_table

if TYPE_CHECKING:
    from .._core._model import GETModel

#: Every method :func:`evaluate` scores on expression, in table order.
METHODS = (
    "GET",
    "TSS accessibility",
    "gene activity",
    "mean training expression",
    "mean + TSS accessibility change",
    "matched mixture + TSS accessibility change",
    "top-correlated training group",
    *FEATURE_METHODS,
)
#: Methods scored in each setting, as the paper uses its baselines: the training groups'
#: expression in the held-out groups (it is unknown to no one there), the models of
#: region features on held-out chromosomes, and every method where both are held out.
SETTING_METHODS = dict(
    zip(
        SETTINGS,
        (
            (
                "GET",
                "TSS accessibility",
                "gene activity",
                "mean training expression",
                "mean + TSS accessibility change",
                "matched mixture + TSS accessibility change",
                "top-correlated training group",
            ),
            ("GET", "TSS accessibility", "gene activity", *FEATURE_METHODS),
            METHODS,
        ),
        strict=True,
    )
)


@inject_docs()
def evaluate(
    pb,
    model: GETModel | None = None,
    *,
    split: Mapping[str, Sequence[str]] | None = None,
    methods: Sequence[str] | None = None,
    level: str = "expression",
    layer: str | None = None,
    min_accessibility: float = MIN_ACCESSIBILITY,
    gene_activity_upstream: int = GENE_ACTIVITY_UPSTREAM,
    max_train_rows: int = 20_000,
    mlp_epochs: int = 10,
    seed: int = 0,
    n_jobs: int | None = None,
    rna: str = RNA,
    atac: str = ATAC,
    motif_key: str = MOTIF_KEY,
    key_added: str | None = None,
    copy: bool = False,
):
    """Score predicted against observed expression of held-out genes, beside the paper's baselines.

    With ``level="accessibility"`` it scores predicted accessibility instead (see
    **Accessibility** below).

    **Settings and evaluated genes.** With test chromosomes ``T`` and left-out groups ``L``
    from the split, each setting is scored separately (column ``setting``):

    - ``"held-out group"`` (the paper's headline): the groups in ``L``, their genes on the
      training chromosomes (neither test nor validation), which the model has seen in
      other groups;
    - ``"held-out chromosome"``: the training groups, their genes on ``T``;
    - ``"held-out both"``: the groups in ``L``, their genes on ``T``.

    In every case only genes with at least one accessible TSS peak in that group
    (accessibility score ``>= min_accessibility`` at a peak of ``["rna"].var["tss_peaks"]``)
    and a finite observed value count, and a gene is dropped (with a warning) where any
    method scored in the setting has no prediction for it, so that all methods of a group
    and setting are scored on exactly the same genes.

    **Methods** (rows of the table):

    - ``"GET"``: ``["rna"].layers[layer]`` (from :func:`scget.tl.predict`).
    - ``"TSS accessibility"``: mean accessibility score (``["atac"].X``) over the gene's TSS
      peaks.
    - ``"gene activity"``: ``log10(summed counts * 1e5 / library + 1)`` of the ATAC counts
      (``["atac"].layers["counts"]``) of the peaks overlapping the gene body extended by a
      ``gene_activity_upstream`` bp promoter upstream (strand-aware).
    - ``"mean training expression"``: the gene's mean expression over the training groups
      (not left out), the evaluated group itself excluded.
    - ``"mean + TSS accessibility change"``: the mean training expression plus ``beta``
      times the change of the gene's TSS accessibility in the group from its mean over
      the same training groups. One scalar ``beta`` for all genes and groups: the least
      squares slope (through the origin) of the training groups' deviations of
      expression from each gene's training mean on their deviations of TSS
      accessibility, over the genes of the training chromosomes (neither test nor
      validation) with an accessible TSS peak; the held-out groups and chromosomes
      never enter it. Its value is logged.
    - ``"matched mixture + TSS accessibility change"``: the same with both means taken
      over the mixture of the other training groups, weights >= 0 summing to 1, whose
      accessibility scores over all peaks are closest to the group's own in least
      squares (a new cell type that looks like two known ones is predicted mostly from
      them; the prior of ``finetune(prior_weighting="matched")``). Its own ``beta``.
    - ``"top-correlated training group"``: the expression of the training group (other
      than the evaluated one) whose expression over the genes off the test chromosomes
      correlates best with the evaluated group's (all genes when there are no test
      chromosomes, as the paper's leave-out-cell-type baseline).
    - ``"linear regression"``, ``"random forest"`` (10 trees, depth 10), ``"MLP"``
      (features-512-256-2, ReLU, Softplus; MSE, Adam, ``mlp_epochs``): trained on GET's
      per-region features (motif scores + the group's accessibility score) against the
      strand targets (``["atac"].layers["target_plus"|"target_minus"]``) of the regions
      (peaks with counts > 0) of the training groups on the training chromosomes
      (``train_chromosomes``, or every chromosome neither valid nor test when empty),
      subsampled to ``max_train_rows``; gene values are the mean over the gene's accessible
      TSS peaks on its strand, as GET's.

    Each setting scores the methods of :data:`SETTING_METHODS`: the training groups'
    expression in the held-out groups, the models of region features on the held-out
    chromosomes, and every method where both are held out. In ``"held-out both"`` the
    methods built on the training groups' expression use what the user measured of the
    held-out chromosomes' genes in the training groups (GET never saw it): they show how
    far a known gene's level carries into a new group, not how a new gene is predicted.

    **Metrics**, per group, setting and method, over the genes scored:

    - ``pearson``, ``spearman``: correlations of predicted and observed values;
    - ``r2``: ``1 - SS_res / SS_tot`` (of the observed values);
    - ``centred_r``: the Pearson r of the observed and predicted *deviations* from each
      gene's mean over the training groups other than the group itself (the
      ``"mean training expression"`` prediction ``m``): ``r(observed - m, predicted -
      m)``. The gene's own level, which ``m`` already predicts, drops out: it scores
      what sets the group apart (NaN for the mean training expression itself). It
      means most for predictions on the expression scale: ``"TSS accessibility"`` and
      ``"gene activity"`` are scores on another one;
    - ``slope``, ``intercept``: the calibration line ``observed ~ intercept + slope *
      predicted`` (least squares; 1 and 0 when calibrated).

    They are NaN below two genes or for a constant prediction. A method requested but
    not scored in a group of a setting it belongs to (no training group other than the
    group, no ``beta``, no GET prediction), or named in ``methods`` and scored in none of
    the settings the split holds, keeps its rows with NaN metrics, 0 genes and the reason;
    a warning names each of them.

    Parameters
    ----------
    {mdata_pb}
    model
        A :class:`scget.tl.GETModel` whose ``split`` is used (``None``: ``split`` or the
        fine-tuning's).
    split
        The split as a mapping with ``train_chromosomes``, ``valid_chromosomes``,
        ``test_chromosomes`` and ``leave_out_groups`` (missing keys are empty, other keys
        are ignored with a warning). Taken, in order, from ``split``, ``model.split``,
        then ``pb.uns["scget"]["finetune"]["params"]["split"]``.
    methods
        Methods to score (see above); ``None`` scores all of them (without ``"GET"``, and
        with a warning, when ``layer`` is absent).
    level
        ``"expression"`` (genes) or ``"accessibility"`` (regions).
    layer
        GET's predictions: ``["rna"].layers["get_pred"]`` (gene level) or
        ``["atac"].layers["get_accessibility"]`` (accessibility) by default.
    min_accessibility
        Accessibility score from which a TSS peak counts as accessible (expression).
    gene_activity_upstream
        Promoter length (bp) of the gene activity score (expression).
    max_train_rows
        Cap on the training regions of the feature baselines (seeded subsample;
        expression).
    mlp_epochs
        Training epochs of the MLP baseline (expression).
    {seed}
    {n_jobs}
    {rna}
    {atac}
    {motif_key}
    key_added
        Key under which the result is stored: ``"evaluation"`` (expression) or
        ``"evaluation_accessibility"`` by default.
    {copy}

    Returns
    -------
    The table (with ``copy``, the modified copy instead; columns ``group``, ``setting``,
    ``method``, ``pearson``, ``spearman``, ``r2``, ``centred_r``, ``slope``,
    ``intercept``, ``n_genes`` (``n_regions`` for accessibility) and ``reason``, empty
    where the method was scored). Written, replacing
    an earlier evaluation under ``key_added`` (read them with
    :func:`scget.get.evaluation` and :func:`scget.get.evaluated_genes`):

    - ``pb.uns["scget"][key_added]``: the table (``["result"]``) and the parameters,
      the split included (``["params"]``);
    - ``pb["rna"].layers[f"{key_added}:{method}"]``: float64 groups x genes, each scored
      method's predictions;
    - ``pb["rna"].layers[f"{key_added}:evaluated:{setting}"]``: bool groups x genes, the
      genes each group is scored on in each setting.

    For accessibility only the table and the parameters are written.

    Raises
    ------
    ValueError
        If no split is found, the split names unknown groups, nothing is held out (for
        accessibility: no peak on a test chromosome), or a method or level is unknown.
    KeyError
        If a modality or an input a requested method needs is missing.

    Examples
    --------
    >>> scget.tl.predict(pb, model)
    >>> table = scget.tl.evaluate(pb, model=model)
    >>> table.groupby("method")["pearson"].mean().index.tolist()
    ['GET', 'MLP', 'TSS accessibility', 'gene activity', 'linear regression', 'random forest']
    """
    default_key = evaluation_key(level)  # checks the level
    by_accessibility = level == "accessibility"
    if layer is None:
        layer = ACCESSIBILITY_PREDICTION_LAYER if by_accessibility else GENE_PREDICTION_LAYER
    if key_added is None:
        key_added = default_key
    split = resolve_split(pb, model=model, split=split)
    pb = writable(pb, copy)
    named = methods is not None
    if by_accessibility:
        methods = _resolve_methods(pb, methods, layer=layer, mod=atac, valid=ACCESSIBILITY_METHODS)
    else:
        methods = _resolve_methods(pb, methods, layer=layer, mod=rna, valid=METHODS)
    params = EvaluationParams(
        split=split,
        methods=list(methods),
        level=level,
        layer=layer,
        min_accessibility=min_accessibility,
        gene_activity_upstream=gene_activity_upstream,
        max_train_rows=max_train_rows,
        mlp_epochs=mlp_epochs,
        seed=seed,
        rna=rna,
        atac=atac,
        motif_key=motif_key,
    )
    if by_accessibility:
        evaluated = accessibility_predictions(
            pb, split, methods, layer=layer, atac=atac, motif_key=motif_key
        )
        table = score_table(evaluated, count="n_regions")
        return finish_writer(pb, key_added, table, asdict(params), copy=copy, returns=table)
    evaluated = evaluated_predictions(pb, params, n_jobs=n_jobs, named=named)
    table = score_table(evaluated)
    layers = {evaluation_layer(key_added, m): v for m, v in evaluated.predictions.items()}
    for setting, mask in evaluated.settings.items():
        layers[evaluation_layer(key_added, f"{EVALUATED_GENES}:{setting}")] = mask
    for name, values in layers.items():
        pb[rna].layers[name] = values
    slots = [(rna, "layers", name) for name in layers]
    return finish_writer(
        pb, key_added, table, asdict(params), slots=slots, copy=copy, returns=table
    )


@dataclass
class EvaluationParams:
    """The settings of one evaluation, as :func:`evaluate` stores them (see there)."""

    split: dict[str, list[str]]
    methods: list[str]
    level: str = "expression"
    layer: str = GENE_PREDICTION_LAYER
    min_accessibility: float = MIN_ACCESSIBILITY
    gene_activity_upstream: int = GENE_ACTIVITY_UPSTREAM
    max_train_rows: int = 20_000
    mlp_epochs: int = 10
    seed: int = 0
    rna: str = RNA
    atac: str = ATAC
    motif_key: str = MOTIF_KEY


def resolve_split(pb, *, model=None, split: Mapping | None = None) -> dict[str, list[str]]:
    """Return the train/valid/test split: ``split``, else ``model.split``, else the finetune params.

    Parameters
    ----------
    pb
        Pseudobulk MuData.
    model
        Object with a ``split`` attribute, or ``None``.
    split
        Explicit split mapping, or ``None``.

    Returns
    -------
    Dict with the :data:`scget.tl._core._split.SPLIT_KEYS`, each a list of strings (possibly empty).

    Raises
    ------
    ValueError
        If none of the three sources holds a split.
    """
    if split is None and model is not None:
        split = getattr(model, "split", None)
    if split is None and FINETUNE_KEY in pb.uns.get(UNS_KEY, {}):
        split = read_params(pb, FINETUNE_KEY).get("split")
    if split is None:
        raise ValueError(
            "No split to evaluate: pass split={'test_chromosomes': [...], "
            "'leave_out_groups': [...]}, or model=<GETModel>, or run scget.tl.finetune on pb "
            "(it stores the split in pb.uns['scget']['finetune']['params']['split'])."
        )
    unknown = sorted(set(split) - set(SPLIT_KEYS))
    if unknown:
        logger.warning(f"Ignoring split key(s) {unknown}; the split keys are {list(SPLIT_KEYS)}.")
    return {key: _as_str_list(split.get(key)) for key in SPLIT_KEYS}


def _as_str_list(value) -> list[str]:
    """Return a list of strings from a list, array, single string or ``None``."""
    if value is None or (isinstance(value, str) and not value):
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in np.asarray(value, dtype=object).ravel()]


def _resolve_methods(
    pb, methods: Sequence[str] | None, *, layer: str, mod: str, valid: Sequence[str]
) -> list[str]:
    """Validate ``methods`` against ``valid``; by default all, GET only if ``pb[mod]`` has it."""
    modality(pb, mod)
    has_get = layer in pb[mod].layers
    if methods is None:
        if not has_get:
            logger.warning(
                f"pb[{mod!r}].layers has no {layer!r} (run scget.tl.predict); "
                "evaluating the baselines only."
            )
        return [m for m in valid if m != "GET" or has_get]
    methods = [methods] if isinstance(methods, str) else list(methods)
    unknown = [m for m in methods if m not in valid]
    if unknown:
        raise ValueError(f"Unknown method(s) {unknown}; choose from {list(valid)}.")
    if "GET" in methods and not has_get:
        raise KeyError(
            f"method 'GET' needs pb[{mod!r}].layers[{layer!r}]; run scget.tl.predict first "
            "or leave 'GET' out of methods."
        )
    return [m for m in valid if m in methods]


def evaluated_predictions(
    pb, params: EvaluationParams, *, n_jobs: int | None = None, named: bool = False
) -> EvaluatedPredictions:
    """Compute the evaluated genes and every method's predictions (see :func:`evaluate`).

    Parameters
    ----------
    pb
        Pseudobulk MuData.
    params
        The settings; ``split`` as returned by :func:`resolve_split`.
    n_jobs
        Workers of the random forest.
    named
        Whether the user named ``params.methods`` (rather than taking the default).

    Returns
    -------
    Observed values, evaluated genes and predictions.
    """
    split, methods, rna, atac = params.split, params.methods, params.rna, params.atac
    rna_ad, atac_ad = modality(pb, rna), modality(pb, atac)
    groups = pd.Index(rna_ad.obs_names.astype(str))
    atac_rows = pd.Index(atac_ad.obs_names.astype(str)).get_indexer(groups)
    if (atac_rows < 0).any() or atac_ad.n_obs != len(groups):
        raise ValueError(
            f"pb[{rna!r}] and pb[{atac!r}] must hold the same groups (observations); "
            "use the output of scget.pp.pseudobulk."
        )
    missing = sorted(set(split["leave_out_groups"]) - set(groups))
    if missing:
        raise ValueError(
            f"leave_out_groups {missing} are not groups of pb; groups: {list(groups)}."
        )
    gene_var = rna_ad.var
    for column in ("chrom", "strand"):
        if column not in gene_var.columns:
            raise KeyError(f"pb[{rna!r}].var has no {column!r}; run scget.pp.annotate_tss first.")
    feature_methods = [m for m in methods if m in FEATURE_METHODS]
    _check_method_inputs(
        rna_ad, atac_ad, methods, feature_methods, rna=rna, atac=atac, motif_key=params.motif_key
    )

    test = split["test_chromosomes"]
    left_out = groups.isin(split["leave_out_groups"])
    if not test and not left_out.any():
        raise ValueError(
            "The split holds out nothing: no test_chromosomes and no leave_out_groups."
        )
    gene_chrom = gene_var["chrom"].astype(str).to_numpy()
    on_test = np.isin(gene_chrom, test)
    if test and not on_test.any():
        logger.warning(f"No gene of pb[{rna!r}] lies on the test chromosomes {test}.")
    on_train = ~np.isin(gene_chrom, [*test, *split["valid_chromosomes"]]) & (gene_chrom != "")

    observed = to_dense(rna_ad.X, np.float64)
    accessibility = to_dense(atac_ad.X, np.float64)[atac_rows]
    tss = tss_peak_matrix(gene_var, atac_ad.var_names)
    scorable = accessible_tss(accessibility, tss, min_accessibility=params.min_accessibility)
    scorable &= np.isfinite(observed)
    masks = (
        left_out[:, None] & on_train[None, :],
        ~left_out[:, None] & on_test[None, :],
        left_out[:, None] & on_test[None, :],
    )
    settings = {name: mask & scorable for name, mask in zip(SETTINGS, masks, strict=True)}
    evaluated = np.logical_or.reduce(list(settings.values()))
    settings = {name: mask for name, mask in settings.items() if mask.any()}

    train_groups = ~left_out
    reference = mean_training_expression(observed, train_groups)
    tss_scores = tss_accessibility(accessibility, tss)
    reasons = dict.fromkeys(
        ("mean training expression", "top-correlated training group"), NO_OTHER_TRAINING_GROUP
    )
    reasons["GET"] = f"pb[{rna!r}].layers[{params.layer!r}] has no prediction for the group"
    predictions: dict[str, np.ndarray] = {}
    if "GET" in methods:
        predictions["GET"] = to_dense(rna_ad.layers[params.layer], np.float64)
    if "TSS accessibility" in methods:
        predictions["TSS accessibility"] = tss_scores
    if "gene activity" in methods:
        overlap = gene_peak_overlap(
            gene_var, peak_coordinates(atac_ad), upstream=params.gene_activity_upstream
        )
        counts = to_dense(atac_ad.layers[COUNTS_LAYER], np.float64)[atac_rows]
        predictions["gene activity"] = gene_activity(counts, overlap)
    if "mean training expression" in methods:
        predictions["mean training expression"] = reference
    fit = scorable & train_groups[:, None] & on_train[None, :]
    matched = "matched mixture + TSS accessibility change"
    for method in ("mean + TSS accessibility change", matched):
        if method not in methods:
            continue
        weights = prior_weights(train_groups, accessibility)[0] if method == matched else None
        predicted, beta = accessibility_change(observed, tss_scores, train_groups, fit, weights)
        predictions[method] = predicted
        reasons[method] = (
            NO_OTHER_TRAINING_GROUP
            if np.isfinite(beta)
            else "no beta: no training group's TSS accessibility on the training chromosomes "
            "differs from the other training groups' mean"
        )
    if "top-correlated training group" in methods:
        train_genes = ~on_test & (gene_chrom != "") if test else np.ones(len(gene_chrom), bool)
        predictions["top-correlated training group"] = top_correlated_group(
            observed, train_groups, train_genes
        )
    if feature_methods:
        predictions.update(
            _feature_predictions(
                atac_ad,
                atac_rows=atac_rows,
                accessibility=accessibility,
                evaluated=evaluated,
                tss=tss,
                gene_var=gene_var,
                split=split,
                train_groups=train_groups,
                methods=feature_methods,
                motif_key=params.motif_key,
                min_accessibility=params.min_accessibility,
                max_train_rows=params.max_train_rows,
                mlp_epochs=params.mlp_epochs,
                seed=params.seed,
                n_jobs=resolve_n_jobs(n_jobs),
            )
        )
    settings = {
        name: common_scored(
            mask, {m: v for m, v in predictions.items() if m in SETTING_METHODS[name]}, groups
        )
        for name, mask in settings.items()
    }
    return EvaluatedPredictions(
        groups=groups,
        genes=pd.Index(rna_ad.var_names.astype(str)),
        observed=observed,
        settings=settings,
        predictions={m: predictions[m] for m in methods},
        setting_methods=SETTING_METHODS,
        reference=reference,
        reasons=reasons,
        named=methods if named else (),
    )


def _check_method_inputs(
    rna_ad, atac_ad, methods, feature_methods, *, rna: str, atac: str, motif_key: str
):
    """Raise ``KeyError`` naming the first missing input of a requested method."""
    needs = []
    if "gene activity" in methods:
        needs += [
            (
                f"pb[{rna!r}].var['gene_start'/'gene_end']",
                {"gene_start", "gene_end"} <= set(rna_ad.var.columns),
                "gene activity",
            ),
            (
                f"pb[{atac!r}].layers[{COUNTS_LAYER!r}]",
                COUNTS_LAYER in atac_ad.layers,
                "gene activity",
            ),
        ]
    if feature_methods:
        needs += [
            (f"pb[{atac!r}].varm[{motif_key!r}]", motif_key in atac_ad.varm, feature_methods[0]),
            (
                f"pb[{atac!r}].layers[{TARGET_LAYERS}]",
                all(t in atac_ad.layers for t in TARGET_LAYERS),
                feature_methods[0],
            ),
        ]
    for what, present, method in needs:
        if not present:
            raise KeyError(
                f"method {method!r} needs {what} (see scget.pp.pseudobulk, scan_motifs and "
                "annotate_tss); run those or leave the method out of methods=."
            )


def _feature_predictions(
    atac_ad,
    *,
    atac_rows: np.ndarray,
    accessibility: np.ndarray,
    evaluated: np.ndarray,
    tss,
    gene_var: pd.DataFrame,
    split: Mapping[str, list[str]],
    train_groups: np.ndarray,
    methods: Sequence[str],
    motif_key: str,
    **kwargs: Any,
) -> dict[str, np.ndarray]:
    """Run :func:`scget.tl._evaluation._baselines.feature_baselines` on the pseudobulk's arrays."""
    peak_chrom = peak_coordinates(atac_ad)["chrom"].to_numpy()
    train_chromosomes = split["train_chromosomes"] or sorted(
        set(peak_chrom) - set(split["valid_chromosomes"]) - set(split["test_chromosomes"])
    )
    if COUNTS_LAYER in atac_ad.layers:
        regions = to_dense(atac_ad.layers[COUNTS_LAYER], np.float64)[atac_rows] > 0
    else:
        regions = accessibility > 0
    open_peaks = accessibility >= kwargs["min_accessibility"]
    predict_peaks = (np.asarray(tss.T @ evaluated.T.astype(np.float32)).T > 0) & open_peaks
    motifs = atac_ad.varm[motif_key]
    return feature_baselines(
        methods,
        motif_scores=np.asarray(motifs, dtype=np.float32),
        accessibility=accessibility,
        regions=regions,
        targets=tuple(to_dense(atac_ad.layers[t], np.float64)[atac_rows] for t in TARGET_LAYERS),
        train_groups=train_groups,
        train_peaks=np.isin(peak_chrom, train_chromosomes),
        predict_peaks=predict_peaks,
        tss=tss,
        strand=gene_var["strand"].astype(str).to_numpy(),
        **kwargs,
    )
