"""``simulate_multiome``: a single-cell multiome whose regulatory truth is known."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import anndata as ad
import numpy as np
import pandas as pd
from mudata import MuData

from ..._shared.atomic import file_lock
from ..._shared.constants import ATAC, RNA
from ..._shared.docs import inject_docs
from ..._shared.genomic import format_peak_names
from ..._shared.logging import logger
from ..._shared.settings import settings
from ..._shared.utils import changed_entries, mudata_update_quietly
from ...motifs import load_jaspar
from ...pp._normalize import accessibility_score, log_tpm
from .counts import (
    assign_cell_types,
    count_insertions,
    library_sizes,
    rna_counts,
    sample_fragments,
)
from .design import ConditionDesign, assign_profiles, make_samples
from .files import write_fasta, write_fragments, write_gtf
from .genome import background_sequence, chromosome_sizes, plant_sites, site_starts
from .layout import check_genome_fits, make_layout
from .regulation import (
    choose_tfs,
    drivers_table,
    links_table,
    make_rates,
    make_regulation,
    profile_rates,
)

if TYPE_CHECKING:
    from ...motifs import MotifCollection

#: Key of ``mdata.uns`` holding the simulation's files, truth and parameters.
SIMULATION_KEY = "simulation"
#: Default genome length per gene (bp) and smallest default chromosome (bp).
_BP_PER_GENE = 7_500
_MIN_CHROMOSOME = 1_000_000
#: Default peaks per gene (one promoter, the rest enhancers and background peaks).
_PEAKS_PER_GENE = 5
#: Largest default mean UMIs and fragments per cell (defaults: two per gene, one per peak).
_MAX_RNA_DEPTH, _MAX_ATAC_DEPTH = 3_000, 5_000
_COUNT_MODELS = ("nb", "poisson")
#: The files of a simulation folder, and the record of the parameters that made them.
_FILES = ("genome.fa", "genes.gtf", "fragments.tsv.gz")
_INDEXES = ("genome.fa.fai", "fragments.tsv.gz.tbi")
PARAMS_FILE = "simulation.json"


@inject_docs()
def simulate_multiome(
    *,
    n_cells: int = 2_000,
    n_cell_types: int = 8,
    n_genes: int = 1_000,
    n_peaks: int | None = None,
    n_chromosomes: int = 4,
    genome_size: int | None = None,
    n_tfs: int = 16,
    enhancer_fraction: float = 0.75,
    rna_depth: float | None = None,
    atac_depth: float | None = None,
    count_model: Literal["nb", "poisson"] = "nb",
    expression_noise: float = 0.2,
    motifs: MotifCollection | None = None,
    design: ConditionDesign | None = None,
    path: str | os.PathLike | None = None,
    seed: int = 0,
) -> MuData:
    """Simulate a single-cell multiome whose regulatory truth is known.

    A genome with several chromosomes and realistic composition (GC isochores, CpGs
    depleted outside GC-rich promoters, as measured on hg38) holds genes on both strands
    and a peak set of promoters (one on every TSS), distal enhancers (each acting on one
    gene, at TSS distances spread log-uniformly from 2 kbp to 1 Mbp) and background
    peaks with no function. ``n_tfs`` TFs, one per motif cluster of ``motifs``, have
    activities in [0, 1] per cell type; sequences sampled from their JASPAR PWMs are
    planted in promoters and enhancers (1-3 TFs an element, some as cooperative or
    competitive pairs). Per cell type,

    - accessibility of a peak = baseline x exp(sum of pioneer effects x sites x TF
      activity) x noise;
    - activity of an element = accessibility x exp(sum of effects x sites x TF activity
      ± interaction strength x both activities where an interacting pair is present):
      repressors have negative effects, cooperative pairs act multiplicatively;
    - expression of a gene = baseline x (promoter activity + sum of enhancer activities
      weighted by strength x a power-law contact decay with distance) x log-normal noise;
      the gene named after each TF is also scaled by that TF's activity.

    Cells get unequal cell-type proportions and log-normal library sizes; RNA counts are
    negative binomial (or Poisson); ATAC fragments are drawn from peaks in proportion to
    accessibility (55 %) or anywhere in the genome, with nucleosomal fragment lengths.
    The ATAC matrix counts each cell's Tn5 insertions (the two ends of each fragment) in
    each peak, as Cell Ranger ARC does (the fragments file's count column, the number of
    reads, is not used), so :func:`scget.pp.recount_peaks` with its defaults reproduces
    it from the fragments file. The same arguments and seed give the same data.

    The defaults, sized for the demo pipeline on a laptop, are 2,000 cells, 8 cell
    types, 1,000 genes, 5,000 peaks, 4 chromosomes, 7.5 Mbp, 16 TFs, 2,000 UMIs and
    5,000 fragments per cell. ``benchmarks/simulate.py`` times every size up to a
    realistic one (10,000 cells, 16 cell types, 20,000 genes, 100,000 peaks, 150 Mbp).

    Parameters
    ----------
    n_cells
        Number of cells.
    n_cell_types
        Number of cell types (at most ``n_cells``; each gets at least one cell).
    n_genes
        Number of genes, each with one TSS and a promoter peak.
    n_peaks
        Total number of peaks (promoters, enhancers, background); ``None``: 5 per gene.
    n_chromosomes
        Number of chromosomes (``chr1``, ``chr2``, ...), decreasing in length.
    genome_size
        Genome length (bp); ``None``: 7,500 bp per gene, at least 1 Mbp per chromosome.
    n_tfs
        Number of simulated TFs (at most one per motif cluster).
    enhancer_fraction
        Fraction of the non-promoter peaks that are enhancers (the rest are background).
    rna_depth
        Mean UMIs per cell; ``None``: two per gene, at most 3,000.
    atac_depth
        Mean fragments per cell; ``None``: one per peak, at most 5,000 (55 % of them
        fall in peaks).
    count_model
        RNA count distribution: ``"nb"`` (negative binomial, shape 4) or ``"poisson"``.
    expression_noise
        Standard deviation of the log-normal noise on each gene's rate per cell type.
    motifs
        :class:`~scget.motifs.MotifCollection` the TFs are drawn from; ``None`` uses
        :func:`scget.motifs.load_jaspar` (the default motif features of scget).
    design
        Samples and conditions (:class:`~scget.datasets.ConditionDesign`): every cell
        type becomes one profile per sample, whose TF activities are the cell type's
        plus the sample's noise plus, in non-reference conditions, the planted shifts;
        cells are spread unevenly over samples. ``None`` (default): one profile per
        cell type, as without this option (the same data, bit for bit).
    path
        Directory for the genome, GTF and fragments files; ``None``: a folder named by
        all the arguments (the motifs included) under :attr:`scget.settings.cachedir`
        ``/simulations``. The arguments are recorded there (``simulation.json``); a
        folder holding the same simulation is reused (its files are not rewritten), one
        holding another is refused. Processes simulating the same cached simulation at
        once take turns (a lock file beside the folder): one writes it, the others reuse it.
    {seed}

    Returns
    -------
    :class:`~mudata.MuData` with

    - ``["rna"]``: cells x genes raw counts (sparse, float32 integers); ``.var``
      ``gene_ids``; ``.varm["sim_log_tpm"]`` (DataFrame genes x cell types: expected
      log10(TPM + 1) per cell type).
    - ``["atac"]``: cells x peaks fragment counts (sparse, float32 integers), peaks named
      ``chr:start-end``; ``.var`` ``chrom``, ``start``, ``end``, ``sim_role``
      (``"promoter"``, ``"enhancer"``, ``"background"``), ``sim_gene`` (the regulated
      gene, ``""`` for background); ``.varm["sim_accessibility"]`` (DataFrame peaks x
      cell types: expected accessibility score, log10(share x 1e5 + 1) over its max);
      ``.varm["sim_sites"]`` (DataFrame peaks x motif clusters: planted sites);
      ``.uns["files"]["fragments"]``: the fragments file, where muon and
      :func:`scget.pp.recount_peaks` look for it.
    - ``.obs["cell_type"]`` (also in each modality's ``.obs``).
    - ``.uns["simulation"]``: ``genome`` (FASTA path, ``.fai`` beside it), ``gtf``,
      ``fragments`` (bgzipped, ``.tbi`` beside it), ``params``, and the truth:
      ``drivers`` (``gene``, ``motif`` = cluster name, ``motif_id``, ``tf``, ``role``,
      ``effect`` = mean log-fold drop of the gene's rate when the TF is knocked out,
      ``promoter_sites``, ``enhancer_sites``), ``links`` (``gene``, ``peak``, ``weight``,
      ``distance``, ``contribution``), ``interactions`` (``motif_a``, ``motif_b``,
      ``tf_a``, ``tf_b``, ``kind`` = ``"cooperative"``/``"competitive"``, ``strength``),
      ``tfs`` (``motif``, ``motif_id``, ``tf``, ``role``, ``effect``, ``pioneer``,
      ``gene``) and ``tf_activity`` (DataFrame cell types x motif clusters).
    - with a ``design``: ``.obs["sample"]``, ``["condition"]``, ``["donor"]``, and in
      ``.uns["simulation"]`` ``samples`` (``sample``, ``condition``, ``donor``,
      ``n_cells``), ``differential`` (``cell_type``, ``motif``, ``tf``, ``condition``,
      ``changed``, ``shift`` = planted change of activity) and ``sample_activity``
      (DataFrame ``"<cell type>_<sample>"`` x motif clusters: each profile's TF
      activities, noise included). ``varm`` and ``tf_activity`` stay the cell types'
      baselines (the reference condition without sample noise).

    Raises
    ------
    ValueError
        If a size is not a positive integer, there are more cell types than cells or
        fewer peaks than genes, the genome is too small for the genes, the motif
        collection has too few eligible clusters, or an option is unknown.
    FileExistsError
        If ``path`` holds another simulation (other arguments), or simulation files
        without their record, whose files an existing MuData may still use.
    """
    started = time.perf_counter()
    params = _check_arguments(locals())
    if motifs is None:
        motifs = load_jaspar()
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)]
    tfs = choose_tfs(motifs, params["n_tfs"], rngs[0])
    sizes = chromosome_sizes(params["genome_size"], n_chromosomes)
    check_genome_fits(sizes, n_genes)
    params["motifs_sha1"] = _fingerprint(motifs)
    with _folder_lock(path, params):  # one writer of a cached simulation at a time
        folder, reuse = _output_folder(path, params)

        logger.info(
            f"Simulating {n_cells} cells, {n_cell_types} cell types, {n_genes} genes, "
            f"{params['n_peaks']} peaks, {n_tfs} TFs on {int(sizes.sum()):,} bp"
        )
        layout = make_layout(
            sizes,
            n_genes=n_genes,
            n_peaks=params["n_peaks"],
            enhancer_fraction=enhancer_fraction,
            rng=rngs[1],
        )
        genes, tf_rows = _name_genes(layout.genes, tfs, rngs[2])
        tfs["gene"] = np.where(tf_rows >= 0, genes["gene_name"].to_numpy()[tf_rows], "")
        peaks = layout.peaks
        peak_start, peak_end = layout.peak_global()
        peak_names = format_peak_names(
            np.asarray(layout.chroms)[peaks["chrom_idx"].to_numpy()], peaks["start"], peaks["end"]
        )
        regulation = make_regulation(tfs, peaks, n_cell_types, rngs[2])

        genome, gtf, fragments_path = (folder / name for name in _FILES)
        if not reuse:
            _write_genome(genome, layout, regulation, motifs, rngs[3])
            write_gtf(gtf, genes, layout.exons, layout.chroms)

        rates = make_rates(
            regulation, peaks, n_genes, tf_rows, expression_noise=expression_noise, rng=rngs[4]
        )
        rng = rngs[5]
        type_names = pd.Index([f"type_{i + 1:02d}" for i in range(n_cell_types)])
        if design is None:
            cell_type = profile = assign_cell_types(n_cells, n_cell_types, rng)
            accessibility, expression = rates.accessibility, rates.expression
        else:
            samples = make_samples(design, regulation.activity, tfs, type_names, rngs[6])
            accessibility, expression = profile_rates(
                regulation, rates, samples.activity, samples.cell_type
            )
            profile = assign_profiles(
                n_cells, n_cell_types, len(samples.table), design.cell_imbalance, rng
            )
            cell_type = samples.cell_type[profile]
        counts_rna = rna_counts(
            expression,
            profile,
            library_sizes(n_cells, params["rna_depth"], rng),
            count_model,
            rng,
        )
        fragments = sample_fragments(
            accessibility,
            profile,
            library_sizes(n_cells, params["atac_depth"], rng),
            peak_start,
            peak_end,
            sizes,
            rng,
        )
        counts_atac = count_insertions(fragments, layout.offsets, peak_start, peak_end, n_cells)
        barcodes = _barcodes(n_cells, rng)
        if not reuse:
            write_fragments(fragments_path, fragments, layout.chroms, barcodes)
            _write_params(folder, params)
        del fragments

    gene_names = pd.Index(genes["gene_name"])
    truth = {
        "genome": str(genome),
        "gtf": str(gtf),
        "fragments": str(fragments_path),
        "params": {**params, "path": str(folder), "motifs": repr(motifs)},
        "drivers": drivers_table(regulation, rates, gene_names),
        "links": links_table(regulation, rates, gene_names, peak_names, peaks["distance"]),
        "interactions": _interactions(regulation),
        "tfs": tfs.rename(columns={"cluster": "motif"})[
            ["motif", "motif_id", "tf", "role", "effect", "pioneer", "gene"]
        ],
        "tf_activity": pd.DataFrame(
            regulation.activity,
            index=type_names,
            columns=pd.Index(tfs["cluster"].to_numpy(), dtype=str),
        ),
    }
    obs = pd.DataFrame(
        {"cell_type": pd.Categorical(type_names[cell_type], categories=type_names)},
        index=pd.Index(barcodes, dtype=str),
    )
    if design is not None:
        obs, truth = _with_samples(obs, truth, samples, profile // n_cell_types, type_names)
    mdata = _assemble(
        counts_rna, counts_atac, genes, layout, peak_names, rates, regulation, obs=obs
    )
    mdata.uns[SIMULATION_KEY] = truth
    mdata[ATAC].uns["files"] = {"fragments": str(fragments_path)}
    logger.info(f"Simulated multiome in {time.perf_counter() - started:.1f} s; files in {folder}")
    return mdata


def _with_samples(
    obs: pd.DataFrame, truth: dict, samples, sample_of: np.ndarray, type_names: pd.Index
) -> tuple[pd.DataFrame, dict]:
    """The cells' sample, condition and donor, and the design's truth."""
    table = samples.table
    obs = obs.copy()
    for column in ("sample", "condition", "donor"):
        values = table[column].to_numpy()
        obs[column] = pd.Categorical(values[sample_of], categories=pd.unique(values))
    names = [f"{t}_{s}" for s in table["sample"] for t in type_names]
    truth = {
        **truth,
        "samples": table.assign(n_cells=np.bincount(sample_of, minlength=len(table))),
        "differential": samples.differential,
        "sample_activity": pd.DataFrame(
            samples.activity,
            index=pd.Index(names, dtype=str),
            columns=truth["tf_activity"].columns,
        ),
    }
    return obs, truth


def _write_genome(path: Path, layout, regulation, motifs, rng) -> Path:
    """Write the genome FASTA: background sequence with the TF sites planted in the peaks."""
    genes = layout.genes
    sequence = background_sequence(
        layout.sizes, layout.offsets[genes["chrom_idx"]] + genes["tss"], rng
    )
    pwms = [motifs.matrices[m] for m in regulation.tfs["motif_id"]]
    peak_start, peak_end = layout.peak_global()
    starts = site_starts(
        peak_start, peak_end - peak_start, regulation.sites, np.array([len(p) for p in pwms]), rng
    )
    for pwm, tf_starts in zip(pwms, starts, strict=True):
        plant_sites(sequence, tf_starts, pwm, rng)
    return write_fasta(path, sequence, layout.chroms, layout.offsets, layout.sizes)


def _check_arguments(arguments: dict) -> dict:
    """Validate the arguments and fill the defaults; the h5-safe ``params`` dict."""
    for name in ("n_cells", "n_cell_types", "n_genes", "n_chromosomes", "n_tfs"):
        _check_positive_int(name, arguments[name])
    for name in ("n_peaks", "genome_size"):
        if arguments[name] is not None:
            _check_positive_int(name, arguments[name])
    _check_positive_int("seed", arguments["seed"], allow_zero=True)
    n_cells, n_cell_types, n_genes = (arguments[k] for k in ("n_cells", "n_cell_types", "n_genes"))
    if n_cell_types > n_cells:
        raise ValueError(
            f"n_cell_types={n_cell_types} is more than n_cells={n_cells}; every cell type "
            "needs at least one cell."
        )
    if n_genes < arguments["n_chromosomes"]:
        raise ValueError(
            f"n_genes={n_genes} is fewer than n_chromosomes={arguments['n_chromosomes']}; "
            "every chromosome needs a gene."
        )
    n_peaks = (
        arguments["n_peaks"] if arguments["n_peaks"] is not None else _PEAKS_PER_GENE * n_genes
    )
    if n_peaks < n_genes:
        raise ValueError(
            f"n_peaks={n_peaks} is fewer than n_genes={n_genes}; every gene has a promoter peak."
        )
    genome_size = arguments["genome_size"]
    if genome_size is None:
        genome_size = max(n_genes * _BP_PER_GENE, arguments["n_chromosomes"] * _MIN_CHROMOSOME)
    if not 0.0 <= arguments["enhancer_fraction"] <= 1.0:
        raise ValueError(
            f"enhancer_fraction must be in [0, 1], got {arguments['enhancer_fraction']!r}."
        )
    depths = {
        "rna_depth": min(2 * n_genes, _MAX_RNA_DEPTH),
        "atac_depth": min(n_peaks, _MAX_ATAC_DEPTH),
    }
    for name in depths:
        if arguments[name] is not None:
            if isinstance(arguments[name], bool) or not arguments[name] > 0:
                raise ValueError(f"{name} must be positive, got {arguments[name]!r}.")
            depths[name] = arguments[name]
    if not arguments["expression_noise"] >= 0:
        raise ValueError(f"expression_noise must be >= 0, got {arguments['expression_noise']!r}.")
    if arguments["count_model"] not in _COUNT_MODELS:
        raise ValueError(
            f"count_model must be one of {_COUNT_MODELS}, got {arguments['count_model']!r}."
        )
    keys = (
        "n_cells",
        "n_cell_types",
        "n_genes",
        "n_chromosomes",
        "n_tfs",
        "enhancer_fraction",
        "count_model",
        "expression_noise",
        "seed",
    )
    params = {key: arguments[key] for key in keys}
    params.update(n_peaks=int(n_peaks), genome_size=int(genome_size), **depths)
    design = arguments["design"]
    if design is not None:  # absent otherwise: the default's folder name stays as it was
        if not isinstance(design, ConditionDesign):
            raise ValueError(
                f"design must be a scget.datasets.ConditionDesign or None, got {design!r}."
            )
        design.check(arguments["n_tfs"])
        params["design"] = design.params()
    return params


def _check_positive_int(name: str, value, *, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}.")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else 'positive'}, got {value}.")


def _fingerprint(motifs: MotifCollection) -> str:
    """SHA-1 of a motif collection's ids, names, clusters and matrices."""
    digest = hashlib.sha1(json.dumps(motifs.clusters).encode())
    for motif_id, row in motifs.info[["name", "cluster"]].iterrows():
        digest.update(f"{motif_id}\t{row['name']}\t{row['cluster']}".encode())
        digest.update(np.ascontiguousarray(motifs.matrices[motif_id], dtype=np.float64).data)
    return digest.hexdigest()


def _cache_folder(params: dict) -> Path:
    """The folder of the simulation of ``params`` in the cache."""
    digest = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    return settings.cachedir / "simulations" / f"multiome_{digest}"


@contextmanager
def _folder_lock(path, params: dict) -> Iterator[None]:
    """Hold the lock of the cached simulation's folder (when ``path`` is None).

    Processes simulating the same cached simulation at once then write it once: the
    others wait, then reuse it.
    """
    if path is not None:
        yield
        return
    folder = _cache_folder(params)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(folder):
        yield


def _output_folder(path, params: dict) -> tuple[Path, bool]:
    """The folder for the files and whether it already holds this very simulation.

    ``path``, or one named by all the parameters (the motifs' fingerprint included)
    under the cache. A folder whose :data:`PARAMS_FILE` records other parameters, or
    (``path`` given) that holds simulation files without that record, is refused: an
    existing MuData may point at its files.
    """
    if path is None:
        path = _cache_folder(params)
        given = False
    else:
        given = True
    folder = Path(path).expanduser()
    record = folder / PARAMS_FILE
    present = [name for name in _FILES if (folder / name).exists()]
    if record.is_file():
        stored = json.loads(record.read_text())
        wanted = json.loads(json.dumps(params))
        changes = changed_entries(stored, wanted)
        if changes:
            raise FileExistsError(
                f"{folder} holds another simulation ({changes}), whose files a MuData may "
                "still use. Pass another path=, or delete the folder if nothing uses it."
            )
        return folder, all((folder / name).exists() for name in (*_FILES, *_INDEXES))
    if given and present:
        raise FileExistsError(
            f"{folder} holds simulation files ({', '.join(present)}) without their record "
            f"{PARAMS_FILE} (another version, or an interrupted run), which a MuData may "
            "still use. Pass another path=, or delete the folder if nothing uses it."
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder, False


def _write_params(folder: Path, params: dict) -> None:
    """Record the parameters in ``folder`` (atomically: written aside, then renamed)."""
    partial = folder / f".{PARAMS_FILE}.partial"
    partial.write_text(json.dumps(params, sort_keys=True, indent=1))
    os.replace(partial, folder / PARAMS_FILE)


def _name_genes(genes: pd.DataFrame, tfs: pd.DataFrame, rng) -> tuple[pd.DataFrame, np.ndarray]:
    """Gene ids and names; a random gene per TF is named after it (while genes last).

    Returns the genes and the gene row of each TF (-1 for none).
    """
    genes = genes.copy()
    digits = len(str(len(genes)))
    number = [f"{i + 1:0{digits}d}" for i in range(len(genes))]
    genes["gene_id"] = [f"SIMG{n}" for n in number]
    genes["transcript_id"] = [f"SIMT{n}" for n in number]
    names = np.array([f"Gene{n}" for n in number], dtype=object)
    rows = rng.choice(len(genes), min(len(tfs), len(genes)), replace=False)
    names[rows] = tfs["tf"].to_numpy()[: len(rows)]
    genes["gene_name"] = names
    tf_rows = np.full(len(tfs), -1)
    tf_rows[: len(rows)] = rows
    return genes, tf_rows


def _barcodes(n_cells: int, rng) -> np.ndarray:
    """Distinct 10x-style barcodes (16 bases and ``-1``)."""
    codes = rng.choice(4**16, n_cells, replace=False)
    digits = (codes[:, None] // 4 ** np.arange(16)[None, ::-1]) % 4
    letters = np.frombuffer(b"ACGT", dtype="S1")[digits]
    return np.array([b"".join(row).decode() + "-1" for row in letters], dtype=object)


def _interactions(regulation) -> pd.DataFrame:
    """Interacting TF pairs by motif cluster and TF name."""
    pairs, tfs = regulation.pairs, regulation.tfs
    return pd.DataFrame(
        {
            "motif_a": tfs["cluster"].to_numpy()[pairs["a"].to_numpy(dtype=int)],
            "motif_b": tfs["cluster"].to_numpy()[pairs["b"].to_numpy(dtype=int)],
            "tf_a": tfs["tf"].to_numpy()[pairs["a"].to_numpy(dtype=int)],
            "tf_b": tfs["tf"].to_numpy()[pairs["b"].to_numpy(dtype=int)],
            "kind": pairs["kind"].to_numpy(dtype=str),
            "strength": pairs["strength"].to_numpy(dtype=float),
        }
    )


def _assemble(
    counts_rna,
    counts_atac,
    genes: pd.DataFrame,
    layout,
    peak_names: pd.Index,
    rates,
    regulation,
    *,
    obs: pd.DataFrame,
) -> MuData:
    """Build the cell-level MuData, with the expected values per cell type in ``.varm``."""
    type_names = obs["cell_type"].cat.categories
    gene_names = pd.Index(genes["gene_name"], dtype=str)
    rna = ad.AnnData(
        counts_rna,
        obs=obs.copy(),
        var=pd.DataFrame({"gene_ids": genes["gene_id"].to_numpy(dtype=str)}, index=gene_names),
    )
    rna.varm["sim_log_tpm"] = pd.DataFrame(
        log_tpm(rates.expression.T).T, index=gene_names, columns=type_names
    )
    peaks = layout.peaks
    target = peaks["gene"].to_numpy()
    atac = ad.AnnData(
        counts_atac,
        obs=obs.copy(),
        var=pd.DataFrame(
            {
                "chrom": np.asarray(layout.chroms)[peaks["chrom_idx"].to_numpy()],
                "start": peaks["start"].to_numpy(dtype=np.int64),
                "end": peaks["end"].to_numpy(dtype=np.int64),
                "sim_role": peaks["role"].to_numpy(dtype=str),
                "sim_gene": np.where(target >= 0, gene_names.to_numpy()[target], ""),
            },
            index=pd.Index(peak_names, dtype=str),
        ),
    )
    atac.varm["sim_accessibility"] = pd.DataFrame(
        accessibility_score(rates.accessibility.T).T, index=atac.var_names, columns=type_names
    )
    atac.varm["sim_sites"] = pd.DataFrame(
        regulation.sites.astype(np.float32),
        index=atac.var_names,
        columns=pd.Index(regulation.tfs["cluster"].to_numpy(), dtype=str),
    )
    with mudata_update_quietly():
        mdata = MuData({RNA: rna, ATAC: atac})
    for column in obs.columns:
        mdata.obs[column] = obs[column]
    return mdata
