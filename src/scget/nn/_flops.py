"""Analytic floating-point operation count of the GET network."""

from __future__ import annotations

from .._shared.constants import WINDOW_SIZE
from ._config import GETConfig


def forward_flops(config: GETConfig, n_regions: int = WINDOW_SIZE) -> int:
    """Count the matrix-multiply FLOPs of one forward pass over one window.

    With ``L = n_regions`` regions, ``T = L + 1`` tokens (CLS included), width ``H``,
    FFN width ``F``, ``n`` input features and ``o`` expression outputs, counting a
    multiply-add as 2 FLOPs::

        embedding   2 L n H
        per block   2 T H (3H)      qkv projection
                  + 2 T^2 H         attention scores Q K^T
                  + 2 T^2 H         weighted values A V
                  + 2 T H H         output projection
                  + 2 T H F * 2     feed-forward, both layers
        heads       2 L H (o + 1 + n)

    LayerNorm, softmax, GELU, Softplus and residual additions (O(T H) each) are left
    out; they are below 1 % for the presets. A training step (forward and backward)
    costs about 3 times this (the backward pass computes gradients with respect to
    both the activations and the weights, 2 forward passes' worth), the convention of
    model-FLOP-utilisation figures.

    Parameters
    ----------
    config
        Network sizes.
    n_regions
        Regions per window.

    Returns
    -------
    FLOPs of one forward pass for one window.
    """
    length, tokens = n_regions, n_regions + 1
    hidden, ffn, n_in = config.hidden_dim, config.ffn_dim, config.n_features
    embedding = 2 * length * n_in * hidden
    block = (
        2 * tokens * hidden * 3 * hidden
        + 4 * tokens * tokens * hidden
        + 2 * tokens * hidden * hidden
        + 4 * tokens * hidden * ffn
    )
    heads = 2 * length * hidden * (config.n_outputs + 1 + n_in)
    return embedding + config.n_layers * block + heads
