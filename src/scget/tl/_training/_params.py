"""The one record of the training options and their defaults (no torch).

:func:`scget.tl.pretrain` and :func:`scget.tl.finetune` take the fields of
:class:`SetupParams` (data, split, network and device) and :class:`TrainingParams`
(optimisation) as keyword parameters, written out in their signatures (a test keeps
names, types and defaults equal to the fields') and described in their docstrings by
:meth:`_Options.fragments`; they build the records with :func:`split_options`.
``scget train`` builds its options and help from the records.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from ..._shared.constants import (
    ATAC,
    DEFAULT_ARCHITECTURE,
    DEFAULT_PRESET,
    MAX_WINDOW_SPAN,
    MOTIF_KEY,
    TARGETS,
    WINDOW_SIZE,
)
from ..._shared.docs import fill_docs

#: The default of fine-tuning's ``max_epochs`` (``None``), as its docs give it.
TARGET_EPOCHS = (
    f"the ``target``'s ({TARGETS['new groups']['max_epochs']} for new groups, "
    f"{TARGETS['new genes']['max_epochs']} for new genes)"
)


def _option(
    default: Any,
    doc: str | None = None,
    *,
    group: str | None = None,
    cli: tuple[type, str] | None = None,
) -> Any:
    """A dataclass field with its default and its description.

    Parameters
    ----------
    default
        The default.
    doc
        Numpydoc description (indentation removed); ``None`` when the shared docstring
        fragment of the field's name (:data:`scget._shared.docs.FRAGMENTS`) describes it.
    group
        Docstring placeholder that lists the field with the others of its group; ``None``
        uses the record's :attr:`~_Options.PLACEHOLDER`.
    cli
        Type and help of the field's ``scget train`` option, where the record does not
        derive them.
    """
    metadata = {"doc": None if doc is None else inspect.cleandoc(doc), "group": group, "cli": cli}
    return field(default=default, metadata=metadata)


class _Options:
    """What every options record (a dataclass of :func:`_option` fields) can do."""

    #: Docstring placeholder of the fields without a ``group`` of their own.
    PLACEHOLDER: ClassVar[str | None] = None
    #: Whether the docstring entries end with the default.
    SHOW_DEFAULTS: ClassVar[bool] = False

    @classmethod
    def fragments(cls, defaults: Mapping[str, str] | None = None) -> dict[str, str]:
        """Numpydoc parameter entries of the documented fields (zero indent), by placeholder.

        ``defaults``: field -> the default a function states in place of the field's
        (with :attr:`SHOW_DEFAULTS`).
        """
        defaults = defaults or {}
        groups: dict[str, list[str]] = {}
        for f in fields(cls):
            doc = f.metadata["doc"]
            if doc is None:
                continue
            if cls.SHOW_DEFAULTS:
                doc += f" Default: {defaults.get(f.name, f'``{f.default!r}``')}."
            entry = f.name + "\n" + "\n".join("    " + line for line in doc.splitlines())
            groups.setdefault(f.metadata["group"] or cls.PLACEHOLDER, []).append(entry)
        return {name: "\n".join(entries) for name, entries in groups.items()}

    def to_dict(self) -> dict:
        """Return the settings as a JSON-ready dict."""
        return asdict(self)


@dataclass
class SetupParams(_Options):
    """Data, split, network and device settings shared by pretraining and fine-tuning.

    Attributes
    ----------
    {split_args}
    {network_args}
    {window_args}
    {device}
    {atac}
    {motif_key}
    """

    leave_out_chromosomes: Sequence[str] | None = _option(
        None,
        "Test chromosomes: never trained on, never used for early stopping.",
        group="split_args",
        cli=(list, "test chromosomes (never trained on)"),
    )
    leave_out_groups: str | Sequence[str] | None = _option(
        None,
        "Test groups (pseudobulks): never trained on.",
        group="split_args",
        cli=(list, "test groups (never trained on)"),
    )
    valid_chromosomes: Sequence[str] | None = _option(
        None,
        """
        Chromosomes for early stopping; by default the remaining chromosome whose
        share of the regions is closest to 12.5 % (logged).
        """,
        group="split_args",
        cli=(list, "early-stopping chromosomes (default: picked, logged)"),
    )
    architecture: str = _option(
        DEFAULT_ARCHITECTURE,
        """
        A key of :data:`scget.nn.ARCHITECTURES`: ``"published"`` is GET as published;
        ``"tss"`` adds strand-specific TSS indicators of the regions to the input,
        ``"distance"`` a learned attention bias of the genomic distance between
        regions, ``"tss+distance"`` both, ``"tss+distance+prior"`` also the expression
        prior (each gene's mean expression over the training groups at its TSS regions,
        each region's mean training accessibility, and the part of its change that its
        motifs predict from the group's whole genome; see ``prior_dropout``).
        Extensions that a pretrained ``model`` lacks are added at zero (its predictions
        are unchanged until trained). The TSS indicators fix the calibration of gene
        predictions; the distance bias helps held-out groups and lets gradients tell near
        regions from far ones, at twice the time on a CPU; the prior helps held-out
        groups most. Hence the default ``"tss+distance+prior"`` (figures:
        :ref:`model-defaults`).
        """,
        group="network_args",
        cli=(str, "published, tss, distance or tss+distance"),
    )
    preset: str = _option(
        DEFAULT_PRESET,
        """
        Network size, a key of :data:`scget.nn.PRESETS` (``"tiny"``, ``"small"``,
        ``"base"`` = the published 85 M-parameter GET). The default ``"tiny"`` trains in
        minutes on a laptop CPU; on a GPU, ``"small"`` or ``"base"``.
        """,
        group="network_args",
        cli=(str, "network size: tiny, small or base"),
    )
    dropout: float | None = _option(
        None,
        "Overrides the preset's dropout (``None`` keeps it).",
        group="network_args",
        cli=(float, "dropout (overrides the preset's)"),
    )
    network_kwargs: Mapping[str, Any] | None = _option(
        None,
        'Further :class:`scget.nn.GETConfig` overrides, e.g. ``{"n_layers": 2}``.',
        group="network_args",
    )
    window_size: int = _option(
        WINDOW_SIZE,
        """
        Regions per window (200 in GET). Chromosomes with fewer accessible regions
        give one padded window.
        """,
        group="window_args",
        cli=(int, "regions per window"),
    )
    max_span: int = _option(
        MAX_WINDOW_SPAN,
        "Training windows spanning more base pairs are dropped.",
        group="window_args",
    )
    device: str | None = _option("auto", cli=(str, "auto, cpu, cuda, mps"))
    atac: str = _option(ATAC)
    motif_key: str = _option(MOTIF_KEY)
    valid_groups: str | Sequence[str] | None = _option(
        None,
        """
        Training groups held out for early stopping (on every training chromosome), in
        place of a validation chromosome; :func:`scget.tl.finetune` picks one for
        ``target="new groups"`` (logged).
        """,
        group="split_args",
        cli=(list, "early-stopping groups (in place of a validation chromosome)"),
    )


@dataclass
class TrainingParams(_Options):
    """Optimisation settings shared by pretraining and fine-tuning.

    Attributes
    ----------
    {training_options}
    """

    PLACEHOLDER: ClassVar[str | None] = "training_options"
    SHOW_DEFAULTS: ClassVar[bool] = True

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
    checkpoint_dir: str | None = _option(
        None,
        """
        Folder for the training state (``pretrain_state.pt`` or ``finetune_state.pt``):
        weights, optimiser, schedule, random states, early stopping and history, written
        atomically every ``checkpoint_every`` epochs and after the last, so that a killed
        run can be resumed (``resume``). ``None`` writes none.
        """,
        cli=(str, "folder of the training state, for --resume"),
    )
    checkpoint_every: int = _option(
        1,
        "Epochs between two writes of the training state (with ``checkpoint_dir``).",
    )
    resume: bool = _option(
        False,
        """
        Continue from the training state in ``checkpoint_dir`` if there is one (else
        train from the start): the result equals that of the uninterrupted run. The
        data, the settings (but ``checkpoint_every`` and ``num_workers``), the initial
        weights and the number of processes must be those of the interrupted run. A
        finished state returns its model without training. Without ``resume``, an
        existing state is an error (it is never overwritten).
        """,
    )

    def __post_init__(self) -> None:
        if self.max_epochs < 1 or self.batch_size < 1:
            raise ValueError("max_epochs and batch_size must be positive integers.")
        if self.lr <= 0 or self.weight_decay < 0:
            raise ValueError("lr must be positive and weight_decay non-negative.")
        if not 0 <= self.warmup_fraction < 1:
            raise ValueError(f"warmup_fraction must be in [0, 1), got {self.warmup_fraction}.")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"patience must be a positive integer or None, got {self.patience}.")
        if self.checkpoint_dir is not None:
            self.checkpoint_dir = os.fspath(self.checkpoint_dir)
        if self.checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be at least 1, got {self.checkpoint_every}.")
        if self.resume and self.checkpoint_dir is None:
            raise ValueError("resume=True reads the state in checkpoint_dir: pass checkpoint_dir.")


for _record in (SetupParams, TrainingParams):
    _record.__doc__ = fill_docs(_record.__doc__, **_record.fragments())


def from_options(caller: str, options: Mapping[str, Any], *records: type[_Options]) -> tuple:
    """Build each record from the keyword options that are its fields.

    Parameters
    ----------
    caller
        Name of the function, for the error message.
    options
        Keyword options, each a field of one of ``records``.
    *records
        Options records (dataclasses).

    Returns
    -------
    One instance per record, in order, defaults filled in.

    Raises
    ------
    TypeError
        If an option is a field of none of ``records``.
    """
    known = {f.name for record in records for f in fields(record)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"{caller}() got unexpected keyword argument(s) {unknown}.")
    return split_options(options, *records)


def split_options(values: Mapping[str, Any], *records: type[_Options]) -> tuple:
    """Build each record from the entries of ``values`` that are its fields.

    Parameters
    ----------
    values
        Settings by name, e.g. a function's arguments (``locals()``); entries that are no
        record's field are ignored.
    *records
        Options records (dataclasses).

    Returns
    -------
    One instance per record, in order, defaults filled in for the fields not in ``values``.
    """
    return tuple(
        record(**{f.name: values[f.name] for f in fields(record) if f.name in values})
        for record in records
    )
