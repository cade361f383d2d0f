"""Small helpers shared across namespaces: devices, workers, modalities, checks."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import scipy.sparse as sp

from .atomic import orphans, temporary_prefix
from .settings import settings
from .threads import apply_threads

if TYPE_CHECKING:
    import pandas as pd

_F = TypeVar("_F", bound=Callable)


def is_main_process() -> bool:
    """Whether this is rank 0 of a ``torchrun`` job (or a single process)."""
    return int(os.environ.get("RANK", "0")) == 0


def resolve_n_jobs(n_jobs: int | None) -> int:
    """Number of worker processes for ``n_jobs`` (``None``/-1: settings, then all cores)."""
    if n_jobs is None:
        n_jobs = settings.n_jobs
    if n_jobs is None or n_jobs == -1:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer, -1 or None, got {n_jobs!r}")
    return int(n_jobs)


def resolve_device(device: str | None = None):
    """The :class:`torch.device` for ``device`` (``"auto"``: CUDA, then MPS, then CPU).

    Every scget step that runs torch resolves its device here; on the CPU this also sets
    torch's threads as ``settings.n_threads`` says (:func:`scget._shared.threads.apply_threads`).
    """
    import torch

    device = settings.device if device is None else device
    if device == "auto":
        if torch.cuda.is_available():
            resolved = torch.device("cuda")
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            resolved = torch.device("mps")
        else:
            resolved = torch.device("cpu")
    else:
        resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available; use 'auto'.")
    if resolved.type == "cpu":
        apply_threads(settings.n_threads)
    return resolved


def wrong_data_type(data, expected: str) -> TypeError:
    """The error for ``data`` that is not the ``expected`` container, with how to get one.

    Parameters
    ----------
    data
        The object passed.
    expected
        What was expected, e.g. ``"a MuData"``.
    """
    if isinstance(data, str | os.PathLike):
        hint = f" Read the file first: mudata.read_h5mu({str(data)!r})."
    elif type(data).__name__ == "AnnData":
        hint = " Put the modalities in a MuData: mudata.MuData({'rna': rna, 'atac': atac})."
    else:
        hint = ""
    return TypeError(f"Expected {expected}, got {type(data).__name__}.{hint}")


def modality(mdata, name: str):
    """Return the modality ``name`` of ``mdata``.

    Parameters
    ----------
    mdata
        A :class:`~mudata.MuData`.
    name
        Name of the modality, as passed to a function's ``rna=`` or ``atac=``.

    Returns
    -------
    The modality's :class:`~anndata.AnnData`.

    Raises
    ------
    TypeError
        If ``mdata`` is not a MuData (a path, an AnnData...).
    KeyError
        If ``mdata`` has no such modality; the message lists those it has.
    """
    from mudata import MuData

    if not isinstance(mdata, MuData):
        raise wrong_data_type(mdata, "a MuData (modalities 'rna' and 'atac')")
    if name not in mdata.mod:
        raise KeyError(
            f"The MuData has no modality {name!r} (it has {list(mdata.mod)}); "
            "pass the modality's name with rna=... or atac=..."
        )
    return mdata.mod[name]


#: How to fix non-finite counts, for :func:`check_finite`.
COUNTS_FIX = (
    "raw counts are finite integers: check how the matrix was made, or pass the layer "
    "that holds the raw counts"
)


def check_finite(matrix, what: str, fix: str) -> None:
    """Raise ``ValueError`` if ``matrix`` holds NaN or infinite values.

    Parameters
    ----------
    matrix
        Dense or sparse matrix (integer matrices always pass).
    what
        Name used in the message, e.g. ``'pb["rna"].X'``.
    fix
        How to fix it, appended to the message.
    """
    values = matrix.data if sp.issparse(matrix) else np.asarray(matrix)
    if not np.issubdtype(values.dtype, np.inexact):
        return
    count = values.size - np.count_nonzero(np.isfinite(values))
    if count:
        raise non_finite_error(what, count, fix)


def non_finite_error(what: str, count: int, fix: str) -> ValueError:
    """The error of :func:`check_finite` for ``count`` non-finite values in ``what``."""
    return ValueError(f"{what} holds {count} non-finite value(s) (NaN or infinite); {fix}.")


def check_counts(matrix, what: str) -> None:
    """Raise ``ValueError`` unless ``matrix`` holds finite, non-negative integer counts.

    Parameters
    ----------
    matrix
        Dense or sparse matrix.
    what
        Name used in the message, e.g. ``'mdata["rna"].X'``.
    """
    values = matrix.data if sp.issparse(matrix) else np.asarray(matrix)
    if values.size == 0:
        return
    if not np.issubdtype(values.dtype, np.number):
        raise ValueError(f"{what} must be numeric counts, got dtype {values.dtype}.")
    check_finite(values, what, COUNTS_FIX)
    if values.min() < 0:
        raise ValueError(f"{what} holds negative values; raw counts are expected.")
    if np.issubdtype(values.dtype, np.floating) and not np.all(np.mod(values, 1) == 0):
        raise ValueError(
            f"{what} holds non-integer values; raw counts are expected. If your counts are "
            "in a layer (e.g. layers['counts']), pass that layer instead of a normalised X."
        )


def name_list(names: str | Iterable[str] | None) -> list[str] | None:
    """``names`` as a list of strings; one name is a one-item list, ``None`` stays ``None``."""
    if names is None:
        return None
    if isinstance(names, str):
        return [names]
    return [str(name) for name in names]


def one_name(name: str | Iterable[str] | None, what: str = "group") -> str | None:
    """``name`` as one string: a string, or a list holding exactly one; ``None`` stays ``None``.

    Parameters
    ----------
    name
        The value of a parameter meaning exactly one name (``group=``).
    what
        The parameter, for the error.

    Raises
    ------
    ValueError
        If ``name`` holds no name or several.
    """
    if name is None or isinstance(name, str):
        return name
    names = name_list(name)
    if len(names) != 1:
        raise ValueError(
            f"{what} takes exactly one name, got {len(names)}: {names[:10]}. Call once per "
            f"{what}, or leave {what} out to use every one."
        )
    return names[0]


def renamed_keywords(**renames: str) -> Callable[[_F], _F]:
    """Decorator accepting old keyword names, one release behind a FutureWarning.

    Parameters
    ----------
    **renames
        New name of each old keyword, e.g. ``group="groups"``.

    Returns
    -------
    The decorator; the function's signature shows only the new names.
    """

    def decorator(function: _F) -> _F:
        public = ".".join([*function.__module__.split(".")[:2], function.__name__])

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise TypeError(f"{public}: pass {new}= only ({old}= is its old name).")
                warnings.warn(
                    f"{public}: {old}= is renamed {new}=; the old name goes in the next release.",
                    FutureWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return wrapper

    return decorator


def chosen_positions(
    chosen: Sequence[str] | str | None, names: pd.Index, what: str, rna: str
) -> np.ndarray:
    """Sorted positions of ``chosen`` in ``names`` (all when ``None``).

    Raises
    ------
    KeyError
        If a name is unknown, or none is given; it names the ``what`` (``"gene"`` or
        ``"group"``) and where the names are (``pb[rna].var_names`` or ``pb.obs_names``).
    """
    if chosen is None:
        return np.arange(len(names))
    chosen = name_list(chosen)
    unknown = [name for name in chosen if name not in names]
    if unknown or not chosen:
        where = f'pb["{rna}"].var_names' if what == "gene" else "pb.obs_names"
        raise KeyError(f"Unknown {what}s {unknown[:10]} (not in {where}); give at least one.")
    return np.unique(names.get_indexer(chosen))


def to_dense(matrix, dtype=None) -> np.ndarray:
    """Return ``matrix`` (dense, sparse or backed) as a dense array of ``dtype``."""
    if sp.issparse(matrix) or hasattr(matrix, "toarray"):
        matrix = matrix.toarray()
    return np.asarray(matrix, dtype=dtype)


def changed_entries(old: Mapping, new: Mapping) -> str:
    """``"key: old -> new; ..."`` for every key whose value differs (sorted), or ``""``."""
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return "; ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys)


def check_output_folder(path: str | os.PathLike, overwrite: bool) -> Path:
    """Refuse to write into the non-empty folder ``path`` unless ``overwrite``.

    For the command line's ``--out``, checked before any work.

    Parameters
    ----------
    path
        The output folder.
    overwrite
        Whether the folder's content may be replaced (``--overwrite``).

    Returns
    -------
    ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    FileExistsError
        If ``path`` holds anything and ``overwrite`` is False.
    NotADirectoryError
        If ``path`` exists and is not a folder.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{path} exists and is not a folder; choose another --out.")
    if not overwrite and path.is_dir() and any(path.iterdir()):
        raise FileExistsError(
            f"{path} is not empty; pass --overwrite to replace the outputs in it, or choose "
            "another --out."
        )
    return path


@contextmanager
def atomic_directory(path: str | os.PathLike, *, outputs: Iterable[str] = ()) -> Iterator[Path]:
    """Yield a temporary folder that replaces the folder ``path`` when the block succeeds.

    Everything is written into the temporary folder, a hidden sibling of ``path``; only
    when the block finishes without error is it renamed to ``path`` (an existing
    ``path`` is first renamed aside, then removed). An error or interrupt inside the
    block leaves ``path`` as it was and removes the temporary folder; one that a killed
    process left behind is removed by the next call for ``path``. Entries of an
    existing ``path`` that the new content lacks (files kept beside a checkpoint) are
    moved into the new folder, except ``outputs``.

    Parameters
    ----------
    path
        The folder to create or replace.
    outputs
        Names of entries that the block writes when it has them: an old one is removed
        even when the new content lacks it (an output of an earlier run is not kept
        beside those of this one).

    Raises
    ------
    NotADirectoryError
        If ``path`` exists and is not a folder (raised before the block runs).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{path} exists and is not a folder; choose another path.")
    path.parent.mkdir(parents=True, exist_ok=True)
    for orphan in orphans(path):  # of a writer killed before the rename
        if not (orphan / "old").exists():
            shutil.rmtree(orphan, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=temporary_prefix(path), suffix=".tmp", dir=path.parent))
    new, old = work / "new", work / "old"
    try:
        new.mkdir()
        yield new
        if path.exists():
            path.rename(old)
            try:
                new.rename(path)
            except BaseException:
                old.rename(path)
                raise
            outputs = set(outputs)
            for entry in old.iterdir():
                if entry.name not in outputs and not (path / entry.name).exists():
                    entry.rename(path / entry.name)
            shutil.rmtree(old)
        else:
            new.rename(path)
    finally:
        if not old.exists():  # else interrupted while moving kept files: leave them there
            shutil.rmtree(work, ignore_errors=True)


@contextmanager
def mudata_update_quietly() -> Iterator[None]:
    """Silence mudata 0.3's FutureWarning about ``update()`` in scget's own MuData steps.

    Construction, reading and writing call ``update()``, which warns that mudata 0.4 will
    stop pulling columns from the modalities. The behaviour is left as it is (columns are
    pulled, as mudata 0.3 does by default); only the warning, which a user cannot act on
    inside scget, is silenced.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="From 0.4 .update()", category=FutureWarning)
        yield
