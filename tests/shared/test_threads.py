"""scget.settings.n_threads: torch's CPU threads chosen for the free cores."""

from __future__ import annotations

import subprocess
import sys

import pytest

import scget
from scget._shared import threads as _threads


def test_an_explicit_number_wins(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert _threads.choose_threads(5) == 5
    assert _threads.choose_threads(None) == 3  # the user's environment next


def test_auto_takes_the_free_cores_shared_among_local_ranks(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: set(range(8)))
    monkeypatch.setattr(_threads, "busy_cores", lambda: 2.6)
    assert _threads.choose_threads(None) == 8 - 3
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")  # torchrun: 2 cores per rank
    assert _threads.choose_threads(None) == 1  # 2 cores, 3 busy: still one thread
    monkeypatch.setattr(_threads, "busy_cores", lambda: 0.0)
    assert _threads.choose_threads(None) == 2


def test_a_busy_process_counts_as_a_busy_core():
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        busy = _threads.busy_cores(seconds=0.5)
    finally:
        spinner.kill()
        spinner.wait()
    assert busy >= 0.7  # the spinner's core (more if the machine is busier)


def test_resolving_the_cpu_sets_torchs_threads(monkeypatch):
    import torch

    from scget._shared.utils import resolve_device

    before = torch.get_num_threads()
    monkeypatch.setattr(scget.settings, "_n_threads", 1)
    try:
        torch.set_num_threads(2)
        resolve_device("cpu")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError, match="n_threads must be a positive integer"):
        scget.settings.n_threads = 0


def test_the_command_line_sets_the_threads_and_refuses_a_bad_number(monkeypatch, capsys, tmp_path):
    from scget.cli import main

    monkeypatch.setattr(scget.settings, "_n_threads", None)
    with pytest.raises(SystemExit) as exit_:
        main(["--threads", "0", "demo", "--out", str(tmp_path / "new")])
    assert exit_.value.code == 2
    assert "n_threads must be a positive integer" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    assert main(["--threads", "1", "demo", "--out", str(tmp_path / "full")]) == 2  # refused
    assert scget.settings.n_threads == 1


def test_an_automatic_choice_is_reused_for_a_while(monkeypatch):
    import torch

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(_threads, "_last_automatic", None)
    samples = []
    monkeypatch.setattr(_threads, "busy_cores", lambda: samples.append(1) or 0.0)
    before = torch.get_num_threads()
    try:
        first = _threads.apply_threads(None)
        assert _threads.apply_threads(None) == first and len(samples) == 1  # reused
        monkeypatch.setattr(_threads, "_REUSE_SECONDS", 0.0)
        _threads.apply_threads(None)
        assert len(samples) == 2  # sampled again once stale
    finally:
        torch.set_num_threads(before)
