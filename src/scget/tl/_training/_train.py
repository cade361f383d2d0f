"""Pretrain (masked regions) and fine-tune (expression) GET on a pseudobulk MuData."""

from __future__ import annotations

import copy as copying
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from ..._shared.constants import (
    ACCESSIBILITY_FEATURE_DROPOUT,
    ACCESSIBILITY_HIDDEN,
    ACCESSIBILITY_MOTIF_SPARSITY,
    ACCESSIBILITY_WEIGHT,
    ATAC,
    DEFAULT_ARCHITECTURE,
    DEFAULT_PRESET,
    FINETUNE_KEY,
    FINETUNE_OBJECTIVE,
    FINETUNE_STRIDE,
    MASK_RATIO,
    MAX_WINDOW_SPAN,
    MOTIF_KEY,
    PRETRAIN_KEY,
    TARGETS,
    WINDOW_SIZE,
)
from ..._shared.docs import inject_docs
from ..._shared.logging import logger
from ..._shared.storage import finish_writer, writable
from ..._shared.utils import name_list, resolve_device
from ...nn import ARCHITECTURES, PRESETS, GETConfig, GETNetwork, add_lora, merge_lora
from ...nn._config import EXTENSIONS
from .._core._model import GETModel, check_model
from .._core._prior import PRIOR_GROUPS, PRIOR_WEIGHTING, add_prior, check_weighting
from .._core._split import make_split
from .._core._windows import RegionInputs, WindowDataset, build_inputs, make_windows
from ._anchor import anchor_prior_head, fit_prior_anchor
from ._calibration import no_prior_offset
from ._losses import FinetuneObjective, MaskedObjective, check_objective
from ._params import TARGET_EPOCHS, SetupParams, TrainingParams, split_options
from ._resume import digest
from ._trainer import fit


def _network(
    model: GETModel | None, n_features: int, architecture, preset, dropout, network_kwargs, seed
):
    """Return a copy of ``model``'s network, or a new seeded network from ``preset``."""
    if model is not None:
        wanted = ARCHITECTURES[architecture]
        extra = [name for name in EXTENSIONS if getattr(model.config, name) and not wanted[name]]
        if extra:
            raise ValueError(
                f"The given model's network has {extra}, which architecture {architecture!r} "
                "lacks: fine-tuning can add extensions to a network but not remove them. "
                "Pass the model's architecture (or one with more), or a model without them."
            )
        return copying.deepcopy(model.network).extend(**wanted)
    overrides = {**ARCHITECTURES[architecture], **(network_kwargs or {})}
    if dropout is not None:
        overrides["dropout"] = dropout
    config = GETConfig.from_preset(preset, n_features, **overrides)
    torch.manual_seed(seed)
    return GETNetwork(config)


def _datasets(
    inputs: RegionInputs,
    split: Mapping[str, list[str]],
    *,
    window_size: int,
    stride: int,
    max_span: int,
) -> tuple[WindowDataset, WindowDataset]:
    """Training and validation windows: validation groups, or validation chromosomes."""
    held_out = {*split["leave_out_groups"], *split["valid_groups"]}
    train_groups = [g for g in inputs.group_names if g not in held_out]

    def dataset(chromosomes, groups, step):
        windows = make_windows(
            inputs,
            window_size=window_size,
            stride=step,
            chromosomes=chromosomes,
            groups=groups,
            max_span=max_span,
        )
        return WindowDataset(inputs, windows, window_size)

    train = dataset(split["train_chromosomes"], train_groups, stride)
    if split["valid_groups"]:
        valid = dataset(split["train_chromosomes"], split["valid_groups"], window_size)
    else:
        valid = dataset(split["valid_chromosomes"], train_groups, window_size)
    logger.info(
        f"{len(train)} training windows ({len(train_groups)} groups, "
        f"{len(split['train_chromosomes'])} chromosomes), {len(valid)} validation windows."
    )
    return train, valid


def _data_digest(inputs: RegionInputs, *datasets: WindowDataset) -> str:
    """Digest of the model inputs and of the windows of ``datasets`` (a resume check)."""
    arrays = [inputs.motifs, inputs.chrom, inputs.start, inputs.end, inputs.tss]
    for group in inputs.groups:
        arrays += [group.name, group.peaks, group.accessibility, group.targets, group.score]
        arrays += [] if group.prior is None else [group.prior]
    return digest(inputs.feature_names, *arrays, *(d.windows for d in datasets))


def _valid_groups(setup: SetupParams, groups: list[str]) -> list[str] | None:
    """The validation group of a model for new groups: the last training group (logged).

    ``None`` (validation on a chromosome) when the user chose validation chromosomes or
    groups, or fewer than two training groups are left.
    """
    if setup.valid_groups is not None or setup.valid_chromosomes is not None:
        return setup.valid_groups
    left_out = set(setup.leave_out_groups or [])
    candidates = [g for g in groups if g not in left_out]
    if len(candidates) < 2:
        logger.warning(
            f"Only {len(candidates)} training group(s): validating on a held-out chromosome, "
            "not on a held-out training group."
        )
        return None
    return candidates[-1:]


def _train(
    pb,
    *,
    stage: str,
    model: GETModel | None,
    objective,
    objective_params: dict,
    with_targets: bool,
    stride: int,
    binary: bool,
    key_added: str,
    setup: SetupParams,
    training: TrainingParams,
    lora: Mapping[str, float] | None = None,
    merge: bool = False,
    prior: bool = False,
    prior_weighting: str = "mean",
    validate_on_groups: bool = False,
    anchor: bool | None = False,
    copy: bool = False,
) -> GETModel | tuple[GETModel, Any]:
    """Shared body of :func:`pretrain` and :func:`finetune` (their options as records).

    ``prior``: a network with an expression prior reads the training groups' expression
    (else all of its prior channels are 0), weighing them as ``prior_weighting`` says;
    ``validate_on_groups``: without a validation
    part chosen, hold out a training group for validation; ``anchor``: fix the prior's
    direct map at the linear fit of the training groups (:mod:`._anchor`; ``None``: when
    the network has a prior). The record is written into ``pb``, or with ``copy`` into a
    copy of it, returned with the model.
    """
    architecture, preset, window_size = setup.architecture, setup.preset, setup.window_size
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"Unknown architecture {architecture!r}; choose one of {sorted(ARCHITECTURES)}."
        )
    if model is not None:
        model.check_features(pb, atac=setup.atac, motif_key=setup.motif_key)
    elif preset not in PRESETS:
        raise ValueError(f"Unknown preset {preset!r}; choose one of {sorted(PRESETS)}.")
    device = resolve_device(setup.device)
    inputs = build_inputs(
        pb, binary=binary, with_targets=with_targets, atac=setup.atac, motif_key=setup.motif_key
    )
    valid_groups = setup.valid_groups
    if validate_on_groups:
        valid_groups = _valid_groups(setup, inputs.group_names)
    split = make_split(
        inputs.regions_per_chromosome(),
        inputs.group_names,
        leave_out_chromosomes=setup.leave_out_chromosomes,
        leave_out_groups=setup.leave_out_groups,
        valid_chromosomes=setup.valid_chromosomes,
        valid_groups=valid_groups,
    )
    network = _network(
        model,
        inputs.n_features,
        architecture,
        preset,
        setup.dropout,
        setup.network_kwargs,
        training.seed,
    )
    inputs.check_network(network.config)
    prior_groups = []
    if network.config.expression_prior:
        if prior:
            prior_groups = [g for g in inputs.group_names if g not in split["leave_out_groups"]]
        inputs = add_prior(
            pb,
            inputs,
            groups=prior_groups,
            chromosomes=split["train_chromosomes"],
            binary=binary,
            weighting=prior_weighting,
            atac=setup.atac,
        )
    if network.config.no_prior_offset:  # measured again once this training ends
        network.config = dataclasses.replace(network.config, no_prior_offset=0.0)
    train_set, valid_set = _datasets(
        inputs, split, window_size=window_size, stride=stride, max_span=setup.max_span
    )
    if lora is not None:
        add_lora(network, rank=int(lora["rank"]), alpha=float(lora["alpha"]))
    if anchor is None:
        anchor = network.config.expression_prior
        objective_params = {**objective_params, "anchor_prior": anchor}
    if anchor:
        if not network.config.expression_prior:
            raise ValueError(
                f"anchor_prior=True needs an expression prior; architecture {architecture!r} "
                'has none (use "tss+distance+prior" or anchor_prior=False).'
            )
        train_groups = [g for g in prior_groups if g not in set(split["valid_groups"] or [])]
        coefficients = fit_prior_anchor(inputs, train_groups, split["train_chromosomes"])
        anchor_prior_head(network, coefficients)
        network.prior_head.weight.requires_grad_(False)
        logger.info(
            "Prior anchored (own strand's prior, presence, mean accessibility, motif "
            f"channel, accessibility): {[round(float(c), 3) for c in coefficients]}."
        )
    params: dict[str, Any] = {
        "stage": stage,
        "pretrained": model is not None,
        "preset": None if model is not None else preset,
        "architecture": architecture,
        "binary": binary,
        "window_size": window_size,
        "stride": stride,
        "max_span": setup.max_span,
        "lora": dict(lora) if lora is not None and not merge else None,
        "lora_merged": bool(lora is not None and merge),
        **objective_params,
        PRIOR_GROUPS: prior_groups,
        PRIOR_WEIGHTING: prior_weighting,
    }
    signature = None
    if training.checkpoint_dir is not None:
        signature = {**params, "split": split, "data": _data_digest(inputs, train_set, valid_set)}
    history, best_epoch = fit(
        network,
        objective,
        train_set,
        valid_set,
        params=training,
        device=device,
        desc=stage,
        signature=signature,
    )
    if lora is not None and merge:
        merge_lora(network)
    if anchor:
        network.prior_head.weight.requires_grad_(True)
    network.to("cpu").eval()
    params.update(best_epoch=best_epoch, training=training.to_dict())
    result = GETModel(
        network, feature_names=inputs.feature_names, split=split, history=history, params=params
    )
    if prior and with_targets and network.config.expression_prior:
        offset = _calibrate_without_prior(result, inputs, training.batch_size, device)
        params["no_prior_offset"] = result.params["no_prior_offset"] = offset
    params = {**params, "split": result.split}
    return finish_writer(
        writable(pb, copy),
        key_added,
        history,
        params,
        copy=copy,
        returns=result,
        answer_with_copy=True,
    )


def _calibrate_without_prior(model: GETModel, inputs, batch_size: int, device) -> float | None:
    """Set the network's offset for windows without a prior from the validation chromosomes.

    Returns the offset, or ``None`` (the offset stays 0) when there is no validation
    chromosome, or no accessible TSS region on it, to measure it on.
    """
    split = model.split
    groups = [g for g in model.params[PRIOR_GROUPS] if g not in set(split["valid_groups"])]
    measured = None
    if split["valid_chromosomes"] and groups:
        measured = no_prior_offset(
            model,
            inputs,
            groups=groups,
            chromosomes=split["valid_chromosomes"],
            batch_size=batch_size,
            device=device,
        )
    if measured is None:
        logger.debug(
            "No validation chromosome to measure it on: windows without an expression prior "
            "(new chromosomes) are predicted as trained, without an offset."
        )
        return None
    offset, n = measured
    model.network.config = dataclasses.replace(model.network.config, no_prior_offset=offset)
    logger.info(
        f"Windows without an expression prior (new chromosomes) are offset by {offset:+.3f}: "
        f"the mean residual of {n} TSS regions of the validation chromosomes."
    )
    return offset


@inject_docs(**SetupParams.fragments(), **TrainingParams.fragments())
def pretrain(
    pb,
    *,
    leave_out_chromosomes: Sequence[str] | None = None,
    leave_out_groups: str | Sequence[str] | None = None,
    valid_chromosomes: Sequence[str] | None = None,
    architecture: str = DEFAULT_ARCHITECTURE,
    preset: str = DEFAULT_PRESET,
    dropout: float | None = None,
    network_kwargs: Mapping[str, Any] | None = None,
    mask_ratio: float = MASK_RATIO,
    binary: bool = False,
    window_size: int = WINDOW_SIZE,
    max_span: int = MAX_WINDOW_SPAN,
    device: str | None = "auto",
    atac: str = ATAC,
    motif_key: str = MOTIF_KEY,
    valid_groups: str | Sequence[str] | None = None,
    key_added: str = PRETRAIN_KEY,
    copy: bool = False,
    max_epochs: int = 50,
    batch_size: int = 16,
    lr: float = 1e-3,
    weight_decay: float = 0.05,
    warmup_fraction: float = 0.05,
    min_lr_ratio: float = 0.01,
    patience: int | None = 10,
    grad_clip: float | None = 1.0,
    seed: int = 0,
    num_workers: int = 0,
    checkpoint_dir: str | None = None,
    checkpoint_every: int = 1,
    resume: bool = False,
) -> GETModel | tuple[GETModel, Any]:
    """Pretrain GET by reconstructing masked regions (no expression needed).

    Non-overlapping windows of each group's accessible regions; each region is masked
    with probability ``mask_ratio`` and replaced by the learned [MASK] embedding; the
    loss is the mean squared error of the reconstructed features of masked regions.
    Early stopping on the validation chromosome(s) restores the best weights.

    Parameters
    ----------
    {mdata_pb} Needs ``["atac"].varm["motif_scores"]`` and ``layers["counts"]``.
    {split_args}
    {network_args}
    mask_ratio
        Probability that a region is masked.
    binary
        Binary accessibility (1 for every accessible region) instead of the score.
    {window_args}
    {run_args}
    {key_added}
    {training_copy}

    Returns
    -------
    The pretrained :class:`scget.tl.GETModel` (pass it to :func:`scget.tl.finetune`), or
    with ``copy`` the pair (model, modified copy). The history and parameters (the split
    included) are written to ``pb.uns["scget"][key_added]``.

    Raises
    ------
    KeyError
        If the motif scores or counts are missing.
    ValueError
        For invalid settings or a split leaving nothing to train or validate on.
    scget.tl.ResumeError
        A :class:`ValueError`: the training state to resume is damaged or belongs to
        another run (each difference named).
    FileExistsError
        If ``checkpoint_dir`` holds a training state and ``resume`` is False.

    Examples
    --------
    >>> pretrained = scget.tl.pretrain(pb, leave_out_chromosomes=["chr3"], max_epochs=1)
    >>> model = scget.tl.finetune(
    ...     pb, model=pretrained, leave_out_chromosomes=["chr3"], max_epochs=1
    ... )
    >>> scget.get.params(pb, "finetune")["pretrained"]
    True
    """
    leave_out_groups, valid_groups = name_list(leave_out_groups), name_list(valid_groups)
    setup, training = split_options(locals(), SetupParams, TrainingParams)
    objective = MaskedObjective(mask_ratio, seed=training.seed)
    return _train(
        pb,
        stage=PRETRAIN_KEY,
        model=None,
        objective=objective,
        objective_params={"mask_ratio": mask_ratio},
        with_targets=False,
        stride=setup.window_size,
        binary=binary,
        key_added=key_added,
        setup=setup,
        training=training,
        copy=copy,
    )


@inject_docs(
    **SetupParams.fragments(),
    **TrainingParams.fragments(defaults={"max_epochs": TARGET_EPOCHS}),
)
def finetune(
    pb,
    model: GETModel | None = None,
    *,
    leave_out_chromosomes: Sequence[str] | None = None,
    leave_out_groups: str | Sequence[str] | None = None,
    valid_chromosomes: Sequence[str] | None = None,
    lora: bool = False,
    lora_rank: int = 8,
    lora_alpha: float = 1.0,
    merge: bool = False,
    architecture: str = DEFAULT_ARCHITECTURE,
    preset: str = DEFAULT_PRESET,
    dropout: float | None = None,
    network_kwargs: Mapping[str, Any] | None = None,
    loss: str = "poisson",
    feature_dropout: float | None = None,
    motif_sparsity: float | None = None,
    objective: str = FINETUNE_OBJECTIVE,
    accessibility_weight: float = ACCESSIBILITY_WEIGHT,
    accessibility_hidden: float = ACCESSIBILITY_HIDDEN,
    binary: bool | None = None,
    window_size: int = WINDOW_SIZE,
    stride: int = FINETUNE_STRIDE,
    max_span: int = MAX_WINDOW_SPAN,
    device: str | None = "auto",
    atac: str = ATAC,
    motif_key: str = MOTIF_KEY,
    valid_groups: str | Sequence[str] | None = None,
    key_added: str = FINETUNE_KEY,
    copy: bool = False,
    target: str | None = None,
    prior_dropout: float | None = None,
    prior_weighting: str | None = None,
    anchor_prior: bool | None = None,
    max_epochs: int | None = None,
    batch_size: int = 16,
    lr: float = 1e-3,
    weight_decay: float = 0.05,
    warmup_fraction: float = 0.05,
    min_lr_ratio: float = 0.01,
    patience: int | None = 10,
    grad_clip: float | None = 1.0,
    seed: int = 0,
    num_workers: int = 0,
    checkpoint_dir: str | None = None,
    checkpoint_every: int = 1,
    resume: bool = False,
) -> GETModel | tuple[GETModel, Any]:
    """Train GET to predict expression per region and strand, accessibility per region, or both.

    Sliding windows (``stride``) of each training group's accessible regions on the
    training chromosomes; the loss covers every non-padded region and strand (regions
    without a TSS have target 0). Early stopping on the validation chromosome(s) of the
    training groups restores the best weights; test chromosomes and groups are never
    seen.

    **Accessibility.** With ``objective="accessibility"`` or ``"joint"`` the
    accessibility head learns each group's accessibility score (``["atac"].X``) of every
    region from inputs whose accessibility column is hidden (set to 1, binary
    accessibility, as in the published code), so that it cannot copy its target: it
    predicts a region's accessibility from the motifs of the region and of its
    neighbours. In ``"joint"`` the expression head keeps the model's own input
    (quantitative unless ``binary``), so that its results stay comparable with
    ``"expression"``; with quantitative input that costs a second forward pass per
    step. The published fine-tuning trained both heads; the published code's
    accessibility-predicting models use binary accessibility, for which one pass
    serves both heads.

    Parameters
    ----------
    {mdata_pb} Needs ``["atac"].varm["motif_scores"]``, ``layers["counts"]`` and the
        targets ``layers["target_plus"|"target_minus"]`` (:func:`scget.pp.annotate_tss`;
        not for ``objective="accessibility"``).
    model
        A pretrained :class:`GETModel` to continue from (it is not modified); ``None``
        starts from random weights of ``preset``.
    {split_args}
    lora
        Train low-rank adapters (and the heads) with frozen base weights; needs ``model``.
    lora_rank, lora_alpha
        Rank and scale of the adapters.
    merge
        Fold the trained adapters into the base weights before returning.
    {network_args}
        ``preset``, ``dropout`` and ``network_kwargs`` are ignored when ``model`` is given.
    loss
        ``"poisson"`` (the paper's Poisson negative log-likelihood on the log10(TPM + 1)
        targets) or ``"mse"``.
    feature_dropout
        Probability of hiding each motif score of each region at each training step
        (accessibility is never hidden); 0 (the published method) turns it off.
        ``None``: the ``target``'s (0 for new groups, 0.5 for new genes) for
        ``"expression"`` and ``"joint"``, 0 for ``"accessibility"`` (see ``objective``). It
        keeps the model from memorising regions by their motif fingerprint, which
        helps on held-out chromosomes and hurts in held-out groups (where memorised
        gene levels help): no one setting serves both (figures:
        :ref:`model-measurements`).
    motif_sparsity
        Weight of a group lasso on the motif inputs, added to the mean loss: the sum
        over motifs of the L2 norm of the motif's column of the region embedding
        (through the adapters under ``lora``). It drives the weights of motifs that do
        not explain expression to zero, so that gradients (:func:`scget.tl.gene_by_motif`)
        name the few motifs that regulate rather than every motif a region holds; 0
        (the published method) turns it off. 3e-4 gave the best r on held-out
        chromosomes (figures: :ref:`model-motif-sparsity`). ``None``: the ``target``'s
        (0 for new groups, 3e-4 for new genes) for ``"expression"`` and ``"joint"``, 0
        for ``"accessibility"``.
    objective
        ``"expression"`` (the expression head only), ``"accessibility"`` (the
        accessibility head only; the expression head stays untrained) or ``"joint"``
        (both; the loss is the mean expression loss plus ``accessibility_weight`` times
        the mean accessibility loss, both with ``loss``). Models trained with
        ``"accessibility"`` or ``"joint"`` predict accessibility
        (:attr:`GETModel.predicts_accessibility`). ``"joint"`` predicted expression no
        better than ``"expression"`` and costs a second forward pass per step, hence the
        default. ``"accessibility"`` trains without feature dropout and motif sparsity
        unless they are given: one model per group (``leave_out_groups`` all others; see
        :func:`scget.tl.predict`'s ``groups``) then beat the per-group motif-only linear
        fit (figures: :ref:`model-accessibility`).
    accessibility_weight
        Weight of the accessibility loss in ``"joint"``; 1 was never behind 0.3 and 3 on
        new genes (figures: :ref:`model-accessibility`).
    accessibility_hidden
        Share of each training window's regions whose accessibility is hidden (set to 1)
        and scored by the accessibility loss, drawn anew per sample and epoch; the others
        keep their accessibility as context, and :func:`scget.tl.predict` then hides
        every ``ceil(1 / accessibility_hidden)``-th region per pass. 1 hides every region,
        as published; the context's accessibility did not help (figures:
        :ref:`model-accessibility`).
    binary
        Binary accessibility (1 for every accessible region) instead of the score;
        ``None`` takes the pretrained model's setting (else quantitative).
    {window_args}
    stride
        Regions between the starts of training windows (100 in GET).
    {run_args}
    {key_added}
    {training_copy}
    target
        What the model is for, which sets the defaults of the options not given
        (``scget._shared.constants.TARGETS``; docs: "One protocol per setting"):

        - ``"new groups"``: predict groups (cell types) that have ATAC but no RNA, on the
          genes of the training chromosomes. It validates (early stopping) on a training
          group held out for it (``valid_groups``; by default the last training group,
          logged), never on a chromosome or on the test groups, takes each group's prior
          from the training groups its chromatin matches (``prior_weighting``), anchors
          it (``anchor_prior``), and trains with feature dropout 0.5, motif sparsity
          3e-4 and ``prior_dropout`` 0.2, for at most 15 epochs (``max_epochs``).
        - ``"new genes"``: predict genes the model has not seen (held-out chromosomes).
          It validates on a held-out chromosome, with the plain mean as the prior,
          feature dropout 0.5, motif sparsity 3e-4 and ``prior_dropout`` 0.5, for at
          most 20 epochs. Once trained, the expression of windows in which no region
          has a prior (a new chromosome's) is offset by the mean residual of the
          validation chromosomes' TSS regions in the training groups, which have no
          prior either (:attr:`scget.nn.GETConfig.no_prior_offset`; logged).

        Options given explicitly (``max_epochs``, ``patience``, ``feature_dropout``...)
        replace the target's.

        ``None``: ``"new groups"`` when only ``leave_out_groups`` is given, else ``"new
        genes"`` (and always ``"new genes"`` for ``objective="accessibility"``).
    prior_dropout
        With an expression prior (``architecture`` ``"tss+distance+prior"``, the
        default): the share of regions whose prior is hidden at each training step, so
        that the network also predicts genes that have none (new chromosomes, new
        genes). The prior of the group being trained on is always formed from the
        *other* training groups; :func:`scget.tl.predict` forms every group's from the
        groups the model was trained on (leaving the group itself out). ``None``:
        the ``target``'s (0.2 for new groups, whose genes all have a prior, 0.5 for new
        genes).
    prior_weighting
        With an expression prior: how the training groups weigh in a group's prior
        (expression, mean accessibility and the change from it). ``"matched"``: the
        mixture of the training groups, weights >= 0 summing to 1, whose accessibility
        over all peaks is closest to the group's own, so that a new cell type takes its
        prior from the known cell types its chromatin resembles; ``"mean"``: all alike.
        Both leave the group itself out. ``None``: the ``target``'s (``"matched"`` for
        new groups, ``"mean"`` for new genes).
    anchor_prior
        With an expression prior: fix the expression head's direct map of the prior at
        the least-squares fit of the training groups' expression at their TSS regions
        on the gene's mean training expression, the region's accessibility, its mean
        training accessibility and the motif channel, and train the rest of the network
        on what that linear model misses. ``None``: the ``target``'s (on for new groups,
        off for new genes). The fit uses the training groups and chromosomes only.

    Returns
    -------
    The fine-tuned :class:`scget.tl.GETModel`, or with ``copy`` the pair (model, modified
    copy); with an expression prior, ``model.params["no_prior_offset"]`` is the offset
    measured on the validation chromosomes (``None`` without one). The history
    (DataFrame) is written to ``pb.uns["scget"][key_added]["result"]`` and the
    parameters, with the split
    (``train_chromosomes``, ``valid_chromosomes``, ``test_chromosomes``,
    ``leave_out_groups``), to ``pb.uns["scget"][key_added]["params"]``.

    Raises
    ------
    KeyError
        If motif scores, counts or targets are missing.
    ValueError
        For invalid settings, motif features differing from ``model``'s, or a split
        leaving nothing to train or validate on.
    scget.tl.ResumeError
        A :class:`ValueError`: the training state to resume is damaged or belongs to
        another run (each difference named).
    FileExistsError
        If ``checkpoint_dir`` holds a training state and ``resume`` is False.

    Examples
    --------
    >>> model = scget.tl.finetune(
    ...     pb, leave_out_chromosomes=["chr3"], leave_out_groups=["type_03"], max_epochs=2
    ... )
    >>> model.split
    {'train_chromosomes': ['chr1'], 'valid_chromosomes': ['chr2'], 'test_chromosomes': ['chr3'],
     'leave_out_groups': ['type_03'], 'valid_groups': []}
    >>> scget.get.history(pb).columns.tolist()
    ['epoch', 'train_loss', 'valid_loss', 'lr']
    """
    leave_out_groups, valid_groups = name_list(leave_out_groups), name_list(valid_groups)
    given = dict(locals())
    check_objective(objective, accessibility_weight, accessibility_hidden)
    expression = objective != "accessibility"
    target = _target(target, leave_out_chromosomes, leave_out_groups, expression)
    protocol = TARGETS[target]
    if feature_dropout is None:
        feature_dropout = (
            protocol["feature_dropout"] if expression else ACCESSIBILITY_FEATURE_DROPOUT
        )
    if motif_sparsity is None:
        motif_sparsity = protocol["motif_sparsity"] if expression else ACCESSIBILITY_MOTIF_SPARSITY
    if prior_dropout is None:
        prior_dropout = protocol["prior_dropout"]
    if prior_weighting is None:
        prior_weighting = protocol["prior_weighting"]
    check_weighting(prior_weighting, "prior_weighting")
    anchor = anchor_prior
    if anchor_prior is None and not (protocol["anchor_prior"] and expression):
        anchor = False
    if model is not None:
        check_model(model)
    if lora and model is None:
        raise ValueError("lora=True adapts a pretrained model: pass model=<GETModel>.")
    if merge and not lora:
        raise ValueError("merge=True folds LoRA adapters: it needs lora=True.")
    if model is not None and model.lora is not None:
        raise ValueError("model has unmerged LoRA adapters; call model.merge_lora() first.")
    if binary is None:
        binary = model.binary if model is not None else False
    if max_epochs is None:
        given["max_epochs"] = protocol["max_epochs"]
    setup, training = split_options(given, SetupParams, TrainingParams)
    trained = FinetuneObjective(
        loss,
        feature_dropout=feature_dropout,
        seed=training.seed,
        objective=objective,
        accessibility_weight=accessibility_weight,
        accessibility_hidden=accessibility_hidden,
        motif_sparsity=motif_sparsity,
        prior_dropout=prior_dropout,
    )
    objective_params = {
        "loss": loss,
        "feature_dropout": feature_dropout,
        "motif_sparsity": motif_sparsity,
        "objective": objective,
        "target": target,
        "prior_dropout": float(prior_dropout),
        "anchor_prior": anchor,
    }
    if objective == "joint":
        objective_params["accessibility_weight"] = float(accessibility_weight)
    if objective != "expression":
        objective_params["accessibility_hidden"] = float(accessibility_hidden)
    return _train(
        pb,
        stage=FINETUNE_KEY,
        model=model,
        objective=trained,
        objective_params=objective_params,
        with_targets=expression,
        stride=stride,
        binary=binary,
        key_added=key_added,
        setup=setup,
        training=training,
        lora={"rank": lora_rank, "alpha": lora_alpha} if lora else None,
        merge=merge,
        prior=expression,
        prior_weighting=prior_weighting,
        validate_on_groups=target == "new groups",
        anchor=anchor,
        copy=copy,
    )


def _target(target: str | None, chromosomes, groups, expression: bool) -> str:
    """The setting ``finetune`` trains for: ``target``, or the one its split implies.

    ``chromosomes`` and ``groups`` are the test chromosomes and groups of the split.
    """
    if target is not None:
        if target not in TARGETS:
            raise ValueError(f"target must be one of {list(TARGETS)} or None, got {target!r}.")
        return target
    new_groups = groups and not chromosomes
    target = "new groups" if expression and new_groups else "new genes"
    logger.info(f'Fine-tuning for {target} (pass target="new groups" or "new genes" to choose).')
    return target
