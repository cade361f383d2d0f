"""The GET model object: network, input features, split and history, saved as a checkpoint."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from ..._shared.constants import (
    ATAC,
    CONFIG_FILE,
    HISTORY_COLUMNS,
    MOTIF_KEY,
    PRETRAIN_KEY,
    WEIGHTS_FILE,
    WINDOW_SIZE,
)
from ..._shared.storage import to_json
from ..._shared.utils import atomic_directory
from ..._version import __version__
from ...nn import GETNetwork, add_lora, load_published_checkpoint, merge_lora
from ._checkpoint import load_weights, read_config
from ._split import SPLIT_KEYS
from ._windows import motif_feature_names


class GETModel:
    """A trained GET network with everything needed to apply it to a pseudobulk.

    Parameters
    ----------
    network
        The :class:`scget.nn.GETNetwork`.
    feature_names
        Input features in order: motif clusters, then ``"accessibility"``.
    split
        Chromosomes and groups used: ``train_chromosomes``, ``valid_chromosomes``,
        ``test_chromosomes``, ``leave_out_groups`` (lists of str).
    history
        One row per epoch: ``epoch``, ``train_loss``, ``valid_loss``, ``lr``.
    params
        Training settings (``binary``, ``window_size``, ``loss``, ``lora``, ...).

    Attributes
    ----------
    network, feature_names, split, history, params
        As given.

    Examples
    --------
    >>> model
    GETModel(2 layers x 64, 127,363 parameters, 204 features, 2 epochs, lora=False)
    >>> model.save("model")
    >>> scget.tl.GETModel.load("model").split["test_chromosomes"]
    ['chr3']
    """

    def __init__(
        self,
        network,
        *,
        feature_names: Sequence[str],
        split: Mapping[str, Sequence[str]] | None = None,
        history: pd.DataFrame | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        if len(feature_names) != network.config.n_features:
            raise ValueError(
                f"{len(feature_names)} feature names for a network with "
                f"{network.config.n_features} input features."
            )
        self.network = network
        self.feature_names = [str(f) for f in feature_names]
        split = split or {}
        self.split = {key: [str(v) for v in split.get(key, [])] for key in SPLIT_KEYS}
        self.history = pd.DataFrame(columns=list(HISTORY_COLUMNS)) if history is None else history
        self.params = dict(params or {})

    @property
    def config(self):
        """The network's :class:`scget.nn.GETConfig`."""
        return self.network.config

    @property
    def binary(self) -> bool:
        """Whether the accessibility feature is binary (1 for every accessible region)."""
        return bool(self.params.get("binary", False))

    @property
    def window_size(self) -> int:
        """Regions per input window."""
        return int(self.params.get("window_size", WINDOW_SIZE))

    @property
    def objective(self) -> str:
        """What fine-tuning trained: ``"expression"``, ``"accessibility"`` or ``"joint"``.

        Checkpoints written before the objective was recorded trained expression only.
        """
        return str(self.params.get("objective", "expression"))

    @property
    def predicts_accessibility(self) -> bool:
        """Whether the accessibility head was trained (fine-tuned, or imported as published)."""
        return self.objective in ("accessibility", "joint")

    @property
    def accessibility_hidden(self) -> float:
        """Share of regions hidden at once when the accessibility head was trained.

        1 (every region hidden, as published, and for imported models) or less: it
        learnt to predict a region's accessibility from that of the others.
        """
        return float(self.params.get("accessibility_hidden", 1.0))

    @property
    def lora(self) -> dict | None:
        """LoRA settings (``rank``, ``alpha``) while unmerged adapters are present."""
        return self.params.get("lora")

    def check_features(self, pb, *, atac: str = ATAC, motif_key: str = MOTIF_KEY) -> None:
        """Raise ``ValueError`` unless ``pb`` has exactly this model's input features.

        Parameters
        ----------
        pb
            Pseudobulk MuData with ``[atac].varm["motif_scores"]``.
        atac
            Name of the ATAC modality.
        motif_key
            ``[atac].varm`` key of the motif scores.

        Raises
        ------
        ValueError
            Listing features the data lacks, features the model does not know, or the
            first positions where the order differs.
        """
        data = motif_feature_names(pb, atac=atac, motif_key=motif_key)
        if data == self.feature_names:
            return
        missing = [f for f in self.feature_names if f not in set(data)]
        extra = [f for f in data if f not in set(self.feature_names)]
        problems = []
        if missing:
            problems.append(f"missing from the data: {_shorten(missing)}")
        if extra:
            problems.append(f"unknown to the model: {_shorten(extra)}")
        if not missing and not extra:
            moved = [
                f"{i}: {m!r} vs {d!r}"
                for i, (m, d) in enumerate(zip(self.feature_names, data, strict=True))
                if m != d
            ]
            problems.append(f"same features in another order (position: model vs data) {moved[:5]}")
        raise ValueError(
            "The motif features of the data differ from the model's ("
            + "; ".join(problems)
            + "). Scan the data with the motif collection the model was trained on "
            "(scget.pp.scan_motifs), in the same cluster order."
        )

    def check_finetuned(self, caller: str, *, expression: bool = True) -> None:
        """Raise ``ValueError`` if this model was only pretrained (untrained expression head).

        Parameters
        ----------
        caller
            The function needing expression outputs, named in the message.
        expression
            Also raise for a model fine-tuned for accessibility only (its expression head
            is untrained); ``False`` accepts it.
        """
        if self.params.get("stage") == PRETRAIN_KEY:
            raise ValueError(
                f"{caller} needs a model trained to predict expression, but this one was only "
                "pretrained (masked regions): its expression head is untrained. Fine-tune it "
                "first: model = scget.tl.finetune(pb, model=pretrained)."
            )
        if expression and self.objective == "accessibility":
            raise ValueError(
                f"{caller} needs a model trained to predict expression, but this one was "
                'fine-tuned with objective="accessibility": its expression head is untrained. '
                'Fine-tune with objective="expression" or "joint".'
            )

    def merge_lora(self) -> GETModel:
        """Fold the LoRA adapters into the base weights (in place); returns ``self``."""
        if self.lora is None:
            raise ValueError("This model has no LoRA adapters to merge.")
        merge_lora(self.network)
        self.params["lora"] = None
        self.params["lora_merged"] = True
        return self

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> None:
        """Write ``model.pt`` (state dict) and ``config.json`` into directory ``path``.

        The checkpoint is written into a temporary sibling folder and renamed into place
        when complete: an error or interrupt leaves an earlier checkpoint at ``path``
        intact (or nothing). Parameters held as numpy scalars or arrays, tuples or paths
        are stored as plain JSON values.

        Parameters
        ----------
        path
            Checkpoint directory (created).
        overwrite
            Replace an existing checkpoint.

        Raises
        ------
        FileExistsError
            If ``path`` holds a checkpoint and ``overwrite`` is False.
        TypeError
            If a parameter has no JSON form (raised before anything is written).
        """
        path = Path(path)
        if (path / WEIGHTS_FILE).exists() and not overwrite:
            raise FileExistsError(f"{path} already holds a checkpoint; pass overwrite=True.")
        config = {
            "scget_version": __version__,
            "config": self.config.to_dict(),
            "feature_names": self.feature_names,
            "split": self.split,
            "history": self.history.to_dict(orient="records"),
            "params": self.params,
        }
        text = to_json(config, indent=2)
        state = {k: v.detach().cpu() for k, v in self.network.state_dict().items()}
        with atomic_directory(path) as staging:
            torch.save(state, staging / WEIGHTS_FILE)
            (staging / CONFIG_FILE).write_text(text)

    @classmethod
    def load(cls, path: str | os.PathLike) -> GETModel:
        """Load a checkpoint written by :meth:`save` (weights-only unpickling, on CPU).

        A checkpoint written by another scget major.minor version is loaded with a
        warning.

        Parameters
        ----------
        path
            Checkpoint directory.

        Raises
        ------
        FileNotFoundError
            If ``model.pt`` or ``config.json`` is missing.
        scget.tl.CheckpointError
            If a file is damaged (empty, truncated, not readable as written by
            :meth:`save`) or the two files do not fit each other; the message names the
            file.
        """
        path = Path(path)
        for name in (WEIGHTS_FILE, CONFIG_FILE):
            if not (path / name).is_file():
                raise FileNotFoundError(f"{path / name} not found: not a scget checkpoint.")
        config = read_config(path / CONFIG_FILE)
        network = GETNetwork(config["config"])
        params = config.get("params") or {}
        if params.get("lora"):
            add_lora(network, rank=params["lora"]["rank"], alpha=params["lora"]["alpha"])
        load_weights(network, path / WEIGHTS_FILE)
        network.eval()
        history = pd.DataFrame.from_records(config.get("history", []), columns=HISTORY_COLUMNS)
        return cls(
            network,
            feature_names=config["feature_names"],
            split=config.get("split"),
            history=history,
            params=params,
        )

    @classmethod
    def from_published(
        cls,
        path: str | os.PathLike,
        *,
        feature_names: Sequence[str] | None = None,
        binary: bool = False,
        n_heads: int | None = None,
        strict: bool = True,
    ) -> GETModel:
        """Import a checkpoint of the published GET code (weights-only unpickling).

        Parameters
        ----------
        path
            The published ``.pth``/``.ckpt`` file.
        feature_names
            Input features in the checkpoint's order, ``"accessibility"`` last; default:
            the published 282 motif clusters + accessibility.
        binary
            Whether the checkpoint was trained with binary accessibility.
        n_heads, strict
            See :func:`scget.nn.load_published_checkpoint`.

        Returns
        -------
        The model. Its ``params["objective"]`` records which heads the checkpoint
        holds: ``"joint"`` with both the expression and the accessibility head (the
        published fine-tuning trained them together), ``"expression"`` or
        ``"accessibility"`` with one of them; with the accessibility head, the model
        predicts accessibility (:attr:`predicts_accessibility`).

        Raises
        ------
        ValueError
            If the file cannot be loaded safely or does not fit ``feature_names``.
        """
        network, names, missing = load_published_checkpoint(
            path, feature_names=feature_names, n_heads=n_heads, strict=strict, with_missing=True
        )
        heads = [
            head
            for head, prefix in (
                ("expression", "expression_head."),
                ("accessibility", "accessibility_head."),
            )
            if not any(key.startswith(prefix) for key in missing)
        ]
        objective = "joint" if len(heads) == 2 else (heads[0] if heads else "expression")
        params = {"source": os.fspath(path), "binary": binary, "window_size": WINDOW_SIZE}
        return cls(network, feature_names=names, params={**params, "objective": objective})

    def __repr__(self) -> str:
        c = self.config
        n_params = sum(p.numel() for p in self.network.parameters())
        return (
            f"GETModel({c.n_layers} layers x {c.hidden_dim}, {n_params:,} parameters, "
            f"{len(self.feature_names)} features, {len(self.history)} epochs, "
            f"lora={self.lora is not None})"
        )


def _shorten(names: list[str], limit: int = 10) -> str:
    """``names`` listed, cut after ``limit`` with a count of the rest."""
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def check_model(model) -> GETModel:
    """Return a function's ``model`` argument if it is a GETModel, else raise TypeError."""
    if not isinstance(model, GETModel):
        raise TypeError(
            "model must be a GETModel (the result of scget.tl.finetune, or "
            f"GETModel.load(path) for a saved one), got {type(model).__name__} {model!r:.60}."
        )
    return model


def check_models(model) -> list[GETModel]:
    """A function's ``model`` argument as a list: one model, or an ensemble of several.

    The models of an ensemble must read the same inputs (motif features, window size,
    binary or quantitative accessibility): fine-tuned with the same options and different
    seeds, for example.

    Raises
    ------
    TypeError
        If an element is not a GETModel.
    ValueError
        If the sequence is empty, or its models read different inputs.
    """
    if isinstance(model, GETModel):
        return [model]
    if not isinstance(model, Sequence) or isinstance(model, str):
        check_model(model)  # neither a model nor a sequence of them: raises its TypeError
    models = [check_model(m) for m in model]
    if not models:
        raise ValueError("model is an empty sequence; pass a GETModel or several.")
    first = models[0]
    for number, other in enumerate(models[1:], start=1):
        for what in ("feature_names", "window_size", "binary"):
            if getattr(other, what) != getattr(first, what):
                raise ValueError(
                    f"The models of an ensemble must read the same inputs: model {number} "
                    f"has another {what} than model 0. Fine-tune them with the same "
                    "options (and different seeds)."
                )
    return models
