"""The GET network: region embedding, CLS token, transformer encoder and three heads."""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ._config import GETConfig
from ._layers import LAYER_NORM_EPS, EncoderBlock

#: Standard deviation of the truncated-normal initialisation (as ViT and BERT).
INIT_STD = 0.02


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
        (B, L, H) output of the region embedding, before masking (for Jacobians).
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
        self.reset_parameters()

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

    def forward(
        self,
        x: torch.Tensor,
        *,
        mask: torch.Tensor | None = None,
        padding_mask: torch.Tensor | None = None,
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

        Returns
        -------
        :class:`GETOutput`; values at padded positions are meaningless.

        Raises
        ------
        ValueError
            If ``x`` or the masks have the wrong shape.
        """
        embedding, layers = self._encode(x, mask, padding_mask)
        hidden = self.norm(layers[-1])[:, 1:]
        return GETOutput(
            expression=F.softplus(self.expression_head(hidden)),
            accessibility=F.softplus(self.accessibility_head(hidden)),
            reconstruction=self.reconstruction_head(hidden),
            hidden=hidden,
            region_embedding=embedding,
        )

    def layer_states(
        self,
        x: torch.Tensor,
        *,
        mask: torch.Tensor | None = None,
        padding_mask: torch.Tensor | None = None,
    ) -> list[torch.Tensor]:
        """Return the regions' hidden states after each block (the regulatory embedding).

        Parameters
        ----------
        x, mask, padding_mask
            As for :meth:`forward`.

        Returns
        -------
        ``n_layers`` tensors (B, L, H), CLS token dropped, before the final LayerNorm.
        """
        _, layers = self._encode(x, mask, padding_mask)
        return [tokens[:, 1:] for tokens in layers]

    def _encode(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        padding_mask: torch.Tensor | None,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Check the inputs; return the region embedding and the tokens after each block."""
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
        embedding = self.region_embedding(x)
        tokens = embedding
        if mask is not None:
            tokens = torch.where(
                mask.bool().unsqueeze(-1), self.mask_token.to(tokens.dtype), tokens
            )
        batch = x.shape[0]
        tokens = torch.cat([self.cls_token.to(tokens.dtype).expand(batch, -1, -1), tokens], dim=1)
        attn_mask = None
        if padding_mask is not None:
            keep = torch.ones(batch, 1, dtype=torch.bool, device=x.device)
            attn_mask = torch.cat([keep, ~padding_mask.bool()], dim=1)[:, None, None, :]
        layers = []
        for block in self.blocks:
            tokens = block(tokens, attn_mask)
            layers.append(tokens)
        return embedding, layers
