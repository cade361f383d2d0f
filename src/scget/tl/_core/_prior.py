"""The expression prior of each region: what the training groups say, without the group itself.

A network with :attr:`scget.nn.GETConfig.expression_prior` reads, per region, the mean
expression over the *prior groups* (the groups it was trained on) of the genes whose TSS
the region holds, per strand; a flag that this prior is present; the region's mean
accessibility over the same groups; and the part of the group's change of accessibility
from that mean that the region's motifs predict (:data:`scget.nn.PRIOR_CHANNELS`). For a
group that is itself a prior group, the means leave it out (the mean over the others), so
that a group's own expression never reaches its input: training on group ``g`` sees what
a new group sees at prediction, the mean of the groups the model knows. With the
``"matched"`` weighting the means are weighted, per group, by the mixture of the other
prior groups whose accessibility over all peaks matches the group's best
(:mod:`._group_weights`); accessibility alone sets the weights. The expression
channels are present only on the chromosomes whose expression the model trained on;
elsewhere (test and validation chromosomes) they are 0, as for a new gene.

The motif channel is a ridge regression, per group and over every peak, of the change of
accessibility on the standardised motif scores; its fitted value at a region says how
much the group's TFs, judged from the whole genome, open (or close) that region. A
window shows a few hundred regions; which TFs a new cell type uses shows in all of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ..._shared.constants import ATAC, COUNTS_LAYER, MOTIF_KEY, RNA
from ..._shared.logging import logger
from ..._shared.utils import modality, to_dense
from ...nn._config import PRIOR_CHANNELS, PRIOR_EXPRESSION_CHANNELS
from ._genes import tss_peak_matrix
from ._group_weights import prior_weights
from ._windows import RegionInputs, build_inputs

#: ``GETModel.params`` key of the groups whose expression forms the prior.
PRIOR_GROUPS = "prior_groups"
#: Position of each prior channel by name.
_CHANNEL = {name: number for number, name in enumerate(PRIOR_CHANNELS)}
#: Ridge penalty of the motif channel's fit, per peak (standardised motif scores).
MOTIF_RIDGE = 0.05
#: ``GETModel.params`` key of how the prior groups weigh in a group's prior.
PRIOR_WEIGHTING = "prior_weighting"
#: How the prior groups may weigh (:func:`add_prior`).
PRIOR_WEIGHTINGS = ("matched", "mean")
#: Peaks per block of the motif channel's sums.
_BLOCK = 65_536


def motif_accessibility_change(
    motifs: np.ndarray, change: np.ndarray, ridge: float = MOTIF_RIDGE
) -> np.ndarray:
    """The part of each group's accessibility change that the peaks' motifs predict.

    Per group (row of ``change``), a ridge regression over the peaks of the change on
    the motif scores, each standardised over the peaks, with an intercept and penalty
    ``ridge`` x the number of peaks; the result is the fitted value without the
    intercept. Computed from float64 sums over blocks of peaks, without a standardised
    copy of ``motifs``.

    Parameters
    ----------
    motifs
        Peaks x motifs.
    change
        Groups x peaks.
    ridge
        Penalty per peak.

    Returns
    -------
    Groups x peaks, float64.
    """
    n_peaks, n_motifs = motifs.shape
    change = np.asarray(change, dtype=np.float64)
    blocks = [slice(start, start + _BLOCK) for start in range(0, n_peaks, _BLOCK)]
    total, gram = np.zeros(n_motifs), np.zeros((n_motifs, n_motifs))
    cross = np.zeros((n_motifs, len(change)))
    for rows in blocks:
        block = np.asarray(motifs[rows], dtype=np.float64)
        total += block.sum(axis=0)
        gram += block.T @ block
        cross += block.T @ change[:, rows].T
    mean = total / n_peaks
    gram -= n_peaks * np.outer(mean, mean)
    scale = np.sqrt(np.clip(np.diag(gram), 0.0, None) / n_peaks)
    kept = scale > 0  # a constant motif column predicts nothing
    scale = np.where(kept, scale, 1.0)
    gram = gram / np.outer(scale, scale)
    gram[~kept] = gram[:, ~kept] = 0.0
    cross = (cross - np.outer(mean, change.sum(axis=1))) / scale[:, None]
    cross[~kept] = 0.0
    coefficients = np.linalg.solve(gram + ridge * n_peaks * np.eye(len(gram)), cross)
    coefficients /= scale[:, None]  # per unit of the raw score
    fitted = np.empty(change.shape)
    for rows in blocks:
        fitted[:, rows] = (np.asarray(motifs[rows], dtype=np.float64) @ coefficients).T
    return fitted - (mean @ coefficients)[:, None]


def check_weighting(weighting: str, name: str = "weighting") -> None:
    """Raise a :class:`ValueError` unless ``weighting`` is one of :data:`PRIOR_WEIGHTINGS`.

    ``name`` is the argument's name in the message.
    """
    if weighting not in PRIOR_WEIGHTINGS:
        raise ValueError(f"{name} must be one of {PRIOR_WEIGHTINGS}, not {weighting!r}.")


def add_prior(
    pb,
    inputs: RegionInputs,
    *,
    groups: Sequence[str],
    chromosomes: Sequence[str],
    binary: bool = False,
    weighting: str = "mean",
    rna: str = RNA,
    atac: str = ATAC,
) -> RegionInputs:
    """Return ``inputs`` with each group's expression prior (regions x 4).

    Parameters
    ----------
    pb
        The pseudobulk of ``inputs``, with ``[rna].X`` (log10(TPM + 1)) and
        ``[rna].var["tss_peaks"|"strand"]`` (:func:`scget.pp.annotate_tss`) when
        ``groups`` is not empty.
    inputs
        Model inputs from :func:`scget.tl._core._windows.build_inputs`.
    groups
        The prior groups (names): their mean forms the prior; a prior group's own prior
        leaves it out. Empty: every channel is 0 (no prior at all).
    chromosomes
        Chromosomes on which the expression channels are present.
    binary
        Accessibility as in the model's input: 1 for accessible regions (else the score).
    weighting
        How the prior groups weigh in a group's prior (:data:`PRIOR_WEIGHTINGS`):
        ``"mean"`` alike; ``"matched"`` as the mixture of their accessibility scores
        over all peaks closest to the group's own (:func:`~._group_weights.prior_weights`).
    rna, atac
        Names of the modalities.

    Returns
    -------
    A copy of ``inputs`` whose groups hold ``prior`` (float32, regions x
    :data:`scget.nn.PRIOR_CHANNELS`).

    Raises
    ------
    KeyError
        If a group is unknown, or the RNA modality or its TSS annotation is missing.
    ValueError
        If ``weighting`` is not one of :data:`PRIOR_WEIGHTINGS`.
    """
    check_weighting(weighting)
    names = inputs.group_names
    unknown = sorted(set(groups) - set(names))
    if unknown:
        raise KeyError(f"Prior groups {unknown} are not in the data's groups {names}.")
    members = np.isin(names, list(groups))
    n_peaks = len(inputs.chrom)
    channels = np.zeros((len(names), n_peaks, len(PRIOR_CHANNELS)), dtype=np.float32)
    if members.any():
        adata = pb[atac]
        scores = to_dense(adata.X, np.float64)
        access = to_dense(adata.layers[COUNTS_LAYER]) > 0 if binary else scores
        weights, present = prior_weights(members, scores if weighting == "matched" else None)
        mean_access = weights @ access
        channels[..., _CHANNEL["mean_accessibility"]] = mean_access
        channels[..., _CHANNEL["motif_accessibility_change"]] = motif_accessibility_change(
            inputs.motifs, access - mean_access
        )
        genes = modality(pb, rna)
        if "strand" not in genes.var.columns:
            raise KeyError(f'pb["{rna}"].var has no "strand" column; run scget.pp.annotate_tss.')
        tss = tss_peak_matrix(genes.var, adata.var_names)
        strand = genes.var["strand"].astype(str).to_numpy()
        expression = weights @ to_dense(genes.X, np.float64)
        on_chromosomes = np.isin(inputs.chrom, list(chromosomes))
        for column, sign in ((_CHANNEL["prior_plus"], "+"), (_CHANNEL["prior_minus"], "-")):
            on_strand = tss.multiply((strand == sign)[:, None]).tocsr()
            channels[..., column] = np.asarray(on_strand.T @ expression.T).T
        channels[..., _CHANNEL["prior_present"]] = present[:, None]
        channels[:, ~on_chromosomes, : len(PRIOR_EXPRESSION_CHANNELS)] = 0.0
    regions = [
        dataclasses.replace(group, prior=np.ascontiguousarray(channels[number, group.peaks]))
        for number, group in enumerate(inputs.groups)
    ]
    return dataclasses.replace(inputs, groups=regions)


def model_inputs(
    pb,
    model,
    *,
    rna: str = RNA,
    atac: str = ATAC,
    motif_key: str = MOTIF_KEY,
    prior: bool = True,
) -> RegionInputs:
    """The inputs of ``pb`` that ``model`` reads, with its expression prior where it has one.

    The prior comes from the groups the model was trained on
    (``model.params["prior_groups"]``) that ``pb`` holds, on its training chromosomes.
    With ``prior=False`` a network with prior channels reads them as absent (all 0, as for
    a gene without a prior in training): what interpretation explains the gene from.

    Parameters
    ----------
    pb
        Pseudobulk MuData.
    model
        A :class:`~scget.tl.GETModel`.
    rna, atac, motif_key
        Names of the modalities and of the motif scores.
    prior
        Give the network the expression prior (else its channels are 0).

    Returns
    -------
    The model inputs (without targets), checked against the network.

    Raises
    ------
    KeyError
        If an input the network reads is missing.
    """
    inputs = build_inputs(
        pb, binary=model.binary, with_targets=False, atac=atac, motif_key=motif_key
    )
    inputs.check_network(model.network.config)
    if not model.network.config.expression_prior:
        return inputs
    trained = [str(g) for g in model.params.get(PRIOR_GROUPS, [])] if prior else []
    groups = [g for g in trained if g in set(inputs.group_names)]
    if len(groups) < len(trained):
        logger.warning(
            f"{len(trained) - len(groups)} of the {len(trained)} groups the model was trained "
            "on are not in the data: the expression prior is the mean of the others"
            + ("." if groups else " (none: no prior at all).")
        )
    return add_prior(
        pb,
        inputs,
        groups=groups,
        chromosomes=model.split["train_chromosomes"],
        binary=model.binary,
        weighting=model.params.get(PRIOR_WEIGHTING, "mean"),
        rna=rna,
        atac=atac,
    )
