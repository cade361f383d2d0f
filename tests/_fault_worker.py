"""Runs a scget command that SIGKILLs its own process at a chosen moment (fault injection).

Usage: ``SCGET_FAULT=WHERE python tests/_fault_worker.py COMMAND...`` (also as the script
of ``torch.distributed.run``; with ``SCGET_FAULT_RANK=R`` only rank ``R`` dies, and the
launcher then stops the others, as when a node of a job fails). ``WHERE`` is one of

- ``none``: no fault;
- ``step:N``: before the ``N``-th training step of this process;
- ``state:N``: in the middle of writing the ``N``-th training state (its first bytes);
- ``cache:N``: in the middle of writing the ``N``-th motif cache entry;
- ``output``: in the middle of writing the weights of the model that ``scget train``
  saves to ``--out``.

``COMMAND`` is a ``scget`` command line (e.g. ``train pb.h5mu --out ...``), or
``scan OUT.npy``: score 200 random 500-bp sequences (seed 0) with the default JASPAR
collection (filling both motif caches when empty) and save the scores; or
``simulate OUT.npz``: simulate a small multiome in the cache and save its counts and the
digests of its files.
"""

from __future__ import annotations

import io
import itertools
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path


def die() -> None:
    """SIGKILL this process (no clean-up of any kind runs)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class _HalfWriter:
    """A file whose first write stores half of its bytes, then the process dies."""

    def __init__(self, handle) -> None:
        self.handle = handle

    def write(self, data) -> int:
        data = bytes(data)
        self.handle.write(data[: max(1, len(data) // 2)])
        self.handle.flush()
        die()
        return len(data)

    def __getattr__(self, name):
        return getattr(self.handle, name)


def kill_in_atomic_write(module, n: int) -> None:
    """Make the ``n``-th :func:`atomic_write` of ``module`` die half-way through."""
    real = module.atomic_write
    count = itertools.count(1)

    @contextmanager
    def writer(path, mode="wb"):
        with real(path, mode) as handle:
            yield _HalfWriter(handle) if next(count) == n else handle

    module.atomic_write = writer


def kill_at_step(n: int) -> None:
    """Make the ``n``-th training step of this process die before it runs."""
    from scget.tl._training import _trainer

    real = _trainer.backward_step
    count = itertools.count(1)

    def step(*args, **kwargs):
        if next(count) == n:
            die()
        return real(*args, **kwargs)

    _trainer.backward_step = step


def kill_in_output() -> None:
    """Make the save of a model's ``model.pt`` die half-way through writing it."""
    import torch

    real = torch.save

    def save(obj, f, *args, **kwargs):
        if isinstance(f, str | os.PathLike) and Path(f).name == "model.pt":
            buffer = io.BytesIO()
            real(obj, buffer, *args, **kwargs)
            data = buffer.getvalue()
            with open(f, "wb") as handle:
                handle.write(data[: len(data) // 2])
            die()
        return real(obj, f, *args, **kwargs)

    torch.save = save


def inject(fault: str) -> None:
    """Install ``fault`` (see the module docstring) in this process."""
    where, _, n = fault.partition(":")
    if where == "none":
        return
    if where == "step":
        kill_at_step(int(n))
    elif where == "state":
        from scget.tl._training import _resume

        kill_in_atomic_write(_resume, int(n))
    elif where == "cache":
        from scget._shared import cache as _cache

        kill_in_atomic_write(_cache, int(n))
    elif where == "output":
        kill_in_output()
    else:
        raise ValueError(f"unknown fault {fault!r}")


def scan(out: str) -> None:
    """Score 200 random sequences with the default JASPAR collection; save the scores."""
    import numpy as np

    import scget

    rng = np.random.default_rng(0)
    sequences = ["".join(rng.choice(list("ACGT"), 500)) for _ in range(200)]
    scores = scget.pp.scan_motifs(sequences, normalize=False, n_jobs=1)
    np.save(out, scores.to_numpy())


def simulate(out: str) -> None:
    """Simulate a small multiome in the cache; save its counts and its files' digests."""
    import hashlib

    import numpy as np

    import scget

    mdata = scget.datasets.simulate_multiome(n_cells=50, n_cell_types=2, n_genes=20, n_tfs=2)
    files = mdata.uns["simulation"]
    digests = [
        hashlib.sha256(Path(files[name]).read_bytes()).hexdigest()
        for name in ("genome", "gtf", "fragments")
    ]
    rna, atac = (mdata[m].X.toarray() for m in ("rna", "atac"))
    np.savez(out, rna=rna, atac=atac, files=np.array(digests))


COMMANDS = {"scan": scan, "simulate": simulate}


def main(argv: list[str]) -> int:
    if os.environ.get("RANK", "0") == os.environ.get("SCGET_FAULT_RANK", "0"):
        inject(os.environ.get("SCGET_FAULT", "none"))
    if argv[0] in COMMANDS:
        COMMANDS[argv[0]](argv[1])
        return 0
    from scget.cli import main as cli

    return cli(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
