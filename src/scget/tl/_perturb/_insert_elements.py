"""In silico lentiMPRA: the predicted activity of elements inserted into genomic contexts.

An element's motif scores are added to the centre region of random windows of one
group (the contexts), capped at 1, and that region is made accessible (accessibility
feature 1). Every (element, context) window runs through the inference engine's
:func:`~scget.tl._core._engine.forward` in one pass: the windows are the contexts
repeated once per element, and the insertion is a transform of each input batch on the
device (no Python work per window), so the rate is ``predict``'s.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import torch

from ..._scan.record import read_scan_record
from ..._scan.scores import DNA_SEQUENCE, resolve_motifs, score_as_recorded
from ..._shared.constants import ATAC, INSERT_ELEMENTS_KEY, LIST_SEP, MOTIF_KEY
from ..._shared.docs import inject_docs
from ..._shared.genomic import chromosome_hint, peak_coordinates
from ..._shared.logging import logger
from ..._shared.storage import finish_writer, writable
from ..._shared.utils import modality, one_name, resolve_device
from ...genome import Genome
from .._core._engine import forward, on_device
from .._core._model import GETModel, check_model
from .._core._prior import model_inputs
from .._core._windows import centred_windows
from ._unmatched import check_unmatched, report_unmatched

#: Read-outs of :func:`insert_elements`.
READOUTS = ("published", "expression")
#: Name of the all-zero element run beside the elements (the contexts made accessible).
CONTROL = "control"


@inject_docs()
def insert_elements(
    pb,
    model: GETModel,
    *,
    elements: str | os.PathLike | pd.DataFrame,
    group: str,
    n_sites: int = 600,
    genome=None,
    seed: int = 0,
    readout: str = "published",
    motifs=None,
    unmatched: str = "error",
    batch_size: int = 64,
    device: str | None = "auto",
    atac: str = ATAC,
    motif_key: str = MOTIF_KEY,
    key_added: str = INSERT_ELEMENTS_KEY,
    copy: bool = False,
):
    """Predicted activity of elements inserted into random genomic contexts (lentiMPRA).

    As in GET's in silico lentiMPRA: ``n_sites`` regions of ``group`` are drawn at
    random (``seed``); each is the centre of a context, the window of
    ``model.window_size`` regions around it (clamped to its chromosome, so that near a
    chromosome end the region is off-centre). An element is inserted into the centre
    region: its motif scores are added to the region's, capped at 1 (a score already
    above 1 is kept), and the region's accessibility feature is set to 1. Each
    insertion is read at the centre region: the predicted expression is the larger of
    the two strands (an element in a lentiMPRA construct is read whatever its
    orientation), the predicted accessibility is the accessibility head's output. The
    activity is the mean expression over the sites times the mean accessibility
    (``readout="published"``), or the mean expression (``readout="expression"``).

    An all-zero element, ``"control"``, runs beside the elements: the contexts with the
    centre region made accessible and its motifs unchanged. An element without motif
    hits has the control's activity (the log counts them).

    Parameters
    ----------
    {mdata_pb} Needs ``["atac"].varm["motif_scores"]`` and ``["atac"].layers["counts"]``
        (and, for sequences, the ``uns["scget"]["motifs"]`` record of
        :func:`scget.pp.scan_motifs`).
    model
        A trained :class:`scget.tl.GETModel` with the data's motif features; for the
        published read-out, fine-tuned with ``objective="joint"`` (its accessibility
        head trained).
    elements
        A FASTA file of element sequences; a DataFrame with a ``sequence`` column (names
        from a ``name`` column, else the index); a DataFrame with ``chrom``, ``start``,
        ``end`` (0-based, half-open; sequences from ``genome``); or precomputed motif
        scores, a DataFrame elements x motif clusters (the model's cluster names; absent
        clusters score 0). Sequences are scanned as :func:`scget.pp.scan_motifs` scanned
        the peaks (same motifs, p-value, background and normalisation), so an element
        scores as a peak with its sequence would.
    group
        The group (``obs_name``) whose regions are the contexts.
    n_sites
        Insertion sites (contexts) per element; drawn with replacement when the group
        has fewer accessible regions.
    genome
        :class:`scget.genome.Genome` or FASTA path, for elements given as coordinates.
    seed
        Seed of the draw of the sites.
    readout
        ``"published"`` (mean expression x mean accessibility, which needs a trained
        accessibility head) or ``"expression"`` (mean expression only).
    motifs
        The :class:`scget.motifs.MotifCollection` the peaks were scanned with, for
        sequences; ``None`` finds it among ``"jaspar"`` and ``"vierstra"`` by the motif
        ids the scan recorded.
    {unmatched}
        Here: elements given as coordinates on a chromosome ``genome`` lacks (with
        its naming), outside their chromosome or with start after end, and the columns of
        precomputed scores that are not the model's motif clusters.
    batch_size
        Windows per forward pass.
    {device}
    {atac}
    {motif_key}
    {key_added}
    {copy}

    Returns
    -------
    A DataFrame, one row per element and a last row ``"control"``: ``activity``,
    ``expression`` (mean over sites of the centre's larger-strand predicted
    log10(TPM + 1)), ``accessibility`` (mean predicted accessibility; NaN with
    ``readout="expression"``) and ``change`` (activity minus the control's); or with
    ``copy`` the modified copy. Writes, replacing an earlier run under ``key_added``:

    - ``pb.uns["scget"][key_added]``: ``"result"``, that table, and the parameters
      (with the sites drawn: their peak names).

    Read it with :func:`scget.get.insert_elements`.

    Raises
    ------
    ValueError
        If the read-out is unknown, or published while the model's accessibility head is
        untrained; ``n_sites`` is not positive; an element is longer than the peaks,
        holds no valid DNA or non-finite scores, or (with ``unmatched="warn"``: every
        element) lies off ``genome``; the group has no accessible region; or the data's
        motif features differ from the model's.
    KeyError
        If the group or (with ``unmatched="warn"``: every) motif cluster of precomputed
        scores is unknown, or an input is missing.

    Examples
    --------
    >>> activity = scget.tl.insert_elements(
    ...     pb, model, elements=pb["atac"].var.iloc[:2], group="type_01",
    ...     genome=mdata.uns["simulation"]["genome"], readout="expression", n_sites=50,
    ... )
    >>> activity.index.tolist()
    ['chr1:11022-11503', 'chr1:11633-12051', 'control']
    """
    group = one_name(group)
    check_model(model).check_features(pb, atac=atac, motif_key=motif_key)
    if readout not in READOUTS:
        raise ValueError(f"Unknown readout {readout!r}; choose from {list(READOUTS)}.")
    if readout == "published" and not model.predicts_accessibility:
        raise ValueError(
            "The published read-out (expression x accessibility) needs the accessibility "
            f"head, which this model did not train (objective {model.objective!r}): fine-tune "
            "with scget.tl.finetune(..., objective='joint'), or pass readout='expression' "
            "for the expression at the centre region only."
        )
    if isinstance(n_sites, bool) or not isinstance(n_sites, int | np.integer) or n_sites < 1:
        raise ValueError(f"n_sites must be a positive integer, got {n_sites!r}.")
    check_unmatched(unmatched)
    names = pd.Index(modality(pb, atac).obs_names.astype(str))
    if str(group) not in names:
        raise KeyError(f"Unknown group {group!r} (not in pb.obs_names); give one of them.")
    features = [str(c) for c in pb[atac].varm[motif_key].columns]
    scores = element_scores(
        pb,
        elements,
        features=features,
        genome=genome,
        motifs=motifs,
        atac=atac,
        motif_key=motif_key,
        unmatched=unmatched,
    )
    no_site = int((~(scores.to_numpy() > 0).any(axis=1)).sum())
    if no_site:
        logger.info(
            f"insert_elements: {no_site} elements hold no motif site: they score as the control."
        )
    inputs = model_inputs(pb, model, atac=atac, motif_key=motif_key)
    number = int(names.get_loc(str(group)))
    regions = inputs.groups[number]
    if len(regions.peaks) == 0:
        raise ValueError(f"Group {group!r} has no accessible region to insert into.")

    rng = np.random.default_rng(seed)
    sites = rng.choice(len(regions.peaks), n_sites, replace=n_sites > len(regions.peaks))
    starts, lengths, offsets = centred_windows(regions, sites, model.window_size)
    contexts = np.column_stack([np.full(n_sites, number), starts, lengths])
    added = np.vstack([scores.to_numpy(np.float32), np.zeros((1, len(features)), np.float32)])
    windows = np.tile(contexts, (len(added), 1))
    n_motifs = len(features)

    def transform(x, rows):
        rows_t = torch.from_numpy(rows).to(x.device)
        batch = torch.arange(len(rows), device=x.device)
        centre = torch.from_numpy(offsets).to(x.device)[rows_t % n_sites]
        element = torch.from_numpy(added).to(x.device)[rows_t // n_sites]
        x = x.clone()
        before = x[batch, centre, :n_motifs]
        x[batch, centre, :n_motifs] = torch.minimum(before + element, before.clamp(min=1.0))
        x[batch, centre, n_motifs] = 1.0
        return x

    def read(out, rows):
        batch = torch.arange(len(rows), device=out.expression.device)
        centre = torch.from_numpy(offsets[rows % n_sites]).to(out.expression.device)
        expression = out.expression[batch, centre].amax(dim=-1)
        return torch.stack([expression, out.accessibility[batch, centre, 0]], dim=-1)

    logger.info(
        f"insert_elements: {len(scores)} elements (and the control) x {n_sites} sites of "
        f"group {group!r}: {len(windows)} windows."
    )
    device = resolve_device(device)
    with on_device(model.network, device) as network:
        values = forward(
            network,
            inputs,
            windows,
            window_size=model.window_size,
            batch_size=batch_size,
            device=device,
            transform=transform,
            read=read,
            shape=(2,),
            desc="insert_elements",
        )
    means = values.reshape(len(added), n_sites, 2).astype(np.float64).mean(axis=1)
    expression, accessibility = means[:, 0], means[:, 1]
    if readout == "published":
        activity = expression * accessibility
    else:
        activity, accessibility = expression, np.full_like(expression, np.nan)
    table = pd.DataFrame(
        {
            "activity": activity,
            "expression": expression,
            "accessibility": accessibility,
            "change": activity - activity[-1],
        },
        index=pd.Index([*scores.index.astype(str), CONTROL], name="element"),
    )
    pb = writable(pb, copy)
    params = {
        "group": str(group),
        "n_sites": int(n_sites),
        "seed": seed,
        "readout": readout,
        "unmatched": unmatched,
        "sites": [str(name) for name in pb[atac].var_names[regions.peaks[sites]]],
        "window_size": model.window_size,
        "batch_size": batch_size,
        "atac": atac,
        "motif_key": motif_key,
    }
    return finish_writer(pb, key_added, table, params, copy=copy, returns=table)


def element_scores(
    pb,
    elements: str | os.PathLike | pd.DataFrame,
    *,
    features: list[str],
    genome=None,
    motifs=None,
    atac: str = ATAC,
    motif_key: str = MOTIF_KEY,
    unmatched: str = "error",
) -> pd.DataFrame:
    """Motif-cluster scores of ``elements``, elements x ``features`` (float32), checked.

    Sequences and coordinates are scanned with the settings recorded by the scan stored
    in ``[atac].varm[motif_key]`` and normalised by its per-cluster maxima, as
    :func:`scget.pp.scan_motifs` scored the peaks. See :func:`insert_elements` for the
    accepted forms and the errors.
    """
    if isinstance(elements, pd.DataFrame) and elements.empty:
        raise ValueError("No elements: the DataFrame has no rows.")
    if isinstance(elements, pd.DataFrame) and "sequence" not in elements.columns:
        if not {"chrom", "start", "end"} <= set(elements.columns):
            return _given_scores(elements, features, unmatched)
    width = _peak_width(pb, atac)
    if isinstance(elements, str | os.PathLike):
        fasta = Genome(elements)
        index = pd.Index(list(fasta.chrom_sizes), dtype=str)
        lengths = np.array(list(fasta.chrom_sizes.values()))
        tasks = [list(fasta.fetch_many(index, np.zeros(len(index), int), lengths))]
    elif "sequence" in elements.columns:
        named = elements["name"] if "name" in elements.columns else elements.index
        index = pd.Index(named.astype(str))
        sequences = [str(sequence).upper() for sequence in elements["sequence"]]

        bad = [
            name for name, seq in zip(index, sequences, strict=True) if not DNA_SEQUENCE.match(seq)
        ]
        if bad:
            raise ValueError(
                f"Elements {bad[:5]} are not DNA sequences (A, C, G, T, N or other IUPAC "
                "codes): fix their sequence column."
            )
        lengths = np.array([len(sequence) for sequence in sequences])
        tasks = [sequences]
    else:
        if genome is None:
            raise ValueError(
                "Elements given as coordinates need a genome: pass genome=Genome('genome.fa') "
                "or a FASTA path."
            )
        genome = genome if isinstance(genome, Genome) else Genome(genome)
        named = elements["name"] if "name" in elements.columns else elements.index
        elements = elements[_on_genome(elements, pd.Index(named).astype(str), genome, unmatched)]
        coords = elements[["chrom", "start", "end"]].astype({"chrom": str})
        index = pd.Index(elements["name"] if "name" in elements.columns else elements.index).astype(
            str
        )
        lengths = (coords["end"] - coords["start"]).to_numpy()
        tasks = [(genome, *(coords[c].to_numpy() for c in ("chrom", "start", "end")))]
    too_long = index[lengths > width]
    if len(too_long):
        raise ValueError(
            f"Elements {list(too_long[:5])} are longer than the peaks ({width} bp): a region "
            "holds at most a peak's sequence; trim them or split them into several elements."
        )
    return _scan(pb, tasks, index, features=features, motifs=motifs, motif_key=motif_key)


def _on_genome(elements: pd.DataFrame, names: pd.Index, genome, unmatched: str) -> np.ndarray:
    """Mask of the elements (``chrom``, ``start``, ``end``) lying on ``genome``.

    The others are reported, each with the reason (:func:`~._unmatched.report_unmatched`).
    """
    sizes = genome.chrom_sizes
    reasons, inside = [], np.ones(len(elements), dtype=bool)
    for k, (chrom, start, end) in enumerate(elements[["chrom", "start", "end"]].to_numpy()):
        chrom = str(chrom)
        if chrom not in sizes:
            why = (
                f"chromosome {chrom!r} is not in {genome.path.name}{chromosome_hint(chrom, sizes)}"
            )
        elif start > end:
            why = "start > end (start and end swapped?)"
        elif start < 0 or end > sizes[chrom] or start == end:
            why = f"empty or outside {chrom} (length {sizes[chrom]})"
        else:
            continue
        inside[k] = False
        reasons.append((f"{names[k]} {chrom}:{start}-{end}", why))
    report_unmatched(
        reasons,
        total=len(elements),
        what=f"elements lie off the genome {genome.path.name}",
        caller="insert_elements",
        unmatched=unmatched,
        fix="Check the genome build and the coordinates (0-based, half-open).",
    )
    return inside


def _given_scores(scores: pd.DataFrame, features: list[str], unmatched: str) -> pd.DataFrame:
    """Precomputed scores in the model's cluster order (absent clusters 0), checked."""
    unknown = [str(c) for c in scores.columns if str(c) not in features]
    report_unmatched(
        [(repr(name), "") for name in unknown],
        total=scores.shape[1],
        what="columns of the element scores are unknown motif clusters",
        caller="insert_elements",
        unmatched=unmatched,
        fix=f"Columns must be the model's motif clusters (pb['atac'].varm columns, e.g. "
        f"{features[:3]}).",
        error=KeyError,
    )
    table = scores.rename(columns=str).reindex(columns=features, fill_value=0.0)
    values = table.to_numpy(dtype=np.float32)
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError(
            "Element motif scores must be finite and non-negative (as scan_motifs writes "
            "them); fix the NaN, infinite or negative values."
        )
    return pd.DataFrame(values, index=scores.index.astype(str), columns=features)


def _peak_width(pb, atac: str) -> int:
    """The widest peak of ``pb[atac]`` (bp)."""
    coords = peak_coordinates(pb[atac])
    return int((coords["end"] - coords["start"]).max())


def _scan(
    pb, tasks: list, index: pd.Index, *, features: list[str], motifs, motif_key: str
) -> pd.DataFrame:
    """Scan ``tasks`` as the pb's ``varm[motif_key]`` was scanned; scores in ``features`` order."""
    params, clusters = read_scan_record(pb, motif_key)
    collection = _collection(motifs, clusters)
    if collection.clusters != features:
        raise ValueError(
            "The motif collection's clusters differ from the model's motif features; pass "
            "motifs= the collection the peaks were scanned with."
        )
    top = clusters.loc[features, "max_score"].to_numpy(np.float64)
    scores = score_as_recorded(tasks, len(index), collection, params, top)
    return pd.DataFrame(scores.astype(np.float32), index=index, columns=features)


def _collection(motifs, clusters: pd.DataFrame):
    """The collection the record ``clusters`` was scanned with (its motifs, its order)."""
    wanted = [i for ids in clusters["motifs"].astype(str) for i in ids.split(LIST_SEP)]
    candidates = [motifs] if motifs is not None else ["jaspar", "vierstra"]
    for candidate in candidates:
        collection = resolve_motifs(candidate)
        if all(i in collection for i in wanted):
            chosen = collection.subset(wanted)
            if chosen.clusters == [str(c) for c in clusters.index]:
                return chosen
    raise ValueError(
        "The motifs the peaks were scanned with are not among those given (or jaspar and "
        "vierstra); pass motifs= the MotifCollection given to scget.pp.scan_motifs."
    )
