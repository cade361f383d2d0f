"""A learned attention bias of the genomic distance between regions."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ._distance_kernels import InterpolatedBias

#: Distances are read on ``log10(1 + |d| / DISTANCE_UNIT)``.
DISTANCE_UNIT = 100.0
#: Distance (bp) of the outermost knots; longer distances share their bias.
MAX_DISTANCE = 5_000_000.0
#: Knots per direction (upstream, downstream): one every ~0.8 decades of distance.
N_KNOTS = 6
#: The bias is this multiple of the learned table: Adam moves every parameter by about
#: the learning rate per step, and attention logits need larger steps than that.
BIAS_SCALE = 10.0


class DistanceBias(nn.Module):
    """Per-layer, per-head attention bias, piecewise linear in the signed log distance.

    The distance ``d`` (bp) from a query region's midpoint to a key region's midpoint is
    mapped to ``u = K + sign(d) * K * log10(1 + |d| / 100) / log10(1 + 5e6 / 100)``,
    clipped to ``[0, 2 K]`` (``K`` = :data:`N_KNOTS`), and the bias is the linear
    interpolation at ``u`` of a learned table of ``2 K + 1`` knots (times
    :data:`BIAS_SCALE`), so it varies smoothly with distance and direction. The
    interpolation is computed once for all layers: on a CPU (float32) in compiled loops
    (:mod:`scget.nn._distance_kernels`), elsewhere as a product with hat functions, once
    per distinct row of positions (perturbations run many copies of a window). The
    table starts at zero: a new bias leaves the network's outputs unchanged.

    Parameters
    ----------
    n_layers, n_heads
        One bias curve per block and head.
    """

    def __init__(self, n_layers: int, n_heads: int) -> None:
        super().__init__()
        self.n_layers, self.n_heads = n_layers, n_heads
        self.table = nn.Parameter(torch.zeros(n_layers, n_heads, 2 * N_KNOTS + 1))

    @staticmethod
    def knot_coordinates(positions: torch.Tensor) -> torch.Tensor:
        """Return ``u`` (B, L, L) of every (query, key) pair of region ``positions`` (B, L)."""
        distance = (positions[:, None, :] - positions[:, :, None]).float()
        scale = N_KNOTS / math.log10(1 + MAX_DISTANCE / DISTANCE_UNIT)
        u = torch.sign(distance) * torch.log10(1 + distance.abs() / DISTANCE_UNIT) * scale
        return u.clamp(-N_KNOTS, N_KNOTS) + N_KNOTS

    def forward(
        self,
        positions: torch.Tensor,
        dtype: torch.dtype = torch.float32,
        *,
        lead: int = 0,
        padding: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, ...]:
        """Return the bias of every block, each (B, n_heads, L + lead, L + lead).

        Parameters
        ----------
        positions
            (B, L) region midpoints in bp.
        dtype
            Floating type of the result.
        lead
            Tokens before the regions (the CLS token): their rows and columns are 0.
        padding
            (B, L) bool, True = padding: the region's column is ``-inf`` (no query
            attends to it), so that the bias is the blocks' whole attention mask.
        """
        if padding is None:
            padding = torch.zeros(positions.shape, dtype=torch.bool, device=positions.device)
        compiled = positions.device.type == "cpu" and dtype == self.table.dtype == torch.float32
        length = positions.shape[1]
        rows = torch.cat([positions, padding.to(positions.dtype)], dim=1)
        if compiled and torch.is_grad_enabled() and self.table.requires_grad:
            # every row: the table's gradient is then summed in a fixed order (through
            # repeated rows, torch's indexing sums it in an order that varies with threads)
            distinct, inverse = rows, None
        else:  # copies of a window (perturbations run hundreds) share positions and padding
            distinct, inverse = torch.unique(rows, dim=0, return_inverse=True)
            if len(distinct) == len(positions):
                distinct, inverse = rows, None
        window_positions, window_padding = distinct[:, :length], distinct[:, length:].bool()
        if compiled:
            u = self.knot_coordinates(window_positions)
            biases = InterpolatedBias.apply(self.table, u, window_padding, BIAS_SCALE, lead)
        else:
            bias = F.pad(self._hat_product(window_positions, dtype), (lead, 0, lead, 0))
            keys = F.pad(window_padding, (lead, 0))[None, :, None, None, :]
            biases = bias.masked_fill(keys, float("-inf")).unbind(0)
        if inverse is None:
            return biases
        if len(distinct) == 1:  # one window: views, no copies
            return tuple(bias.expand(len(positions), -1, -1, -1) for bias in biases)
        return tuple(bias[inverse] for bias in biases)

    def _hat_product(self, positions: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """The (n_layers, B, n_heads, L, L) bias as a product of the knots with hat functions."""
        u = self.knot_coordinates(positions)
        lower = u.floor().clamp(max=2 * N_KNOTS - 1)
        weight = (u - lower).unsqueeze(-1)
        lower = lower.long().unsqueeze(-1)
        # the two non-zero hat functions of each pair: 1 - w at the knot below, w above
        hats = torch.zeros(*u.shape, 2 * N_KNOTS + 1, device=u.device)
        hats = hats.scatter_(-1, lower, 1 - weight).scatter_add_(-1, lower + 1, weight)
        hats = hats.to(dtype).view(-1, 2 * N_KNOTS + 1)
        table = self.table.to(dtype).reshape(self.n_layers * self.n_heads, -1)
        # knots x hats, not hats x knots: the product comes out in the attention layout
        bias = BIAS_SCALE * (table @ hats.T)
        batch, length = positions.shape
        return bias.view(self.n_layers, self.n_heads, batch, length, length).transpose(1, 2)
