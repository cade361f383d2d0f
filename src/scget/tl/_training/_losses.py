"""Training objectives: expression (fine-tuning) and masked-region reconstruction.

An objective maps ``(network, batch)`` to the *sum* of its per-element losses and the
number of elements, so that the trainer can divide by the element count of the whole
(possibly distributed) batch: a padded batch split over several processes then gives
exactly the gradient of the undivided batch.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .._core._windows import region_context

#: Expression losses offered by :class:`ExpressionObjective`.
EXPRESSION_LOSSES = ("poisson", "mse")


class ExpressionObjective:
    """Loss of the predicted expression on every non-padded region and strand.

    ``"poisson"`` is the Poisson negative log-likelihood of the paper (Enformer style,
    on the log10(TPM + 1) targets with the Softplus output as rate); ``"mse"`` is the
    squared error, which weighs highly expressed genes less than the Poisson loss does
    relative to the zeros of the many regions without a TSS.

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
    """

    def __init__(self, loss: str = "poisson", feature_dropout: float = 0.0, seed: int = 0) -> None:
        if loss not in EXPRESSION_LOSSES:
            raise ValueError(f"loss must be one of {EXPRESSION_LOSSES}, got {loss!r}.")
        if not 0 <= feature_dropout < 1:
            raise ValueError(f"feature_dropout must be in [0, 1), got {feature_dropout!r}.")
        self.loss = loss
        self.feature_dropout = float(feature_dropout)
        self.seed = int(seed)

    def __call__(self, network, batch: dict, *, epoch: int | None = None):
        """Return the summed loss and the element count of ``batch``."""
        padding = batch["padding_mask"]
        x = batch["x"]
        if network.training and self.feature_dropout > 0:
            draws = sample_draws(batch["index"], self.seed, epoch, x.shape[1:], stream=1)
            x = drop_motif_features(x, self.feature_dropout, draws.to(x.device))
        output = network(x, **region_context(batch))
        pred = output.expression.float()
        target = batch["target"].float()
        if self.loss == "poisson":
            per_element = F.poisson_nll_loss(pred, target, log_input=False, reduction="none")
        else:
            per_element = (pred - target) ** 2
        keep = (~padding).unsqueeze(-1).to(per_element.dtype)
        return (per_element * keep).sum(), keep.sum() * pred.shape[-1]


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
