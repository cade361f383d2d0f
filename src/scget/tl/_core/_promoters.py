"""The promoter pass shared by interpretation and perturbation.

:func:`promoters` checks the input and chooses the promoter windows (one per group,
accessible TSS peak and gene, centred on the peak) before any work; :func:`run` sends
them through :func:`scget.tl._core._engine.attribute` once, reducing each batch at once
to one small row per window (the output at the TSS peak on the gene's strand, the mean
gradient x input over the window's regions, the L2 norm of the region-embedding
gradient per region, the promoter token's hidden state), whichever are asked for;
:func:`per_gene` averages window rows over each gene's TSS peaks, as ``get_pred`` does;
:func:`run_copies` runs copies of chosen windows, each changed by a transform (knockouts,
perturbations).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch
from numpy.typing import DTypeLike

from ..._shared.constants import MIN_ACCESSIBILITY, WINDOW_SIZE, group_slot
from ..._shared.utils import chosen_positions, modality, resolve_device, to_dense
from ._engine import Transform, attribute, on_device, promoter_windows
from ._model import GETModel, check_model
from ._prior import model_inputs
from ._windows import RegionInputs, build_inputs


@dataclass(frozen=True)
class Promoters:
    """The promoter windows of an interpretation and what they are read from.

    Attributes
    ----------
    inputs
        Model inputs of the pseudobulk.
    table
        :func:`scget.tl._core._engine.promoter_windows` rows of the chosen genes and
        groups.
    groups
        Numbers of the chosen groups.
    genes
        Numbers of the chosen genes.
    scores
        Accessibility scores, groups x peaks (``["atac"].X``).
    params
        The choices and the model's settings, as the results record them.
    """

    inputs: RegionInputs
    table: pd.DataFrame
    groups: np.ndarray
    genes: np.ndarray
    scores: np.ndarray
    params: dict

    def take(self, rows: np.ndarray) -> Promoters:
        """The windows ``rows`` of the table, in that order (a window may repeat)."""
        return replace(self, table=self.table.iloc[rows].reset_index(drop=True))


def promoters(
    pb,
    model: GETModel | None,
    *,
    genes: Sequence[str] | None,
    groups: Sequence[str] | None,
    rna: str,
    atac: str,
    motif_key: str,
    window_size: int = WINDOW_SIZE,
    prior: bool = True,
) -> Promoters:
    """Check the input and choose the promoter windows of ``genes`` in ``groups``.

    Without a model (scores that need none), the windows hold ``window_size`` regions
    and the accessibility feature is the score. ``prior=False`` hides a model's expression
    prior (:func:`~._prior.model_inputs`): interpretation explains a gene from its
    sequence and accessibility, not from its training groups' expression.

    Raises
    ------
    ValueError, KeyError
        As listed in :data:`scget._shared.docs.FRAGMENTS` ``["errors"]``.
    """
    if model is not None:
        check_model(model).check_features(pb, atac=atac, motif_key=motif_key)
        window_size = model.window_size
    binary = model is not None and model.binary
    var = modality(pb, rna).var
    if "strand" not in var.columns:
        raise KeyError(f'pb["{rna}"].var has no "strand" column; run scget.pp.annotate_tss.')
    group_names = pd.Index(modality(pb, atac).obs_names.astype(str))
    if list(pb[rna].obs_names) != list(group_names):
        raise ValueError(f"pb[{rna!r}] and pb[{atac!r}] must hold the same groups in order.")
    gene_numbers = chosen_positions(genes, pd.Index(pb[rna].var_names.astype(str)), "gene", rna)
    group_numbers = chosen_positions(groups, group_names, "group", rna)
    slashed = [name for name in group_names[group_numbers] if "/" in name]
    if slashed:
        raise ValueError(f"Group names {slashed[:5]} hold '/', which HDF5 keys cannot: rename.")
    if model is None:
        inputs = build_inputs(pb, binary=False, with_targets=False, atac=atac, motif_key=motif_key)
    else:
        inputs = model_inputs(pb, model, rna=rna, atac=atac, motif_key=motif_key, prior=prior)
    scores = to_dense(pb[atac].X, np.float32)
    table = promoter_windows(
        inputs, var, pb[atac].var_names, accessibility=scores, window_size=window_size
    )
    keep = table["gene"].isin(gene_numbers) & table["group"].isin(group_numbers)
    table = table[keep].reset_index(drop=True)
    if table.empty:
        raise ValueError(
            f"No chosen gene has an accessible TSS peak (accessibility score >= "
            f"{MIN_ACCESSIBILITY}) in a chosen group: nothing to interpret."
        )
    params = {"genes": genes, "groups": groups, "binary": binary}
    params |= {"window_size": window_size, "rna": rna, "atac": atac, "motif_key": motif_key}
    if model is not None and model.network.config.expression_prior:
        params["expression_prior"] = prior
    return Promoters(inputs, table, group_numbers, gene_numbers, scores, params)


def run(
    promoters: Promoters,
    model: GETModel,
    *,
    motifs: bool = False,
    regions: bool = False,
    layer: int | None = None,
    quantitative: bool = True,
    transform: Transform | None = None,
    batch_size: int,
    device: str | None,
    desc: str,
) -> dict[str, np.ndarray]:
    """One engine pass over the promoter windows; per window, what is asked for.

    Parameters
    ----------
    promoters
        From :func:`promoters`.
    model
        The model.
    motifs
        Mean over the window's regions of gradient x input (windows x features).
    regions
        L2 norm of the region-embedding gradient per region (windows x window size;
        zero at padding).
    layer
        The promoter token's hidden state after this block (windows x hidden).
    quantitative
        With a binary-accessibility model, multiply the accessibility gradient by the
        accessibility score instead of the binary input.
    transform
        Applied to each input batch first (:func:`scget.tl._core._engine.attribute`).
    batch_size, device, desc
        Windows per pass, torch device, progress label.

    Returns
    -------
    ``"output"`` (the output at the TSS peak), and ``"motifs"``, ``"regions"``,
    ``"state"`` as asked for, one row per row of ``promoters.table``.
    """
    inputs, table = promoters.inputs, promoters.table
    window_size = model.window_size
    widths = {"output": 1}
    if motifs:
        widths["motifs"] = inputs.n_features
    if regions:
        widths["regions"] = window_size
    if layer is not None:
        widths["state"] = model.network.config.hidden_dim
    scored = motifs and quantitative and model.binary
    windows = table[["group", "start", "length"]].to_numpy()
    device = resolve_device(device)

    def reduce(attribution) -> np.ndarray:
        real = (~attribution.padding_mask).float()
        columns = [attribution.output[:, None]]
        if motifs:
            multiplier = attribution.x
            if scored:
                multiplier = multiplier.clone()
                score = _window_scores(promoters, windows[attribution.rows], window_size)
                multiplier[..., -1] = torch.from_numpy(score).to(multiplier.device)
            gradient_x_input = attribution.input_gradient * multiplier
            columns.append(gradient_x_input.sum(1) / real.sum(1, keepdim=True))
        if regions:
            columns.append(attribution.embedding_gradient.norm(dim=-1) * real)
        if layer is not None:
            columns.append(attribution.state.float())
        return torch.cat(columns, dim=1).cpu().numpy()

    gradients = (("input",) if motifs else ()) + (("embedding",) if regions else ())
    with on_device(model.network, device) as network:
        values = attribute(
            network,
            inputs,
            windows,
            offsets=table["offset"].to_numpy(),
            strands=table["strand"].to_numpy(),
            window_size=window_size,
            batch_size=batch_size,
            device=device,
            reduce=reduce,
            shape=(sum(widths.values()),),
            gradients=gradients,
            layer=layer,
            transform=transform,
            desc=desc,
        )
    bounds = np.cumsum([0, *widths.values()])
    parts = {
        name: values[:, lo:hi]
        for name, (lo, hi) in zip(widths, itertools.pairwise(bounds), strict=True)
    }
    parts["output"] = parts["output"][:, 0]
    return parts


def run_copies(
    promoters: Promoters,
    rows: np.ndarray,
    model: GETModel,
    *,
    transform: Transform,
    batch_size: int,
    device: str | None,
    desc: str,
) -> np.ndarray:
    """The output at the TSS peak of the windows ``rows`` (repeats: copies), transformed.

    One :func:`run` pass over ``promoters.take(rows)``; ``transform`` changes each copy's
    input on the device (it gets the batch and the copies' positions in ``rows``).
    Returns float64, one value per row.
    """
    output = run(
        promoters.take(rows),
        model,
        transform=transform,
        batch_size=batch_size,
        device=device,
        desc=desc,
    )["output"]
    return output.astype(np.float64)


def _window_scores(promoters: Promoters, windows: np.ndarray, window_size: int) -> np.ndarray:
    """Accessibility scores of the windows' regions (windows x window size, zero padding)."""
    scores = np.zeros((len(windows), window_size), dtype=np.float32)
    for row, (group, start, length) in enumerate(windows):
        peaks = promoters.inputs.groups[group].peaks[start : start + length]
        scores[row, :length] = promoters.scores[group, peaks]
    return scores


def window_peaks(promoters: Promoters, window_size: int) -> np.ndarray:
    """Peak (ATAC ``var`` number) at each position of each promoter window; -1 at padding."""
    table, inputs = promoters.table, promoters.inputs
    peaks = np.full((len(table), window_size), -1, dtype=np.int64)
    first = np.cumsum([0] + [len(group.peaks) for group in inputs.groups])
    every = np.concatenate([group.peaks for group in inputs.groups])
    lengths = table["length"].to_numpy()
    window = np.repeat(np.arange(len(table)), lengths)
    position = np.arange(len(window)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    start = first[table["group"].to_numpy()] + table["start"].to_numpy()
    peaks[window, position] = every[start[window] + position]
    return peaks


def covered_peaks(promoters: Promoters, window_size: int) -> np.ndarray:
    """Groups x peaks: True where the peak lies in a promoter window of its group."""
    peaks = window_peaks(promoters, window_size)
    groups = np.repeat(promoters.table["group"].to_numpy(), window_size)
    inside = peaks.ravel() >= 0
    inputs = promoters.inputs
    covered = np.zeros((len(inputs.groups), len(inputs.motifs)), dtype=bool)
    covered[groups[inside], peaks.ravel()[inside]] = True
    return covered


def per_gene(
    values: np.ndarray,
    promoters: Promoters,
    shape: tuple[int, int],
    *,
    dtype: DTypeLike = np.float64,
) -> np.ndarray:
    """Mean of window rows over each (group, gene)'s TSS peaks: groups x genes x ... (NaN).

    The sums run in float64 over the (group, gene) cells that have rows; the result, NaN
    elsewhere, is allocated once, in ``dtype``.
    """
    n_genes = shape[1]
    flat = promoters.table["group"].to_numpy() * n_genes + promoters.table["gene"].to_numpy()
    cells, row_cell = np.unique(flat, return_inverse=True)
    sums = np.zeros((len(cells), *values.shape[1:]))
    np.add.at(sums, row_cell, values)
    sums /= np.bincount(row_cell, minlength=len(cells)).reshape(-1, *([1] * (values.ndim - 1)))
    means = np.full((shape[0] * n_genes, *values.shape[1:]), np.nan, dtype=dtype)
    means[cells] = sums
    return means.reshape(*shape, *values.shape[1:])


def fill_groups(
    pb,
    values: np.ndarray,
    promoters: Promoters,
    *,
    key: str,
    columns: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """Write each chosen group's genes x k values to ``["rna"].varm`` (``key`` per group).

    ``values`` is groups x genes x k (from :func:`per_gene`); a group's varm entry is a
    DataFrame with ``columns`` (an array when ``None``), float32, NaN for genes without
    values. Returns the record's ``"result"``, one row per group (``group``, ``varm_key``,
    ``n_genes``), and the slots filled.
    """
    rna = promoters.params["rna"]
    adata = pb[rna]
    names = [str(name) for name in adata.obs_names[promoters.groups]]
    keys = [group_slot(key, name) for name in names]
    for number, name in zip(promoters.groups, keys, strict=True):
        block = np.asarray(values[number], dtype=np.float32)
        if columns is not None:
            block = pd.DataFrame(block, index=adata.var_names.copy(), columns=list(columns))
        adata.varm[name] = block
    counts = np.isfinite(values[promoters.groups, :, 0]).sum(axis=1)
    summary = pd.DataFrame({"group": names, "varm_key": keys, "n_genes": counts})
    return summary, [(rna, "varm", name) for name in keys]
