"""``scget train``: train GET from a saved .h5mu, in one process or under ``torchrun``.

Examples
--------
One process::

    scget train pb.h5mu --out ckpt --preset small --leave-out-chromosomes chr11

Several GPUs (or CPU processes) with DistributedDataParallel::

    torchrun --nproc_per_node 4 -m scget.cli train pb.h5mu --out ckpt --config train.json

Options come from the function defaults, then the JSON ``--config`` (keys are the option
names with underscores, e.g. ``{"max_epochs": 30, "leave_out_groups": ["B"]}``), then
the command line. With ``--pretrain-epochs N`` the model is first pretrained (masked
regions) for at most N epochs and saved to ``OUT/pretrain``; the fine-tuned model is
saved to ``OUT``. Only rank 0 logs and writes.

A long run can write its training state every N epochs and continue after a kill
(a preempted job): run the same command with ``--checkpoint-dir DIR
--checkpoint-every N --resume`` until it completes (the first run finds no state and
starts afresh; the result equals an uninterrupted run's)::

    scget train pb.h5mu --out ckpt --checkpoint-dir ckpt.state --checkpoint-every 5 --resume
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..._shared.constants import FINETUNE_KEY, PRETRAIN_KEY
from ..._shared.logging import logger
from ..._shared.settings import settings
from ...nn import ARCHITECTURES, PRESETS
from ._params import TARGET_EPOCHS, SetupParams, TrainingParams, from_options

#: "Used by" of the options passed to both pretraining and fine-tuning.
BOTH = "both"


def _setup_options() -> dict[str, tuple[Any, str, str]]:
    """The data, split, network and device settings, from their one record.

    The fields of :class:`SetupParams` that give their option's type and help (``cli``).
    """
    return {
        option.name: (*option.metadata["cli"], BOTH)
        for option in fields(SetupParams)
        if option.metadata["cli"] is not None
    }


def _training_options() -> dict[str, tuple[Any, str, str]]:
    """The optimisation settings, from their one record (:class:`TrainingParams`).

    ``max_epochs`` bounds fine-tuning; pretraining has ``--pretrain-epochs``. The type is
    the default's, or the field's ``cli`` type where the default is ``None``.
    """
    options = {}
    for option in fields(TrainingParams):
        epochs = option.name == "max_epochs"
        used_by = FINETUNE_KEY if epochs else BOTH
        default = TARGET_EPOCHS if epochs else option.default
        help_text = f"{option.metadata['doc']} Default: {default}."
        kind = (option.metadata["cli"] or (type(option.default),))[0]
        options[option.name] = (kind, help_text.replace("``", ""), used_by)
    return options


#: Option -> (type, help, used by: BOTH, PRETRAIN_KEY or FINETUNE_KEY). ``list`` options
#: take several values; ``bool`` ones are flags.
OPTIONS: dict[str, tuple[Any, str, str]] = {
    **_setup_options(),
    "binary": (bool, "binary accessibility instead of the score", BOTH),
    "stride": (int, "regions between fine-tuning windows", FINETUNE_KEY),
    "loss": (str, "fine-tuning loss: poisson or mse", FINETUNE_KEY),
    "feature_dropout": (float, "share of motif scores hidden per training step", FINETUNE_KEY),
    "motif_sparsity": (float, "weight of the group lasso on the motif inputs", FINETUNE_KEY),
    "objective": (str, "what fine-tuning trains: expression, accessibility or joint", FINETUNE_KEY),
    "accessibility_weight": (float, "weight of the accessibility loss in joint", FINETUNE_KEY),
    "accessibility_hidden": (
        float,
        "share of regions whose accessibility is hidden and predicted",
        FINETUNE_KEY,
    ),
    "target": (str, "what the model is for: 'new groups' or 'new genes'", FINETUNE_KEY),
    "prior_dropout": (float, "share of regions whose expression prior is hidden", FINETUNE_KEY),
    "prior_weighting": (
        str,
        "how the training groups weigh in a group's prior: matched or mean",
        FINETUNE_KEY,
    ),
    "anchor_prior": (
        bool,
        "fix the prior's direct map at the linear fit of the training groups",
        FINETUNE_KEY,
    ),
    "lora": (
        bool,
        "fine-tune LoRA adapters on the pretrained model (merged at the end)",
        FINETUNE_KEY,
    ),
    "lora_rank": (int, "LoRA rank", FINETUNE_KEY),
    "pretrain_epochs": (int, "pretrain (masked regions) for this many epochs first", PRETRAIN_KEY),
    "mask_ratio": (float, "pretraining mask ratio", PRETRAIN_KEY),
    **_training_options(),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``scget train`` to ``parser``."""
    parser.add_argument("data", help="pseudobulk .h5mu with motif scores and targets")
    parser.add_argument("--out", required=True, help="checkpoint directory to write")
    parser.add_argument("--config", help="JSON file of options (command line wins)")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace the outputs of a non-empty --out"
    )
    for name, (kind, help_text, _) in OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        if kind is bool:
            parser.add_argument(flag, action="store_true", default=None, help=help_text)
        elif kind is list:
            parser.add_argument(flag, nargs="+", default=None, metavar="NAME", help=help_text)
        else:
            parser.add_argument(flag, type=kind, default=None, help=help_text)


def resolve_options(args: argparse.Namespace) -> dict[str, Any]:
    """Options from ``--config`` overridden by those given on the command line."""
    options: dict[str, Any] = {}
    if args.config:
        try:
            options = json.loads(Path(args.config).read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{args.config} is not valid JSON: {error}.") from error
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise ValueError(
                f"Unknown keys {unknown} in {args.config}; valid keys: {sorted(OPTIONS)}."
            )
    given = {name: getattr(args, name) for name in OPTIONS if getattr(args, name) is not None}
    return {**options, **given}


def check_options(pb, options: dict[str, Any]) -> None:
    """Check every option against its valid values and the data, before any training.

    Parameters
    ----------
    pb
        The pseudobulk :class:`~mudata.MuData` to train on.
    options
        The resolved options (:func:`resolve_options`).

    Raises
    ------
    ValueError
        For an unknown loss, architecture or preset, an invalid training setting, mask
        ratio or device, or a split naming unknown chromosomes or groups (or leaving
        nothing to train on).
    FileExistsError
        If ``--checkpoint-dir`` holds a training state and ``--resume`` is not given.
    KeyError
        If the ATAC modality is missing.
    """
    # `scget --help` imports this module: pandas, scipy and torch load when the command runs.
    from ..._shared.genomic import peak_coordinates
    from ..._shared.utils import modality, resolve_device
    from .._core._split import make_split
    from ._losses import FinetuneObjective, MaskedObjective
    from ._resume import check_resumable, state_path

    records = (SetupParams, TrainingParams)
    known = {option.name for record in records for option in fields(record)}
    given = {name: value for name, value in options.items() if name in known}
    setup, training = from_options("scget train", given, *records)
    if training.checkpoint_dir is not None:
        stages = [FINETUNE_KEY] + ([PRETRAIN_KEY] if options.get("pretrain_epochs") else [])
        for stage in stages:
            check_resumable(state_path(training.checkpoint_dir, stage), training.resume)
    FinetuneObjective(
        options.get("loss", "poisson"),
        options.get("feature_dropout", 0.0),
        objective=options.get("objective", "expression"),
        accessibility_weight=options.get("accessibility_weight", 1.0),
        accessibility_hidden=options.get("accessibility_hidden", 1.0),
        motif_sparsity=options.get("motif_sparsity", 0.0),
    )
    if options.get("mask_ratio") is not None:
        MaskedObjective(options["mask_ratio"])
    for name, value, valid in (
        ("architecture", setup.architecture, ARCHITECTURES),
        ("preset", setup.preset, PRESETS),
    ):
        if value not in valid:
            raise ValueError(f"Unknown {name} {value!r}; choose one of {sorted(valid)}.")
    for name, least in (("pretrain_epochs", 0), ("stride", 1), ("lora_rank", 1)):
        if options.get(name, least) < least:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{flag} must be at least {least}, got {options[name]}.")
    resolve_device(setup.device)
    atac = modality(pb, setup.atac)
    make_split(
        peak_coordinates(atac)["chrom"].value_counts(),
        atac.obs_names,
        leave_out_chromosomes=setup.leave_out_chromosomes,
        leave_out_groups=setup.leave_out_groups,
        valid_chromosomes=setup.valid_chromosomes,
        valid_groups=setup.valid_groups,
    )


def _init_distributed() -> bool:
    """Join the process group when launched by ``torchrun``; return whether distributed."""
    import torch
    import torch.distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return False
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend)
    return True


def run(args: argparse.Namespace) -> int:
    """Train from ``args`` and write the checkpoint(s); returns the exit status."""
    import mudata

    # `scget --help` imports this module: pandas, scipy and torch load when the command runs.
    from ..._shared.utils import (
        atomic_directory,
        check_output_folder,
        is_main_process,
        mudata_update_quietly,
    )
    from ._train import finetune, pretrain

    options = resolve_options(args)
    out = check_output_folder(args.out, args.overwrite)
    if not Path(args.data).is_file():
        raise FileNotFoundError(
            f"{args.data} does not exist; pass the pseudobulk .h5mu (pb.write_h5mu(...))."
        )
    with mudata_update_quietly():
        pb = mudata.read_h5mu(args.data)
    check_options(pb, options)
    distributed = _init_distributed()
    if not is_main_process():
        settings.verbosity = min(settings.verbosity, 1)
    try:
        pretrain_epochs = options.pop("pretrain_epochs", 0) or 0
        mask_ratio = options.pop("mask_ratio", None)
        shared = {k: v for k, v in options.items() if OPTIONS[k][2] == BOTH}
        finetune_only = {k: v for k, v in options.items() if OPTIONS[k][2] == FINETUNE_KEY}
        pretrained = None
        if pretrain_epochs > 0:
            extra = {} if mask_ratio is None else {"mask_ratio": mask_ratio}
            pretrained = pretrain(pb, max_epochs=pretrain_epochs, **shared, **extra)
        if finetune_only.get("lora"):
            finetune_only["merge"] = True
        model = finetune(pb, model=pretrained, **shared, **finetune_only)
        if is_main_process():
            with atomic_directory(out, outputs=[PRETRAIN_KEY]) as staging:
                model.save(staging, overwrite=True)
                if pretrained is not None:
                    pretrained.save(staging / PRETRAIN_KEY)
            logger.info(f"Wrote the checkpoint to {out}.")
    finally:
        if distributed:
            import torch.distributed as dist

            dist.barrier()
            dist.destroy_process_group()
    return 0
