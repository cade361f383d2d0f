"""The distance bias on a CPU: the interpolation and its gradient in compiled loops.

:class:`~scget.nn.DistanceBias` interpolates a table of knots at every (query, key)
pair of a window. As tensor operations this builds a (windows x L x L x knots) table of
hat functions, multiplies it with the knots and pads the product for the CLS token, and
the gradient repeats the product; on one CPU thread these passes over memory took about
40 ms of a 140 ms training step of the tiny preset. Here the two non-zero hat functions
of each pair are applied directly, the bias is written in the padded layout the blocks
read, and each block gets a tensor of its own, so that the backward pass builds no
zero-filled joint gradient.
"""

from __future__ import annotations

import numba
import numpy as np
import torch


class InterpolatedBias(torch.autograd.Function):
    """One bias per block: ``scale * (table[k] * (1 - w) + table[k + 1] * w)`` at each pair.

    ``apply(table, u, padding, scale, lead)`` takes the (n_layers, n_heads, knots)
    float32 table on the CPU, the (B, L, L) float32 knot coordinates ``u`` of
    :meth:`~scget.nn.DistanceBias.knot_coordinates` (``k`` is ``u``'s integer part,
    at most ``knots - 2``, and ``w = u - k``) and the (B, L) bool padding of the keys,
    and returns one (B, n_heads, L + lead, L + lead) tensor per block whose first
    ``lead`` rows and columns are 0 and whose padded keys' columns are ``-inf``. Only
    the table gets a gradient (none flows from a padded key: its attention weight is
    0); its sums are taken in float64.
    """

    @staticmethod
    def forward(ctx, table, u: torch.Tensor, padding: torch.Tensor, scale: float, lead: int):
        u, padding = u.contiguous(), padding.contiguous()
        ctx.save_for_backward(u, padding)
        ctx.scale, ctx.lead, ctx.n_knots = scale, lead, table.shape[-1]
        table = table.detach().contiguous().numpy()
        out = _interpolate(table, u.numpy(), padding.numpy(), scale, lead)
        return tuple(torch.from_numpy(out).unbind(0))

    @staticmethod
    def backward(ctx, *grads: torch.Tensor):
        u, padding = (saved.numpy() for saved in ctx.saved_tensors)
        arrays = tuple(grad.contiguous().numpy() for grad in grads)
        gradient = _table_gradient(arrays, u, padding, ctx.n_knots, ctx.scale, ctx.lead)
        return torch.from_numpy(gradient.astype(np.float32)), None, None, None, None


# Indices are unsigned in the loops below: numba then needs no check for negative
# indices, and the loops compile to vector instructions (3x faster here).


@numba.njit(cache=True, nogil=True)
def _row_weights(u_row, top, lower, below, above, starts) -> int:  # pragma: no cover
    """Each pair's knot below (at most ``top``) and its weights ``1 - w`` and ``w``.

    Also splits the row into runs of pairs that share their knot below: writes each
    run's first pair into ``starts`` (closed by the row's length) and returns the number
    of runs. Regions of a window are sorted, so the knot below rises along a row and a
    row has at most one run per knot.
    """
    n_runs = 0
    for j in range(len(u_row)):
        k = min(int(u_row[j]), top)  # u >= 0: int() is the floor
        weight = u_row[j] - np.float32(k)
        below[j], above[j] = np.float32(1.0) - weight, weight
        if n_runs == 0 or k != lower[j - 1]:
            starts[n_runs] = j
            n_runs += 1
        lower[j] = k
    starts[n_runs] = len(u_row)
    return n_runs


@numba.njit(cache=True, nogil=True)
def _interpolate(table, u, padding, scale, lead):  # pragma: no cover - compiled
    """The (n_layers, B, n_heads, L + lead, L + lead) biases of :class:`InterpolatedBias`."""
    n_layers, n_heads, n_knots = table.shape
    batch, length = u.shape[0], u.shape[1]
    size = length + lead
    out = np.empty((n_layers, batch, n_heads, size, size), np.float32)
    flat = out.reshape(-1)
    lower, starts = np.empty(length, np.uint64), np.empty(length + 1, np.uint64)
    below, above = np.empty(length, np.float32), np.empty(length, np.float32)
    scale = np.float32(scale)
    for b in range(batch):
        for i in range(length):
            _row_weights(u[b, i], n_knots - 2, lower, below, above, starts)
            for layer in range(n_layers):
                for head in range(n_heads):
                    knots = table[layer, head]
                    plane = ((layer * batch + b) * n_heads + head) * size
                    if i == 0:
                        for row in range(plane, plane + lead):
                            flat[row * size : row * size + lead] = 0.0
                            for j in range(length):
                                flat[row * size + lead + j] = -np.inf if padding[b, j] else 0.0
                    first = np.uint64((plane + lead + i) * size)
                    flat[first : first + lead] = 0.0
                    first += np.uint64(lead)
                    for j in range(np.uint64(length)):
                        k = lower[j]
                        value = knots[k] * below[j] + knots[k + np.uint64(1)] * above[j]
                        flat[first + j] = scale * value
                    for j in range(length):
                        if padding[b, j]:
                            flat[first + np.uint64(j)] = -np.inf
    return out


@numba.njit(cache=True, nogil=True, fastmath={"reassoc"})
def _table_gradient(grads, u, padding, n_knots, scale, lead):  # pragma: no cover - compiled
    """The (n_layers, n_heads, n_knots) float64 gradient of the table from each block's.

    Each run of pairs on the same knots is summed (in any order) before it is added;
    padded keys, whose bias is a constant ``-inf``, add nothing.
    """
    n_layers = len(grads)
    n_heads = grads[0].shape[1]
    batch, length = u.shape[0], u.shape[1]
    size = length + lead
    gradient = np.zeros((n_layers, n_heads, n_knots))
    lower, starts = np.empty(length, np.uint64), np.empty(length + 1, np.uint64)
    below, above = np.empty(length, np.float32), np.empty(length, np.float32)
    for b in range(batch):
        for i in range(length):
            n_runs = _row_weights(u[b, i], n_knots - 2, lower, below, above, starts)
            for layer in range(n_layers):
                flat = grads[layer].reshape(-1)
                for head in range(n_heads):
                    first = np.uint64(((b * n_heads + head) * size + lead + i) * size + lead)
                    for run in range(n_runs):
                        sum_below, sum_above = 0.0, 0.0
                        for j in range(starts[run], starts[run + 1]):
                            value = 0.0 if padding[b, j] else np.float64(flat[first + j])
                            sum_below += value * below[j]
                            sum_above += value * above[j]
                        k = lower[starts[run]]
                        gradient[layer, head, k] += sum_below
                        gradient[layer, head, k + np.uint64(1)] += sum_above
    return gradient * scale
