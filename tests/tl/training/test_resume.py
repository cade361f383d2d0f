"""Training-state checkpoints: an interrupted run resumed equals the uninterrupted one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from _planted import planted_pb, tiny_kwargs

import scget
from scget.tl import ResumeError
from scget.tl._training import _trainer
from scget.tl._training._resume import state_path

#: Network dropout and feature dropout on, early stopping able to trigger: every random
#: state and the early-stopping state must be restored for the runs to agree.
SETTINGS = tiny_kwargs(max_epochs=5, patience=2, dropout=0.2, seed=1, checkpoint_every=2)


class Interrupted(Exception):
    """Stands for the kill of a training process."""


def interrupt_at(monkeypatch, step: int) -> None:
    """Make the ``step``-th training step (counted from 1) raise :class:`Interrupted`."""
    real = _trainer.backward_step
    calls = iter(range(1, 10**9))

    def step_or_stop(*args, **kwargs):
        if next(calls) == step:
            raise Interrupted
        return real(*args, **kwargs)

    monkeypatch.setattr(_trainer, "backward_step", step_or_stop)


def predictions(model) -> np.ndarray:
    pb = scget.tl.predict(planted_pb(), model, device="cpu", copy=True)
    return pb["rna"].layers["get_pred"]


def assert_same_run(a, b) -> None:
    """Bit-identical weights, history and predictions."""
    pd.testing.assert_frame_equal(a.history, b.history, check_exact=True)
    assert a.params["best_epoch"] == b.params["best_epoch"]
    for name, value in a.network.state_dict().items():
        assert torch.equal(value, b.network.state_dict()[name]), name
    np.testing.assert_array_equal(predictions(a), predictions(b))


@pytest.fixture(scope="module")
def uninterrupted():
    return scget.tl.finetune(planted_pb(), leave_out_chromosomes=["chr4"], **SETTINGS)


@pytest.mark.parametrize("step", [1, 7, 12])
def test_interrupted_finetune_resumed_equals_the_uninterrupted_run(
    uninterrupted, tmp_path, monkeypatch, step
):
    options = {**SETTINGS, "checkpoint_dir": tmp_path}
    pb = planted_pb()
    interrupt_at(monkeypatch, step)
    with pytest.raises(Interrupted):
        scget.tl.finetune(pb, leave_out_chromosomes=["chr4"], **options)
    monkeypatch.undo()
    resumed = scget.tl.finetune(pb, leave_out_chromosomes=["chr4"], resume=True, **options)
    assert_same_run(uninterrupted, resumed)
    assert resumed.params["training"]["resume"] and "lora" in resumed.params


def test_a_finished_state_gives_its_model_without_training(uninterrupted, tmp_path, monkeypatch):
    options = {**SETTINGS, "checkpoint_dir": str(tmp_path)}
    scget.tl.finetune(planted_pb(), leave_out_chromosomes=["chr4"], **options)
    assert [p.name for p in tmp_path.iterdir()] == ["finetune_state.pt"]
    monkeypatch.setattr(_trainer, "backward_step", None)  # would fail if training ran
    again = scget.tl.finetune(planted_pb(), leave_out_chromosomes=["chr4"], resume=True, **options)
    assert_same_run(uninterrupted, again)


def test_pretraining_resumes_too(tmp_path, monkeypatch):
    options = tiny_kwargs(max_epochs=3, seed=2, checkpoint_dir=tmp_path)
    del options["stride"]
    whole = scget.tl.pretrain(planted_pb(), **{**options, "checkpoint_dir": None})
    interrupt_at(monkeypatch, 5)
    with pytest.raises(Interrupted):
        scget.tl.pretrain(planted_pb(), **options)
    monkeypatch.undo()
    assert state_path(tmp_path, "pretrain").is_file()
    resumed = scget.tl.pretrain(planted_pb(), resume=True, **options)
    pd.testing.assert_frame_equal(whole.history, resumed.history, check_exact=True)
    for name, value in whole.network.state_dict().items():
        assert torch.equal(value, resumed.network.state_dict()[name]), name


def test_resume_refuses_another_run_and_damaged_states(tmp_path, monkeypatch):
    options = tiny_kwargs(max_epochs=2, checkpoint_dir=tmp_path)
    pb = planted_pb()
    interrupt_at(monkeypatch, 9)  # in epoch 2 of 6-step epochs
    with pytest.raises(Interrupted):
        scget.tl.finetune(pb, **options)
    monkeypatch.undo()
    with pytest.raises(FileExistsError, match="holds the training state of an earlier run"):
        scget.tl.finetune(pb, **options)
    with pytest.raises(ResumeError, match=r"another run \(training: .*'lr': 0\.003.*'lr': 0\.01"):
        scget.tl.finetune(pb, resume=True, **{**options, "lr": 1e-2})
    with pytest.raises(ResumeError, match=r"another run \(loss: 'poisson' -> 'mse'\)"):
        scget.tl.finetune(pb, resume=True, loss="mse", **options)
    changed = planted_pb()
    changed["atac"].varm["motif_scores"] = changed["atac"].varm["motif_scores"] * 2
    with pytest.raises(ResumeError, match=r"another run \(data: "):
        scget.tl.finetune(changed, resume=True, **options)
    with pytest.raises(ResumeError, match=r"another run \(initial_weights: "):
        scget.tl.finetune(pb, resume=True, **{**options, "seed": 5})
    path = state_path(tmp_path, "finetune")
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ResumeError, match="cannot be read as a training state"):
        scget.tl.finetune(pb, resume=True, **options)
    with pytest.raises(ValueError, match="resume=True reads the state in checkpoint_dir"):
        scget.tl.finetune(pb, resume=True, **tiny_kwargs())
    with pytest.raises(ValueError, match="checkpoint_every must be at least 1, got 0"):
        scget.tl.finetune(pb, checkpoint_every=0, **options)


def test_resume_without_a_state_starts_afresh(tmp_path):
    options = tiny_kwargs(max_epochs=1, seed=4)
    alone = scget.tl.finetune(planted_pb(), **options)
    fresh = scget.tl.finetune(planted_pb(), resume=True, checkpoint_dir=tmp_path, **options)
    pd.testing.assert_frame_equal(alone.history, fresh.history, check_exact=True)
    assert state_path(tmp_path, "finetune").is_file()
