"""Sizes and regularisation of the GET network, with named presets."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Preset name -> :class:`GETConfig` keyword arguments (everything but ``n_features``).
#: ``"base"`` is the published GET (768 wide, 12 layers, 12 heads, FFN 3072, dropout and
#: drop-path 0.1; 85.5 M parameters with 283 features). ``"small"`` and ``"tiny"``
#: train in minutes on a laptop CPU.
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {
        "hidden_dim": 64,
        "n_layers": 2,
        "n_heads": 4,
        "ffn_dim": 256,
        "dropout": 0.1,
        "attention_dropout": 0.0,
        "drop_path": 0.0,
    },
    "small": {
        "hidden_dim": 256,
        "n_layers": 4,
        "n_heads": 8,
        "ffn_dim": 1024,
        "dropout": 0.1,
        "attention_dropout": 0.1,
        "drop_path": 0.05,
    },
    "base": {
        "hidden_dim": 768,
        "n_layers": 12,
        "n_heads": 12,
        "ffn_dim": 3072,
        "dropout": 0.1,
        "attention_dropout": 0.1,
        "drop_path": 0.1,
    },
}


#: The extensions of GET a network may have (boolean :class:`GETConfig` fields).
EXTENSIONS = ("tss_input", "distance_bias", "expression_prior")


@dataclass
class GETConfig:
    """Sizes of a :class:`~scget.nn.GETNetwork`.

    Parameters
    ----------
    n_features
        Input features per region (motif clusters + accessibility; 283 in GET).
    hidden_dim
        Width of the region embedding and of the encoder.
    n_layers
        Number of transformer blocks.
    n_heads
        Attention heads; must divide ``hidden_dim``.
    ffn_dim
        Inner width of each block's feed-forward network.
    dropout
        Dropout after the attention projection and inside the feed-forward network.
    attention_dropout
        Dropout on the attention weights (training only).
    drop_path
        Stochastic-depth rate of the last block; it rises linearly from 0 over the blocks.
    n_outputs
        Outputs of the expression head (2: plus and minus strand).
    tss_input
        Add a learned embedding of strand-specific TSS indicators (does the region hold
        an annotated TSS on the + / - strand) to the region embedding, so that the model
        knows which regions are promoters. Not in the published GET.
    distance_bias
        Add to every attention logit a learned per-layer, per-head bias of the signed
        log genomic distance between the two regions' midpoints, so that the model can
        weigh regions by their distance. The published GET has no positional
        information.
    expression_prior
        Add a learned embedding of each region's expression prior to the region
        embedding, and a learned linear map of it and of the region's accessibility to
        the expression head's input (before the Softplus). The prior is
        :data:`PRIOR_CHANNELS` values per region: the expression over the training
        groups (their mean, or a mixture of them: the data side chooses) of the genes
        whose TSS the region holds (+ and - strand; 0 elsewhere),
        a flag that the prior is present (0 for genes without one: new chromosomes, new
        genes), the region's accessibility over the same training groups, so that the
        network sees how the accessibility of the group it predicts differs from it, and
        the part of that difference the region's motifs predict from the whole genome
        (which TFs open chromatin in the group). Not in the published GET.
    expression_beta
        Sharpness of the expression output, ``log(1 + exp(beta * x)) / beta`` (Softplus):
        1 as published. Fine-tuning with an anchored prior
        (``scget.tl.finetune(anchor_prior=...)``) sets 10: the anchor is a linear model
        of log expression, which a Softplus of sharpness 1 would bend by
        ``log(1 + exp(-x))``, 0.41 at an output of 1.1 (a lowly expressed gene), a bias
        that differs from gene to gene; at 10 the output is within 1e-4 of ``x`` above
        0.7.
    no_prior_offset
        Added to the expression output of every window in which no region has an
        expression prior (``prior_present`` 0 everywhere: a new chromosome, or the prior
        hidden), clipped at 0. ``scget.tl.finetune`` measures it on the validation
        chromosomes' genes, which have no prior, once training ends: the path without a
        prior is otherwise trained only on windows where some regions' priors are hidden,
        and can sit below the observed expression when none has one. 0 unless
        ``expression_prior``.
    """

    n_features: int
    hidden_dim: int = 768
    n_layers: int = 12
    n_heads: int = 12
    ffn_dim: int = 3072
    dropout: float = 0.1
    attention_dropout: float = 0.1
    drop_path: float = 0.1
    n_outputs: int = 2
    tss_input: bool = False
    distance_bias: bool = False
    expression_prior: bool = False
    expression_beta: float = 1.0
    no_prior_offset: float = 0.0

    def __post_init__(self) -> None:
        for name in ("n_features", "hidden_dim", "n_layers", "n_heads", "ffn_dim", "n_outputs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"GETConfig.{name} must be a positive integer, got {value!r}.")
        if self.hidden_dim % self.n_heads:
            raise ValueError(
                f"hidden_dim={self.hidden_dim} is not divisible by n_heads={self.n_heads}; "
                "pick a number of heads that divides the width."
            )
        for name in EXTENSIONS:
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"GETConfig.{name} must be True or False.")
        for name in ("dropout", "attention_dropout", "drop_path"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"GETConfig.{name} must lie in [0, 1), got {value!r}.")
        if self.no_prior_offset and not self.expression_prior:
            raise ValueError(
                "GETConfig.no_prior_offset calibrates the path without an expression prior: "
                "it needs expression_prior=True (or leave it 0)."
            )
        if isinstance(self.expression_beta, bool) or not self.expression_beta > 0:
            raise ValueError(
                "GETConfig.expression_beta must be a positive number, "
                f"got {self.expression_beta!r}."
            )

    @classmethod
    def from_preset(cls, name: str, n_features: int, **overrides: Any) -> GETConfig:
        """Build the configuration of a named preset (see :data:`PRESETS`).

        Parameters
        ----------
        name
            ``"tiny"``, ``"small"`` or ``"base"``.
        n_features
            Input features per region.
        **overrides
            Fields replacing the preset's values, e.g. ``dropout=0.0``.

        Raises
        ------
        ValueError
            If ``name`` is not a preset or an override is not a field.
        """
        if name not in PRESETS:
            raise ValueError(f"Unknown preset {name!r}; choose one of {sorted(PRESETS)}.")
        return cls.from_dict({**PRESETS[name], "n_features": n_features, **overrides})

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-serialisable dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> GETConfig:
        """Build a configuration from :meth:`to_dict` output.

        Raises
        ------
        ValueError
            If ``values`` holds keys that are not fields.
        """
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - fields)
        if unknown:
            raise ValueError(f"Unknown GETConfig fields {unknown}; valid fields: {sorted(fields)}.")
        return cls(**values)


#: Channels of the expression prior of a region (:attr:`GETConfig.expression_prior`):
#: mean training expression on the + and - strand, presence flag, mean accessibility, and
#: the change of accessibility from that mean that the region's motifs predict in the
#: group (a genome-wide fit of the group's accessibility changes on the motif scores).
PRIOR_CHANNELS = (
    "prior_plus",
    "prior_minus",
    "prior_present",
    "mean_accessibility",
    "motif_accessibility_change",
)
#: The leading channels of :data:`PRIOR_CHANNELS` that come from the training groups'
#: expression: all 0 for a gene without a prior. The others come from accessibility,
#: which every region has.
PRIOR_EXPRESSION_CHANNELS = PRIOR_CHANNELS[:3]
#: Position of the channel that flags a region's prior as present.
PRIOR_PRESENT = PRIOR_CHANNELS.index("prior_present")

#: Named architectures: which of scget's extensions (see :class:`GETConfig`) a network
#: has. ``"published"`` is GET as published (no positional information, no TSS input,
#: no expression prior).
ARCHITECTURES: dict[str, dict[str, bool]] = {
    "published": {"tss_input": False, "distance_bias": False, "expression_prior": False},
    "tss": {"tss_input": True, "distance_bias": False, "expression_prior": False},
    "distance": {"tss_input": False, "distance_bias": True, "expression_prior": False},
    "tss+distance": {"tss_input": True, "distance_bias": True, "expression_prior": False},
    "tss+distance+prior": {"tss_input": True, "distance_bias": True, "expression_prior": True},
}
