"""Reading the two files of a checkpoint directory, with clear errors for damaged ones."""

from __future__ import annotations

import json
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..._shared.constants import CONFIG_FILE
from ..._shared.logging import logger
from ..._version import __version__
from ...nn import GETConfig

#: Keys every ``config.json`` written by :meth:`GETModel.save` holds.
REQUIRED_KEYS = ("scget_version", "config", "feature_names")
_RESAVE = "re-save the model with GETModel.save, or restore the checkpoint from a copy"


class CheckpointError(ValueError):
    """A checkpoint file is damaged, or its files do not fit each other."""


def read_config(path: Path) -> dict[str, Any]:
    """Read ``config.json``; its ``"config"`` entry becomes a :class:`scget.nn.GETConfig`.

    Warns when the checkpoint was written by another scget major.minor version.

    Raises
    ------
    CheckpointError
        If the file is not JSON, lacks the keys :meth:`GETModel.save` writes or holds an
        invalid network configuration.
    """
    try:
        config = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(
            f"{path} is not valid JSON ({error}); it was probably truncated by an interrupted "
            f"save or edited by hand: {_RESAVE}."
        ) from error
    missing = [key for key in REQUIRED_KEYS if not isinstance(config, Mapping) or key not in config]
    if missing:
        raise CheckpointError(
            f"{path} is not a scget checkpoint configuration (it lacks {missing}); pass the "
            "directory written by GETModel.save (use GETModel.from_published for checkpoints "
            "of the published GET code)."
        )
    saved, current = str(config["scget_version"]), __version__
    if _major_minor(saved) != _major_minor(current):
        logger.warning(
            f"{path.parent} was saved by scget {saved}, this is scget {current}; if it fails to "
            "load or predicts differently, re-train it or load it with the version that saved it."
        )
    try:
        config["config"] = GETConfig.from_dict(config["config"])
    except (TypeError, ValueError) as error:
        raise CheckpointError(
            f"The network configuration in {path} is invalid ({error}); it was edited or "
            f"written by another scget version: {_RESAVE}."
        ) from error
    return config


def load_weights(network, path: Path) -> None:
    """Load the state dict in ``path`` (weights-only unpickling) into ``network``.

    Raises
    ------
    CheckpointError
        If the file is empty, cannot be read as a state dict of tensors, or its tensors
        do not fit ``network`` (the architecture in ``config.json``).
    """
    import torch

    if path.stat().st_size == 0:
        raise CheckpointError(
            f"{path} is empty (0 bytes); the save that wrote it was interrupted: {_RESAVE}."
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (EOFError, RuntimeError, ValueError, pickle.UnpicklingError) as error:
        raise CheckpointError(
            f"{path} cannot be read as network weights: the file is damaged (e.g. truncated) or "
            f"was not written by GETModel.save: {_RESAVE}."
        ) from error
    if not isinstance(state, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        raise CheckpointError(
            f"{path} holds no state dict of tensors: it was not written by GETModel.save: "
            f"{_RESAVE}."
        )
    expected = network.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    reshaped = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or unexpected or reshaped:
        problems = [
            f"{len(names)} {what} (e.g. {names[0]!r})"
            for names, what in (
                (missing, "missing"),
                (unexpected, "unknown"),
                (reshaped, "of another shape"),
            )
            if names
        ]
        raise CheckpointError(
            f"The weights in {path} do not fit the network described in "
            f"{path.with_name(CONFIG_FILE)}: tensors " + ", ".join(problems) + ". The two "
            f"files come from different saves, or the configuration was edited: {_RESAVE}."
        )
    network.load_state_dict(state)


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])
