import argparse

import pytest
import torch
from _published_format import published_state_dict

from scget._shared.constants import ACCESSIBILITY_FEATURE
from scget.nn import (
    GETConfig,
    GETNetwork,
    convert_published_state_dict,
    load_published_checkpoint,
    published_feature_names,
)

N_FEATURES, HIDDEN, LAYERS, FFN = 12, 128, 2, 96


@pytest.fixture
def source():
    """A network with random (non-zero) values everywhere, biases included."""
    torch.manual_seed(0)
    config = GETConfig(
        n_features=N_FEATURES, hidden_dim=HIDDEN, n_layers=LAYERS, n_heads=2, ffn_dim=FFN
    )
    network = GETNetwork(config).eval()
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    return network


def published_v2(network, prefix="model."):
    """Our parameters under the names of get_model's GETRegionPretrain/Finetune."""
    ours = network.state_dict()
    published = {
        "region_embed.embed.weight": ours["region_embedding.weight"],
        "region_embed.embed.bias": ours["region_embedding.bias"],
        "cls_token": ours["cls_token"],
        "mask_token": ours["mask_token"],
        "encoder.norm.weight": ours["norm.weight"],
        "encoder.norm.bias": ours["norm.bias"],
        "head_exp.head.weight": ours["expression_head.weight"],
        "head_exp.head.bias": ours["expression_head.bias"],
        "head_mask.weight": ours["reconstruction_head.weight"],
        "head_mask.bias": ours["reconstruction_head.bias"],
        "head_atac.weight": ours["accessibility_head.weight"],
        "head_atac.bias": ours["accessibility_head.bias"],
    }
    for i in range(network.config.n_layers):
        old, new = f"encoder.blocks.{i}.", f"blocks.{i}."
        bias = ours[new + "qkv.bias"]
        published |= {
            old + "norm1.weight": ours[new + "norm1.weight"],
            old + "norm1.bias": ours[new + "norm1.bias"],
            old + "attn.qkv.weight": ours[new + "qkv.weight"],
            old + "attn.q_bias": bias[:HIDDEN],
            old + "attn.v_bias": bias[2 * HIDDEN :],
            old + "attn.proj.weight": ours[new + "proj.weight"],
            old + "attn.proj.bias": ours[new + "proj.bias"],
            old + "norm2.weight": ours[new + "norm2.weight"],
            old + "norm2.bias": ours[new + "norm2.bias"],
            old + "mlp.fc1.weight": ours[new + "fc1.weight"],
            old + "mlp.fc1.bias": ours[new + "fc1.bias"],
            old + "mlp.fc2.weight": ours[new + "fc2.weight"],
            old + "mlp.fc2.bias": ours[new + "fc2.bias"],
        }
    return {prefix + key: value.clone() for key, value in published.items()}


def published_v1_finetune(network):
    """The paper's fine-tuned layout: blocks.*, fc_norm, region_embed.proj, head."""
    renamed = {}
    for key, value in published_v2(network, prefix="").items():
        if key.startswith(("mask_token", "head_mask", "head_atac")):
            continue
        key = key.replace("encoder.blocks.", "blocks.").replace("encoder.norm.", "fc_norm.")
        key = key.replace("region_embed.embed.", "region_embed.proj.")
        key = key.replace("head_exp.head.", "head.")
        renamed["module." + key] = value
    return renamed


def test_v2_lightning_names_load_strictly_and_predict_the_same(source):
    config, state = convert_published_state_dict(published_v2(source))
    assert config.to_dict() == source.config.to_dict()
    network = GETNetwork(config).eval()
    network.load_state_dict(state, strict=True)
    x = torch.rand(2, 9, N_FEATURES)
    mask = torch.rand(2, 9) < 0.5
    expected, got = source(x, mask=mask), network(x, mask=mask)
    # the published model has no key bias: ours is zero after import, and it cannot matter
    assert torch.count_nonzero(state["blocks.0.qkv.bias"][HIDDEN : 2 * HIDDEN]) == 0
    assert torch.count_nonzero(source.blocks[0].qkv.bias[HIDDEN : 2 * HIDDEN]) > 0
    for name in ("expression", "accessibility", "reconstruction", "hidden"):
        torch.testing.assert_close(getattr(got, name), getattr(expected, name))


def test_v1_finetune_names_fill_missing_heads(source, caplog):
    config, state = convert_published_state_dict(published_v1_finetune(source))
    network = GETNetwork(config).eval()
    network.load_state_dict(state, strict=True)
    x = torch.rand(2, 9, N_FEATURES)
    torch.testing.assert_close(network(x).expression, source(x).expression)
    # the heads the fine-tuned checkpoint lacks are new, not copied
    assert not torch.equal(state["reconstruction_head.weight"], source.reconstruction_head.weight)
    assert torch.count_nonzero(state["accessibility_head.bias"]) == 0


def test_v1_pretrain_names(source):
    renamed = {}
    for key, value in published_v2(source, prefix="").items():
        key = key.replace("head_mask.", "encoder.head.").replace("cls_token", "encoder.cls_token")
        key = key.replace("region_embed.embed.", "encoder.region_embed.proj.")
        renamed[key] = value
    # early checkpoints store the embedding as a kernel-size-1 Conv1d weight
    embedding = "encoder.region_embed.proj.weight"
    renamed[embedding] = renamed[embedding].unsqueeze(-1)
    _, state = convert_published_state_dict(renamed)
    torch.testing.assert_close(state["region_embedding.weight"], source.region_embedding.weight)
    torch.testing.assert_close(
        state["reconstruction_head.weight"], source.reconstruction_head.weight
    )
    torch.testing.assert_close(state["cls_token"], source.cls_token)


def test_base_sized_checkpoint_infers_the_base_preset():
    shapes = {
        "region_embed.embed.weight": (768, 283),
        "region_embed.embed.bias": (768,),
        "cls_token": (1, 1, 768),
        "encoder.norm.weight": (768,),
        "encoder.norm.bias": (768,),
        "head_exp.head.weight": (2, 768),
        "head_exp.head.bias": (2,),
    }
    for i in range(12):
        block = f"encoder.blocks.{i}."
        shapes |= {
            block + "norm1.weight": (768,),
            block + "norm1.bias": (768,),
            block + "attn.qkv.weight": (2304, 768),
            block + "attn.q_bias": (768,),
            block + "attn.v_bias": (768,),
            block + "attn.proj.weight": (768, 768),
            block + "attn.proj.bias": (768,),
            block + "norm2.weight": (768,),
            block + "norm2.bias": (768,),
            block + "mlp.fc1.weight": (3072, 768),
            block + "mlp.fc1.bias": (3072,),
            block + "mlp.fc2.weight": (768, 3072),
            block + "mlp.fc2.bias": (768,),
        }
    state_dict = {key: torch.empty(shape, device="meta") for key, shape in shapes.items()}
    config, state = convert_published_state_dict(state_dict)
    assert config == GETConfig.from_preset("base", 283)
    with torch.device("meta"):
        GETNetwork(config).load_state_dict(state, strict=True)


def test_unexpected_missing_and_mismatched_keys_are_named(source):
    state_dict = published_v2(source)
    state_dict["model.loss.weight"] = torch.ones(1)
    with pytest.raises(ValueError, match=r"Unexpected keys.*'model\.loss\.weight'.*strict=False"):
        convert_published_state_dict(state_dict)
    _, state = convert_published_state_dict(state_dict, strict=False)
    assert "loss.weight" not in state

    state_dict = published_v2(source)
    del state_dict["model.encoder.blocks.1.mlp.fc2.weight"]
    with pytest.raises(ValueError, match=r"lacks required parameters.*blocks\.1\.fc2\.weight"):
        convert_published_state_dict(state_dict)

    state_dict = published_v2(source)
    state_dict["model.encoder.blocks.0.attn.proj.bias"] = torch.zeros(HIDDEN + 1)
    with pytest.raises(ValueError, match=r"blocks\.0\.proj\.bias: checkpoint \(129,\)"):
        convert_published_state_dict(state_dict)

    state_dict = published_v2(source)
    state_dict["model.fc_norm.weight"] = state_dict["model.encoder.norm.weight"]
    with pytest.raises(ValueError, match=r"both map to 'norm\.weight'"):
        convert_published_state_dict(state_dict)


def test_heads_cannot_be_inferred_for_odd_widths(source):
    state_dict = {
        key: value
        for key, value in published_v2(source).items()
        if not key.startswith("model.encoder.blocks.1.")
    }
    config, _ = convert_published_state_dict(state_dict, n_heads=4)
    assert (config.n_layers, config.n_heads) == (1, 4)


@pytest.mark.parametrize("layout", ["paper", "lightning", "bare"])
def test_load_published_checkpoint_layouts(source, tmp_path, layout):
    if layout == "paper":
        checkpoint = {
            "model": published_v1_finetune(source),
            "epoch": 3,
            "args": argparse.Namespace(lr=1e-3, model="get_finetune_motif"),
        }
    elif layout == "lightning":
        checkpoint = {"state_dict": published_v2(source), "epoch": 3, "global_step": 10}
    else:
        checkpoint = published_v2(source, prefix="")
    path = tmp_path / "checkpoint.pth"
    torch.save(checkpoint, path)
    names = [f"motif{i}" for i in range(N_FEATURES - 1)] + [ACCESSIBILITY_FEATURE]
    network, feature_names = load_published_checkpoint(path, feature_names=names)
    assert feature_names == names
    assert not network.training
    x = torch.rand(1, 5, N_FEATURES)
    torch.testing.assert_close(network(x).expression, source(x).expression)
    with pytest.raises(ValueError, match="3 feature_names given for a checkpoint with 12"):
        load_published_checkpoint(path, feature_names=names[:3])


class _Opaque:
    pass


def test_unsafe_objects_are_refused(source, tmp_path):
    path = tmp_path / "checkpoint.ckpt"
    torch.save({"state_dict": published_v2(source), "hyper_parameters": _Opaque()}, path)
    with pytest.raises(ValueError, match=r"cannot be loaded safely.*weights_only=False"):
        load_published_checkpoint(path)
    torch.save({"optimizer": {"lr": torch.ones(1)}}, path)
    with pytest.raises(ValueError, match=r"Cannot find the parameters.*\['optimizer'\]"):
        load_published_checkpoint(path)


@pytest.fixture
def cached_vierstra(shared_data):
    """The Vierstra archetypes placed in the (temporary) scget cache, as a download would."""
    import shutil

    import scget

    shutil.copytree(
        shared_data / "vierstra_archetypes_v1",
        scget.settings.cachedir / "vierstra_archetypes_v1",
        dirs_exist_ok=True,
    )


def test_published_feature_names(shared_data, cached_vierstra):
    names = published_feature_names()
    order = (shared_data / "vierstra_archetypes_v1" / "get_feature_order_282.txt").read_text()
    assert names == [*order.replace("/", ".").splitlines(), ACCESSIBILITY_FEATURE]
    assert len(names) == 283


def test_published_feature_order_is_the_default(source, tmp_path, cached_vierstra):
    torch.manual_seed(0)
    network = GETNetwork(GETConfig.from_preset("tiny", 283, n_heads=1))
    path = tmp_path / "published.pth"
    torch.save({"model": {f"module.{k}": v for k, v in network.state_dict().items()}}, path)
    # our own names are not the published ones: refused, and named
    with pytest.raises(ValueError, match="Unexpected keys"):
        load_published_checkpoint(path)
    torch.save({"model": published_v2(source)}, path)
    with pytest.raises(ValueError, match="12 input features, not the published 283"):
        load_published_checkpoint(path)
    path = tmp_path / "published283.pth"
    torch.save({"model": published_state_dict(network)}, path)
    loaded, names = load_published_checkpoint(path)
    assert names == published_feature_names()
    x = torch.rand(1, 4, 283)
    network.eval()
    torch.testing.assert_close(loaded(x).expression, network(x).expression)
