"""The GET network: region embedding, CLS token, transformer encoder and three heads."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ._config import PRIOR_CHANNELS, PRIOR_PRESENT, GETConfig
from ._distance import DistanceBias
from ._layers import LAYER_NORM_EPS, EncoderBlock

#: Keyword inputs of :meth:`GETNetwork.forward` besides the features, in order.
CONTEXT = ("mask", "padding_mask", "tss", "positions", "prior")
#: Standard deviation of the truncated-normal initialisation (as ViT and BERT).
INIT_STD = 0.02
#: The expression prior's map to the expression head is this multiple of its learned
#: weights: Adam moves each weight by about the learning rate per step, and passing the
#: prior through needs weights near 1 within a few hundred steps.
PRIOR_SCALE = 10.0


class GETOutput(NamedTuple):
    """Outputs of :class:`GETNetwork` for ``B`` windows of ``L`` regions.

    Attributes
    ----------
    expression
        (B, L, n_outputs) non-negative (Softplus) expression per region and strand.
    accessibility
        (B, L, 1) non-negative (Softplus) accessibility per region.
    reconstruction
        (B, L, n_features) reconstructed input features (pretraining head).
    hidden
        (B, L, H) final LayerNorm-ed hidden states, CLS token dropped.
    region_embedding
        (B, L, H) output of the region embedding, before masking (for Jacobians); the
        TSS embedding, when the network has one, is not part of it.
    """

    expression: torch.Tensor
    accessibility: torch.Tensor
    reconstruction: torch.Tensor
    hidden: torch.Tensor
    region_embedding: torch.Tensor


class GETNetwork(nn.Module):
    """GET, the general expression transformer (Fu et al., Nature 2025), in plain torch.

    A linear region embedding (no non-linearity, no positional encoding), a learned CLS
    token prepended before and dropped after the encoder, ``n_layers`` pre-LayerNorm
    transformer blocks with drop-path rising linearly from 0 to ``config.drop_path``, a
    final LayerNorm, and three heads: expression (Softplus), accessibility (Softplus)
    and masked-region reconstruction. Masked regions (pretraining) have their
    embedding replaced by a learned [MASK] embedding.

    Three extensions, off in the published GET, are switched on by the configuration:
    ``tss_input`` adds a linear embedding of the regions' strand-specific TSS indicators
    to their embedding, ``distance_bias`` adds a learned bias of the log genomic
    distance to the attention logits (:class:`~scget.nn.DistanceBias`), and
    ``expression_prior`` adds a linear embedding of the regions' expression prior
    (:data:`~scget.nn.PRIOR_CHANNELS`) to their embedding and a linear map of it and of
    the regions' accessibility to the expression head's input (before the Softplus).
    All start at zero, so that :meth:`extend` leaves a trained
    network's outputs unchanged.

    Parameters
    ----------
    config
        Sizes and regularisation, e.g. ``GETConfig.from_preset("small", 283)``.
    """

    def __init__(self, config: GETConfig):
        super().__init__()
        self.config = config
        hidden = config.hidden_dim
        self.region_embedding = nn.Linear(config.n_features, hidden)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, hidden))
        self.mask_token = nn.Parameter(torch.zeros(1, 1, hidden))
        last = max(config.n_layers - 1, 1)
        rates = [config.drop_path * i / last for i in range(config.n_layers)]
        self.blocks = nn.ModuleList(
            EncoderBlock(
                hidden,
                config.n_heads,
                config.ffn_dim,
                config.dropout,
                config.attention_dropout,
                rate,
            )
            for rate in rates
        )
        self.norm = nn.LayerNorm(hidden, eps=LAYER_NORM_EPS)
        self.expression_head = nn.Linear(hidden, config.n_outputs)
        self.accessibility_head = nn.Linear(hidden, 1)
        self.reconstruction_head = nn.Linear(hidden, config.n_features)
        self.tss_embedding = (
            nn.Linear(config.n_outputs, hidden, bias=False) if config.tss_input else None
        )
        self.distance_bias = (
            DistanceBias(config.n_layers, config.n_heads) if config.distance_bias else None
        )
        self.prior_embedding = self.prior_head = None
        if config.expression_prior:
            self._add_prior()
        self.reset_parameters()

    def _add_prior(self) -> None:
        """Create the prior's embedding and its map to the expression head, at zero.

        The map reads the prior and the region's accessibility (the last input feature),
        so that the change of accessibility from its training mean reaches the output
        as directly as the prior does.
        """
        channels = len(PRIOR_CHANNELS)
        self.prior_embedding = nn.Linear(channels, self.config.hidden_dim, bias=False)
        self.prior_head = nn.Linear(channels + 1, self.config.n_outputs, bias=False)
        for layer in (self.prior_embedding, self.prior_head):
            nn.init.zeros_(layer.weight)

    def reset_parameters(self) -> None:
        """Truncated-normal (std 0.02) weights and tokens, zero biases, unit LayerNorms."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=INIT_STD, a=-2 * INIT_STD, b=2 * INIT_STD)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        for token in (self.cls_token, self.mask_token):
            nn.init.trunc_normal_(token, std=INIT_STD, a=-2 * INIT_STD, b=2 * INIT_STD)
        for extension in (
            self.tss_embedding,
            self.distance_bias,
            self.prior_embedding,
            self.prior_head,
        ):
            if extension is not None:
                nn.init.zeros_(next(extension.parameters()))

    def extend(
        self,
        *,
        tss_input: bool = False,
        distance_bias: bool = False,
        expression_prior: bool = False,
    ) -> GETNetwork:
        """Add the extensions asked for that the network lacks, initialised at zero.

        The outputs are unchanged until the new parameters are trained (a published
        checkpoint, for example, predicts as before). Extensions already present are kept.

        Parameters
        ----------
        tss_input, distance_bias, expression_prior
            The extensions to add (see :class:`GETConfig`).

        Returns
        -------
        The network itself, with ``config`` updated.
        """
        reference = self.region_embedding.weight
        if tss_input and self.tss_embedding is None:
            self.tss_embedding = nn.Linear(
                self.config.n_outputs, self.config.hidden_dim, bias=False
            )
            nn.init.zeros_(self.tss_embedding.weight)
            self.tss_embedding.to(reference.device, reference.dtype)
        if distance_bias and self.distance_bias is None:
            self.distance_bias = DistanceBias(self.config.n_layers, self.config.n_heads)
            self.distance_bias.to(reference.device, reference.dtype)
        if expression_prior and self.prior_embedding is None:
            self._add_prior()
            self.prior_embedding.to(reference.device, reference.dtype)
            self.prior_head.to(reference.device, reference.dtype)
        self.config = dataclasses.replace(
            self.config,
            tss_input=self.tss_embedding is not None,
            distance_bias=self.distance_bias is not None,
            expression_prior=self.prior_embedding is not None,
        )
        return self

    def motif_weight_norms(self) -> torch.Tensor:
        """L2 norm of each motif feature's column of the region embedding (all but the last).

        The norm of the effective weight, adapters included, so that it is differentiable
        in whatever is trained.

        Returns
        -------
        ``(n_features - 1,)`` norms.
        """
        return self.region_embedding.weight[:, :-1].norm(dim=0)

    def forward(
        self,
        x: torch.Tensor,
        *,
        mask: torch.Tensor | None = None,
        padding_mask: torch.Tensor | None = None,
        tss: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
        prior: torch.Tensor | None = None,
        at: torch.Tensor | None = None,
    ) -> GETOutput:
        """Predict expression, accessibility and features for windows of regions.

        Parameters
        ----------
        x
            (B, L, n_features) float region features.
        mask
            (B, L) bool, True = region replaced by the learned [MASK] embedding.
        padding_mask
            (B, L) bool, True = padding: excluded from every position's attention keys,
            so real regions' outputs do not depend on it.
        tss
            (B, L, 2) TSS indicators (+, - strand); needed when ``config.tss_input``.
        positions
            (B, L) region midpoints (bp); needed when ``config.distance_bias``.
        prior
            (B, L, 5) expression prior (:data:`~scget.nn.PRIOR_CHANNELS`); needed when
            ``config.expression_prior``.
        at
            (B,) one region per window: the outputs of that region only (each of
            length 1 instead of L; ``region_embedding`` stays whole). The last block then
            computes that region's token alone, the others serving as its keys and
            values: an attribution that reads one output per window needs no more.

        Returns
        -------
        :class:`GETOutput`; values at padded positions are meaningless.

        Raises
        ------
        ValueError
            If ``x`` or the masks have the wrong shape.
        """
        embedding, layers = self._encode(
            x,
            mask=mask,
            padding_mask=padding_mask,
            tss=tss,
            positions=positions,
            prior=prior,
            at=at,
        )
        without = None  # windows where no region has a prior
        if self.config.no_prior_offset and prior is not None:
            without = prior[..., PRIOR_PRESENT].amax(dim=1) == 0
        if at is None:
            hidden = self.norm(layers[-1])[:, 1:]
        else:  # the last block computed the chosen regions' tokens only
            hidden = self.norm(layers[-1])
            rows = torch.arange(len(x), device=x.device)
            x = x[rows, at].unsqueeze(1)
            prior = None if prior is None else prior[rows, at].unsqueeze(1)
        logits = self.expression_head(hidden)
        if self.prior_head is not None:
            direct = torch.cat([prior, x[..., -1:]], dim=-1).to(logits.dtype)
            logits = logits + PRIOR_SCALE * self.prior_head(direct)
        expression = F.softplus(logits, beta=self.config.expression_beta)
        if without is not None:
            offset = self.config.no_prior_offset * without.to(expression.dtype)[:, None, None]
            expression = (expression + offset).clamp_min(0.0)
        return GETOutput(
            expression=expression,
            accessibility=F.softplus(self.accessibility_head(hidden)),
            reconstruction=self.reconstruction_head(hidden),
            hidden=hidden,
            region_embedding=embedding,
        )

    def layer_states(self, x: torch.Tensor, **context: torch.Tensor | None) -> list[torch.Tensor]:
        """Return the regions' hidden states after each block (the regulatory embedding).

        Parameters
        ----------
        x, **context
            As for :meth:`forward` (``mask``, ``padding_mask``, ``tss``, ``positions``,
            ``prior``).

        Returns
        -------
        ``n_layers`` tensors (B, L, H), CLS token dropped, before the final LayerNorm.
        """
        _, layers = self._encode(x, **context)
        return [tokens[:, 1:] for tokens in layers]

    def _encode(
        self, x: torch.Tensor, at: torch.Tensor | None = None, **context: torch.Tensor | None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Check the inputs; return the region embedding and the tokens after each block.

        ``context`` holds the keyword inputs of :meth:`forward` besides ``x`` and ``at``;
        with ``at``, the last block returns the chosen region's token of each window only.
        """
        unknown = sorted(set(context) - set(CONTEXT))
        if unknown:
            raise TypeError(f"Unexpected network input(s) {unknown}; the inputs are {CONTEXT}.")
        mask, padding_mask, tss, positions, prior = (context.get(name) for name in CONTEXT)
        if x.ndim != 3 or x.shape[-1] != self.config.n_features:
            raise ValueError(
                f"x must have shape (batch, regions, {self.config.n_features}), "
                f"got {tuple(x.shape)}."
            )
        for name, value in (("mask", mask), ("padding_mask", padding_mask)):
            if value is not None and tuple(value.shape) != tuple(x.shape[:2]):
                raise ValueError(
                    f"{name} must have shape {tuple(x.shape[:2])} (batch, regions), "
                    f"got {tuple(value.shape)}."
                )
        if self.tss_embedding is not None and (
            tss is None or tuple(tss.shape) != (*x.shape[:2], self.config.n_outputs)
        ):
            raise ValueError(
                f"This network reads TSS indicators: pass tss of shape "
                f"{(*x.shape[:2], self.config.n_outputs)}, got "
                f"{None if tss is None else tuple(tss.shape)}."
            )
        if self.distance_bias is not None and (
            positions is None or tuple(positions.shape) != tuple(x.shape[:2])
        ):
            raise ValueError(
                f"This network has a distance bias: pass positions (region midpoints) of "
                f"shape {tuple(x.shape[:2])}, got "
                f"{None if positions is None else tuple(positions.shape)}."
            )
        if self.prior_embedding is not None and (
            prior is None or tuple(prior.shape) != (*x.shape[:2], len(PRIOR_CHANNELS))
        ):
            raise ValueError(
                f"This network reads an expression prior: pass prior of shape "
                f"{(*x.shape[:2], len(PRIOR_CHANNELS))}, got "
                f"{None if prior is None else tuple(prior.shape)}."
            )
        if at is not None and tuple(at.shape) != (x.shape[0],):
            raise ValueError(
                f"at must have shape ({x.shape[0]},) (one region per window), "
                f"got {tuple(at.shape)}."
            )
        embedding = self.region_embedding(x)
        tokens = embedding
        if self.tss_embedding is not None:
            tokens = tokens + self.tss_embedding(tss.to(tokens.dtype))
        if self.prior_embedding is not None:
            tokens = tokens + self.prior_embedding(prior.to(tokens.dtype))
        if mask is not None:
            tokens = torch.where(
                mask.bool().unsqueeze(-1), self.mask_token.to(tokens.dtype), tokens
            )
        batch = x.shape[0]
        tokens = torch.cat([self.cls_token.to(tokens.dtype).expand(batch, -1, -1), tokens], dim=1)
        masks = [None] * len(self.blocks)
        if self.distance_bias is not None:
            # each block's bias is its whole mask: 0 for the CLS token (row and column 0),
            # -inf at padded keys
            padding = None if padding_mask is None else padding_mask.bool()
            masks = self.distance_bias(positions, tokens.dtype, lead=1, padding=padding)
        elif padding_mask is not None:
            keep = torch.ones(batch, 1, dtype=torch.bool, device=x.device)
            keys = torch.cat([keep, ~padding_mask.bool()], dim=1)[:, None, None, :]
            masks = [keys] * len(self.blocks)
        layers = []
        for number, (block, mask_of_block) in enumerate(zip(self.blocks, masks, strict=True)):
            last = number == len(self.blocks) - 1
            # the CLS token comes first: region i is token i + 1
            tokens = block(tokens, mask_of_block, at + 1 if last and at is not None else None)
            layers.append(tokens)
        return embedding, layers
