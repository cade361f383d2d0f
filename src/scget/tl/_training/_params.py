"""The one record of the optimisation settings and their defaults (no torch).

:func:`scget.tl.pretrain` and :func:`scget.tl.finetune` take these settings as keyword
options, ``scget train`` builds its options and help from them, and the docstrings list
them from :meth:`TrainingParams.describe`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

from ..._docs import fill_docs

_F = TypeVar("_F", bound=Callable)


def _option(default: Any, doc: str) -> Any:
    """A dataclass field with its default and its one-paragraph description."""
    return field(default=default, metadata={"doc": doc})


@dataclass
class TrainingParams:
    """Optimisation settings shared by pretraining and fine-tuning.

    Attributes
    ----------
    {training_options}
    """

    max_epochs: int = _option(50, "Maximum number of epochs.")
    batch_size: int = _option(
        16, "Windows per global batch (split between processes under torchrun)."
    )
    lr: float = _option(1e-3, "Peak learning rate (AdamW; linear warm-up, then cosine decay).")
    weight_decay: float = _option(
        0.05, "AdamW weight decay of the weight matrices (biases and norms are not decayed)."
    )
    warmup_fraction: float = _option(0.05, "Share of the steps used for warm-up.")
    min_lr_ratio: float = _option(0.01, "Final learning rate as a fraction of ``lr``.")
    patience: int | None = _option(
        10,
        "Epochs without a lower validation loss before stopping (the best weights are "
        "restored); ``None`` trains ``max_epochs``.",
    )
    grad_clip: float | None = _option(1.0, "Maximum gradient norm (``None``: no clipping).")
    seed: int = _option(
        0, "Seed of the initial weights (where created), shuffling, dropout and masks."
    )
    num_workers: int = _option(0, "DataLoader worker processes.")

    def __post_init__(self) -> None:
        if self.max_epochs < 1 or self.batch_size < 1:
            raise ValueError("max_epochs and batch_size must be positive integers.")
        if self.lr <= 0 or self.weight_decay < 0:
            raise ValueError("lr must be positive and weight_decay non-negative.")
        if not 0 <= self.warmup_fraction < 1:
            raise ValueError(f"warmup_fraction must be in [0, 1), got {self.warmup_fraction}.")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"patience must be a positive integer or None, got {self.patience}.")

    @classmethod
    def from_options(cls, caller: str, options: dict[str, Any]) -> TrainingParams:
        """Build the settings from a function's keyword options.

        Parameters
        ----------
        caller
            Name of the function, for the error message.
        options
            Keyword options, each a field of this record.

        Returns
        -------
        The settings, defaults filled in.

        Raises
        ------
        TypeError
            If an option is not a field of this record.
        """
        unknown = sorted(set(options) - {f.name for f in fields(cls)})
        if unknown:
            raise TypeError(f"{caller}() got unexpected keyword argument(s) {unknown}.")
        return cls(**options)

    @classmethod
    def describe(cls) -> str:
        """Numpydoc parameter entries of the settings, with their defaults (zero indent)."""
        return "\n".join(
            f"{f.name}\n    {f.metadata['doc']} Default: ``{f.default!r}``." for f in fields(cls)
        )

    def to_dict(self) -> dict:
        """Return the settings as a JSON-ready dict."""
        return asdict(self)


TrainingParams.__doc__ = fill_docs(
    TrainingParams.__doc__, training_options=TrainingParams.describe()
)


def training_options(func: _F) -> _F:
    """Give ``func`` (which takes ``**training``) the settings as keyword-only parameters.

    The signature shown by :func:`inspect.signature`, :func:`help` and the docs lists
    every field of :class:`TrainingParams` with its default in place of ``**training``,
    and ``{training_options}`` in the docstring is filled with their descriptions.

    Parameters
    ----------
    func
        A function whose last parameter is ``**training``.

    Returns
    -------
    ``func`` itself, its ``__signature__`` and ``__doc__`` set.
    """
    signature = inspect.signature(func)
    kept = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    added = [
        inspect.Parameter(
            f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type
        )
        for f in fields(TrainingParams)
    ]
    func.__signature__ = signature.replace(parameters=kept + added)
    func.__doc__ = fill_docs(func.__doc__, training_options=TrainingParams.describe())
    return func
