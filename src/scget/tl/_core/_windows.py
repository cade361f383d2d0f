"""Model inputs of a pseudobulk MuData: per-group region arrays and region windows.

The motif scores are held once for all peaks; a group keeps only the indices of its
accessible peaks (genome order), its accessibility column and its targets. A window is
an index entry ``(group, first region, length)`` into these arrays, so building the
windows copies nothing; a sample's feature matrix is gathered when it is requested.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from ..._shared.constants import (
    ACCESSIBILITY_FEATURE,
    ATAC,
    COUNTS_LAYER,
    MAX_WINDOW_SPAN,
    MOTIF_KEY,
    TARGET_LAYERS,
    TSS_GENE_COLUMNS,
)
from ..._shared.genomic import chromosome_sort_key, peak_coordinates
from ..._shared.utils import check_finite, modality, to_dense

if TYPE_CHECKING:
    from ._engine import Transform

#: Columns of a window index: group number, first region (in the group's arrays), length.
WINDOW_COLUMNS = ("group", "start", "length")


@dataclass(frozen=True)
class GroupRegions:
    """The accessible regions of one group, in genome order.

    Attributes
    ----------
    name
        Group name (an ``obs_name`` of the pseudobulk).
    peaks
        Indices of the group's accessible peaks into the ATAC ``var`` axis.
    accessibility
        The accessibility feature of each region (the score, or 1 in binary mode).
    score
        The accessibility score of each region (``["atac"].X``) in either mode: the
        target of the accessibility head.
    targets
        Expression targets (regions x 2: plus, minus strand), or ``None``.
    segments
        One ``(chromosome, first, stop)`` range of region positions per chromosome.
    prior
        The expression prior of each region (regions x :data:`scget.nn.PRIOR_CHANNELS`),
        or ``None``; added by
        :func:`scget.tl._core._prior.add_prior`.
    """

    name: str
    peaks: np.ndarray
    accessibility: np.ndarray
    targets: np.ndarray | None
    segments: tuple[tuple[str, int, int], ...]
    score: np.ndarray | None = None
    prior: np.ndarray | None = None

    def segment_of(self, chromosomes: Sequence[str] | None = None) -> list[tuple[str, int, int]]:
        """Return the segments on ``chromosomes`` (all when ``None``)."""
        if chromosomes is None:
            return list(self.segments)
        wanted = set(chromosomes)
        return [seg for seg in self.segments if seg[0] in wanted]


@dataclass(frozen=True)
class RegionInputs:
    """Model inputs of a pseudobulk: shared motif scores and per-group regions.

    Attributes
    ----------
    motifs
        Motif scores of every peak (peaks x motif clusters, float32), ATAC ``var`` order.
    chrom, start, end
        Coordinates of every peak.
    feature_names
        Motif cluster names followed by ``"accessibility"``.
    groups
        One :class:`GroupRegions` per group.
    tss
        TSS indicators of every peak (peaks x 2: + and - strand, float32), or ``None``
        when the peaks carry no TSS annotation.
    """

    motifs: np.ndarray
    chrom: np.ndarray
    start: np.ndarray
    end: np.ndarray
    feature_names: list[str]
    groups: list[GroupRegions]
    tss: np.ndarray | None = None

    def check_network(self, config) -> None:
        """Raise a clear ``KeyError`` when a network reads TSS indicators that are missing."""
        if config.tss_input and self.tss is None:
            raise KeyError(
                f"This model reads TSS indicators but the peaks have no "
                f"{list(TSS_GENE_COLUMNS)} columns: run scget.pp.annotate_tss(pb, gtf) first."
            )

    @property
    def has_prior(self) -> bool:
        """Whether the groups hold an expression prior (:func:`~._prior.add_prior`)."""
        return bool(self.groups) and self.groups[0].prior is not None

    @property
    def n_features(self) -> int:
        """Number of model input features."""
        return len(self.feature_names)

    @property
    def group_names(self) -> list[str]:
        """Names of the groups, in order."""
        return [g.name for g in self.groups]

    def regions_per_chromosome(self) -> pd.Series:
        """Count accessible regions per chromosome, summed over the groups."""
        counts: dict[str, int] = {}
        for group in self.groups:
            for chrom, lo, hi in group.segments:
                counts[chrom] = counts.get(chrom, 0) + hi - lo
        order = sorted(counts, key=chromosome_sort_key)
        return pd.Series([counts[c] for c in order], index=order, dtype=np.int64)


def motif_feature_names(pb, *, atac: str = ATAC, motif_key: str = MOTIF_KEY) -> list[str]:
    """Return the input features of ``pb``: motif cluster names, then accessibility.

    Raises
    ------
    KeyError
        If the modality or the motif scores are missing.
    TypeError
        If the motif scores are not a DataFrame.
    """
    varm = modality(pb, atac).varm
    if motif_key not in varm:
        raise KeyError(
            f'pb["{atac}"].varm["{motif_key}"] is missing: run scget.pp.scan_motifs(pb, genome) '
            "first (or pass the motif_key= it was written under)."
        )
    scores = varm[motif_key]
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(
            f'pb["{atac}"].varm["{motif_key}"] must be a DataFrame with motif cluster names as '
            "columns, as written by scget.pp.scan_motifs."
        )
    return [str(c) for c in scores.columns] + [ACCESSIBILITY_FEATURE]


def check_inputs(pb, *, with_targets: bool, atac: str = ATAC, motif_key: str = MOTIF_KEY) -> None:
    """Raise a clear ``KeyError`` when ``pb`` lacks what the model reads."""
    motif_feature_names(pb, atac=atac, motif_key=motif_key)
    adata = pb.mod[atac]
    if COUNTS_LAYER not in adata.layers:
        raise KeyError(
            f'pb["{atac}"].layers["{COUNTS_LAYER}"] is missing: pb must come from '
            "scget.pp.pseudobulk, which stores the summed fragment counts there."
        )
    if with_targets:
        missing = [key for key in TARGET_LAYERS if key not in adata.layers]
        if missing:
            raise KeyError(
                f'pb["{atac}"].layers lacks {missing}: run scget.pp.annotate_tss(pb, gtf) to '
                "compute the expression targets first."
            )


def build_inputs(
    pb,
    *,
    binary: bool = False,
    with_targets: bool = True,
    atac: str = ATAC,
    motif_key: str = MOTIF_KEY,
) -> RegionInputs:
    """Collect the model inputs of ``pb``.

    Parameters
    ----------
    pb
        Pseudobulk MuData with motif scores (and targets when ``with_targets``).
    binary
        Set the accessibility feature to 1 for every accessible region.
    with_targets
        Read ``target_plus``/``target_minus``.
    atac
        Name of the ATAC modality.
    motif_key
        ``[atac].varm`` key of the motif scores.

    Returns
    -------
    The shared motif array and one :class:`GroupRegions` per group.

    Raises
    ------
    KeyError
        If an input is missing.
    ValueError
        If the motif scores, the accessibility scores or the targets hold NaN or
        infinite values (the message counts them).
    """
    check_inputs(pb, with_targets=with_targets, atac=atac, motif_key=motif_key)
    adata = pb[atac]
    feature_names = motif_feature_names(pb, atac=atac, motif_key=motif_key)
    motifs = np.ascontiguousarray(adata.varm[motif_key].to_numpy(dtype=np.float32))
    check_finite(motifs, f'pb["{atac}"].varm["{motif_key}"]', "rescan with scget.pp.scan_motifs")
    coords = peak_coordinates(adata)
    chrom = coords["chrom"].to_numpy(dtype=str)
    start = coords["start"].to_numpy(dtype=np.int64)
    end = coords["end"].to_numpy(dtype=np.int64)
    chrom_order = {c: i for i, c in enumerate(sorted(np.unique(chrom), key=chromosome_sort_key))}
    chrom_rank = np.array([chrom_order[c] for c in chrom], dtype=np.int64)
    genome_order = np.lexsort((start, chrom_rank))

    names = [str(n) for n in adata.obs_names]
    counts = to_dense(adata.layers[COUNTS_LAYER], np.float32)
    scores = to_dense(adata.X, np.float32)
    check_finite(scores, f'pb["{atac}"].X', "recompute it with scget.pp.pseudobulk")
    targets = None
    if with_targets:
        targets = np.stack([to_dense(adata.layers[k], np.float32) for k in TARGET_LAYERS], -1)
        check_finite(
            targets,
            f'pb["{atac}"].layers{list(TARGET_LAYERS)}',
            "recompute the targets with scget.pp.annotate_tss from a pseudobulk with finite "
            "expression",
        )
    regions = []
    for row, name in enumerate(names):
        peaks = genome_order[counts[row, genome_order] > 0]
        access = np.ones(len(peaks), np.float32) if binary else scores[row, peaks]
        group_targets = None if targets is None else np.ascontiguousarray(targets[row, peaks])
        regions.append(
            GroupRegions(
                name=name,
                peaks=peaks,
                accessibility=np.ascontiguousarray(access, dtype=np.float32),
                targets=group_targets,
                segments=_segments(chrom[peaks]),
                score=np.ascontiguousarray(scores[row, peaks], dtype=np.float32),
            )
        )
    return RegionInputs(motifs, chrom, start, end, feature_names, regions, _tss_indicators(adata))


def _tss_indicators(adata) -> np.ndarray | None:
    """Peaks x 2 (+, - strand): 1 where the peak holds an annotated TSS on that strand."""
    if not set(TSS_GENE_COLUMNS) <= set(adata.var.columns):
        return None
    columns = [adata.var[c].fillna("").astype(str).to_numpy() != "" for c in TSS_GENE_COLUMNS]
    return np.column_stack(columns).astype(np.float32)


def _segments(chrom: np.ndarray) -> tuple[tuple[str, int, int], ...]:
    """Ranges of equal chromosome in a genome-ordered chromosome array."""
    if len(chrom) == 0:
        return ()
    breaks = np.flatnonzero(chrom[1:] != chrom[:-1]) + 1
    bounds = np.concatenate([[0], breaks, [len(chrom)]])
    return tuple((str(chrom[lo]), int(lo), int(hi)) for lo, hi in itertools.pairwise(bounds))


def window_starts(lo: int, hi: int, window_size: int, stride: int) -> np.ndarray:
    """First regions of the windows tiling positions ``lo..hi`` with ``stride``.

    A last window aligned to ``hi`` is added when the stride leaves the end uncovered;
    a chromosome with fewer than ``window_size`` regions gets one (short) window.
    """
    if hi - lo <= window_size:
        return np.array([lo], dtype=np.int64)
    starts = np.arange(lo, hi - window_size + 1, stride, dtype=np.int64)
    if starts[-1] + window_size < hi:
        starts = np.append(starts, hi - window_size)
    return starts


def make_windows(
    inputs: RegionInputs,
    *,
    window_size: int,
    stride: int,
    chromosomes: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
    max_span: int = MAX_WINDOW_SPAN,
) -> np.ndarray:
    """Index of the windows of ``groups`` on ``chromosomes``.

    Parameters
    ----------
    inputs
        Model inputs from :func:`build_inputs`.
    window_size
        Regions per window.
    stride
        Regions between window starts (``window_size`` for non-overlapping windows).
    chromosomes, groups
        Restrict to these (all when ``None``).
    max_span
        Windows spanning more base pairs than this are dropped.

    Returns
    -------
    Integer array (windows x 3) with columns :data:`WINDOW_COLUMNS`.
    """
    if window_size < 1 or stride < 1:
        raise ValueError(f"window_size and stride must be positive, got {window_size}, {stride}.")
    rows = []
    for number, group in enumerate(inputs.groups):
        if groups is not None and group.name not in groups:
            continue
        for _, lo, hi in group.segment_of(chromosomes):
            starts = window_starts(lo, hi, window_size, stride)
            lengths = np.minimum(window_size, hi - starts)
            first = group.peaks[starts]
            last = group.peaks[starts + lengths - 1]
            keep = inputs.end[last] - inputs.start[first] <= max_span
            rows.append(np.column_stack([np.full(keep.sum(), number), starts[keep], lengths[keep]]))
    if not rows:
        return np.empty((0, len(WINDOW_COLUMNS)), dtype=np.int64)
    return np.concatenate(rows).astype(np.int64)


def centred_windows(
    group: GroupRegions, positions: np.ndarray, window_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows centred on region ``positions`` of ``group``, clamped to their chromosome.

    Returns
    -------
    First region, length and the offset of the centred region in each window.
    """
    positions = np.asarray(positions, dtype=np.int64)
    lo = np.empty_like(positions)
    hi = np.empty_like(positions)
    for _, first, stop in group.segments:
        inside = (positions >= first) & (positions < stop)
        lo[inside], hi[inside] = first, stop
    starts = np.clip(positions - window_size // 2, lo, np.maximum(lo, hi - window_size))
    lengths = np.minimum(window_size, hi - starts)
    return starts, lengths, positions - starts


def hide_accessibility(
    x: torch.Tensor, rows: np.ndarray | None = None, *, regions: torch.Tensor | None = None
) -> torch.Tensor:
    """``x`` with its accessibility column (the last) set to 1 (binary accessibility).

    In every position, or only where the boolean ``regions`` (windows x positions) is
    true. Padded positions may be set too; they are excluded from attention, so no real
    region's output depends on them. ``rows`` is ignored: the function is also an engine
    transform (:data:`scget.tl._core._engine.Transform`).
    """
    hidden = torch.ones_like(x[..., -1:])
    if regions is not None:
        hidden = torch.where(regions.to(x.device).unsqueeze(-1), hidden, x[..., -1:])
    return torch.cat([x[..., :-1], hidden], dim=-1)


def hide_interleaved(every: int, phase: int):
    """Engine transform hiding the accessibility of window positions ``phase + k * every``.

    With ``every`` passes of phases ``0 .. every - 1`` each region of a window is hidden
    exactly once, with the accessibility of the regions between visible.
    """

    def transform(x: torch.Tensor, rows: np.ndarray | None = None) -> torch.Tensor:
        positions = torch.arange(x.shape[1], device=x.device)
        hidden = (positions % every == phase).expand(x.shape[:2])
        return hide_accessibility(x, regions=hidden)

    return transform


def zeroing_columns(columns: np.ndarray, mask: np.ndarray, n_features: int) -> Transform:
    """Engine transform zeroing input ``columns`` where ``mask`` (windows x positions) is set."""
    chosen = np.zeros(n_features, dtype=bool)
    chosen[columns] = True

    def transform(x, rows):
        where = torch.from_numpy(mask[rows]).to(x.device)[..., None]
        return x * ~(where & torch.from_numpy(chosen).to(x.device))

    return transform


def then(first: Transform | None, second: Transform | None) -> Transform | None:
    """The transform applying ``first`` then ``second`` (either may be ``None``)."""
    if first is None or second is None:
        return first or second
    return lambda x, rows: second(first(x, rows), rows)


def region_context(batch: dict) -> dict:
    """Network keyword arguments of a batch besides the features (padding, TSSs, prior...)."""
    keys = ("padding_mask", "tss", "positions", "prior")
    return {key: batch[key] for key in keys if key in batch}


class WindowDataset:
    """A torch-style dataset of windows: features, targets and padding of each window.

    Items are dicts of tensors: ``x`` (window_size x features), ``padding_mask``
    (window_size, True = padding), ``tss`` (window_size x 2 TSS indicators, zero when
    the inputs have none), ``positions`` (window_size region midpoints in bp),
    ``target`` (window_size x 2, when the inputs have targets), ``atac_target``
    (window_size, the accessibility scores, when the groups hold them), ``prior``
    (window_size x :data:`scget.nn.PRIOR_CHANNELS`, when the groups hold an expression
    prior) and ``index`` (the
    item's number, used to seed per-sample randomness).
    Windows shorter than ``window_size`` (short chromosomes) are zero-padded.

    Parameters
    ----------
    inputs
        Model inputs from :func:`build_inputs`.
    windows
        Window index from :func:`make_windows` (windows x 3).
    window_size
        Length every item is padded to.
    """

    def __init__(self, inputs: RegionInputs, windows: np.ndarray, window_size: int) -> None:
        self.inputs = inputs
        self.windows = np.asarray(windows, dtype=np.int64).reshape(-1, len(WINDOW_COLUMNS))
        self.window_size = int(window_size)

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, item: int) -> dict:
        sample = {
            key: value[0]
            for key, value in gather_windows(
                self.inputs, self.windows[item : item + 1], self.window_size
            ).items()
        }
        sample["index"] = torch.tensor(item)
        return sample


def gather_windows(inputs: RegionInputs, windows: np.ndarray, window_size: int) -> dict:
    """The tensors of a batch of windows, gathered at once (no Python loop per window).

    Parameters
    ----------
    inputs
        Model inputs from :func:`build_inputs`.
    windows
        Window index (windows x 3: group, first region, length).
    window_size
        Length every window is padded to.

    Returns
    -------
    Dict of tensors with a leading windows axis, as :class:`WindowDataset` items stacked
    (without ``index``): ``x``, ``padding_mask``, ``tss``, ``positions`` and, when the
    inputs have them, ``target`` (expression), ``atac_target`` (accessibility score) and
    ``prior`` (expression prior).
    """
    windows = np.asarray(windows, dtype=np.int64).reshape(-1, len(WINDOW_COLUMNS))
    n, n_motifs = len(windows), inputs.motifs.shape[1]
    offsets = np.arange(window_size)
    real = offsets[None, :] < windows[:, 2:3]
    x = np.zeros((n, window_size, n_motifs + 1), dtype=np.float32)
    tss = np.zeros((n, window_size, 2), dtype=np.float32)
    positions = np.zeros((n, window_size), dtype=np.int64)
    has_targets = bool(inputs.groups) and inputs.groups[0].targets is not None
    target = np.zeros((n, window_size, 2), dtype=np.float32) if has_targets else None
    has_scores = bool(inputs.groups) and inputs.groups[0].score is not None
    score = np.zeros((n, window_size), dtype=np.float32) if has_scores else None
    prior = None
    if inputs.has_prior:
        prior = np.zeros((n, window_size, inputs.groups[0].prior.shape[1]), dtype=np.float32)
    for number in np.unique(windows[:, 0]):  # one gather per group, not per window
        rows = np.flatnonzero(windows[:, 0] == number)
        window, column = np.nonzero(real[rows])
        window = rows[window]
        local = windows[window, 1] + column
        group = inputs.groups[number]
        peaks = group.peaks[local]
        x[window, column, :n_motifs] = inputs.motifs[peaks]
        x[window, column, n_motifs] = group.accessibility[local]
        if inputs.tss is not None:
            tss[window, column] = inputs.tss[peaks]
        positions[window, column] = (inputs.start[peaks] + inputs.end[peaks]) // 2
        if target is not None:
            target[window, column] = group.targets[local]
        if score is not None:
            score[window, column] = group.score[local]
        if prior is not None:
            prior[window, column] = group.prior[local]
    batch = {
        "x": torch.from_numpy(x),
        "padding_mask": torch.from_numpy(~real),
        "tss": torch.from_numpy(tss),
        "positions": torch.from_numpy(positions),
    }
    if target is not None:
        batch["target"] = torch.from_numpy(target)
    if score is not None:
        batch["atac_target"] = torch.from_numpy(score)
    if prior is not None:
        batch["prior"] = torch.from_numpy(prior)
    return batch
