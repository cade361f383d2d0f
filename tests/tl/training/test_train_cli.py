from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from _planted import planted_pb
from _ports import free_port

import scget
from scget.cli import main
from scget.tl import GETModel

CONFIG = {"preset": "tiny", "window_size": 32, "stride": 16, "device": "cpu", "max_epochs": 5}


@pytest.fixture
def h5mu(tmp_path):
    path = tmp_path / "pb.h5mu"
    planted_pb(n_chromosomes=3, peaks_per_chromosome=80).write_h5mu(path)
    return path


def test_train_command_writes_loadable_checkpoints(h5mu, tmp_path, capsys):
    config = tmp_path / "train.json"
    config.write_text(json.dumps(CONFIG))
    out = tmp_path / "ckpt"
    argv = ["-v", "1", "train", str(h5mu), "--out", str(out), "--config", str(config)]
    argv += ["--max-epochs", "2", "--leave-out-chromosomes", "chr3", "--pretrain-epochs", "1"]
    assert main(argv) == 0
    model = GETModel.load(out)
    assert len(model.history) <= 2  # the command line overrides the config's 5 epochs
    assert model.split["test_chromosomes"] == ["chr3"]
    assert model.params["pretrained"] and model.window_size == 32
    pretrained = GETModel.load(out / "pretrain")
    assert pretrained.params["stage"] == "pretrain" and len(pretrained.history) == 1
    capsys.readouterr()
    assert main(argv) == 2
    assert "not empty; pass --overwrite" in capsys.readouterr().err
    without_pretraining = [*argv[: argv.index("--pretrain-epochs")], "--overwrite"]
    without_pretraining += ["--objective", "joint", "--accessibility-hidden", "0.5"]
    assert main(without_pretraining) == 0
    joint = GETModel.load(out)
    assert not joint.params["pretrained"]
    assert joint.objective == "joint" and joint.accessibility_hidden == 0.5
    assert not (out / "pretrain").exists()  # no stale pretraining beside the new model


def test_unknown_config_keys_are_named(h5mu, tmp_path, capsys):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"epochs": 3}))
    argv = ["train", str(h5mu), "--out", str(tmp_path / "x"), "--config", str(config)]
    assert main(argv) == 2
    assert "Unknown keys ['epochs']" in capsys.readouterr().err
    with pytest.raises(ValueError, match="epochs"):
        main(["--verbose", *argv])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--loss", "l1"], "loss must be one of ('poisson', 'mse'), got 'l1'"),
        (["--preset", "huge"], "Unknown preset 'huge'"),
        (["--mask-ratio", "1.5"], "mask_ratio must be in (0, 1)"),
        (["--motif-sparsity", "-1"], "motif_sparsity must be >= 0, got -1.0"),
        (["--objective", "atac"], "objective must be one of"),
        (["--accessibility-hidden", "2"], "accessibility_hidden must be in (0, 1]"),
        (["--lr", "-1"], "lr must be positive"),
        (["--leave-out-groups", "nowhere"], "nowhere"),
        (["--leave-out-chromosomes", "chr99"], "chr99"),
        (["--resume"], "resume=True reads the state in checkpoint_dir: pass checkpoint_dir"),
        (["--checkpoint-dir", "s", "--checkpoint-every", "0"], "checkpoint_every must be at"),
    ],
)
def test_every_option_is_checked_before_pretraining(h5mu, tmp_path, capsys, options, message):
    out = tmp_path / "ckpt"
    argv = ["train", str(h5mu), "--out", str(out), "--pretrain-epochs", "1", *options]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_a_training_state_is_not_overwritten_without_resume(h5mu, tmp_path, capsys):
    state = tmp_path / "state"
    state.mkdir()
    (state / "finetune_state.pt").write_bytes(b"an earlier run")
    out = tmp_path / "ckpt"
    argv = ["train", str(h5mu), "--out", str(out), "--checkpoint-dir", str(state)]
    assert main([*argv, "--pretrain-epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "finetune_state.pt holds the training state of an earlier run: pass" in err
    assert "--resume" in err and not out.exists()
    assert (state / "finetune_state.pt").read_bytes() == b"an earlier run"
    assert main([*argv, "--resume"]) == 2
    assert "cannot be read as a training state" in capsys.readouterr().err


def test_a_run_failing_after_pretraining_writes_nothing(h5mu, tmp_path, monkeypatch, capsys):
    def fail(*args, **kwargs):
        raise ValueError("fine-tuning failed")

    monkeypatch.setattr("scget.tl._training._train.finetune", fail)
    config = tmp_path / "train.json"
    config.write_text(json.dumps(CONFIG))
    out = tmp_path / "ckpt"
    argv = ["train", str(h5mu), "--out", str(out), "--config", str(config)]
    assert main([*argv, "--pretrain-epochs", "1"]) == 2
    assert "fine-tuning failed" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".ckpt*"))


def test_missing_data_and_config_are_one_line_errors(h5mu, tmp_path, capsys):
    out = str(tmp_path / "ckpt")
    assert main(["train", str(tmp_path / "none.h5mu"), "--out", out]) == 2
    assert "none.h5mu does not exist" in capsys.readouterr().err
    assert main(["train", str(h5mu), "--out", out, "--config", str(tmp_path / "no.json")]) == 2
    assert "no.json" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{max_epochs: 3}")
    assert main(["train", str(h5mu), "--out", out, "--config", str(tmp_path / "bad.json")]) == 2
    assert "bad.json is not valid JSON: Expecting property name" in capsys.readouterr().err


@pytest.mark.slow
def test_torchrun_matches_single_process_training(h5mu, tmp_path):
    options = ["--preset", "tiny", "--window-size", "32", "--stride", "16", "--device", "cpu"]
    # network dropout off (its masks depend on the process layout); feature dropout
    # stays at its default: its masks depend only on the seed, epoch and sample
    options += ["--max-epochs", "3", "--dropout", "0", "--batch-size", "8", "--seed", "2"]
    options += ["--pretrain-epochs", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    single = [sys.executable, "-m", "scget.cli", "-v", "1", "train", str(h5mu)]
    subprocess.run([*single, "--out", str(tmp_path / "one"), *options], check=True, env=env)
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    launcher += ["--master_addr", "127.0.0.1", "--master_port", str(free_port())]
    command = [*launcher, "-m", "scget.cli", "-v", "1", "train", str(h5mu)]
    subprocess.run([*command, "--out", str(tmp_path / "two"), *options], check=True, env=env)
    one, two = GETModel.load(tmp_path / "one"), GETModel.load(tmp_path / "two")
    torch.testing.assert_close(
        torch.tensor(one.history["train_loss"].to_numpy()),
        torch.tensor(two.history["train_loss"].to_numpy()),
        rtol=1e-4,
        atol=1e-6,
    )
    for name, value in one.network.state_dict().items():
        torch.testing.assert_close(two.network.state_dict()[name], value, rtol=1e-3, atol=1e-5)
    # the offset for windows without a prior, measured on windows sharded over the ranks
    assert one.config.no_prior_offset != 0
    assert two.config.no_prior_offset == pytest.approx(one.config.no_prior_offset, rel=1e-3)


def test_setup_options_have_one_record_for_functions_cli_and_docs():
    import inspect
    from dataclasses import fields

    from scget.tl._training._cli import BOTH, OPTIONS
    from scget.tl._training._params import SetupParams

    for option in fields(SetupParams):
        for function in (scget.tl.pretrain, scget.tl.finetune):
            parameter = inspect.signature(function).parameters[option.name]
            assert parameter.kind is parameter.KEYWORD_ONLY
            assert (parameter.default, parameter.annotation) == (option.default, option.type)
            assert f"\n    {option.name}\n" in function.__doc__
        if option.metadata["cli"] is not None:
            assert OPTIONS[option.name] == (*option.metadata["cli"], BOTH)
    with pytest.raises(TypeError, match=r"pretrain\(\) got an unexpected keyword argument"):
        scget.tl.pretrain(planted_pb(), stride=10)


def test_training_options_have_one_record_for_functions_cli_and_docs():
    import inspect
    from dataclasses import fields

    from scget.tl._training._cli import OPTIONS
    from scget.tl._training._params import TrainingParams

    for option in fields(TrainingParams):
        for function in (scget.tl.pretrain, scget.tl.finetune):
            parameter = inspect.signature(function).parameters[option.name]
            if function is scget.tl.finetune and option.name == "max_epochs":
                # fine-tuning's epochs are its target's unless given
                assert parameter.default is None and parameter.annotation == "int | None"
                assert "Default: the ``target``'s (15 for new groups, 20" in function.__doc__
                continue
            assert parameter.kind is parameter.KEYWORD_ONLY
            assert (parameter.default, parameter.annotation) == (option.default, option.type)
            assert f"Default: ``{option.default!r}``" in function.__doc__
        assert OPTIONS[option.name][0] is (option.metadata["cli"] or (type(option.default),))[0]
        assert OPTIONS[option.name][0] is not type(None)
        default = "the target's (15" if option.name == "max_epochs" else f"{option.default}."
        assert f"Default: {default}" in OPTIONS[option.name][1]
    with pytest.raises(
        TypeError, match=r"finetune\(\) got an unexpected keyword argument 'lr_max'"
    ):
        scget.tl.finetune(planted_pb(), lr_max=1.0)


def test_training_parameters_are_written_in_the_source_signatures():
    """What IDEs and type checkers read: the code's own parameters, no ``**options``."""
    import inspect
    from dataclasses import fields

    from scget.tl._training._params import SetupParams, TrainingParams

    names = [f.name for record in (SetupParams, TrainingParams) for f in fields(record)]
    for function in (scget.tl.pretrain, scget.tl.finetune):
        assert "__signature__" not in vars(function)
        code = function.__code__
        written = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        assert set(names) <= set(written) and not code.co_flags & inspect.CO_VARKEYWORDS
        assert list(inspect.signature(function).parameters) == list(written)
