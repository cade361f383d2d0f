"""Import of the published GET checkpoints (GET-Foundation/get_model) into GETNetwork.

The published code names its parameters in two generations, both understood here:

- current (``GETRegionFinetune`` / ``GETRegionPretrain``, Lightning): ``region_embed.embed``,
  ``cls_token``, ``mask_token``, ``encoder.blocks.{i}.{norm1, attn.qkv, attn.q_bias,
  attn.v_bias, attn.proj, norm2, mlp.fc1, mlp.fc2}``, ``encoder.norm``, ``head_exp.head``,
  ``head_mask``; Lightning prefixes every key with ``model.``;
- the paper's v1 checkpoints: ``region_embed.proj`` (or ``encoder.region_embed.proj``),
  ``encoder.cls_token``, ``blocks.{i}...`` (fine-tuned) or ``encoder.blocks.{i}...``,
  ``fc_norm`` as the final LayerNorm, ``head`` (expression) and ``encoder.head``
  (masked-region reconstruction).

The published attention has no key bias (``qkv`` without bias plus separate ``q_bias``
and ``v_bias``); it becomes our ``qkv.bias`` with zeros for the keys. A key bias adds
the same number to every score of a query, so this is exact.
"""

from __future__ import annotations

import argparse
import os
import pickle
import re
from collections.abc import Mapping

import torch

from .._shared.constants import ACCESSIBILITY_FEATURE
from .._shared.logging import logger
from ..motifs import vierstra_archetypes
from ._config import PRESETS, GETConfig
from ._network import INIT_STD, GETNetwork

#: Prefixes added by wrappers (DDP, Lightning, torch.compile), stripped from every key.
WRAPPER_PREFIXES = ("module.", "model.", "_orig_mod.")
#: Parameters a checkpoint may lack; they are freshly initialised (and logged).
OPTIONAL = ("mask_token", "expression_head.", "accessibility_head.", "reconstruction_head.")
#: Width of one attention head in the published model (768 / 12).
PUBLISHED_HEAD_DIM = 64

_BLOCK = r"(?:encoder\.)?blocks\.(?P<i>\d+)\."
_P = r"(?P<p>weight|bias)"
#: Published name pattern -> our name (``{group}`` filled from the match).
_RULES = [
    (r"(?:encoder\.)?region_embed\.(?:embed|proj)\." + _P, "region_embedding.{p}"),
    (r"(?:encoder\.)?cls_token", "cls_token"),
    (r"(?:encoder\.)?mask_token", "mask_token"),
    (_BLOCK + r"norm(?P<n>[12])\." + _P, "blocks.{i}.norm{n}.{p}"),
    (_BLOCK + r"attn\.qkv\." + _P, "blocks.{i}.qkv.{p}"),
    (_BLOCK + r"attn\.(?P<qv>[qv])_bias", "blocks.{i}.qkv.{qv}_bias"),
    (_BLOCK + r"attn\.proj\." + _P, "blocks.{i}.proj.{p}"),
    (_BLOCK + r"mlp\.fc(?P<n>[12])\." + _P, "blocks.{i}.fc{n}.{p}"),
    (r"(?:encoder\.norm|fc_norm|norm)\." + _P, "norm.{p}"),
    (r"(?:head_exp\.head|head)\." + _P, "expression_head.{p}"),
    (r"(?:head_mask|encoder\.head)\." + _P, "reconstruction_head.{p}"),
    (r"head_atac\.(?:head\.)?" + _P, "accessibility_head.{p}"),
]
_COMPILED = [(re.compile(pattern), template) for pattern, template in _RULES]


def published_feature_names(motifs=None) -> list[str]:
    """Return the 283 input features of the published checkpoints, in their order.

    Parameters
    ----------
    motifs
        The Vierstra archetypes (:func:`scget.motifs.vierstra_archetypes`); ``None``
        loads them from the cache, downloading them once.

    Returns
    -------
    The 282 archetype motif clusters in the published order, then ``"accessibility"``.
    """
    if motifs is None:
        motifs = vierstra_archetypes()
    return [*motifs.clusters, ACCESSIBILITY_FEATURE]


def _strip_prefixes(key: str) -> str:
    stripped = True
    while stripped:
        stripped = False
        for prefix in WRAPPER_PREFIXES:
            if key.startswith(prefix):
                key, stripped = key[len(prefix) :], True
    return key


def _rename(state_dict: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Map published names to ours; return the renamed tensors and unmatched keys."""
    renamed: dict[str, torch.Tensor] = {}
    origin: dict[str, str] = {}
    unexpected = []
    for key, value in state_dict.items():
        short = _strip_prefixes(key)
        for pattern, template in _COMPILED:
            match = pattern.fullmatch(short)
            if match:
                target = template.format(**match.groupdict())
                if target in renamed:
                    raise ValueError(
                        f"Checkpoint keys {origin[target]!r} and {key!r} both map to {target!r}; "
                        "remove one of them."
                    )
                renamed[target], origin[target] = value, key
                break
        else:
            unexpected.append(key)
    return renamed, unexpected


def _join_qkv_bias(renamed: dict[str, torch.Tensor]) -> None:
    """Replace separate q/v biases by one qkv bias with zeros for the keys."""
    blocks = {key.split(".")[1] for key in renamed if key.endswith((".q_bias", ".v_bias"))}
    for i in blocks:
        q = renamed.pop(f"blocks.{i}.qkv.q_bias", None)
        v = renamed.pop(f"blocks.{i}.qkv.v_bias", None)
        if q is None or v is None:
            raise ValueError(f"Block {i} of the checkpoint has only one of q_bias and v_bias.")
        if f"blocks.{i}.qkv.bias" in renamed:
            raise ValueError(f"Block {i} of the checkpoint has both qkv.bias and q_bias/v_bias.")
        renamed[f"blocks.{i}.qkv.bias"] = torch.cat([q, torch.zeros_like(q), v])
    for key in [k for k in renamed if k.endswith(".qkv.weight")]:
        bias = key.replace(".weight", ".bias")
        if bias not in renamed:  # published qkv_bias=False: no bias at all
            weight = renamed[key]
            renamed[bias] = weight.new_zeros(weight.shape[0])


def _infer_config(renamed: Mapping[str, torch.Tensor], n_heads: int | None) -> GETConfig:
    if "region_embedding.weight" not in renamed:
        raise ValueError(
            "The checkpoint has no region embedding (region_embed.embed.weight or "
            "region_embed.proj.weight); is it a GET region model?"
        )
    hidden, n_features = renamed["region_embedding.weight"].shape
    indices = sorted({int(key.split(".")[1]) for key in renamed if key.startswith("blocks.")})
    if not indices or indices != list(range(len(indices))):
        raise ValueError(f"The checkpoint's encoder blocks are not numbered 0..n-1: {indices}.")
    if "blocks.0.fc1.weight" not in renamed:
        raise ValueError("The checkpoint lacks encoder.blocks.0.mlp.fc1.weight.")
    if n_heads is None:
        if hidden % PUBLISHED_HEAD_DIM:
            raise ValueError(
                f"Cannot infer the number of heads of a {hidden}-wide checkpoint; pass n_heads."
            )
        n_heads = hidden // PUBLISHED_HEAD_DIM
    head = renamed.get("expression_head.weight")
    regularisation = {
        name: PRESETS["base"][name] for name in ("dropout", "attention_dropout", "drop_path")
    }
    return GETConfig(
        n_features=n_features,
        hidden_dim=hidden,
        n_layers=len(indices),
        n_heads=n_heads,
        ffn_dim=renamed["blocks.0.fc1.weight"].shape[0],
        n_outputs=2 if head is None else head.shape[0],
        **regularisation,
    )


def _fresh(name: str, like: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Initialise a tensor for a missing optional parameter (as GETNetwork does)."""
    value = torch.empty(reference.shape, dtype=like.dtype, device=like.device)
    if name.endswith(".bias"):
        return value.zero_()
    return torch.nn.init.trunc_normal_(value, std=INIT_STD, a=-2 * INIT_STD, b=2 * INIT_STD)


def convert_published_state_dict(
    state_dict: Mapping[str, torch.Tensor], *, n_heads: int | None = None, strict: bool = True
) -> tuple[GETConfig, dict[str, torch.Tensor]]:
    """Convert a published GET state dict to a :class:`GETConfig` and our parameter names.

    Sizes are inferred from the shapes (number of heads: width / 64 as published,
    unless given); regularisation follows the ``"base"`` preset. Parameters a
    checkpoint may lack (the [MASK] embedding and heads other than its own, e.g. the
    reconstruction head of a fine-tuned model) are freshly initialised and logged.
    The result loads with ``GETNetwork(config).load_state_dict(state, strict=True)``.

    Parameters
    ----------
    state_dict
        Published parameter names -> tensors; ``module.``, ``model.`` and
        ``_orig_mod.`` prefixes are stripped.
    n_heads
        Attention heads, when the width is not 64 per head.
    strict
        Raise on keys that are not part of the GET region model; otherwise log and
        drop them.

    Returns
    -------
    The inferred configuration and the state dict in our names.

    Raises
    ------
    ValueError
        Naming unexpected keys (``strict``), missing required keys or shape mismatches.
    """
    config, state, _ = _convert(state_dict, n_heads=n_heads, strict=strict)
    return config, state


def _convert(
    state_dict: Mapping[str, torch.Tensor], *, n_heads: int | None, strict: bool
) -> tuple[GETConfig, dict[str, torch.Tensor], list[str]]:
    """:func:`convert_published_state_dict`, with the freshly initialised parameter names."""
    renamed, unexpected = _rename(state_dict)
    if unexpected:
        if strict:
            raise ValueError(
                f"Unexpected keys in the checkpoint (not part of the GET region model): "
                f"{unexpected}. Pass strict=False to drop them."
            )
        logger.warning(f"Dropping {len(unexpected)} checkpoint keys: {unexpected}.")
    _join_qkv_bias(renamed)
    embedding = renamed.get("region_embedding.weight")
    if embedding is not None and embedding.ndim == 3 and embedding.shape[-1] == 1:
        renamed["region_embedding.weight"] = embedding[..., 0]  # early Conv1d(kernel 1) form
    config = _infer_config(renamed, n_heads)
    with torch.device("meta"):
        expected = GETNetwork(config).state_dict()
    missing = [key for key in expected if key not in renamed]
    required = [key for key in missing if not key.startswith(OPTIONAL)]
    if required:
        raise ValueError(f"The checkpoint lacks required parameters (our names): {required}.")
    mismatched = [
        f"{key}: checkpoint {tuple(renamed[key].shape)}, expected {tuple(value.shape)}"
        for key, value in expected.items()
        if key in renamed and renamed[key].shape != value.shape
    ]
    if mismatched:
        raise ValueError(f"Checkpoint shapes do not fit the inferred {config}: {mismatched}.")
    like = renamed["region_embedding.weight"]
    for key in missing:
        renamed[key] = _fresh(key, like, expected[key])
    if missing:
        logger.info(f"Freshly initialised parameters the checkpoint lacks: {missing}.")
    return config, {key: renamed[key] for key in expected}, missing


def _extract_state_dict(checkpoint) -> Mapping[str, torch.Tensor]:
    """Find the parameter mapping inside a loaded checkpoint file."""
    if not isinstance(checkpoint, Mapping):
        raise ValueError(f"The checkpoint holds a {type(checkpoint).__name__}, not a dict.")
    for key in ("model", "state_dict", "module"):
        if isinstance(checkpoint.get(key), Mapping):
            return _extract_state_dict(checkpoint[key])
    if checkpoint and all(isinstance(value, torch.Tensor) for value in checkpoint.values()):
        return checkpoint
    raise ValueError(
        "Cannot find the parameters in the checkpoint; top-level keys: "
        f"{sorted(map(str, checkpoint))}. Expected a state dict or a dict with 'model' or "
        "'state_dict'."
    )


def load_published_checkpoint(
    path: str | os.PathLike,
    *,
    feature_names: list[str] | None = None,
    n_heads: int | None = None,
    strict: bool = True,
    with_missing: bool = False,
) -> tuple[GETNetwork, list[str]] | tuple[GETNetwork, list[str], list[str]]:
    """Load a published GET checkpoint file safely into a :class:`GETNetwork`.

    The file is read with ``torch.load(weights_only=True)`` (no arbitrary code runs);
    ``argparse.Namespace`` objects (the training arguments the paper's checkpoints
    store beside the weights) are allowed. The parameters are found in the usual
    layouts: ``{"model": state_dict, ...}`` (paper checkpoints), ``{"state_dict":
    {"model.<name>": ...}, ...}`` (Lightning) or a bare state dict.

    Parameters
    ----------
    path
        Checkpoint file (``.pth``/``.ckpt``).
    feature_names
        Names of the input features, in the checkpoint's order; default: the published
        282 motif clusters + accessibility (:func:`published_feature_names`, which loads
        the Vierstra archetypes from the cache or downloads them) when the checkpoint has
        283 inputs.
    n_heads
        Attention heads, when the width is not 64 per head.
    strict
        See :func:`convert_published_state_dict`.
    with_missing
        Also return the names (ours) of the parameters the checkpoint lacks, which
        were freshly initialised (e.g. ``accessibility_head.weight`` of a checkpoint
        whose accessibility head was not trained).

    Returns
    -------
    The network (eval mode, on CPU) and its input feature names (and, with
    ``with_missing``, the freshly initialised parameter names).

    Raises
    ------
    ValueError
        If the file holds objects that cannot be loaded safely, has no recognisable
        state dict, or ``feature_names`` does not fit the checkpoint.
    """
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise ValueError(
            f"{path} holds Python objects beside the weights that cannot be loaded safely "
            f"({str(error).splitlines()[0]}). If you trust the file, extract its state dict "
            "once: torch.save(torch.load(path, weights_only=False)['state_dict'], 'clean.pt'), "
            "and load 'clean.pt'."
        ) from error
    config, state, missing = _convert(
        _extract_state_dict(checkpoint), n_heads=n_heads, strict=strict
    )
    if feature_names is None:
        published = published_feature_names()
        if config.n_features != len(published):
            raise ValueError(
                f"The checkpoint has {config.n_features} input features, not the published "
                f"{len(published)}; pass feature_names."
            )
        feature_names = published
    if len(feature_names) != config.n_features:
        raise ValueError(
            f"{len(feature_names)} feature_names given for a checkpoint with "
            f"{config.n_features} input features."
        )
    network = GETNetwork(config)
    network.load_state_dict(state, strict=True)
    if with_missing:
        return network.eval(), list(feature_names), missing
    return network.eval(), list(feature_names)
