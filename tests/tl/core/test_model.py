from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from _planted import tiny_kwargs
from _published_format import published_state_dict

import scget
from scget._shared.genomic import peak_coordinates
from scget.nn import ARCHITECTURES
from scget.tl import GETModel
from scget.tl._core._prior import model_inputs


def _predictions(pb, model) -> dict[str, np.ndarray]:
    scget.tl.predict(pb, model, device="cpu")
    return {
        "plus": pb["atac"].layers["get_plus"].copy(),
        "minus": pb["atac"].layers["get_minus"].copy(),
        "genes": pb["rna"].layers["get_pred"].copy(),
    }


def _assert_same(a: dict, b: dict, **tolerance) -> None:
    for key in a:
        if tolerance:
            np.testing.assert_allclose(a[key], b[key], **tolerance)
        else:
            np.testing.assert_array_equal(a[key], b[key])


def test_save_load_gives_bit_identical_predictions(pb, trained, tmp_path):
    trained.save(tmp_path / "ckpt")
    loaded = GETModel.load(tmp_path / "ckpt")
    _assert_same(_predictions(pb, trained), _predictions(pb, loaded))
    assert loaded.feature_names == trained.feature_names
    assert loaded.split == trained.split
    assert loaded.params == trained.params
    np.testing.assert_allclose(loaded.history.to_numpy(float), trained.history.to_numpy(float))

    config = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert config["scget_version"] == scget.__version__
    assert config["config"] == trained.config.to_dict()
    assert config["feature_names"][-1] == "accessibility"
    state = torch.load(tmp_path / "ckpt" / "model.pt", weights_only=True)
    assert set(state) == set(trained.network.state_dict())

    with pytest.raises(FileExistsError, match="overwrite"):
        trained.save(tmp_path / "ckpt")
    trained.save(tmp_path / "ckpt", overwrite=True)
    with pytest.raises(FileNotFoundError, match="not a scget checkpoint"):
        GETModel.load(tmp_path)


def test_mismatched_motif_features_raise_naming_them(pb, trained):
    scores = pb["atac"].varm["motif_scores"]
    renamed = scores.rename(columns={"M3": "NRF1"})
    pb["atac"].varm["motif_scores"] = renamed
    with pytest.raises(
        ValueError, match=r"missing from the data: 'M3'.*unknown to the model: 'NRF1'"
    ):
        scget.tl.predict(pb, trained)
    assert "get_plus" not in pb["atac"].layers

    pb["atac"].varm["motif_scores"] = scores[list(reversed(scores.columns))]
    with pytest.raises(ValueError, match="another order"):
        trained.check_features(pb)
    pb["atac"].varm["motif_scores"] = scores
    trained.check_features(pb)


def test_lora_freezes_the_base_and_merging_reproduces_predictions(pb, trained, tmp_path):
    adapted = scget.tl.finetune(
        pb, model=trained, lora=True, lora_rank=2, **tiny_kwargs(max_epochs=2, lr=1e-2)
    )
    assert adapted.lora == {"rank": 2, "alpha": 1.0}
    base = trained.network.state_dict()
    frozen = 0
    for name, parameter in adapted.network.named_parameters():
        if parameter.requires_grad:
            continue
        frozen += 1
        torch.testing.assert_close(parameter, base[name.replace(".base.", ".")], rtol=0, atol=0)
    assert frozen > 0
    # the heads and adapters moved
    assert not torch.equal(
        adapted.network.expression_head.weight, trained.network.expression_head.weight
    )
    adapted_predictions = _predictions(pb, adapted)
    assert not np.allclose(
        adapted_predictions["plus"], _predictions(pb, trained)["plus"], equal_nan=True
    )

    adapted.save(tmp_path / "lora")
    _assert_same(adapted_predictions, _predictions(pb, GETModel.load(tmp_path / "lora")))

    adapted.merge_lora()
    assert adapted.lora is None
    assert not any("lora" in name for name in adapted.network.state_dict())
    _assert_same(adapted_predictions, _predictions(pb, adapted), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="no LoRA"):
        adapted.merge_lora()


def test_finetune_merge_option_returns_a_plain_network(pb, trained):
    merged = scget.tl.finetune(
        pb, model=trained, lora=True, merge=True, **tiny_kwargs(max_epochs=1)
    )
    assert merged.lora is None and merged.params["lora_merged"]
    assert all(p.requires_grad for p in merged.network.parameters())


def _published_architecture(network):
    """The network without scget's extensions (what a published checkpoint holds)."""
    from scget.nn import GETNetwork

    config = dataclasses.replace(
        network.config,
        tss_input=False,
        distance_bias=False,
        expression_prior=False,
        no_prior_offset=0.0,
    )
    published = GETNetwork(config)
    state = network.state_dict()
    published.load_state_dict({k: state[k] for k in published.state_dict()})
    return published.eval()


def test_from_published_checkpoint_predicts_as_the_original(pb, trained, tmp_path):
    """A checkpoint in the published code's format imports to the same predictions, and
    keeps them when scget's extensions are added (they start at zero)."""
    original = _published_architecture(trained.network)
    path = tmp_path / "published.pth"
    torch.save(
        {"model": {f"module.{k}": v for k, v in published_state_dict(original).items()}},
        path,
    )
    imported = GETModel.from_published(
        path, feature_names=trained.feature_names, n_heads=trained.config.n_heads
    )
    assert imported.feature_names == trained.feature_names
    assert imported.params["source"] == str(path)
    assert imported.window_size == 200  # the published models' windows
    same_windows = GETModel(
        original, feature_names=trained.feature_names, params={"window_size": 200}
    )
    expected = _predictions(pb, same_windows)
    _assert_same(expected, _predictions(pb, imported))
    imported.network.extend(**ARCHITECTURES["tss+distance+prior"])
    assert imported.config.tss_input and imported.config.distance_bias
    assert imported.config.expression_prior
    # a prior that is not zero: three groups' expression on every chromosome
    imported.params["prior_groups"] = list(pb.obs_names[:3])
    imported.split["train_chromosomes"] = sorted(set(peak_coordinates(pb["atac"])["chrom"]))
    assert np.abs(model_inputs(pb, imported).groups[0].prior[:, :3]).sum() > 0
    _assert_same(expected, _predictions(pb, imported))
    with pytest.raises(ValueError, match="feature_names"):
        GETModel.from_published(path, feature_names=trained.feature_names[:-1])


def _small_model(**params) -> GETModel:
    """An untrained tiny network with three motif features (for checkpoint tests)."""
    from scget.nn import GETConfig, GETNetwork

    network = GETNetwork(GETConfig.from_preset("tiny", 4))
    return GETModel(network, feature_names=["M1", "M2", "M3", "accessibility"], params=params)


def _files(path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def test_numpy_and_path_params_are_saved_as_plain_values(tmp_path):
    model = _small_model(
        max_epochs=np.int64(2),
        lr=np.float32(0.5),
        binary=np.bool_(True),
        shape=(np.int32(3), 4),
        weights=np.array([1.0, 2.0]),
        source=tmp_path / "published.pth",
    )
    model.save(tmp_path / "ckpt")
    loaded = GETModel.load(tmp_path / "ckpt")
    assert loaded.params == {
        "max_epochs": 2,
        "lr": 0.5,
        "binary": True,
        "shape": [3, 4],
        "weights": [1.0, 2.0],
        "source": str(tmp_path / "published.pth"),
    }
    assert type(loaded.params["max_epochs"]) is int
    assert loaded.binary


@pytest.mark.parametrize("broken", ["torch.save", "config"])
def test_failed_save_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch, broken):
    previous = _small_model(stage="finetune")
    previous.save(tmp_path / "ckpt")
    (tmp_path / "ckpt" / "notes.txt").write_text("kept")
    before = _files(tmp_path / "ckpt")

    def fail_midway(obj, f, *args, **kwargs):
        open(f, "wb").write(b"partial")
        raise OSError("disk full")

    replacement = _small_model(stage="other")
    if broken == "torch.save":
        monkeypatch.setattr(torch, "save", fail_midway)
        with pytest.raises(OSError, match="disk full"):
            replacement.save(tmp_path / "ckpt", overwrite=True)
        with pytest.raises(OSError, match="disk full"):
            replacement.save(tmp_path / "fresh")  # a failed first save leaves nothing
    else:
        replacement.params["unstorable"] = object()
        with pytest.raises(TypeError, match="not storable"):
            replacement.save(tmp_path / "ckpt", overwrite=True)
    assert _files(tmp_path / "ckpt") == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]
    assert GETModel.load(tmp_path / "ckpt").params == {"stage": "finetune"}

    monkeypatch.undo()
    replacement.params.pop("unstorable", None)
    replacement.save(tmp_path / "ckpt", overwrite=True)
    assert GETModel.load(tmp_path / "ckpt").params == {"stage": "other"}
    assert (tmp_path / "ckpt" / "notes.txt").read_text() == "kept"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]


def _edit_config(path, edit) -> None:
    config = json.loads((path / "config.json").read_text())
    edit(config)
    (path / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: (p / "model.pt").write_bytes(b""), r"model\.pt is empty \(0 bytes\)"),
        (
            lambda p: (p / "model.pt").write_bytes(np.random.default_rng(0).bytes(500)),
            r"model\.pt cannot be read as network weights",
        ),
        (
            lambda p: (p / "model.pt").write_bytes((p / "model.pt").read_bytes()[:300]),
            r"model\.pt cannot be read as network weights",
        ),
        (
            lambda p: (p / "config.json").write_text((p / "config.json").read_text()[:100]),
            r"config\.json is not valid JSON",
        ),
        (
            lambda p: _edit_config(p, lambda c: c["config"].update(n_layers=3)),
            r"weights in .*model\.pt do not fit the network described in .*config\.json: "
            r"tensors \d+ missing",
        ),
        (
            lambda p: _edit_config(p, lambda c: c["config"].update(ffn_dim=128)),
            "of another shape",
        ),
        (
            lambda p: _edit_config(p, lambda c: c["config"].update(width=3)),
            r"configuration in .*config\.json is invalid \(Unknown GETConfig fields \['width'\]",
        ),
        (
            lambda p: (p / "config.json").write_text('{"model": "other"}'),
            r"config\.json is not a scget checkpoint configuration .*'scget_version'",
        ),
        (lambda p: (p / "config.json").write_text("[1, 2]"), "not a scget checkpoint"),
    ],
)
def test_damaged_checkpoints_raise_naming_the_file(tmp_path, damage, message):
    _small_model().save(tmp_path / "ckpt")
    damage(tmp_path / "ckpt")
    with pytest.raises(scget.tl.CheckpointError, match=message) as error:
        GETModel.load(tmp_path / "ckpt")
    assert isinstance(error.value, ValueError)
    assert "weights_only=False" not in str(error.value)
    assert "re-save" in str(error.value) or "GETModel.save" in str(error.value)


def test_checkpoint_of_another_version_loads_with_a_warning(tmp_path, scget_log):
    _small_model().save(tmp_path / "ckpt")
    GETModel.load(tmp_path / "ckpt")
    assert "saved by scget" not in scget_log.text
    _edit_config(tmp_path / "ckpt", lambda c: c.update(scget_version="0.0.3"))
    GETModel.load(tmp_path / "ckpt")
    assert f"saved by scget 0.0.3, this is scget {scget.__version__}" in scget_log.text


def _published_file(network, path, drop_accessibility_head: bool = False):
    state = published_state_dict(network)
    if drop_accessibility_head:
        state = {k: v for k, v in state.items() if not k.startswith("head_atac.")}
    torch.save({"model": {f"module.{k}": v for k, v in state.items()}}, path)
    return path


@pytest.mark.parametrize("hidden", [1.0, 0.5, 0.3])
def test_from_published_keeps_the_accessibility_head_and_predicts_accessibility(
    pb, trained, tmp_path, hidden
):
    """The published state dict's ATAC head is imported as trained; predict then writes
    the head's output with the accessibility input set to 1, computed here by hand: in
    every region (as published), or in every k-th region per pass (a head trained with
    ``accessibility_hidden`` < 1), the others keeping their accessibility scores."""
    original = _published_architecture(trained.network)
    path = _published_file(original, tmp_path / "published.pth")
    imported = GETModel.from_published(
        path, feature_names=trained.feature_names, n_heads=trained.config.n_heads
    )
    assert imported.objective == "joint" and imported.predicts_accessibility
    assert imported.accessibility_hidden == 1.0
    torch.testing.assert_close(
        imported.network.accessibility_head.weight, original.accessibility_head.weight
    )
    imported.params["accessibility_hidden"] = hidden
    scget.tl.predict(pb, imported, device="cpu")
    predicted = scget.get.predictions(pb, level="accessibility")
    # every chromosome of the planted data (120 peaks) fits in one window of 200 regions
    atac = pb["atac"]
    chrom = np.array([name.split(":")[0] for name in atac.var_names])
    accessible = np.asarray(atac.layers["counts"][0] > 0).ravel()
    peaks = np.flatnonzero(accessible & (chrom == "chr2"))
    peaks = peaks[np.argsort([int(atac.var_names[p].split(":")[1].split("-")[0]) for p in peaks])]
    scores = np.asarray(atac.X[0]).ravel()[peaks]
    every = {1.0: 1, 0.5: 2, 0.3: 4}[hidden]  # passes: ceil(1 / hidden)
    expected = np.empty(len(peaks), dtype=np.float32)
    for phase in range(every):
        x = np.hstack([atac.varm["motif_scores"].to_numpy()[peaks], scores[:, None]])
        x[phase::every, -1] = 1.0
        with torch.no_grad():
            out = original(torch.tensor(x[None], dtype=torch.float32)).accessibility[0, :, 0]
        expected[phase::every] = out.numpy()[phase::every]
    np.testing.assert_allclose(predicted.iloc[0, peaks], expected, rtol=1e-5, atol=1e-6)
    assert np.isnan(predicted.iloc[0, ~accessible]).all()


def test_from_published_without_accessibility_head_predicts_expression_only(pb, trained, tmp_path):
    original = _published_architecture(trained.network)
    path = _published_file(original, tmp_path / "published.pth", drop_accessibility_head=True)
    imported = GETModel.from_published(
        path, feature_names=trained.feature_names, n_heads=trained.config.n_heads
    )
    assert imported.objective == "expression" and not imported.predicts_accessibility
    scget.tl.predict(pb, imported, device="cpu")
    assert "get_accessibility" not in pb["atac"].layers
    with pytest.raises(KeyError, match="does not predict accessibility"):
        scget.get.predictions(pb, level="accessibility")
