"""The inference engine: every computation that runs a trained network over windows.

:func:`scget.tl.predict` runs on it now, and interpretation and perturbation will:

- :func:`promoter_windows`: one row per (group, accessible TSS peak, strand, gene), with
  the window centred on the peak and the peak's offset in it;
- :func:`forward`: batched forward passes, with an optional transform of the input;
- :func:`gradient_x_input`: batched gradient x input of one output (position, strand)
  per window, one backward pass per batch and strand (the windows of a batch are
  independent in eval mode, so the gradient of the sum is each window's gradient);
- :func:`on_device`: moves the network and restores its device and mode, on errors too;
- sharding: under ``torchrun`` (:mod:`torch.distributed` initialised) each rank runs a
  contiguous slice of the windows and every rank receives all results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd

from ..._constants import MIN_ACCESSIBILITY
from ._genes import tss_peak_matrix
from ._windows import RegionInputs, WindowDataset, centred_windows, region_context

#: Columns of :func:`promoter_windows` (``group``: row of the inputs' groups; ``peak``:
#: index into the ATAC ``var``; ``gene``: index into the RNA ``var``; ``strand``: 0 for
#: "+", 1 for "-"; ``start``/``length``: the window in the group's regions; ``offset``:
#: the peak's position in it).
PROMOTER_COLUMNS = ("group", "peak", "strand", "gene", "start", "length", "offset")

#: ``transform(x, windows)``: the input batch (windows x positions x features) and the
#: numbers of its windows; returns the batch to run (e.g. with motifs knocked out).
Transform = Callable[["torch.Tensor", np.ndarray], "torch.Tensor"]  # noqa: F821


def promoter_windows(
    inputs: RegionInputs,
    gene_var: pd.DataFrame,
    peak_names: pd.Index,
    *,
    accessibility: np.ndarray,
    window_size: int,
    min_accessibility: float = MIN_ACCESSIBILITY,
) -> pd.DataFrame:
    """Windows centred on each gene's accessible TSS peaks, one row per group and peak.

    Parameters
    ----------
    inputs
        Model inputs from :func:`scget.tl._core._windows.build_inputs`.
    gene_var
        ``["rna"].var`` with ``tss_peaks`` and ``strand`` (:func:`scget.pp.annotate_tss`).
    peak_names
        ``["atac"].var_names``.
    accessibility
        Accessibility scores, groups x peaks (``["atac"].X``).
    window_size
        Regions per window.
    min_accessibility
        A TSS peak counts in a group from this accessibility score.

    Returns
    -------
    Integer columns :data:`PROMOTER_COLUMNS`, ordered by group, then gene and peak.
    Genes without a known strand have no rows.
    """
    tss = tss_peak_matrix(gene_var, peak_names).tocoo()
    strand = pd.Series(gene_var["strand"].astype(str).to_numpy()).map({"+": 0, "-": 1})
    strand = strand.fillna(-1).to_numpy(dtype=np.int64)[tss.row]
    order = np.lexsort((tss.col, tss.row))
    genes, peaks, strand = tss.row[order], tss.col[order], strand[order]
    parts = []
    for number, group in enumerate(inputs.groups):
        position = np.full(len(peak_names), -1, dtype=np.int64)
        position[group.peaks] = np.arange(len(group.peaks))
        keep = (position[peaks] >= 0) & (strand >= 0)
        keep &= np.asarray(accessibility[number])[peaks] >= min_accessibility
        starts, lengths, offsets = centred_windows(group, position[peaks[keep]], window_size)
        columns = (np.full(keep.sum(), number), peaks[keep], strand[keep], genes[keep])
        parts.append(np.column_stack([*columns, starts, lengths, offsets]))
    rows = np.concatenate(parts) if parts else np.empty((0, len(PROMOTER_COLUMNS)))
    return pd.DataFrame(rows.astype(np.int64), columns=list(PROMOTER_COLUMNS))


@contextmanager
def on_device(network, device) -> Iterator:
    """Run ``network`` on ``device`` in eval mode; restore its device and mode afterwards.

    Parameters
    ----------
    network
        A :class:`torch.nn.Module`.
    device
        The :class:`torch.device` to run on.

    Yields
    ------
    The network, moved and in eval mode.
    """
    import torch

    first = next(network.parameters(), None)
    home = first.device if first is not None else torch.device("cpu")
    training = network.training
    network.to(device).eval()
    try:
        yield network
    finally:
        network.to(home)
        network.train(training)


def forward(
    network,
    inputs: RegionInputs,
    windows: np.ndarray,
    *,
    window_size: int,
    batch_size: int,
    device,
    transform: Transform | None = None,
) -> np.ndarray:
    """Expression predicted on each window, in batches of ``batch_size`` (no gradients).

    Parameters
    ----------
    network
        The :class:`scget.nn.GETNetwork`, on ``device`` and in eval mode
        (:func:`on_device`).
    inputs
        Model inputs.
    windows
        Window index (windows x 3: group, start, length).
    window_size
        Length every window is padded to.
    batch_size
        Windows per forward pass.
    device
        The network's :class:`torch.device`; bfloat16 autocast on CUDA.
    transform
        Applied to each input batch before the forward pass.

    Returns
    -------
    float32 array, windows x ``window_size`` x 2 (plus, minus strand).
    """
    import torch

    def run(batch, rows):
        x = _inputs(batch, rows, device, transform)
        with torch.no_grad():
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                out = network(x, **_context(batch, device))
            return out.expression.float().cpu().numpy()

    return _map_batches(run, inputs, windows, window_size, batch_size, (window_size, 2))


def gradient_x_input(
    network,
    inputs: RegionInputs,
    windows: np.ndarray,
    *,
    offsets: np.ndarray,
    strands: np.ndarray,
    window_size: int,
    batch_size: int,
    device,
    transform: Transform | None = None,
) -> np.ndarray:
    """Gradient x input of one output of each window: position ``offsets``, strand ``strands``.

    One backward pass per batch and strand, in float32: the windows of a batch do not
    interact in eval mode, so the gradient of the summed outputs is each window's own.

    Parameters
    ----------
    network
        The network, on ``device`` and in eval mode (:func:`on_device`).
    inputs
        Model inputs.
    windows
        Window index (windows x 3).
    offsets
        Output position in each window.
    strands
        Output strand of each window (0: plus, 1: minus).
    window_size
        Length every window is padded to.
    batch_size
        Windows per pass.
    device
        The network's :class:`torch.device`.
    transform
        Applied to each input batch first; the gradient is with respect to its output.

    Returns
    -------
    float32 array, windows x ``window_size`` x features (zero at padding).
    """
    import torch

    offsets = np.asarray(offsets, dtype=np.int64)
    strands = np.asarray(strands, dtype=np.int64)

    def run(batch, rows):
        x = _inputs(batch, rows, device, transform).detach().requires_grad_(True)
        out = network(x, **_context(batch, device)).expression
        gradient = torch.zeros_like(x)
        for strand in (0, 1):
            chosen = np.flatnonzero(strands[rows] == strand)
            if chosen.size == 0:
                continue
            target = out[chosen, offsets[rows][chosen], strand].sum()
            (grad,) = torch.autograd.grad(target, x, retain_graph=True)
            gradient[chosen] = grad[chosen]
        return (gradient * x).detach().cpu().numpy()

    shape = (window_size, inputs.n_features)
    return _map_batches(run, inputs, windows, window_size, batch_size, shape)


def _inputs(batch, rows: np.ndarray, device, transform: Transform | None):
    """The batch's input tensor on ``device``, transformed."""
    x = batch["x"].to(device)
    return x if transform is None else transform(x, rows)


def _context(batch, device) -> dict:
    """The batch's padding mask, TSS indicators and region positions on ``device``."""
    return {key: value.to(device) for key, value in region_context(batch).items()}


def _map_batches(run, inputs, windows, window_size, batch_size, shape) -> np.ndarray:
    """``run(batch, window numbers)`` over this rank's windows; all ranks' results gathered."""
    from torch.utils.data import DataLoader

    windows = np.asarray(windows, dtype=np.int64).reshape(-1, 3)
    mine = _shard(len(windows))
    loader = DataLoader(WindowDataset(inputs, windows[mine], window_size), batch_size=batch_size)
    parts = [run(batch, mine[batch["index"].numpy()]) for batch in loader]
    local = np.concatenate(parts) if parts else np.empty((0, *shape), dtype=np.float32)
    return _gather(local, len(windows))


def _distributed() -> tuple[int, int] | None:
    """``(rank, world size)`` when :mod:`torch.distributed` is initialised, else ``None``."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return None


def _shard(n: int) -> np.ndarray:
    """Numbers of the windows this rank runs: a contiguous slice, or all of them."""
    ranks = _distributed()
    if ranks is None:
        return np.arange(n)
    rank, world = ranks
    return np.array_split(np.arange(n), world)[rank]


def _gather(local: np.ndarray, n: int) -> np.ndarray:
    """Every rank's slice, concatenated in window order (``local`` alone in one process)."""
    ranks = _distributed()
    if ranks is None:
        return local
    import torch.distributed as dist

    parts: list = [None] * ranks[1]
    dist.all_gather_object(parts, local)
    gathered = np.concatenate(parts)
    if len(gathered) != n:
        raise RuntimeError(f"Gathered {len(gathered)} results for {n} windows.")
    return gathered
