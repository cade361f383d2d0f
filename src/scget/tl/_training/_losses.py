"""Training objectives: expression/accessibility (fine-tuning), masked regions (pretraining).

An objective maps ``(network, batch)`` to the *sum* of its per-element losses and the
number of elements, so that the trainer can divide by the element count of the whole
(possibly distributed) batch: a padded batch split over several processes then gives
exactly the gradient of the undivided batch.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ...nn._config import PRIOR_EXPRESSION_CHANNELS
from .._core._windows import hide_accessibility, region_context

#: Losses offered by :class:`FinetuneObjective` (for expression and accessibility alike).
EXPRESSION_LOSSES = ("poisson", "mse")
#: What fine-tuning trains: the expression head, the accessibility head, or both.
OBJECTIVES = ("expression", "accessibility", "joint")


class FinetuneObjective:
    """Loss of the predicted expression and/or accessibility on every non-padded region.

    ``"poisson"`` is the Poisson negative log-likelihood of the paper (Enformer style,
    on the log10(TPM + 1) targets with the Softplus output as rate); ``"mse"`` is the
    squared error, which weighs highly expressed genes less than the Poisson loss does
    relative to the zeros of the many regions without a TSS. The same loss scores the
    accessibility head against the group's accessibility score (batch key
    ``"atac_target"``).

    The accessibility head is trained on inputs whose accessibility column is hidden
    (set to 1, binary accessibility, as the published code does) in the regions it is
    scored on, so that it cannot copy its target: in every region
    (``accessibility_hidden=1``, as published), or in a random share of the regions of
    each window, the others keeping their accessibility as context. In ``"joint"``, the
    expression head keeps the model's own input (quantitative or binary): with
    quantitative accessibility that takes a second forward pass with the column hidden,
    for the accessibility loss only; with binary input (already all ones) one pass
    serves both heads.

    Parameters
    ----------
    loss
        One of :data:`EXPRESSION_LOSSES`.
    feature_dropout
        In training only, each motif score of each region is zeroed with this
        probability (inverted dropout); the accessibility column, the last input
        feature, is never dropped. A region's motif scores are a fingerprint that a
        transformer memorises before it learns the regulatory rule; hiding a random
        part of them at every step prevents that. The hidden scores of a sample depend
        only on ``seed``, the epoch and the sample's index, so a distributed run hides
        the same ones as a single process.
    seed
        Seed of the hidden scores.
    objective
        One of :data:`OBJECTIVES`.
    accessibility_weight
        In ``"joint"``: the loss is the mean expression loss per region and strand plus
        this weight times the mean accessibility loss per hidden region.
    accessibility_hidden
        Share of the regions of each window whose accessibility is hidden and scored by
        the accessibility loss, drawn anew for each sample and epoch (from ``seed``, as
        the hidden motif scores); 1 hides every region.
    motif_sparsity
        In training only, this weight times the group lasso of the motif inputs (the sum
        over motif features of the L2 norm of their column of the region embedding,
        :meth:`scget.nn.GETNetwork.motif_weight_norms`) is added to the mean loss. It
        drives the weights of motifs that do not help to zero, so that the network
        explains expression with few motifs rather than spreading it over every motif a
        region happens to contain. Validation losses leave it out.
    prior_dropout
        In training only, the expression prior (batch key ``"prior"``, when the network
        reads one) of each region is hidden with this probability: its expression and
        presence channels are set to 0, as for a gene without a prior; the mean
        accessibility channel stays. Drawn per sample and epoch from ``seed``.
    """

    def __init__(
        self,
        loss: str = "poisson",
        feature_dropout: float = 0.0,
        seed: int = 0,
        *,
        objective: str = "expression",
        accessibility_weight: float = 1.0,
        accessibility_hidden: float = 1.0,
        motif_sparsity: float = 0.0,
        prior_dropout: float = 0.0,
    ) -> None:
        if loss not in EXPRESSION_LOSSES:
            raise ValueError(f"loss must be one of {EXPRESSION_LOSSES}, got {loss!r}.")
        if not 0 <= feature_dropout < 1:
            raise ValueError(f"feature_dropout must be in [0, 1), got {feature_dropout!r}.")
        check_objective(objective, accessibility_weight, accessibility_hidden)
        if not np.isfinite(motif_sparsity) or motif_sparsity < 0:
            raise ValueError(f"motif_sparsity must be >= 0, got {motif_sparsity!r}.")
        if not 0 <= prior_dropout <= 1:
            raise ValueError(f"prior_dropout must be in [0, 1], got {prior_dropout!r}.")
        self.loss = loss
        self.feature_dropout = float(feature_dropout)
        self.seed = int(seed)
        self.objective = objective
        self.accessibility_weight = float(accessibility_weight)
        self.accessibility_hidden = float(accessibility_hidden)
        self.motif_sparsity = float(motif_sparsity)
        self.prior_dropout = float(prior_dropout)

    def _per_element(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        pred, target = pred.float(), target.float()
        if self.loss == "poisson":
            return F.poisson_nll_loss(pred, target, log_input=False, reduction="none")
        return (pred - target) ** 2

    def __call__(self, network, batch: dict, *, epoch: int | None = None):
        """Return the summed loss and the element count of ``batch``."""
        loss_sum, count = self._data_loss(network, batch, epoch)
        if network.training and self.motif_sparsity > 0:
            # the trainer divides by the count: this adds the weight times the group lasso
            norms = getattr(network, "module", network).motif_weight_norms()  # DDP wraps
            loss_sum = loss_sum + self.motif_sparsity * count * norms.sum()
        return loss_sum, count

    def _data_loss(self, network, batch: dict, epoch: int | None):
        padding = batch["padding_mask"]
        keep = (~padding).unsqueeze(-1).float()
        x = batch["x"]
        if network.training and self.feature_dropout > 0:
            draws = sample_draws(batch["index"], self.seed, epoch, x.shape[1:], stream=1)
            x = drop_motif_features(x, self.feature_dropout, draws.to(x.device))
        context = region_context(batch)
        if network.training and self.prior_dropout > 0 and "prior" in context:
            draws = sample_draws(batch["index"], self.seed, epoch, padding.shape[1:], stream=3)
            context["prior"] = drop_prior(
                context["prior"], draws.to(padding.device) < self.prior_dropout
            )
        output = None
        if self.objective != "accessibility":
            output = network(x, **context)
            expression = self._per_element(output.expression, batch["target"])
            expression_sum = (expression * keep).sum()
            count = keep.sum() * expression.shape[-1]
            if self.objective == "expression":
                return expression_sum, count
        scored = ~padding
        if self.accessibility_hidden < 1:
            draws = sample_draws(batch["index"], self.seed, epoch, scored.shape[1:], stream=2)
            scored = scored & (draws.to(padding.device) < self.accessibility_hidden)
        hidden = hide_accessibility(x, regions=scored)
        if output is None or not torch.equal(hidden[~padding], x[~padding]):
            output = network(hidden, **context)
        target = batch["atac_target"].reshape(keep.shape)
        scored = scored.unsqueeze(-1).float()
        accessibility_sum = (self._per_element(output.accessibility, target) * scored).sum()
        if self.objective == "accessibility":
            return accessibility_sum, scored.sum()
        # mean expression loss + weight x mean accessibility loss, over count elements
        weight = self.accessibility_weight * count / scored.sum().clamp(min=1)
        return expression_sum + weight * accessibility_sum, count


def check_objective(
    objective: str, accessibility_weight: float = 1.0, accessibility_hidden: float = 1.0
) -> None:
    """Raise ``ValueError`` for invalid settings of the fine-tuning objective."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}.")
    if not np.isfinite(accessibility_weight) or accessibility_weight <= 0:
        raise ValueError(
            f"accessibility_weight must be a positive number, got {accessibility_weight!r}."
        )
    if not 0 < accessibility_hidden <= 1:
        raise ValueError(
            f"accessibility_hidden must be in (0, 1] (the share of regions whose "
            f"accessibility is hidden and predicted), got {accessibility_hidden!r}."
        )


def sample_draws(
    indices: torch.Tensor, seed: int, epoch: int | None, shape: tuple, *, stream: int = 0
) -> torch.Tensor:
    """Uniform draws of ``shape`` per sample, from ``(seed, epoch, sample index, stream)``.

    They do not depend on how samples are batched or split between processes;
    ``epoch=None`` (validation) has draws of its own.
    """
    step = 0 if epoch is None else epoch + 1
    key = (seed, step) if stream == 0 else (seed, step, stream)
    draws = [np.random.default_rng((*key, int(i))).random(shape) for i in indices]
    return torch.from_numpy(np.stack(draws))


def drop_motif_features(x: torch.Tensor, probability: float, draws: torch.Tensor) -> torch.Tensor:
    """Inverted dropout on every input column but the last (accessibility).

    ``draws`` are uniform numbers of ``x``'s shape; a score is hidden where its draw is
    below ``probability``.
    """
    keep = draws[..., :-1] >= probability
    motifs = x[..., :-1] * keep.to(x.dtype) / (1 - probability)
    return torch.cat([motifs, x[..., -1:]], dim=-1)


def drop_prior(prior: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
    """``prior`` (windows x regions x channels) without its expression where ``hidden`` is True.

    The expression and presence channels are set to 0 (a gene without a prior); the
    accessibility channels, which every region has, stay.
    """
    keep = (~hidden).unsqueeze(-1).to(prior.dtype)
    n = len(PRIOR_EXPRESSION_CHANNELS)
    return torch.cat([prior[..., :n] * keep, prior[..., n:]], dim=-1)


class MaskedObjective:
    """Mean squared reconstruction error of masked regions (pretraining).

    Each non-padded region is masked with probability ``mask_ratio``; the mask of a
    sample depends only on ``seed``, the epoch and the sample's index, so it is the
    same however the samples are batched or distributed. Validation (``epoch=None``)
    uses one fixed mask.

    Parameters
    ----------
    mask_ratio
        Probability that a region is masked.
    seed
        Seed of the masks.
    """

    def __init__(self, mask_ratio: float, seed: int = 0) -> None:
        if not 0 < mask_ratio < 1:
            raise ValueError(f"mask_ratio must be in (0, 1), got {mask_ratio!r}.")
        self.mask_ratio = float(mask_ratio)
        self.seed = int(seed)

    def masks(self, batch: dict, epoch: int | None) -> torch.Tensor:
        """Boolean masks (batch x regions) of the non-padded regions to hide."""
        padding = batch["padding_mask"]
        draws = sample_draws(batch["index"], self.seed, epoch, (padding.shape[1],))
        return (draws < self.mask_ratio).to(padding.device) & ~padding

    def __call__(self, network, batch: dict, *, epoch: int | None = None):
        """Return the summed loss and the number of masked regions of ``batch``."""
        mask = self.masks(batch, epoch)
        output = network(batch["x"], mask=mask, **region_context(batch))
        error = ((output.reconstruction.float() - batch["x"].float()) ** 2).mean(dim=-1)
        keep = mask.to(error.dtype)
        return (error * keep).sum(), keep.sum()
