"""Read a 10x multiome (Cell Ranger ARC output, .h5mu, or two .h5ad) as scget expects it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import anndata as ad
import mudata as md

from .._shared.constants import ATAC, PEAK_COLUMNS, RNA
from .._shared.genomic import parse_peak_names
from .._shared.logging import logger
from .._shared.utils import check_counts, modality, mudata_update_quietly

#: Cell Ranger ARC's file names in its ``outs`` folder.
MATRIX_FILE = "filtered_feature_bc_matrix.h5"
FRAGMENTS_FILE = "atac_fragments.tsv.gz"


def read_10x_multiome(
    path: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    fragments: str | os.PathLike | None = None,
):
    """Read a cell-level 10x multiome as :func:`scget.pp.pseudobulk` expects it.

    Parameters
    ----------
    path
        One of

        - a Cell Ranger ARC output folder (``outs``) holding
          ``filtered_feature_bc_matrix.h5`` and ``atac_fragments.tsv.gz``
          (read with :func:`muon.read_10x_h5`);
        - that ``.h5`` file itself (the fragments file is looked up beside it);
        - a ``.h5mu`` file with modalities ``"rna"`` and ``"atac"`` (the fragments path
          it records in ``["atac"].uns["files"]["fragments"]`` is used, or a file of that
          name beside the ``.h5mu`` when the recorded path does not exist);
        - a pair ``(rna.h5ad, atac.h5ad)``.
    fragments
        The ATAC fragments file (``.tsv.gz``, tabix index beside it); ``None`` looks it
        up as above. :func:`scget.pp.recount_peaks` reads the recorded one by default;
        without one it must be given the file (warned).

    Returns
    -------
    :class:`~mudata.MuData` with modalities ``"rna"`` (cells x genes, unique gene
    names) and ``"atac"`` (cells x peaks named ``chrom:start-end``), raw counts in ``X``
    (checked), and

    - ``["atac"].var``: ``chrom``, ``start``, ``end`` parsed from the peak names;
    - ``["atac"].uns["files"]["fragments"]``: absolute path of the fragments file (as
      muon records it), when one was found.

    Raises
    ------
    FileNotFoundError
        If ``path``, a file it must hold, or ``fragments`` does not exist.
    ValueError
        If ``path`` is of an unknown kind, peak names cannot be parsed, or ``X`` holds
        values that are not raw counts.
    KeyError
        If a modality is missing.
    """
    if isinstance(path, str | os.PathLike):
        path = Path(path).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist.")
        if path.is_dir() or path.suffix == ".h5":
            matrix = path / MATRIX_FILE if path.is_dir() else path
            if not matrix.is_file():
                raise FileNotFoundError(
                    f"{matrix} does not exist; a Cell Ranger ARC output folder holds "
                    f"{MATRIX_FILE} and {FRAGMENTS_FILE}."
                )
            mdata = _read_10x_h5(matrix)
            candidates = [matrix.parent / FRAGMENTS_FILE]
        elif path.suffix == ".h5mu":
            with mudata_update_quietly():
                mdata = md.read_h5mu(path)
            recorded = modality(mdata, ATAC).uns.get("files", {}).get("fragments")
            candidates = (
                [] if recorded is None else [Path(recorded), path.parent / Path(recorded).name]
            )
        else:
            raise ValueError(
                f"Cannot read {path}: pass a Cell Ranger ARC folder, its {MATRIX_FILE}, a "
                ".h5mu file or a pair (rna.h5ad, atac.h5ad)."
            )
    else:
        mdata = _read_pair(path)
        candidates = []
    if fragments is not None:
        fragments = Path(fragments).expanduser()
        if not fragments.is_file():
            raise FileNotFoundError(f"Fragments file {fragments} does not exist.")
    else:
        fragments = next((c for c in candidates if c.is_file()), None)
    _standardise(mdata)
    files = mdata[ATAC].uns.setdefault("files", {})
    if fragments is None:
        files.pop("fragments", None)
        logger.warning(
            "No ATAC fragments file found (looked for "
            f"{[str(c) for c in candidates]}); pass fragments=... to record one."
        )
    else:
        files["fragments"] = str(fragments.resolve())
    logger.info(
        f"Read {mdata.n_obs} cells, {mdata[RNA].n_vars} genes and {mdata[ATAC].n_vars} peaks."
    )
    return mdata


def _read_10x_h5(matrix: Path):
    """Cell Ranger ARC's matrix as a MuData, with muon (features split by type)."""
    import muon

    return muon.read_10x_h5(str(matrix), extended=False)


def _read_pair(paths: Sequence[str | os.PathLike]):
    """A MuData of an (rna.h5ad, atac.h5ad) pair."""
    paths = [Path(p).expanduser() for p in paths]
    if len(paths) != 2:
        raise ValueError(f"Pass a pair (rna.h5ad, atac.h5ad), got {len(paths)} path(s).")
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(f"{p} does not exist.")
    rna, atac = (ad.read_h5ad(p) for p in paths)
    with mudata_update_quietly():
        return md.MuData({RNA: rna, ATAC: atac})


def _standardise(mdata) -> None:
    """Unique gene names, peak coordinates in ``var``, raw counts checked."""
    rna, atac = modality(mdata, RNA), modality(mdata, ATAC)
    if rna.var_names.has_duplicates:
        rna.var_names_make_unique()
    peaks = parse_peak_names(atac.var_names)
    for column in PEAK_COLUMNS:
        atac.var[column] = peaks[column].to_numpy()
    for name, adata in ((RNA, rna), (ATAC, atac)):
        check_counts(adata.X, f'mdata["{name}"].X')
    with mudata_update_quietly():
        mdata.update()
