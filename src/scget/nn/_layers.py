"""The pre-LayerNorm transformer block of the GET encoder."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: LayerNorm epsilon of the published GET encoder.
LAYER_NORM_EPS = 1e-6


def drop_path(x: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """Stochastic depth: zero whole samples of a residual branch with probability ``rate``.

    Kept samples are scaled by ``1 / (1 - rate)`` so that the expectation is unchanged.
    """
    if rate == 0.0 or not training:
        return x
    keep = 1.0 - rate
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    return x * x.new_empty(shape).bernoulli_(keep).div_(keep)


def biased_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor
) -> torch.Tensor:
    """Attention with a learned float ``bias`` on the logits, as torch's math kernel does it.

    On a CPU, a bias that needs a gradient sends
    :func:`torch.nn.functional.scaled_dot_product_attention` to its unfused math kernel,
    which also checks every row for being entirely ``-inf`` (its "safe" softmax). Rows
    here always keep the CLS token, so this is the same computation, operation for
    operation (bit-identical outputs and gradients, tested), without the check: 5-9 ms
    of a 170-195 ms training step of the tiny preset on one CPU thread.
    """
    scale = math.sqrt(1.0 / math.sqrt(q.shape[-1]))
    logits = torch.matmul(q * scale, k.transpose(-2, -1) * scale)
    logits.add_(bias)
    return torch.matmul(torch.softmax(logits, dim=-1), v)


class EncoderBlock(nn.Module):
    """LayerNorm -> self-attention -> residual; LayerNorm -> GELU feed-forward -> residual.

    Parameters
    ----------
    hidden_dim
        Token width.
    n_heads
        Attention heads.
    ffn_dim
        Inner width of the feed-forward network.
    dropout
        Dropout after the attention projection, after the GELU and after the second
        feed-forward layer.
    attention_dropout
        Dropout on the attention weights.
    drop_path_rate
        Stochastic-depth rate of both residual branches.
    """

    def __init__(
        self,
        hidden_dim: int,
        n_heads: int,
        ffn_dim: int,
        dropout: float,
        attention_dropout: float,
        drop_path_rate: float,
    ):
        super().__init__()
        self.n_heads = n_heads
        self.attention_dropout = attention_dropout
        self.drop_path_rate = drop_path_rate
        self.norm1 = nn.LayerNorm(hidden_dim, eps=LAYER_NORM_EPS)
        self.qkv = nn.Linear(hidden_dim, 3 * hidden_dim)
        self.proj = nn.Linear(hidden_dim, hidden_dim)
        self.norm2 = nn.LayerNorm(hidden_dim, eps=LAYER_NORM_EPS)
        self.fc1 = nn.Linear(hidden_dim, ffn_dim)
        self.fc2 = nn.Linear(ffn_dim, hidden_dim)
        self.dropout = nn.Dropout(dropout)

    def attention(
        self,
        x: torch.Tensor,
        attn_mask: torch.Tensor | None,
        queries: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Multi-head self-attention of ``x`` (B, T, H).

        ``attn_mask`` is boolean (True = may attend) or a float bias added to the logits.
        With ``queries`` (B,) token indices, only each window's token at its index
        attends (to every token): the result is (B, 1, H).
        """
        batch, tokens, width = x.shape
        qkv = self.qkv(x).view(batch, tokens, 3, self.n_heads, width // self.n_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        if queries is not None:
            rows = torch.arange(batch, device=x.device)
            q = q[rows, :, queries].unsqueeze(2)
            if attn_mask is not None and attn_mask.shape[-2] > 1:  # a bias: its query rows
                attn_mask = attn_mask[rows, :, queries].unsqueeze(2)
            tokens = 1
        dropout = self.attention_dropout if self.training else 0.0
        if (
            attn_mask is not None
            and attn_mask.requires_grad
            and dropout == 0.0
            and x.device.type == "cpu"  # elsewhere torch has fused kernels with a bias gradient
        ):
            out = biased_attention(q, k, v, attn_mask)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout)
        return self.proj(out.transpose(1, 2).reshape(batch, tokens, width))

    def forward(
        self,
        x: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
        queries: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Apply the block to tokens ``x`` (B, T, H).

        With ``queries`` (B,) token indices, return only each window's token at its
        index, (B, 1, H): the other tokens still serve as keys and values.
        """
        branch = self.dropout(self.attention(self.norm1(x), attn_mask, queries))
        if queries is not None:
            x = x[torch.arange(len(x), device=x.device), queries].unsqueeze(1)
        x = x + drop_path(branch, self.drop_path_rate, self.training)
        branch = self.dropout(self.fc2(self.dropout(F.gelu(self.fc1(self.norm2(x))))))
        return x + drop_path(branch, self.drop_path_rate, self.training)
