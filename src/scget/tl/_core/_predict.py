"""Predict expression per region and strand, and per gene, with a trained GET model."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..._shared.constants import (
    ACCESSIBILITY_PREDICTION_LAYER,
    ATAC,
    GENE_PREDICTION_LAYER,
    MOTIF_KEY,
    PREDICT_KEY,
    PREDICTION_LAYERS,
    RNA,
    TSS_GENE_COLUMNS,
    UNS_KEY,
)
from ..._shared.docs import inject_docs
from ..._shared.logging import progress
from ..._shared.storage import finish_writer, read_slots, writable
from ..._shared.utils import chosen_positions, modality, name_list, resolve_device, to_dense
from ._engine import Transform, forward, on_device
from ._genes import peaks_to_genes, tss_peak_matrix
from ._model import GETModel, check_model
from ._prior import model_inputs
from ._windows import (
    GroupRegions,
    centred_windows,
    hide_interleaved,
    then,
    window_starts,
    zeroing_columns,
)


def _start_layers(atac_ad, names: list[str], chosen: np.ndarray | None) -> dict:
    """The layers ``names`` to fill: all NaN, or with ``chosen`` groups, the earlier ones.

    With ``chosen``, an earlier layer of the right shape keeps its other groups' rows; the
    rows of ``chosen`` start as NaN.
    """
    shape = atac_ad.shape
    layers = {}
    for name in names:
        earlier = atac_ad.layers[name] if name in atac_ad.layers else None
        if chosen is None or earlier is None or earlier.shape != shape:
            layers[name] = np.full(shape, np.nan, dtype=np.float32)
        else:
            layers[name] = to_dense(earlier, np.float32).copy()
            layers[name][chosen] = np.nan
    return layers


def _tss_peaks(pb, *, rna: str, atac: str):
    """Genes x peaks TSS indicator, and whether each peak holds any TSS."""
    tss = tss_peak_matrix(pb[rna].var, pb[atac].var_names)
    is_tss = np.asarray(tss.sum(axis=0)).ravel() > 0
    for column in TSS_GENE_COLUMNS:
        if column in pb[atac].var.columns:
            is_tss |= pb[atac].var[column].fillna("").astype(str).to_numpy() != ""
    return tss, is_tss


#: Windows :func:`predict` can predict TSS regions with.
TSS_WINDOWS = ("centred", "tiled")


def _region_windows(
    group: GroupRegions, is_tss: np.ndarray, window_size: int, tss_windows: str = "centred"
) -> tuple[np.ndarray, np.ndarray]:
    """Return the window (first region, length) predicting each region of ``group``.

    A region gets the window, of those tiling its chromosome with half-overlap, whose
    centre is nearest to it (so it lies in the window's central half); with
    ``tss_windows="centred"`` a TSS region gets the window centred on it instead.
    """
    n = len(group.peaks)
    starts = np.empty(n, dtype=np.int64)
    lengths = np.empty(n, dtype=np.int64)
    for _, lo, hi in group.segments:
        tiles = window_starts(lo, hi, window_size, max(1, window_size // 2))
        tile_lengths = np.minimum(window_size, hi - tiles)
        centres = tiles + tile_lengths / 2
        positions = np.arange(lo, hi)
        nearest = np.abs(positions[:, None] + 0.5 - centres[None, :]).argmin(axis=1)
        starts[lo:hi], lengths[lo:hi] = tiles[nearest], tile_lengths[nearest]
    if tss_windows == "tiled":
        return starts, lengths
    tss_positions = np.flatnonzero(is_tss[group.peaks])
    centred_starts, centred_lengths, _ = centred_windows(group, tss_positions, window_size)
    starts[tss_positions], lengths[tss_positions] = centred_starts, centred_lengths
    return starts, lengths


#: One pass of :func:`predict` over a window: the heads read, the input transform (hiding
#: accessibility) and, for interleaved hiding, (every, phase) of the positions it predicts.
Pass = tuple[tuple[str, ...], Transform | None, tuple[int, int] | None]


def _passes(model: GETModel, *, expression: bool | None = None) -> list[Pass]:
    """The passes predicting what ``model`` predicts (only accessibility if not ``expression``).

    Binary input is already hidden, so one pass serves both heads; quantitative input is
    hidden in every region, or region by region in interleaved passes (phase j of k:
    window positions j, j + k, ...).
    """
    if expression is None:
        expression = model.objective != "accessibility"
    accessibility = model.predicts_accessibility
    passes: list[Pass] = [(("expression",), None, None)] if expression else []
    if accessibility and expression and model.binary:
        passes = [(("expression", "accessibility"), None, None)]
    elif accessibility and model.binary:
        passes.append((("accessibility",), None, None))
    elif accessibility:
        every = math.ceil(1 / model.accessibility_hidden - 1e-9)
        passes += [
            (("accessibility",), hide_interleaved(every, phase), (every, phase))
            for phase in range(every)
        ]
    return passes


def _fill_layers(
    layers: dict[str, np.ndarray],
    model: GETModel,
    inputs,
    chosen: np.ndarray,
    is_tss: np.ndarray,
    passes: list[Pass],
    *,
    batch_size: int,
    device,
    tss_windows: str,
    zeroed: tuple[np.ndarray, np.ndarray] | None = None,
    needed: np.ndarray | None = None,
    desc: str = "predict",
) -> int:
    """Fill the rows ``chosen`` of ``layers`` (groups x peaks) with the passes' outputs.

    ``zeroed`` is (input columns, groups x peaks mask): those columns are set to zero in
    the masked regions of every window before the passes' own transforms. ``needed``
    (groups x peaks mask) runs only the windows predicting a needed region; the regions
    of no window run stay as they were. Returns the number of windows run (each pass
    over a window counted). ``desc`` labels the progress bar.
    """
    window_size = model.window_size
    n_windows = 0
    with on_device(model.network, device) as network:
        for number in progress(chosen, desc=desc, unit="group"):
            group = inputs.groups[number]
            if len(group.peaks) == 0:
                continue
            starts, lengths = _region_windows(group, is_tss, window_size, tss_windows)
            windows, which = np.unique(
                np.column_stack([starts, lengths]), axis=0, return_inverse=True
            )
            which = which.ravel()
            kept = np.ones(len(group.peaks), dtype=bool)
            if needed is not None:
                run = np.unique(which[needed[number, group.peaks]])
                renumber = np.full(len(windows), -1)
                renumber[run] = np.arange(len(run))
                windows, which = windows[run], renumber[which]
                kept = which >= 0
            if not len(windows):
                continue
            index = np.column_stack([np.full(len(windows), number), windows])
            positions = np.arange(len(group.peaks)) - starts
            before = None
            if zeroed is not None:
                mask = _window_mask(zeroed[1][number, group.peaks], windows, window_size)
                before = zeroing_columns(zeroed[0], mask, inputs.n_features)
            for heads, transform, phase in passes:
                outputs = forward(
                    network,
                    inputs,
                    index,
                    window_size=window_size,
                    batch_size=batch_size,
                    device=device,
                    transform=then(before, transform),
                    heads=heads,
                )
                rows = kept if phase is None else kept & (positions % phase[0] == phase[1])
                predicted = outputs[which[rows], positions[rows]]
                for column, name in enumerate(_layer_names(heads)):
                    layers[name][number, group.peaks[rows]] = predicted[:, column]
                n_windows += len(windows)
    return n_windows


def _layer_names(heads) -> list[str]:
    """The ``.layers`` that the outputs of ``heads`` fill, in the heads' output order."""
    return [
        *(PREDICTION_LAYERS if "expression" in heads else ()),
        *((ACCESSIBILITY_PREDICTION_LAYER,) if "accessibility" in heads else ()),
    ]


def _window_mask(regions: np.ndarray, windows: np.ndarray, window_size: int) -> np.ndarray:
    """Windows x positions: ``regions`` (one flag per region of the group) in each window."""
    mask = np.zeros((len(windows), window_size), dtype=bool)
    for row, (start, length) in enumerate(windows):
        mask[row, :length] = regions[start : start + length]
    return mask


def accessibility_change(
    pb,
    model: GETModel,
    chosen: np.ndarray,
    zeroed: tuple[np.ndarray, np.ndarray],
    *,
    needed: np.ndarray | None = None,
    batch_size: int,
    device,
    rna: str,
    atac: str,
    motif_key: str,
) -> np.ndarray:
    """Groups x peaks: how zeroing input columns changes the accessibility ``model`` predicts.

    The accessibility scores are predicted as :func:`predict` predicts them (tiled
    windows, the accessibility input hidden as the model was trained) for the groups
    ``chosen``, once with the input columns ``zeroed[0]`` set to zero in the regions
    ``zeroed[1]`` (groups x peaks) and once intact; the result is the first minus the
    second, float64, 0 in other groups and where a peak is not accessible. With
    ``needed`` (groups x peaks mask), only the windows predicting a needed peak run: the
    needed peaks get the same change, the peaks of no window run 0.
    """
    _, is_tss = _tss_peaks(pb, rna=rna, atac=atac)
    inputs = model_inputs(pb, model, rna=rna, atac=atac, motif_key=motif_key)
    passes = _passes(model, expression=False)
    options = {"batch_size": batch_size, "device": resolve_device(device), "tss_windows": "tiled"}
    predicted = []
    for columns in (zeroed, None):
        layers = {ACCESSIBILITY_PREDICTION_LAYER: np.full(pb[atac].shape, np.nan, np.float32)}
        _fill_layers(
            layers, model, inputs, chosen, is_tss, passes, zeroed=columns, needed=needed, **options
        )
        predicted.append(layers[ACCESSIBILITY_PREDICTION_LAYER].astype(np.float64))
    return np.nan_to_num(predicted[0] - predicted[1])


@inject_docs()
def predict(
    pb,
    model: GETModel,
    *,
    groups: str | Sequence[str] | None = None,
    batch_size: int = 32,
    tss_windows: str = "tiled",
    device: str | None = "auto",
    rna: str = RNA,
    atac: str = ATAC,
    motif_key: str = MOTIF_KEY,
    copy: bool = False,
):
    """Predict expression (and accessibility) of every accessible region, and gene expression.

    Each accessible region takes the prediction of the window of ``model.window_size``
    regions, of those tiling its chromosome with half-overlap, whose centre is nearest
    (so the region lies in the window's central half); with ``tss_windows="centred"``
    each accessible TSS region is predicted with the window centred on it (clamped at
    chromosome ends) instead, as GET does for genes. A gene's prediction is the mean
    over its accessible TSS peaks (accessibility score >= 0.05) of the prediction on
    its strand.

    A model whose accessibility head was trained (:attr:`GETModel.predicts_accessibility`:
    fine-tuned with ``objective="accessibility"`` or ``"joint"``, or imported with a
    published accessibility head) also predicts each region's accessibility score, from
    the same windows with the accessibility input hidden (set to 1), as it was trained:
    in every region at once (:attr:`GETModel.accessibility_hidden` 1, as published), or
    in ``k = ceil(1 / accessibility_hidden)`` interleaved passes, each hiding every
    ``k``-th window position, so that every region is predicted with the accessibility
    of the regions between visible.
    A model fine-tuned with ``objective="accessibility"`` predicts accessibility only.

    ``groups`` predicts some groups only, with a model fine-tuned for them: the other
    groups' rows of the layers keep their earlier predictions. With the accessibility
    input hidden, a model fine-tuned on all groups sees the same input in each and
    predicts one accessibility profile for all of them; one model fine-tuned per group
    (``leave_out_groups`` all others), as the paper fine-tuned per cell type, predicts
    each group's own (docs: "Predicting accessibility")::

        for group in pb.obs_names:
            others = [g for g in pb.obs_names if g != group]
            model = scget.tl.finetune(
                pb, objective="accessibility", leave_out_chromosomes=["chr11"],
                leave_out_groups=others,
            )
            scget.tl.predict(pb, model, groups=[group])
        scget.tl.evaluate(pb, split={"test_chromosomes": ["chr11"]}, level="accessibility")

    Parameters
    ----------
    {mdata_pb} Needs ``["atac"].varm["motif_scores"]`` (the model's features),
        ``["atac"].layers["counts"]`` and ``["rna"].var["tss_peaks"|"strand"]``.
    model
        A trained :class:`scget.tl.GETModel`.
    groups
        Groups to predict (``pb.obs_names``); ``None``: all of them, replacing every
        earlier prediction.
    batch_size
        Windows per forward pass.
    tss_windows
        ``"centred"``: each accessible TSS region is predicted with its own centred
        window, as GET does; ``"tiled"``: with the half-overlapping tiling window whose
        centre is nearest, like every other region (far fewer windows: it lies in the
        window's central half). Both give nearly the same gene predictions, which score
        alike, and ``"tiled"`` is far faster: hence the default (figures:
        :ref:`model-prediction-speed`).
    {device}
    {rna}
    {atac}
    {motif_key}
    {copy}

    Returns
    -------
    ``None`` (or the modified copy when ``copy``); writes, replacing earlier predictions
    (and removing those this model does not make, unless ``groups`` is given; then only
    the rows of ``groups`` are replaced, and the gene predictions are recomputed):

    - ``pb["atac"].layers["get_plus"]``, ``["get_minus"]``: float32 groups x peaks,
      predicted log10(TPM + 1) per strand; NaN where the peak is not accessible
      (zero counts) in the group (not for an accessibility-only model).
    - ``pb["rna"].layers["get_pred"]``: float32 groups x genes; NaN for genes without
      an accessible TSS peak in the group (not for an accessibility-only model).
    - ``pb["atac"].layers["get_accessibility"]``: float32 groups x peaks, the predicted
      accessibility score, NaN where the peak is not accessible; only when the model
      predicts accessibility (read it with ``scget.get.predictions(pb, level="accessibility")``).
    - ``pb.uns["scget"]["predict"]``: numbers of predicted regions and genes (all
      groups) and of windows the latest call ran (each pass over a window counted:
      an accessibility head hidden in ``k`` interleaved passes runs each window ``k``
      more times), and the parameters (``groups`` of the latest call).

    Raises
    ------
    TypeError
        If ``model`` is not a :class:`~scget.tl.GETModel`.
    ValueError
        If ``tss_windows`` is unknown, ``model`` was only pretrained (see
        :func:`scget.tl.finetune`), the data's motif features differ from the model's,
        or the modalities' groups differ.
    KeyError
        If an input is missing or a group unknown.

    Examples
    --------
    >>> scget.tl.predict(pb, model)
    >>> scget.get.predictions(pb).shape  # groups x genes
    (3, 90)
    """
    groups = name_list(groups)
    if tss_windows not in TSS_WINDOWS:
        raise ValueError(f"tss_windows must be one of {list(TSS_WINDOWS)}, got {tss_windows!r}.")
    check_model(model).check_finetuned("scget.tl.predict", expression=False)
    model.check_features(pb, atac=atac, motif_key=motif_key)
    modality(pb, rna)
    if "strand" not in pb[rna].var.columns:
        raise KeyError(f'pb["{rna}"].var has no "strand" column; run scget.pp.annotate_tss.')
    if list(pb[rna].obs_names) != list(pb[atac].obs_names):
        raise ValueError(f"pb[{rna!r}] and pb[{atac!r}] must hold the same groups in order.")
    chosen = chosen_positions(groups, pd.Index(pb[atac].obs_names.astype(str)), "group", rna)
    tss, is_tss = _tss_peaks(pb, rna=rna, atac=atac)
    pb = writable(pb, copy)
    device = resolve_device(device)
    inputs = model_inputs(pb, model, rna=rna, atac=atac, motif_key=motif_key)
    n_groups = pb[atac].n_obs
    passes = _passes(model)
    heads = {head for pass_heads, _, _ in passes for head in pass_heads}
    layers = _start_layers(pb[atac], _layer_names(heads), None if groups is None else chosen)
    options = {"batch_size": batch_size, "device": device, "tss_windows": tss_windows}
    n_windows = _fill_layers(layers, model, inputs, chosen, is_tss, passes, **options)
    for name, values in layers.items():
        pb[atac].layers[name] = values
    slots = [(atac, "layers", name) for name in layers]
    if groups is not None and PREDICT_KEY in pb.uns.get(UNS_KEY, {}):
        slots += [slot for slot in read_slots(pb, PREDICT_KEY) if slot not in slots]
    atac_layers = pb[atac].layers
    n_genes = 0
    if all(name in atac_layers and (atac, "layers", name) in slots for name in PREDICTION_LAYERS):
        genes = peaks_to_genes(
            atac_layers[PREDICTION_LAYERS[0]],
            atac_layers[PREDICTION_LAYERS[1]],
            tss=tss,
            strand=pb[rna].var["strand"].to_numpy(),
            accessibility=to_dense(pb[atac].X),
        ).astype(np.float32)
        pb[rna].layers[GENE_PREDICTION_LAYER] = genes
        if (rna, "layers", GENE_PREDICTION_LAYER) not in slots:
            slots.append((rna, "layers", GENE_PREDICTION_LAYER))
        n_genes = int(np.isfinite(genes).any(axis=0).sum())
    plus = next(iter(layers.values()))
    n_regions = int(np.isfinite(plus).sum())
    params = {k: model.params.get(k) for k in ("binary", "window_size")}
    params["objective"] = model.objective
    return finish_writer(
        pb,
        PREDICT_KEY,
        {"n_regions": n_regions, "n_genes": n_genes, "n_windows": n_windows},
        {
            "groups": groups,
            "batch_size": batch_size,
            "tss_windows": tss_windows,
            **params,
            "rna": rna,
            "atac": atac,
            "motif_key": motif_key,
        },
        slots=slots,
        copy=copy,
        message=(
            f"Predicted {n_regions} regions and {n_genes} genes in {len(chosen)} of {n_groups} "
            "groups" + (" (with accessibility)." if "accessibility" in heads else ".")
        ),
    )
