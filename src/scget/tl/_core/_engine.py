"""The inference engine: every computation that runs a trained network over windows.

:func:`scget.tl.predict` runs on it now, and interpretation and perturbation will:

- :func:`promoter_windows`: one row per (group, accessible TSS peak, strand, gene), with
  the window centred on the peak and the peak's offset in it;
- :func:`forward`: batched forward passes, with an optional transform of the input;
- :func:`attribute`: one output (position, strand) per window, with its gradients with
  respect to the input and the region embedding and the hidden state at that position
  after a chosen block, all from one forward and at most one backward pass per batch
  (the windows of a batch are independent in eval mode, so the gradient of the summed
  outputs is each window's own), reduced per batch by the caller: nothing of a batch
  but the reduction outlives it, so memory does not grow with the windows;
- :func:`on_device`: moves the network and restores its device and mode, on errors too;
- sharding: under ``torchrun`` (:mod:`torch.distributed` initialised) each rank runs a
  contiguous slice of the windows and every rank receives all results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist

from ..._shared.constants import MIN_ACCESSIBILITY
from ..._shared.logging import progress
from ._genes import tss_peak_matrix
from ._windows import RegionInputs, centred_windows, gather_windows, region_context

#: Columns of :func:`promoter_windows` (``group``: row of the inputs' groups; ``peak``:
#: index into the ATAC ``var``; ``gene``: index into the RNA ``var``; ``strand``: 0 for
#: "+", 1 for "-"; ``start``/``length``: the window in the group's regions; ``offset``:
#: the peak's position in it).
PROMOTER_COLUMNS = ("group", "peak", "strand", "gene", "start", "length", "offset")

#: Network outputs :func:`forward` can return, with their number of values per region.
HEADS = {"expression": 2, "accessibility": 1}

#: ``transform(x, windows)``: the input batch (windows x positions x features) and the
#: numbers of its windows; returns the batch to run (e.g. with motifs knocked out).
Transform = Callable[["torch.Tensor", np.ndarray], "torch.Tensor"]

#: ``read(output, windows)``: the network's output of a batch (a
#: :class:`scget.nn.GETOutput`) and the numbers of its windows; returns what
#: :func:`forward` keeps of each window (a tensor, one row per window).
Read = Callable[[Any, np.ndarray], "torch.Tensor"]


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
    heads: Sequence[str] = ("expression",),
    read: Read | None = None,
    shape: tuple[int, ...] = (),
    desc: str | None = None,
) -> np.ndarray:
    """Outputs of ``heads`` on each window, in batches of ``batch_size`` (no gradients).

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
    heads
        Outputs to return, from :data:`HEADS`, side by side in this order.
    read
        What to keep of each window's output, in place of its full ``heads`` outputs
        (e.g. one position), so that memory grows with the kept values only.
    shape
        Shape of a window's row of ``read``.
    desc
        Label of a progress bar over the batches (none when ``None``).

    Returns
    -------
    float32 array, windows x ``window_size`` x outputs (for ``"expression"`` 2: plus,
    minus strand; for ``"accessibility"`` 1), or windows x ``shape`` with ``read``.
    """
    unknown = [head for head in heads if head not in HEADS]
    if unknown or not heads:
        raise ValueError(f"heads must be a non-empty subset of {HEADS}, got {list(heads)}.")

    def run(batch, rows):
        x = _inputs(batch, rows, device, transform)
        with torch.no_grad():
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                out = network(x, **_context(batch, device))
            if read is not None:
                return read(out, rows).float().cpu().numpy()
            values = [getattr(out, head).float() for head in heads]
            return torch.cat(values, dim=-1).cpu().numpy()

    if read is None:
        shape = (window_size, sum(HEADS[head] for head in heads))
    return _map_batches(run, inputs, windows, window_size, batch_size, shape, desc=desc)


@dataclass(frozen=True)
class Attribution:
    """One batch of :func:`attribute`, handed to its reduction (tensors on the device).

    Attributes
    ----------
    rows
        Numbers of the batch's windows.
    x
        The input batch, windows x positions x features (after the transform).
    padding_mask
        True at padding, windows x positions.
    output
        The chosen output of each window (its position and strand), float32.
    input_gradient
        Gradient of ``output`` with respect to ``x``, or ``None`` when not asked for.
    embedding_gradient
        Gradient of ``output`` with respect to the region embedding (windows x
        positions x hidden), or ``None``.
    state
        Hidden state at the chosen position after block ``layer`` (windows x hidden),
        or ``None``.
    """

    rows: np.ndarray
    x: torch.Tensor
    padding_mask: torch.Tensor
    output: torch.Tensor
    input_gradient: torch.Tensor | None
    embedding_gradient: torch.Tensor | None
    state: torch.Tensor | None


#: ``reduce(attribution)``: an array, one row per window of the batch, of ``shape``.
Reduce = Callable[[Attribution], np.ndarray]

#: Gradients :func:`attribute` can take: with respect to the input, the region embedding.
GRADIENTS = ("input", "embedding")


def attribute(
    network,
    inputs: RegionInputs,
    windows: np.ndarray,
    *,
    offsets: np.ndarray,
    strands: np.ndarray,
    window_size: int,
    batch_size: int,
    device,
    reduce: Reduce,
    shape: tuple[int, ...],
    gradients: tuple[str, ...] = ("input",),
    layer: int | None = None,
    transform: Transform | None = None,
    desc: str | None = None,
) -> np.ndarray:
    """Reduced gradients and hidden states of one output of each window, in one pass.

    Per batch: one float32 forward pass (no autocast), and one backward pass of the
    sum of the chosen outputs when ``gradients`` are asked for; ``reduce`` turns the
    batch's :class:`Attribution` into one small row per window at once.

    Parameters
    ----------
    network
        The network, on ``device`` and in eval mode (:func:`on_device`): called as
        :class:`scget.nn.GETNetwork` is, with ``at`` (the chosen output's region of each
        window, unless ``layer`` is the last block), with ``expression`` (windows x
        positions x strands) and ``region_embedding`` outputs and, for ``layer``,
        ``blocks``.
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
    reduce
        Turns a batch into an array of one row of ``shape`` per window.
    shape
        Shape of a window's row of ``reduce``.
    gradients
        A subset of :data:`GRADIENTS`; empty for a forward pass only.
    layer
        Block whose output at the chosen position is ``state`` (``-1``: the last);
        ``None`` for none.
    transform
        Applied to each input batch first; gradients are with respect to its output.
    desc
        Label of a progress bar over the batches (none when ``None``).

    Returns
    -------
    The rows of every window, windows x ``shape`` (float32, gathered over ranks).
    """
    unknown = set(gradients) - set(GRADIENTS)
    if unknown:
        raise ValueError(f"Unknown gradients {sorted(unknown)}; choose from {list(GRADIENTS)}.")
    offsets = np.asarray(offsets, dtype=np.int64)
    strands = np.asarray(strands, dtype=np.int64)
    whole = layer is not None and layer % len(network.blocks) == len(network.blocks) - 1

    def run(batch, rows):
        x = _inputs(batch, rows, device, transform).detach().float()
        x.requires_grad_(bool(gradients))  # also when parameters are frozen
        states: list = []
        hook = None
        if layer is not None:
            hook = network.blocks[layer].register_forward_hook(
                lambda module, args, result: states.append(result)
            )
        chosen = torch.arange(len(rows), device=device)
        positions = torch.as_tensor(offsets[rows], device=device)
        try:
            with torch.set_grad_enabled(bool(gradients)):
                # the last block computes the chosen regions only, unless its states are read
                out = network(x, **_context(batch, device), at=None if whole else positions)
        finally:
            if hook is not None:
                hook.remove()
        at = positions if whole else torch.zeros_like(positions)
        output = out.expression[chosen, at, torch.as_tensor(strands[rows], device=device)]
        wrt = {"input": x, "embedding": out.region_embedding}
        grads = dict.fromkeys(GRADIENTS)
        if gradients:
            names = [name for name in GRADIENTS if name in gradients]
            values = torch.autograd.grad(output.sum(), [wrt[name] for name in names])
            grads.update(zip(names, values, strict=True))
        state = None
        if states:  # the last positions are the regions (a CLS token may come first)
            state = states[0][:, -x.shape[1] :][chosen, positions].detach()
        attribution = Attribution(
            rows=rows,
            x=x.detach(),
            padding_mask=batch["padding_mask"].to(device),
            output=output.detach().float(),
            input_gradient=grads["input"],
            embedding_gradient=grads["embedding"],
            state=state,
        )
        return np.asarray(reduce(attribution), dtype=np.float32)

    return _map_batches(run, inputs, windows, window_size, batch_size, shape, desc=desc)


def _inputs(batch, rows: np.ndarray, device, transform: Transform | None):
    """The batch's input tensor on ``device``, transformed."""
    x = batch["x"].to(device)
    return x if transform is None else transform(x, rows)


def _context(batch, device) -> dict:
    """The batch's padding mask, TSS indicators and region positions on ``device``."""
    return {key: value.to(device) for key, value in region_context(batch).items()}


def _map_batches(
    run, inputs, windows, window_size, batch_size, shape, desc: str | None = None
) -> np.ndarray:
    """``run(batch, window numbers)`` over this rank's windows; all ranks' results gathered.

    Each batch is gathered in one vectorised step (:func:`gather_windows`), the next one
    in a background thread while ``run`` computes the current one.
    """
    windows = np.asarray(windows, dtype=np.int64).reshape(-1, 3)
    mine = _shard(len(windows))
    chunks = [mine[i : i + batch_size] for i in range(0, len(mine), batch_size)]
    parts = []
    with ThreadPoolExecutor(max_workers=1) as pool:

        def fetch(number: int):
            return pool.submit(gather_windows, inputs, windows[chunks[number]], window_size)

        pending = fetch(0) if chunks else None
        numbers = range(len(chunks))
        for number in numbers if desc is None else progress(numbers, desc=desc, unit="batch"):
            batch = pending.result()
            if number + 1 < len(chunks):
                pending = fetch(number + 1)
            parts.append(run(batch, chunks[number]))
    local = np.concatenate(parts) if parts else np.empty((0, *shape), dtype=np.float32)
    return _gather(local, len(windows))


def _distributed() -> tuple[int, int] | None:
    """``(rank, world size)`` when :mod:`torch.distributed` is initialised, else ``None``."""
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

    parts: list = [None] * ranks[1]
    dist.all_gather_object(parts, local)
    gathered = np.concatenate(parts)
    if len(gathered) != n:
        raise RuntimeError(f"Gathered {len(gathered)} results for {n} windows.")
    return gathered
