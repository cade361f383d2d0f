"""Low-rank adapters (LoRA) that truly freeze the base network, and their merge."""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Sequence

import torch
from torch import nn

from .._shared.logging import logger

#: Linear layers wrapped by default: the region embedding and every encoder Linear.
DEFAULT_TARGETS = ("region_embedding", "blocks.*")
#: Modules that stay fully trainable under LoRA ("full training of the head").
HEADS = ("expression_head", "accessibility_head", "reconstruction_head")
#: scget's network extensions: new parameters (zero at first), so trained in full too.
EXTENSIONS = ("tss_embedding", "distance_bias", "prior_embedding", "prior_head")


class LoRALinear(nn.Module):
    """A frozen :class:`~torch.nn.Linear` plus a trainable low-rank update.

    ``y = base(x) + scaling * dropout(x) @ A.T @ B.T`` with ``A`` (rank x in,
    Kaiming-uniform), ``B`` (out x rank, zeros: the wrapped layer starts equal to the
    base) and ``scaling = alpha / rank``.

    Parameters
    ----------
    base
        The layer to adapt; its parameters get ``requires_grad=False``.
    rank
        Rank of the update.
    alpha
        Scale numerator.
    dropout
        Dropout on the adapter's input (training only).
    """

    def __init__(self, base: nn.Linear, rank: int, alpha: float, dropout: float = 0.0):
        super().__init__()
        self.base = base
        for parameter in base.parameters():
            parameter.requires_grad_(False)
        self.rank = rank
        self.scaling = alpha / rank
        factory = {"device": base.weight.device, "dtype": base.weight.dtype}
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features, **factory))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank, **factory))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the base layer and the scaled low-rank update."""
        update = self.dropout(x) @ self.lora_a.T.to(x.dtype) @ self.lora_b.T.to(x.dtype)
        return self.base(x) + self.scaling * update

    @property
    def weight(self) -> torch.Tensor:
        """The effective weight ``W + scaling * B @ A`` (differentiable in the adapters)."""
        return self.base.weight + self.scaling * self.lora_b @ self.lora_a

    def merged(self) -> nn.Linear:
        """Return a plain Linear whose weight is ``W + scaling * B @ A``."""
        linear = nn.Linear(
            self.base.in_features,
            self.base.out_features,
            bias=self.base.bias is not None,
            device=self.base.weight.device,
            dtype=self.base.weight.dtype,
        )
        with torch.no_grad():
            linear.weight.copy_(self.weight)
            if self.base.bias is not None:
                linear.bias.copy_(self.base.bias)
        return linear


def _set_submodule(network: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, child = name.rpartition(".")
    setattr(network.get_submodule(parent) if parent else network, child, module)


def add_lora(
    network: nn.Module,
    *,
    rank: int = 8,
    alpha: float = 1.0,
    dropout: float = 0.0,
    targets: Sequence[str] = DEFAULT_TARGETS,
) -> nn.Module:
    """Wrap Linear layers in LoRA adapters and freeze every base weight, in place.

    The GET LoRA recipe (code: rank 8, alpha 1): adapters on the region embedding and
    the encoder, full training of the heads, and of scget's extensions (TSS embedding,
    distance bias), which a published checkpoint does not have. Every other parameter
    that is not an adapter gets ``requires_grad=False``, so optimisers (AdamW weight
    decay included) never touch it.

    Parameters
    ----------
    network
        A :class:`~scget.nn.GETNetwork` without adapters.
    rank
        Rank of each adapter.
    alpha
        Adapter scale numerator (scaling = alpha / rank).
    dropout
        Dropout on the adapters' inputs.
    targets
        Glob pattern(s) (:mod:`fnmatch`) of qualified module names; every
        :class:`~torch.nn.Linear` matching one is wrapped. Heads and extensions cannot
        be targets.

    Returns
    -------
    The same ``network``, adapted; its LoRA settings are in ``network.lora``.

    Raises
    ------
    ValueError
        If ``network`` already has adapters, ``rank`` is not positive, or a pattern
        matches no Linear layer outside the heads.
    """
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise ValueError(f"rank must be a positive integer, got {rank!r}.")
    if any(isinstance(module, LoRALinear) for module in network.modules()):
        raise ValueError("network already has LoRA adapters; call merge_lora first.")
    targets = [targets] if isinstance(targets, str) else list(targets)
    linears = {
        name: module
        for name, module in network.named_modules()
        if isinstance(module, nn.Linear) and not name.startswith((*HEADS, *EXTENSIONS))
    }
    selected = {}
    for pattern in targets:
        matches = [name for name in linears if fnmatch.fnmatchcase(name, pattern)]
        if not matches:
            raise ValueError(
                f"LoRA target {pattern!r} matches no Linear layer outside the heads; "
                f"available: {sorted(linears)[:8]}..."
            )
        selected.update({name: linears[name] for name in matches})
    for parameter in network.parameters():
        parameter.requires_grad_(False)
    for name, module in selected.items():
        _set_submodule(network, name, LoRALinear(module, rank, alpha, dropout))
    for name in (*HEADS, *EXTENSIONS):
        module = getattr(network, name, None)
        if module is not None:
            module.requires_grad_(True)
    network.lora = {"rank": rank, "alpha": alpha, "dropout": dropout, "targets": targets}
    n_trainable = sum(p.numel() for p in network.parameters() if p.requires_grad)
    n_total = sum(p.numel() for p in network.parameters())
    logger.info(
        f"LoRA on {len(selected)} layers: {n_trainable:,} trainable of {n_total:,} parameters "
        f"({100 * n_trainable / n_total:.2f} %)."
    )
    return network


def merge_lora(network: nn.Module) -> nn.Module:
    """Fold every LoRA adapter into a plain Linear layer, in place.

    Afterwards the network is a plain network again: no adapters, every parameter
    trainable, ``network.lora`` removed; its outputs equal the adapted network's.

    Parameters
    ----------
    network
        A network adapted with :func:`add_lora`.

    Returns
    -------
    The same ``network``, merged.

    Raises
    ------
    ValueError
        If ``network`` has no adapters.
    """
    adapted = [(name, m) for name, m in network.named_modules() if isinstance(m, LoRALinear)]
    if not adapted:
        raise ValueError("network has no LoRA adapters to merge; see add_lora.")
    for name, module in adapted:
        _set_submodule(network, name, module.merged())
    network.requires_grad_(True)
    if hasattr(network, "lora"):
        del network.lora
    return network


def lora_state_dict(network: nn.Module) -> dict[str, torch.Tensor]:
    """Return the trainable part of an adapted network: adapters, heads and extensions.

    This is all a fine-tuned adapter needs to store: load it with
    ``network.load_state_dict(state, strict=False)`` into the base network after
    :meth:`~scget.nn.GETNetwork.extend` (when it has extensions) and :func:`add_lora`
    with the same settings.

    Raises
    ------
    ValueError
        If ``network`` has no adapters.
    """
    if not any(isinstance(module, LoRALinear) for module in network.modules()):
        raise ValueError("network has no LoRA adapters; see add_lora.")
    return {
        name: parameter.detach().clone()
        for name, parameter in network.named_parameters()
        if name.startswith((*HEADS, *EXTENSIONS)) or name.endswith((".lora_a", ".lora_b"))
    }
