"""Variant effect: the predicted change of each gene when a sequence variant is applied.

A variant changes the motif scores of the peak that holds it. The peak is rescanned with
the reference and the alternative allele exactly as :func:`scget.pp.scan_motifs` scanned
it (same collection, p-value, background, pseudocount and normalisation, read from the
scan's record), and either the model is run on every promoter window holding
the peak with the peak's motif scores replaced (``method="model"``) or the change of the
motif scores is multiplied by the stored gene-by-motif importance (``"first_order"``).
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..._scan.record import read_scan_record
from ..._scan.scores import resolve_motifs, score_as_recorded
from ..._shared.constants import ATAC, GENE_BY_MOTIF_KEY, MOTIF_KEY, RNA, VARIANT_EFFECT_KEY
from ..._shared.docs import inject_docs
from ..._shared.genomic import peak_coordinates
from ..._shared.logging import logger
from ..._shared.storage import finish_writer, writable
from ..._shared.utils import name_list
from ...genome import Genome
from ...get import gene_by_motif
from .._core._model import GETModel
from .._core._promoters import per_gene, promoters, run_copies, window_peaks
from ._unmatched import check_unmatched, match_intervals

_ALLELE = set("ACGTN")
_COLUMNS = ["variant", "chrom", "pos", "ref", "alt", "peak", "group", "gene", "change"]


@inject_docs()
def variant_effect(
    pb,
    model: GETModel,
    *,
    variants,
    genome,
    motifs="jaspar",
    groups: str | Sequence[str] | None = None,
    method: str = "model",
    unmatched: str = "error",
    batch_size: int = 32,
    device: str | None = "auto",
    rna: str = RNA,
    atac: str = ATAC,
    motif_key: str = MOTIF_KEY,
    gene_by_motif_key: str = GENE_BY_MOTIF_KEY,
    key_added: str = VARIANT_EFFECT_KEY,
    copy: bool = False,
):
    """Predicted change of each gene's expression for each sequence variant.

    The peak holding a variant is rescanned with the reference and the alternative
    allele, with the motif collection and settings it was scanned with
    (the record of the scan stored in ``[atac].varm[motif_key]``; the reference rescan
    must reproduce the stored scores).
    With ``method="model"`` every promoter window holding the peak runs twice, with the
    reference and the alternative motif scores of the peak, and a gene's change is the
    difference of its predicted log10(TPM + 1), averaged over its TSS peaks' windows as
    :func:`scget.tl.knockout_motifs` does. With ``method="first_order"`` no forward pass
    runs: the change of the peak's motif scores is multiplied by the gene's stored
    motif importance (:func:`scget.tl.gene_by_motif`), for the same genes (the published
    shortcut). A variant outside every peak has no effect on the model's input: it is an
    error listing it (``unmatched="error"``), or it is left out of the table and logged
    (``unmatched="warn"``). SNVs and indels wholly inside one peak are accepted.

    Parameters
    ----------
    {mdata_pb} Needs ``["atac"].varm["motif_scores"]`` from
        :func:`scget.pp.scan_motifs` on ``genome``.
    {model}
    variants
        A VCF path (plain text or gzip; the first five columns are read and
        multi-allelic ALT split) or a DataFrame with ``chrom``, ``pos`` (1-based, as in
        VCF), ``ref``, ``alt`` and optionally ``id``.
    genome
        :class:`scget.genome.Genome` or FASTA path the peaks were scanned on.
    motifs
        The motif collection the peaks were scanned with: a
        :class:`scget.motifs.MotifCollection`, ``"jaspar"`` or ``"vierstra"``.
    groups
        Groups (``obs_names``) to predict; ``None``: all.
    method
        ``"model"`` (run the model on both alleles) or ``"first_order"`` (motif-score
        change x stored gene-by-motif importance).
    {unmatched}
        Here: variants inside no peak (each with the reason, e.g. a chromosome
        the peaks lack, with the naming they use).
    batch_size
        Windows per forward pass.
    {device}
    {rna}
    {atac}
    {motif_key}
    gene_by_motif_key
        The ``key_added`` of the :func:`scget.tl.gene_by_motif` run that
        ``method="first_order"`` multiplies with.
    {key_added}
    {copy}

    Returns
    -------
    The changes (with ``copy``, the modified copy instead), one row per (variant, peak,
    group, gene) affected: ``variant``, ``chrom``, ``pos``,
    ``ref``, ``alt``, ``peak``, ``group``, ``gene`` and ``change`` (alternative minus
    reference predicted log10(TPM + 1)). Writes, replacing an earlier run under
    ``key_added``, ``pb.uns["scget"][key_added]``: ``"result"`` (this table),
    ``"motif_change"`` (variant-peak pairs x motif clusters: alternative minus reference
    motif score) and the parameters. Read them with :func:`scget.get.variant_effect`.

    Raises
    ------
    {errors}
    ValueError
        Before any work, if a reference allele differs from the genome, an allele is not
        A/C/G/T/N, an indel crosses a peak's edge, a variant lies in no peak (with
        ``unmatched="warn"``: if none lies in a peak), ``method`` or ``unmatched`` is
        unknown, or the stored scores cannot be reproduced with ``genome`` and ``motifs``.
    KeyError
        If the motif scan record, or (``"first_order"``) the gene-by-motif result, is
        missing.

    Examples
    --------
    >>> import pandas as pd
    >>> genome = scget.genome.Genome(mdata.uns["simulation"]["genome"])
    >>> genome.fetch("chr1", 11_150, 11_151)  # 0-based, half-open: VCF position 11,151
    'A'
    >>> variants = pd.DataFrame({"chrom": ["chr1"], "pos": [11_151], "ref": ["A"], "alt": ["G"]})
    >>> table = scget.tl.variant_effect(pb, model, variants=variants, genome=genome)
    >>> table.columns.tolist()
    ['variant', 'chrom', 'pos', 'ref', 'alt', 'peak', 'group', 'gene', 'change']
    """
    groups = name_list(groups)
    pb = writable(pb, copy)
    if method not in ("model", "first_order"):
        raise ValueError(f"method must be 'model' or 'first_order', got {method!r}.")
    check_unmatched(unmatched)
    table = read_variants(variants)
    peaks = peak_coordinates(pb[atac])
    span = pd.DataFrame(
        {
            "chrom": table["chrom"],
            "start": table["pos"] - 1,
            "end": table["pos"] - 1 + table["ref"].str.len(),
        }
    )
    matches = match_intervals(
        pb,
        span,
        list(table["variant"]),
        atac=atac,
        what="variants lie in no peak",
        caller="variant_effect",
        unmatched=unmatched,
        fix="Only variants inside peaks change the model's input: check the chromosome names "
        "and the positions (1-based, as in VCF), or drop those variants.",
    )
    i, j = matches.item, matches.peak
    starts, ends = peaks["start"].to_numpy()[j], peaks["end"].to_numpy()[j]
    crossing = (span["start"].to_numpy()[i] < starts) | (span["end"].to_numpy()[i] > ends)
    if crossing.any():
        first = table.iloc[i[crossing][0]]
        raise ValueError(
            f"{crossing.sum()} variants cross a peak's edge (first: {first['variant']}); "
            "only variants wholly inside a peak are scored: split or drop them."
        )
    genome = genome if isinstance(genome, Genome) else Genome(genome)
    _check_reference(table.iloc[np.unique(i)], genome)
    scan, clusters_table = read_scan_record(pb, motif_key)
    stored = pb[atac].varm[motif_key]
    collection = resolve_motifs(motifs)
    if list(collection.clusters) != [str(c) for c in stored.columns] or len(collection) != int(
        scan["n_motifs"]
    ):
        raise ValueError(
            f'The motif collection differs from the one pb["{atac}"].varm["{motif_key}"] was '
            "scanned with; pass that collection as motifs=."
        )
    first_order = None
    if method == "first_order":
        try:
            first_order = gene_by_motif(pb, key=gene_by_motif_key)
        except KeyError as error:
            raise KeyError(
                f"method='first_order' needs the gene-by-motif importance under "
                f"{gene_by_motif_key!r}: run scget.tl.gene_by_motif(pb, model) first (or pass "
                "the gene_by_motif_key= it was written under), or use method='model'."
            ) from error
    outside = len(table) - len(np.unique(i))
    chosen = promoters(
        pb, model, genes=None, groups=groups, rna=rna, atac=atac, motif_key=motif_key
    )
    ref_scores, alt_scores = _rescan(
        table, i, peaks, j, genome, collection, scan, clusters_table["max_score"].to_numpy()
    )
    stored_rows = stored.to_numpy(np.float64)[j]
    if not np.allclose(ref_scores, stored_rows, atol=1e-5):
        raise ValueError(
            f'Rescanning the reference peaks does not reproduce pb["{atac}"].varm'
            f'["{motif_key}"]: pass the genome and motif collection they were scanned with.'
        )
    delta = alt_scores - ref_scores
    shape = pb[rna].shape
    if method == "model":
        changes, touched = _model_change(chosen, model, j, alt_scores, shape, batch_size, device)
    else:
        changes, touched = _first_order(
            chosen, model, j, delta, first_order, stored.columns.astype(str), pb, rna, shape
        )
    rows = []
    group_names = pb[rna].obs_names.astype(str)
    gene_names = pb[rna].var_names.astype(str)
    for k in range(len(i)):
        g, n = np.nonzero(touched[k][chosen.groups])
        variant = table.iloc[i[k]]
        rows.append(
            pd.DataFrame(
                {
                    **{c: variant[c] for c in ("variant", "chrom", "pos", "ref", "alt")},
                    "peak": str(peaks.index[j[k]]),
                    "group": group_names[chosen.groups[g]],
                    "gene": gene_names[n],
                    "change": changes[k][chosen.groups[g], n],
                }
            )
        )
    result = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=_COLUMNS)
    result = result[_COLUMNS].astype({"pos": np.int64, "change": np.float64})
    motif_change = pd.DataFrame(
        delta.astype(np.float32),
        index=pd.Index(
            [f"{table['variant'].iloc[a]}|{peaks.index[b]}" for a, b in zip(i, j, strict=True)]
        ),
        columns=stored.columns.astype(str),
    )
    params = {**chosen.params, "method": method, "unmatched": unmatched, "batch_size": batch_size}
    params |= {"n_variants": len(table), "n_outside_peaks": outside, "genome": str(genome.path)}
    return finish_writer(
        pb,
        key_added,
        result,
        params,
        extra={"motif_change": motif_change},
        copy=copy,
        returns=result,
        message=f"variant_effect: {len(result)} (variant, group, gene) changes ({method}).",
    )


def read_variants(variants) -> pd.DataFrame:
    """Variants as a table ``variant``, ``chrom``, ``pos``, ``ref``, ``alt`` (one ALT a row)."""
    if isinstance(variants, str | Path):
        variants = _read_vcf(Path(variants))
    if not isinstance(variants, pd.DataFrame):
        raise TypeError(
            "variants must be a VCF path or a DataFrame with chrom, pos, ref, alt; got "
            f"{type(variants).__name__}."
        )
    missing = {"chrom", "pos", "ref", "alt"} - set(variants.columns)
    if missing:
        raise ValueError(
            f"The variant table needs columns chrom, pos, ref, alt; missing {missing}."
        )
    table = variants.copy()
    table["alt"] = table["alt"].astype(str).str.split(",")
    table = table.explode("alt", ignore_index=True)
    table["chrom"] = table["chrom"].astype(str)
    table["pos"] = table["pos"].astype(np.int64)
    for column in ("ref", "alt"):
        table[column] = table[column].astype(str).str.upper()
        bad = ~table[column].map(lambda allele: bool(allele) and set(allele) <= _ALLELE)
        if bad.any():
            raise ValueError(
                f"{bad.sum()} {column.upper()} alleles are not A/C/G/T/N sequences (first: "
                f"{table[column][bad].iloc[0]!r}); symbolic and missing alleles are not scored."
            )
    if (table["pos"] < 1).any():
        raise ValueError("Variant positions are 1-based (as in VCF): all must be >= 1.")
    name = table["chrom"] + ":" + table["pos"].astype(str) + ":" + table["ref"] + ">"
    table["variant"] = name + table["alt"]
    if "id" in table.columns:
        given = table["id"].astype(str)
        usable = table["id"].notna() & (given != ".")
        table.loc[usable, "variant"] = given[usable] + ":" + table["alt"][usable]
    if table.empty:
        raise ValueError("No variant given.")
    return table[["variant", "chrom", "pos", "ref", "alt"]]


def _read_vcf(path: Path) -> pd.DataFrame:
    """The first five columns of a VCF (plain or gzip) as chrom, pos, id, ref, alt."""
    if not path.exists():
        raise FileNotFoundError(f"No VCF at {path}.")
    opener = gzip.open if path.suffix in (".gz", ".bgz") else open
    rows = []
    with opener(path, "rt") as handle:
        for number, line in enumerate(handle, 1):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 5:
                raise ValueError(
                    f"{path} line {number}: a VCF record needs 5 tab-separated fields."
                )
            rows.append(fields[:5])
    return pd.DataFrame(rows, columns=["chrom", "pos", "id", "ref", "alt"])


def _check_reference(table: pd.DataFrame, genome) -> None:
    """Raise unless every REF allele equals the genome at its 1-based position."""
    ends = table["pos"] - 1 + table["ref"].str.len()
    genome.check_intervals(table["chrom"], table["pos"] - 1, ends)
    bases = genome.fetch_many(table["chrom"].tolist(), (table["pos"] - 1).tolist(), ends.tolist())
    wrong = [
        k for k, (base, ref) in enumerate(zip(bases, table["ref"], strict=True)) if base != ref
    ]
    if wrong:
        k = wrong[0]
        raise ValueError(
            f"{len(wrong)} REF alleles differ from the genome (first: {table['variant'].iloc[k]},"
            f" genome has {bases[k]!r}); positions are 1-based: check the genome build."
        )


def _rescan(table, i, peaks, j, genome, collection, scan, max_score):
    """Motif scores of each (variant, peak) pair's peak with REF and with ALT."""
    starts = peaks["start"].to_numpy()[j]
    reference = genome.fetch_many(
        peaks["chrom"].to_numpy()[j].tolist(), starts.tolist(), peaks["end"].to_numpy()[j].tolist()
    )
    alternative = []
    for k, sequence in enumerate(reference):
        variant = table.iloc[i[k]]
        offset = int(variant["pos"]) - 1 - int(starts[k])
        alternative.append(
            sequence[:offset] + variant["alt"] + sequence[offset + len(variant["ref"]) :]
        )
    return tuple(
        score_as_recorded([sequences], len(sequences), collection, scan, max_score)
        for sequences in (reference, alternative)
    )


def _affected(chosen, model, j):
    """Window peaks and, per pair, the windows holding its peak."""
    peaks = window_peaks(chosen, model.window_size)
    return peaks, [np.flatnonzero((peaks == peak).any(axis=1)) for peak in j]


def _model_change(chosen, model, j, alt_scores, shape, batch_size, device):
    """Per pair: groups x genes change and touched mask, from one engine pass."""
    peaks, windows = _affected(chosen, model, j)
    reference = np.unique(np.concatenate([*windows, np.zeros(0, np.int64)]))
    changes, touched = [], []
    if not len(reference):
        if len(j):
            logger.warning("variant_effect: no chosen window holds a variant's peak.")
        empty = np.full(shape, np.nan)
        return [empty] * len(j), [np.zeros(shape, bool)] * len(j)
    pair = np.concatenate(
        [np.full(len(reference), -1)] + [np.full(len(w), k) for k, w in enumerate(windows)]
    )
    order = np.concatenate([reference, *windows])
    mask = (pair[:, None] >= 0) & (peaks[order] == np.asarray(j)[np.maximum(pair, 0)][:, None])
    n_motifs = alt_scores.shape[1]
    values = np.zeros((len(order), n_motifs), np.float32)
    values[pair >= 0] = alt_scores[pair[pair >= 0]]

    def transform(x, rows):
        hit = torch.from_numpy(mask[rows]).to(x.device)[..., None]
        new = torch.from_numpy(values[rows]).to(x.device)[:, None, :]
        motifs = torch.where(hit, new.expand(-1, x.shape[1], -1), x[..., :n_motifs])
        return torch.cat([motifs, x[..., n_motifs:]], dim=-1)

    output = run_copies(
        chosen,
        order,
        model,
        transform=transform,
        batch_size=batch_size,
        device=device,
        desc="variant_effect",
    )
    base = dict(zip(reference, output[: len(reference)], strict=True))
    offset = len(reference)
    for w in windows:
        values_k = np.zeros(len(chosen.table))
        values_k[w] = output[offset : offset + len(w)] - np.array([base[r] for r in w])
        offset += len(w)
        hit = np.zeros(len(chosen.table))
        hit[w] = 1.0
        change = per_gene(values_k, chosen, shape)
        mark = per_gene(hit, chosen, shape) > 0
        change[~mark] = np.nan
        changes.append(change)
        touched.append(mark)
    return changes, touched


def _first_order(chosen, model, j, delta, importance, clusters, pb, rna, shape):
    """Per pair: motif-score change x stored gene-by-motif, for the genes the model reads."""
    _, windows = _affected(chosen, model, j)
    group_names = pb[rna].obs_names.astype(str)
    gene_names = pb[rna].var_names.astype(str)
    lookup = importance[list(clusters)].to_numpy(np.float64)
    position = {key: r for r, key in enumerate(importance.index)}
    changes, touched = [], []
    for k, w in enumerate(windows):
        hit = np.zeros(len(chosen.table))
        hit[w] = 1.0
        mark = per_gene(hit, chosen, shape) > 0
        change = np.full(shape, np.nan)
        for g, n in zip(*np.nonzero(mark), strict=True):
            r = position.get((group_names[g], gene_names[n]))
            if r is not None:
                change[g, n] = float(lookup[r] @ delta[k])
        changes.append(change)
        touched.append(mark)
    return changes, touched
