"""Expression targets per peak and strand: genes' TSSs mapped to the peaks they fall in."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._shared.constants import (
    ATAC,
    GENE_PEAKS_COLUMN,
    LIST_SEP,
    MIN_ACCESSIBILITY,
    PSEUDOBULK_KEY,
    RNA,
    TARGET_LAYERS,
    TSS_EXTEND,
    TSS_GENE_COLUMNS,
    TSS_KEY,
    UNS_KEY,
)
from .._shared.docs import inject_docs
from .._shared.genomic import chromosome_sort_key, peak_coordinates
from .._shared.logging import logger
from .._shared.storage import write_result
from .._shared.utils import check_finite, modality, to_dense
from ..genome._annotation import read_tss_table
from ._intervals import overlap_pairs

_STRANDS = ("+", "-")


@inject_docs()
def annotate_tss(
    pb,
    gtf: str | os.PathLike | pd.DataFrame,
    *,
    extend: int = TSS_EXTEND,
    min_accessibility: float = MIN_ACCESSIBILITY,
    gene_key: str | None = None,
    rna: str = RNA,
    atac: str = ATAC,
    copy: bool = False,
):
    """Map genes' TSSs to peaks and write GET's expression targets per peak and strand.

    Every TSS of a gene, extended by ``extend`` bp on each side, is matched to the
    peaks it overlaps. A peak's target on a strand is the sum of ``[rna].X``
    (log10 TPM + 1) over the distinct genes of that strand with a TSS in it; it is 0
    for peaks without a TSS and where the group's accessibility score is below
    ``min_accessibility``. Only genes of the RNA modality are used.

    Naming problems are handled and reported: chromosome names of the annotation are
    renamed to the peaks' style when they differ by a ``chr`` prefix (``1`` vs ``chr1``,
    ``MT`` vs ``chrM``); gene identifiers are matched to ``gene_name`` or, when that
    matches fewer genes, to ``gene_id`` (version suffixes ignored); a name given to
    genes on several chromosomes (e.g. PAR genes of chrX and chrY) keeps the locus on
    the first chromosome in natural order.

    Parameters
    ----------
    {mdata_pb}
    gtf
        GTF file (GENCODE, Ensembl, any species), TSS or gene table (DataFrame or
        ``.parquet``/``.csv``/``.tsv``); see :func:`scget.genome.read_tss_table`.
    extend
        Bases added on each side of a TSS when matching it to peaks.
    min_accessibility
        Targets are set to 0 where the accessibility score ``[atac].X`` is below this.
    gene_key
        Column of ``[rna].var`` holding the gene identifiers; ``None`` uses var_names.
    {rna}
    {atac}
    {copy}

    Returns
    -------
    ``None``, or a copy of ``pb`` when ``copy=True``. Written (re-running overwrites):

    - ``[atac].var["tss_genes_plus"]``, ``["tss_genes_minus"]``: ";"-joined names
      (``[rna].var_names``) of the genes with a TSS in the peak, ``""`` if none.
    - ``[atac].layers["target_plus"]``, ``["target_minus"]``: dense float32
      groups x peaks targets.
    - ``[rna].var``: ``chrom``, ``strand`` (``"+"``/``"-"``), ``tss`` (the gene's
      most upstream TSS), ``gene_start``, ``gene_end`` (gene body, 0-based, -1 when the
      annotation has none) and ``tss_peaks`` (";"-joined peaks holding the gene's TSSs:
      the map from genes back to peaks). Genes without annotation get ``""``/-1.
    - ``.uns["scget"]["tss"]``: counts of matched and missing genes, and ``params``.

    Raises
    ------
    KeyError
        If a modality or ``gene_key`` is missing.
    ValueError
        If ``pb`` was not made by :func:`scget.pp.pseudobulk` (cell-level data), its
        values hold NaN or infinity, peak names cannot be parsed, gene identifiers are
        duplicated, the options are out of range, the annotation has no TSS or shares
        no chromosome or gene with the data.

    Examples
    --------
    >>> scget.pp.annotate_tss(pb, gtf=mdata.uns["simulation"]["gtf"])
    >>> pb["rna"].var[["chrom", "strand", "tss", "tss_peaks"]].head(3)
              chrom strand    tss         tss_peaks
    gene_name
    Gene01     chr1      +  39334  chr1:39166-39527
    Gene02     chr1      +  54364  chr1:54087-54500
    Gene03     chr1      -  78494  chr1:78251-78606
    """
    for name in (rna, atac):
        modality(pb, name)
    if PSEUDOBULK_KEY not in pb.uns.get(UNS_KEY, {}):
        raise ValueError(
            f"pb has no uns[{UNS_KEY!r}][{PSEUDOBULK_KEY!r}] record: it is not a pseudobulk "
            "(cell-level data?). The targets are built from pseudobulk expression "
            "(log10 TPM + 1) and accessibility scores: run "
            "pb = scget.pp.pseudobulk(mdata, groupby=...) first and annotate its result."
        )
    for name in (rna, atac):
        check_finite(
            pb[name].X,
            f'pb["{name}"].X',
            "recompute the pseudobulk values with scget.pp.pseudobulk from raw counts",
        )
    if not isinstance(extend, int | np.integer) or extend < 0:
        raise ValueError(f"extend must be a non-negative integer, got {extend!r}.")
    if not 0 <= min_accessibility <= 1:
        raise ValueError(f"min_accessibility must lie in [0, 1], got {min_accessibility!r}.")
    identifiers = _gene_identifiers(pb[rna], gene_key, rna)
    genes = pd.Index(pb[rna].var_names)
    peaks = peak_coordinates(pb[atac])
    if pb[rna].n_obs != pb[atac].n_obs or not (pb[rna].obs_names == pb[atac].obs_names).all():
        raise ValueError(
            f"pb[{rna!r}] and pb[{atac!r}] must hold the same groups in the same order, "
            "as scget.pp.pseudobulk returns them."
        )

    tss = read_tss_table(gtf)
    tss["chrom"] = tss["chrom"].map(_chromosome_renaming(tss["chrom"], peaks["chrom"]))
    tss, n_not_in_rna = _match_genes(tss, identifiers)
    tss, n_multi_locus = _unique_loci(tss)
    hits_tss, hits_peak = overlap_pairs(
        pd.DataFrame(
            {"chrom": tss["chrom"], "start": tss["tss"] - extend, "end": tss["tss"] + extend + 1}
        ),
        peaks,
    )
    pairs = pd.DataFrame(
        {
            "gene": tss["gene"].to_numpy()[hits_tss],
            "peak": hits_peak,
            "strand": tss["strand"].to_numpy()[hits_tss],
        }
    ).drop_duplicates()

    if copy:
        pb = pb.copy()
    expression = to_dense(pb[rna].X)
    accessible = to_dense(pb[atac].X) >= min_accessibility
    for strand, layer, column in zip(_STRANDS, TARGET_LAYERS, TSS_GENE_COLUMNS, strict=True):
        on_strand = pairs[pairs["strand"] == strand]
        tss_map = sp.csr_matrix(
            (np.ones(len(on_strand)), (on_strand["gene"], on_strand["peak"])),
            shape=(len(genes), len(peaks)),
        )
        targets = np.asarray(tss_map.T @ expression.T.astype(np.float64)).T
        pb[atac].layers[layer] = np.where(accessible, targets, 0.0).astype(np.float32)
        on_strand = on_strand.assign(name=genes[on_strand["gene"]]).sort_values("name")
        pb[atac].var[column] = _joined(on_strand["peak"], on_strand["name"], len(peaks))
    _write_gene_annotation(pb[rna].var, tss, pairs, genes, peaks.index)

    summary = {
        "n_genes": len(genes),
        "n_genes_annotated": int(tss["gene"].nunique()),
        "n_genes_with_tss_peak": int(pairs["gene"].nunique()),
        "n_peaks_with_tss": int(pairs["peak"].nunique()),
        "n_annotation_genes_not_in_rna": n_not_in_rna,
        "n_genes_with_several_loci": n_multi_locus,
    }
    params = {"extend": extend, "min_accessibility": min_accessibility, "gene_key": gene_key}
    params["annotation"] = gtf if not isinstance(gtf, pd.DataFrame) else "DataFrame"
    write_result(pb, TSS_KEY, summary, params)
    logger.info(
        f"{summary['n_genes_with_tss_peak']} of {len(genes)} genes have a TSS in one of "
        f"{summary['n_peaks_with_tss']} peaks (extension {extend} bp)."
    )
    return pb if copy else None


def _gene_identifiers(adata, gene_key: str | None, rna: str) -> pd.Index:
    if gene_key is None:
        genes = adata.var_names
    elif gene_key in adata.var.columns:
        genes = pd.Index(adata.var[gene_key].astype(str))
    else:
        raise KeyError(f"gene_key {gene_key!r} is not a column of pb[{rna!r}].var.")
    if genes.has_duplicates:
        raise ValueError(
            f"Gene identifiers of pb[{rna!r}] are duplicated, e.g. "
            f"{genes[genes.duplicated()][0]!r}: a TSS cannot be given one expression value. "
            "Make them unique (var_names_make_unique) or pass gene_key='gene_ids'."
        )
    return genes


def _chromosome_renaming(annotation: pd.Series, peaks: pd.Series) -> dict[str, str]:
    """Map annotation chromosome names to the peaks' naming (``chr`` prefix or not)."""
    names = pd.unique(annotation)
    targets = set(pd.unique(peaks))

    def restyle(name: str) -> str:
        if name in targets:
            return name
        bare = name[3:] if name.lower().startswith("chr") else name
        for candidate in (bare, f"chr{bare}", {"M": "MT", "MT": "M"}.get(bare, bare)):
            for styled in (candidate, f"chr{candidate}"):
                if styled in targets:
                    return styled
        return name

    renaming = {name: restyle(name) for name in names}
    changed = {a: b for a, b in renaming.items() if a != b}
    if changed:
        examples = ", ".join(f"{a}->{b}" for a, b in list(changed.items())[:3])
        logger.info(
            f"Renamed {len(changed)} annotation chromosome(s) to the peaks' names ({examples})."
        )
    if not set(renaming.values()) & targets:
        raise ValueError(
            f"The annotation shares no chromosome with the peaks (annotation: {list(names[:3])}, "
            f"peaks: {sorted(targets)[:3]}); are they from the same genome?"
        )
    return renaming


def _match_genes(tss: pd.DataFrame, genes: pd.Index) -> tuple[pd.DataFrame, int]:
    """Keep the TSSs of the data's genes (matched by name or, if better, by ID).

    Returns the TSSs with a ``gene`` column (position in ``genes``) and the number of
    annotated genes absent from the data.
    """
    bare = pd.Index(genes.str.replace(r"\.\d+$", "", regex=True))
    by_name = tss["gene_name"].isin(genes)
    by_id = tss["gene_id"].str.replace(r"\.\d+$", "", regex=True).isin(bare)
    if by_id.sum() > by_name.sum():
        identifier = tss["gene_id"].str.replace(r"\.\d+$", "", regex=True)
        position = bare.get_indexer(identifier)
        logger.info("Genes are matched to the annotation by gene_id.")
    else:
        position = genes.get_indexer(tss["gene_name"])
    matched = tss.assign(gene=position)[position >= 0]
    if matched.empty:
        raise ValueError(
            f"No gene of the RNA modality (e.g. {list(genes[:3])}) is in the annotation "
            f"(e.g. {list(tss['gene_name'][:3])}); pass gene_key= to match another column."
        )
    n_annotated = matched["gene"].nunique()
    n_absent = tss.loc[position < 0, "gene_name"].nunique()
    logger.info(
        f"{n_annotated} of {len(genes)} RNA genes have a TSS annotation; "
        f"{len(genes) - n_annotated} have none; {n_absent} annotated genes are not in the RNA data."
    )
    return matched, int(n_absent)


def _unique_loci(tss: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Keep, for a gene given to several loci, the locus on the first chromosome.

    Returns the kept TSSs and the number of genes that had several loci.
    """
    loci = tss.drop_duplicates(["gene", "gene_id", "chrom"])
    rank = {c: i for i, c in enumerate(sorted(loci["chrom"].unique(), key=chromosome_sort_key))}
    first = (
        loci.assign(rank=loci["chrom"].map(rank))
        .sort_values(["rank", "tss"], kind="stable")
        .drop_duplicates("gene")
    )
    keep = tss.merge(first[["gene", "gene_id", "chrom"]], on=["gene", "gene_id", "chrom"])
    n_multi = int((loci.groupby("gene").size() > 1).sum())
    if n_multi:
        examples = tss.loc[tss["gene"].isin(loci["gene"][loci["gene"].duplicated()]), "gene_name"]
        logger.warning(
            f"{n_multi} gene name(s) belong to several loci in the annotation (e.g. "
            f"{list(pd.unique(examples)[:3])}); the locus on the first chromosome is used."
        )
    return keep, n_multi


def _joined(rows: pd.Series, names, n_rows: int) -> np.ndarray:
    """``LIST_SEP``-joined distinct ``names`` per row position, in the given order."""
    joined = np.full(n_rows, "", dtype=object)
    table = pd.DataFrame({"row": np.asarray(rows), "name": np.asarray(names)})
    grouped = table.groupby("row", sort=False)["name"].agg(
        lambda n: LIST_SEP.join(dict.fromkeys(n))
    )
    joined[grouped.index.to_numpy()] = grouped.to_numpy()
    return joined.astype(str)


def _write_gene_annotation(var, tss, pairs, genes, peak_names) -> None:
    by_gene = tss.groupby("gene")
    plus = by_gene["strand"].first() == "+"
    first_tss = np.where(plus, by_gene["tss"].min(), by_gene["tss"].max())
    rows = by_gene.size().index.to_numpy()
    columns = {
        "chrom": ("", by_gene["chrom"].first().to_numpy()),
        "strand": ("", by_gene["strand"].first().to_numpy()),
        "tss": (-1, first_tss),
        "gene_start": (-1, by_gene["gene_start"].min().to_numpy()),
        "gene_end": (-1, by_gene["gene_end"].max().to_numpy()),
    }
    for name, (missing, values) in columns.items():
        column = np.full(len(genes), missing, dtype=object if missing == "" else np.int64)
        column[rows] = values
        var[name] = column.astype(str) if missing == "" else column
    pairs = pairs.sort_values("peak")
    var[GENE_PEAKS_COLUMN] = _joined(pairs["gene"], peak_names[pairs["peak"]], len(genes))
