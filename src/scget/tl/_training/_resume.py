"""Training-state checkpoints: written atomically every N epochs, resumed bit-identically.

A training state holds everything the next epoch depends on: the network's weights, the
optimiser's moments, the learning-rate schedule, the random states of every process
(Python, numpy, torch and CUDA; batch order and masks are drawn from the seed and the
epoch, so they need none), the early-stopping state (best loss, epoch and weights,
epochs waited), the history and a signature of the run (its settings, the digest of
its data and initial weights, the number of processes). A run resumed from it repeats
the remaining epochs exactly as the uninterrupted run would have.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from ..._shared.atomic import atomic_write, remove_orphans
from ..._shared.logging import logger
from ..._shared.utils import changed_entries

#: Version of the training-state format (a state of another version is refused).
STATE_FORMAT = 1
#: Training settings that may change between the interrupted run and its resumption.
RESUMABLE_CHANGES = ("checkpoint_dir", "checkpoint_every", "resume", "num_workers")


class ResumeError(ValueError):
    """A training state that cannot be resumed: damaged, or of another run."""


def state_path(checkpoint_dir: str | Path, stage: str) -> Path:
    """The training state of ``stage`` (``"pretrain"``, ``"finetune"``) in ``checkpoint_dir``."""
    return Path(checkpoint_dir) / f"{stage}_state.pt"


def check_resumable(path: Path, resume: bool) -> None:
    """Refuse to overwrite the training state in ``path`` unless it is to be resumed.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``resume`` is False.
    """
    if path.exists() and not resume:
        raise FileExistsError(
            f"{path} holds the training state of an earlier run: pass resume=True (scget "
            "train --resume) to continue it, or another checkpoint_dir (or delete the file) "
            "to train from the start."
        )


def digest(*values: Any) -> str:
    """SHA-256 of arrays, tensors and other values (by their ``repr``), in order."""
    hasher = hashlib.sha256()
    for value in values:
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().contiguous().numpy()
        if isinstance(value, np.ndarray) and value.dtype != object:
            hasher.update(repr((value.dtype.str, value.shape)).encode())
            hasher.update(np.ascontiguousarray(value).tobytes())
        else:
            hasher.update(repr(value).encode())
    return hasher.hexdigest()


@dataclass
class LoopState:
    """What the training loop carries from one epoch to the next (besides torch objects).

    Attributes
    ----------
    epoch
        The last completed epoch (0 before training).
    rows
        The history: one ``(epoch, train_loss, valid_loss, lr)`` row per completed epoch.
    best_loss, best_epoch, best_state
        The lowest validation loss, its epoch and the weights then (``None`` before).
    waited
        Epochs since the best one.
    finished
        Whether training ended (early stopping or the last epoch).
    """

    epoch: int = 0
    rows: list[tuple] = field(default_factory=list)
    best_loss: float = float("inf")
    best_epoch: int = 0
    best_state: dict[str, torch.Tensor] | None = None
    waited: int = 0
    finished: bool = False


def rng_states() -> dict[str, Any]:
    """The random states of this process (Python, numpy, torch CPU and CUDA)."""
    kind, keys, position, has_gauss, gauss = np.random.get_state()  # noqa: NPY002 - the global state
    states = {
        "python": random.getstate(),
        "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, gauss),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: Mapping[str, Any]) -> None:
    """Restore the random states written by :func:`rng_states`."""
    random.setstate(_tuples(states["python"]))
    kind, keys, position, has_gauss, gauss = states["numpy"]
    legacy = (kind, keys.numpy().astype(np.uint32), position, has_gauss, gauss)
    np.random.set_state(legacy)  # noqa: NPY002 - the global state
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def _tuples(value):
    """Lists back to tuples (``random.setstate`` wants the tuples it gave)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list | tuple) else value


def _gather(value: Any) -> list[Any]:
    """``value`` of every process, in rank order (a one-element list in one process)."""
    if not (dist.is_available() and dist.is_initialized()):
        return [value]
    gathered: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, value)
    return gathered


def save_state(
    path: Path,
    *,
    signature: Mapping[str, Any],
    loop: LoopState,
    network,
    optimizer,
    scheduler,
    rank: int,
) -> None:
    """Write the training state to ``path`` atomically (every rank calls; rank 0 writes).

    The file is written to a temporary sibling, synced to disk and renamed over ``path``:
    a kill at any moment leaves the previous state or the new one.
    """
    rngs = _gather(rng_states())
    if rank != 0:
        return
    state = {
        "format": STATE_FORMAT,
        "signature": dict(signature),
        "loop": vars(loop),
        "network": network.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": rngs,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(path)
    with atomic_write(path) as handle:
        torch.save(state, handle)
    logger.debug(f"Wrote the training state of epoch {loop.epoch} to {path}.")


def read_state(path: Path, signature: Mapping[str, Any]) -> dict[str, Any]:
    """Read the training state in ``path`` and check that it belongs to this run.

    Raises
    ------
    ResumeError
        If the file is damaged, of another format, or was written by a run with other
        settings, data, initial weights or number of processes (the differences are
        named).
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # any failure to read means the file cannot be resumed
        raise ResumeError(
            f"{path} cannot be read as a training state ({error}); it is damaged or was not "
            "written by scget. Delete it to train from the start."
        ) from error
    if not isinstance(state, Mapping) or state.get("format") != STATE_FORMAT:
        raise ResumeError(
            f"{path} is not a training state of this scget version (format "
            f"{state.get('format') if isinstance(state, Mapping) else None!r}, expected "
            f"{STATE_FORMAT}). Delete it to train from the start."
        )
    changes = changed_entries(state["signature"], signature)
    if changes:
        raise ResumeError(
            f"The training state in {path} belongs to another run ({changes}). Resume with "
            "the data and options of the interrupted run, or pass another checkpoint_dir "
            "(or delete the file) to train from the start."
        )
    return state


def restore(state: Mapping[str, Any], *, network, optimizer, scheduler, rank: int) -> LoopState:
    """Load a state read by :func:`read_state` into the training objects; return the loop's."""
    network.load_state_dict(state["network"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    set_rng_states(state["rng"][rank])
    loop = dict(state["loop"])
    loop["rows"] = [tuple(row) for row in loop["rows"]]
    return LoopState(**loop)
