"""Over-representation of gene sets among a regulator's targets (gseapy, offline)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..._shared.constants import ATAC, ENRICHMENT_KEY, LIST_SEP, REGULATOR_TARGETS_KEY, RNA
from ..._shared.docs import inject_docs
from ..._shared.logging import progress
from ..._shared.storage import finish_writer, read_result, writable
from ..._shared.utils import modality, to_dense
from .._core._genes import accessible_tss, tss_peak_matrix

#: Columns of an enrichment table.
COLUMNS = (
    "motif",
    "group",
    "term",
    "overlap",
    "n_genes",
    "set_size",
    "gene_ratio",
    "pvalue",
    "padj",
    "odds_ratio",
    "genes",
)
#: ``motif`` and ``group`` of a gene list given directly.
QUERY = "query"


@inject_docs()
def enrichment(
    data,
    gene_sets: str | os.PathLike | Mapping[str, Sequence[str]],
    *,
    genes: Sequence[str] | None = None,
    background: Sequence[str] | None = None,
    key: str = REGULATOR_TARGETS_KEY,
    rna: str = RNA,
    atac: str = ATAC,
    key_added: str = ENRICHMENT_KEY,
    copy: bool = False,
):
    """Gene sets over-represented among regulator targets (hypergeometric test, gseapy).

    With a pseudobulk, each (motif, group) target list of
    :func:`scget.tl.regulator_targets` is tested against the genes with an accessible
    promoter in that group (those GET can interpret), unless ``genes`` gives one list.
    With a list of genes, that list is tested. Runs offline with
    :func:`gseapy.enrich` (unlike g:Profiler, used by the published code).

    Parameters
    ----------
    data
        Pseudobulk :class:`~mudata.MuData` (with :func:`scget.tl.regulator_targets`
        results unless ``genes`` is given), or a list of gene names.
    gene_sets
        A GMT file, a dict of set name -> genes, or a gseapy library name (Enrichr,
        needs the internet). :func:`scget.datasets.gene_sets` ships a small one.
    genes
        With a pseudobulk: one gene list to test instead of the stored targets.
    background
        The universe of the test. Default with a pseudobulk: the genes with an
        accessible TSS peak (``["atac"].X`` >= 0.05) in the list's group (in any group
        for ``genes``); with a list of genes: gseapy's default, the genes of the sets.
    key
        ``key_added`` of the regulator targets to read.
    {rna}
    {atac}
    {key_added}
    {copy}

    Returns
    -------
    The tidy table (with ``copy``, the modified copy instead), one row per (list, term)
    with an overlap, by ascending p-value: ``motif``, ``group`` (``"query"`` for a
    given list), ``term``, ``overlap`` (``"k/K"``), ``n_genes`` (k), ``set_size`` (K,
    within the background), ``gene_ratio`` (k / list size), ``pvalue``, ``padj``
    (Benjamini-Hochberg within the list), ``odds_ratio`` and ``genes`` (sorted,
    ``;``-joined).
    With a pseudobulk, writes it, replacing an earlier run, as
    ``pb.uns["scget"][key_added]["result"]``; read it with :func:`scget.get.enrichment`.

    Raises
    ------
    KeyError
        If :func:`scget.tl.regulator_targets` has not run (and no ``genes`` are given).
    ValueError
        If a gene list is empty, shares no gene with the background, or the gene sets
        cannot be read.

    Examples
    --------
    >>> scget.tl.gene_by_motif(pb, model, groups=["type_01"])
    >>> targets = scget.tl.regulator_targets(pb, ["HES", "PAX"])
    >>> table = scget.tl.enrichment(pb, scget.datasets.planted_gene_sets(mdata))
    >>> table.columns.tolist()
    ['motif', 'group', 'term', 'overlap', 'n_genes', 'set_size', 'gene_ratio', 'pvalue', 'padj',
     'odds_ratio', 'genes']
    """
    sets = _gene_sets(gene_sets)
    if isinstance(data, str) or not hasattr(data, "mod"):
        if copy:
            raise ValueError("copy needs a pseudobulk; a gene list is not stored.")
        return _table({(QUERY, QUERY): list(data)}, sets, {QUERY: background})
    pb = data
    if genes is not None:
        lists = {(QUERY, QUERY): list(genes)}
    else:
        targets = read_result(pb, key, writer="scget.tl.regulator_targets")
        lists = {
            (str(motif), str(group)): rows["gene"].tolist()
            for (motif, group), rows in targets.groupby(["motif", "group"], sort=False)
        }
    names = {group for _, group in lists}
    if background is None:
        accessible = _accessible_genes(pb, rna=rna, atac=atac)
        backgrounds = {
            group: accessible.columns[accessible.any() if group == QUERY else accessible.loc[group]]
            for group in names
        }
    else:
        backgrounds = dict.fromkeys(names, background)
    table = _table(lists, sets, backgrounds)
    params = {
        "gene_sets": gene_sets if isinstance(gene_sets, str | os.PathLike) else "dict",
        "n_sets": len(sets),
        "genes": None if genes is None else list(genes),
        "background": None if background is None else len(background),
        "key": key,
        "rna": rna,
        "atac": atac,
    }
    pb = writable(pb, copy)
    message = f"enrichment: {len(table)} (list, term) rows for {len(lists)} list(s)."
    return finish_writer(pb, key_added, table, params, copy=copy, returns=table, message=message)


def _gene_sets(gene_sets) -> dict[str, list[str]] | str:
    """A dict of sets (read from a GMT file), or a gseapy library name."""
    if isinstance(gene_sets, Mapping):
        sets = {str(name): [str(gene) for gene in members] for name, members in gene_sets.items()}
    elif os.path.exists(gene_sets):
        sets = read_gmt(gene_sets)
    elif isinstance(gene_sets, str) and not gene_sets.endswith(".gmt"):
        return gene_sets
    else:
        raise ValueError(f"Gene-set file {os.fspath(gene_sets)!r} does not exist.")
    if not sets:
        raise ValueError("No gene sets given.")
    return sets


def read_gmt(path: str | os.PathLike) -> dict[str, list[str]]:
    """Gene sets of a GMT file: one per line, ``name<TAB>description<TAB>gene...``."""
    sets = {}
    with open(path) as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 3:
                if line.strip():
                    raise ValueError(
                        f"{os.fspath(path)}:{number}: not a GMT line (name, description, genes)."
                    )
                continue
            sets[fields[0]] = [gene for gene in fields[2:] if gene]
    return sets


def _accessible_genes(pb, *, rna: str, atac: str) -> pd.DataFrame:
    """Groups x genes: whether the gene has an accessible TSS peak in the group."""
    genes, peaks = modality(pb, rna), modality(pb, atac)
    tss = tss_peak_matrix(genes.var, peaks.var_names)
    return pd.DataFrame(
        accessible_tss(to_dense(peaks.X, np.float32), tss),
        index=peaks.obs_names.astype(str),
        columns=genes.var_names.astype(str),
    )


def _table(lists: dict, sets, backgrounds: dict) -> pd.DataFrame:
    """The tidy enrichment table of every (motif, group) gene list."""
    import gseapy

    queries = {}
    for (motif, group), members in lists.items():
        universe = None if backgrounds[group] is None else set(backgrounds[group])
        query = [gene for gene in dict.fromkeys(members) if universe is None or gene in universe]
        if not query:
            raise ValueError(f"Gene list {motif!r} of {group!r} has no gene in the background.")
        queries[motif, group] = query
    parts = []
    for (motif, group), query in progress(queries.items(), desc="enrichment", unit="list"):
        universe = backgrounds[group]
        found = gseapy.enrich(
            gene_list=query,
            gene_sets=sets,
            background=None if universe is None else list(universe),
            outdir=None,
            cutoff=1.0,
            no_plot=True,
        ).results
        if found is None or found.empty:
            continue
        counts = found["Overlap"].str.split("/", expand=True).astype(int)
        parts.append(
            pd.DataFrame(
                {
                    "motif": motif,
                    "group": group,
                    "term": found["Term"].astype(str),
                    "overlap": found["Overlap"].astype(str),
                    "n_genes": counts[0],
                    "set_size": counts[1],
                    "gene_ratio": counts[0] / len(query),
                    "pvalue": found["P-value"].astype(float),
                    "padj": found["Adjusted P-value"].astype(float),
                    "odds_ratio": found["Odds Ratio"].astype(float),
                    # gseapy lists them in its sets' order, which varies with the hash seed
                    "genes": [LIST_SEP.join(sorted(g.split(";"))) for g in found["Genes"]],
                }
            ).sort_values("pvalue", kind="stable")
        )
    if not parts:
        return pd.DataFrame({column: [] for column in COLUMNS})
    return pd.concat(parts, ignore_index=True)[list(COLUMNS)]
