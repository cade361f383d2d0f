"""Fault injection: processes killed with SIGKILL leave readable files and a correct rerun.

Each test runs real scget processes (``tests/_fault_worker.py``) on tiny data and kills
one at a chosen moment: during training, while it writes a training state, while it
writes a motif cache entry, while ``scget train`` writes its output. The rerun must give
the result of an uninterrupted run, bit for bit, and no partial file may remain.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mudata as md
import numpy as np
import pandas as pd
import pytest
import torch
from _ports import free_port

import scget
from scget._shared.cache import _read
from scget.tl import GETModel

sys.path.insert(0, str(Path(__file__).parent / "tl"))
from _planted import planted_pb

WORKER = str(Path(__file__).parent / "_fault_worker.py")
#: Tiny fine-tuning with network dropout (its random state must be restored) and one
#: chromosome each for training, validation and test.
OPTIONS = ["--preset", "tiny", "--window-size", "32", "--stride", "16", "--device", "cpu"]
BATCH, EPOCHS = 4, 4
OPTIONS += ["--max-epochs", str(EPOCHS), "--batch-size", str(BATCH), "--seed", "3"]
OPTIONS += ["--leave-out-chromosomes", "chr3"]
KILLED = -signal.SIGKILL


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "pb.h5mu"
    planted_pb(n_chromosomes=3, peaks_per_chromosome=80).write_h5mu(path)
    return path


def run(args, tmp_path: Path, fault: str = "none", *, launcher=(), rank: int = 0):
    """Run the worker (under ``launcher``) with ``fault``; return the completed process."""
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "SCGET_CACHE_DIR": str(tmp_path / "cache"),
        "SCGET_FAULT": fault,
        "SCGET_FAULT_RANK": str(rank),
    }
    command = [*(launcher or [sys.executable]), WORKER, *map(str, args)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def train(data, out, tmp_path, fault="none", *, state=None, extra=(), launcher=(), rank=0):
    """``scget train`` (with a training state in ``state`` and --resume when given)."""
    args = ["-v", "2", "train", data, "--out", out, *OPTIONS, *extra]
    if state is not None:
        args += ["--checkpoint-dir", state, "--checkpoint-every", "1", "--resume"]
    return run(args, tmp_path, fault, launcher=launcher, rank=rank)


def completed(process) -> subprocess.CompletedProcess:
    assert process.returncode == 0, process.stderr[-3000:]
    return process


def torchrun() -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
            "--master_addr", "127.0.0.1", "--master_port", str(free_port())]  # fmt: skip


def steps(process, world_size: int = 1) -> int:
    """Training steps per process of the run whose log is ``process.stderr``."""
    windows = int(re.findall(r"(\d+) training windows", process.stderr)[-1])
    batches = [min(BATCH, windows - i) for i in range(0, windows, BATCH)]
    return EPOCHS * sum(size >= world_size for size in batches)


def compare(reference: Path, result: Path, data: Path) -> float:
    """Assert equal weights, history and predictions; return the largest difference."""
    a, b = GETModel.load(reference), GETModel.load(result)
    pd.testing.assert_frame_equal(a.history, b.history, check_exact=True)
    differences = [
        float((value - b.network.state_dict()[name]).abs().max())
        for name, value in a.network.state_dict().items()
    ]
    pb = md.read_h5mu(data)
    pred_a = scget.tl.predict(pb, a, device="cpu", copy=True)["rna"].layers["get_pred"]
    pred_b = scget.tl.predict(pb, b, device="cpu", copy=True)["rna"].layers["get_pred"]
    difference = max(*differences, float(np.nanmax(np.abs(pred_a - pred_b))))
    print(f"largest difference (weights, predictions) from the uninterrupted run: {difference}")
    for name, value in a.network.state_dict().items():
        assert torch.equal(value, b.network.state_dict()[name]), name
    np.testing.assert_array_equal(pred_a, pred_b)
    return difference


def leftovers(*folders: Path) -> list[Path]:
    """Temporary files or folders (``.*.tmp``) in ``folders``."""
    return [p for folder in folders if folder.exists() for p in folder.glob(".*.tmp")]


@pytest.fixture(scope="module")
def uninterrupted(data, tmp_path_factory):
    """The reference: one uninterrupted run, without training states; (output, process)."""
    tmp = tmp_path_factory.mktemp("uninterrupted")
    process = completed(train(data, tmp / "out", tmp))
    return tmp / "out", process


@pytest.mark.slow
def test_kill_at_a_random_training_step_then_resume(data, uninterrupted, tmp_path):
    reference, process = uninterrupted
    seed = random.randrange(10**6)
    total = steps(process)
    # after the first epoch, so that there is a state to resume
    step = random.Random(seed).randint(total // EPOCHS + 1, total)
    print(f"killed before training step {step} of {total} (seed {seed})")
    out, state = tmp_path / "out", tmp_path / "state"
    assert train(data, out, tmp_path, f"step:{step}", state=state).returncode == KILLED
    assert not out.exists() and not leftovers(tmp_path, state)
    rerun = completed(train(data, out, tmp_path, state=state))
    assert "resumed from" in rerun.stderr
    assert compare(reference, out, data) == 0.0
    assert [p.name for p in state.iterdir()] == ["finetune_state.pt"]


def test_kill_while_writing_a_training_state_then_resume(data, uninterrupted, tmp_path):
    reference, _ = uninterrupted
    out, state = tmp_path / "out", tmp_path / "state"
    # the second state is torn half-way: the first one must survive and be resumed
    assert train(data, out, tmp_path, "state:2", state=state).returncode == KILLED
    (orphan,) = leftovers(state)
    written = torch.load(state / "finetune_state.pt", weights_only=True)
    assert written["loop"]["epoch"] == 1
    rerun = completed(train(data, out, tmp_path, state=state))
    assert "resumed from" in rerun.stderr and "after epoch 1" in rerun.stderr
    assert compare(reference, out, data) == 0.0
    assert not orphan.exists() and [p.name for p in state.iterdir()] == ["finetune_state.pt"]


@pytest.mark.slow
def test_kill_while_writing_the_output_then_rerun(data, uninterrupted, tmp_path):
    reference, _ = uninterrupted
    out, state = tmp_path / "out", tmp_path / "state"
    assert train(data, out, tmp_path, "output", state=state).returncode == KILLED
    assert not out.exists() and len(leftovers(tmp_path)) == 1  # the staging folder
    # the rerun finds the finished training state: it only writes the output
    rerun = completed(train(data, out, tmp_path, state=state))
    assert "resumed from" in rerun.stderr and "after epoch 4" in rerun.stderr
    compare(reference, out, data)
    assert not leftovers(tmp_path)
    # replacing an existing output: a kill leaves the old one whole
    before = (out / "model.pt").read_bytes()
    killed = train(data, out, tmp_path, "output", state=state, extra=["--overwrite"])
    assert killed.returncode == KILLED
    assert (out / "model.pt").read_bytes() == before
    compare(reference, out, data)


def test_kill_while_writing_a_cache_entry_then_rerun(tmp_path):
    completed(run(["scan", tmp_path / "one.npy"], tmp_path / "one"))
    cache = tmp_path / "cache"
    for n in (1, 2):  # the JASPAR collection, then the MOODS thresholds
        killed = run(["scan", tmp_path / "scores.npy"], tmp_path, f"cache:{n}")
        assert killed.returncode == KILLED
        assert len(leftovers(*cache.iterdir())) == 1
    completed(run(["scan", tmp_path / "scores.npy"], tmp_path))
    np.testing.assert_array_equal(np.load(tmp_path / "scores.npy"), np.load(tmp_path / "one.npy"))
    entries = sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file())
    assert [Path(e).parent.name for e in entries] == ["jaspar"] * 2 + ["motif_scan"] * 2
    assert all(e.endswith((".entry", ".entry.lock")) for e in entries)


@pytest.mark.slow
def test_kill_at_a_random_step_under_torchrun_then_resume(data, tmp_path):
    reference = tmp_path / "reference"
    process = completed(train(data, reference, tmp_path, launcher=torchrun()))
    total = steps(process, world_size=2)
    seed = random.randrange(10**6)
    draw = random.Random(seed)
    step, rank = draw.randint(total // EPOCHS + 1, total), draw.randint(0, 1)
    print(f"rank {rank} killed before its training step {step} of {total} (seed {seed})")
    out, state = tmp_path / "out", tmp_path / "state"
    killed = train(data, out, tmp_path, f"step:{step}", state=state, launcher=torchrun(), rank=rank)
    assert killed.returncode != 0 and not out.exists()
    rerun = completed(train(data, out, tmp_path, state=state, launcher=torchrun()))
    assert "resumed from" in rerun.stderr
    assert compare(reference, out, data) == 0.0
    assert not leftovers(tmp_path, state)


def at_once(command: str, folder: Path, n: int = 4) -> list[subprocess.CompletedProcess]:
    """Run ``n`` workers with ``command`` at once, sharing the cache in ``folder``.

    Worker ``i`` writes ``folder / f"{i}.npy"`` (``.npz`` for ``simulate``).
    """
    suffix = ".npz" if command == "simulate" else ".npy"
    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(run, [command, folder / f"{i}{suffix}"], folder) for i in range(n)]
        return [completed(future.result()) for future in futures]


@pytest.mark.slow
def test_four_processes_filling_an_empty_cache_agree_with_one(tmp_path):
    rounds = int(os.environ.get("SCGET_CACHE_ROUNDS", "20"))
    completed(run(["scan", tmp_path / "one.npy"], tmp_path / "alone"))
    one = np.load(tmp_path / "one.npy")
    for round_ in range(rounds):
        folder = tmp_path / f"round{round_}"
        processes = at_once("scan", folder)
        same = [np.array_equal(np.load(folder / f"{i}.npy"), one) for i in range(4)]
        entries = [p for p in (folder / "cache").rglob("*.entry")]
        sound = [_read(p, p.stem)[0] for p in entries]
        computed = sum("motif thresholds" in p.stderr for p in processes)  # its progress bar
        print(
            f"round {round_ + 1}: 4 processes equal to one: {same}; cache entries sound: "
            f"{sound}; processes that computed the thresholds: {computed}"
        )
        assert all(same) and len(entries) == 2 and all(sound) and computed == 1
        assert not leftovers(*(folder / "cache").iterdir())
        assert "is damaged" not in "".join(p.stderr for p in processes)


@pytest.mark.slow
def test_processes_simulating_the_same_cached_multiome_at_once_agree(tmp_path):
    completed(run(["simulate", tmp_path / "one.npz"], tmp_path / "alone"))
    one = np.load(tmp_path / "one.npz")
    at_once("simulate", tmp_path, n=3)
    for i in range(3):
        result = np.load(tmp_path / f"{i}.npz")
        for name in ("rna", "atac", "files"):
            np.testing.assert_array_equal(result[name], one[name])
    (folder,) = [p for p in (tmp_path / "cache" / "simulations").iterdir() if p.is_dir()]
    assert (folder / "simulation.json").is_file() and not leftovers(folder)
