"""Constants of the GET method and of the MuData contract, named once.

Method constants follow ``get-method.md`` (Fu et al., Nature 2025 and its code).
"""

from __future__ import annotations

# --- the method -------------------------------------------------------------------
#: Regions per model input window.
WINDOW_SIZE = 200
#: Stride of fine-tuning windows (pretraining windows do not overlap).
FINETUNE_STRIDE = 100
#: Windows spanning more genomic distance than this are dropped.
MAX_WINDOW_SPAN = 5_000_000
#: Accessibility score: log10(count / total * ATAC_SCALE + 1), divided by its max.
ATAC_SCALE = 1e5
#: Expression: log10(count / total * TPM_SCALE + 1).
TPM_SCALE = 1e6
#: Extension (bp) on each side of a TSS when matching TSSs to peaks.
TSS_EXTEND = 300
#: Promoters with accessibility score below this get a zero expression target.
MIN_ACCESSIBILITY = 0.05
#: Motif p-value threshold used by MOODS.
MOTIF_PVALUE = 1e-4
#: Fraction of regions masked in pretraining.
MASK_RATIO = 0.5

# --- scget's training defaults, chosen by measurement (docs/model.md) ------------------
#: Network extensions of :data:`scget.nn.ARCHITECTURES`: TSS indicators in the input,
#: the attention bias of genomic distance and the expression prior.
DEFAULT_ARCHITECTURE = "tss+distance+prior"
#: Network size: trains in minutes on a laptop CPU; take "small" or "base" on a GPU.
DEFAULT_PRESET = "tiny"
#: Share of motif scores hidden at each fine-tuning step.
FEATURE_DROPOUT = 0.5
#: Weight of the group lasso on the motif inputs' embedding columns in fine-tuning.
MOTIF_SPARSITY = 3e-4
#: Both regularisers were chosen for expression; ``objective="accessibility"`` trains
#: without them (the published method), which predicted accessibility better.
ACCESSIBILITY_FEATURE_DROPOUT = 0.0
ACCESSIBILITY_MOTIF_SPARSITY = 0.0
#: What a fine-tuned model is for (``finetune(target=...)``) -> its training defaults:
#: validation on a held-out training group and the prior's direct map anchored at the
#: linear fit of the training groups for new groups; validation on a held-out chromosome
#: for new genes. The epochs fit both models of ``scget demo`` into 10 minutes on 2 CPU
#: cores (docs/model.md).
TARGETS = {
    "new groups": {
        "feature_dropout": FEATURE_DROPOUT,
        "motif_sparsity": MOTIF_SPARSITY,
        "prior_dropout": 0.2,
        "anchor_prior": True,
        "prior_weighting": "matched",
        "max_epochs": 15,
    },
    "new genes": {
        "feature_dropout": FEATURE_DROPOUT,
        "motif_sparsity": MOTIF_SPARSITY,
        "prior_dropout": 0.5,
        "anchor_prior": False,
        "prior_weighting": "mean",
        "max_epochs": 20,
    },
}
#: What fine-tuning trains by default (``"expression"``, ``"accessibility"``, ``"joint"``).
FINETUNE_OBJECTIVE = "expression"
#: Weight of the mean accessibility loss beside the mean expression loss in ``"joint"``.
ACCESSIBILITY_WEIGHT = 1.0
#: Share of each window's regions whose accessibility is hidden and predicted in training.
ACCESSIBILITY_HIDDEN = 1.0

#: ABC power law of contact with distance used by the paper (ABC-Enhancer-Gene-Prediction's
#: ``get_powerlaw_at_distance``): contact = exp(scale - gamma * ln(distance + 1)), with
#: distances below POWERLAW_MIN_DISTANCE (bp) raised to it.
POWERLAW_GAMMA = 1.024238616787792
POWERLAW_SCALE = 5.9594510043736655
POWERLAW_MIN_DISTANCE = 5_000

# --- the MuData contract -------------------------------------------------------------
RNA = "rna"
ATAC = "atac"
#: Key of ``.uns`` under which every scget result and its parameters are stored.
UNS_KEY = "scget"
#: ``["atac"].varm`` key of the motif-cluster score DataFrame (peaks x clusters).
MOTIF_KEY = "motif_scores"
#: Raw summed counts of a pseudobulk, in both modalities.
COUNTS_LAYER = "counts"
#: Expression targets per pseudobulk and peak, by strand.
TARGET_LAYERS = ("target_plus", "target_minus")
#: GET predictions per pseudobulk and peak, by strand.
PREDICTION_LAYERS = ("get_plus", "get_minus")
#: Predicted accessibility score per pseudobulk and peak (the accessibility head).
ACCESSIBILITY_PREDICTION_LAYER = "get_accessibility"
#: Gene-level predictions in ``["rna"].layers``.
GENE_PREDICTION_LAYER = "get_pred"
#: ``["atac"].var`` columns of genes with a TSS in the peak, ';'-joined, by strand.
TSS_GENE_COLUMNS = ("tss_genes_plus", "tss_genes_minus")
#: ``["rna"].var`` column of the peaks holding a gene's TSSs, ';'-joined.
GENE_PEAKS_COLUMN = "tss_peaks"
#: Separator of list-valued string columns (h5ad cannot store lists).
LIST_SEP = ";"
#: Name of the accessibility feature (the last model input column).
ACCESSIBILITY_FEATURE = "accessibility"
#: ``var`` columns of parsed peak coordinates (0-based, half-open).
PEAK_COLUMNS = ("chrom", "start", "end")
#: Columns of a training history (``.uns["scget"][key]["result"]`` of pretrain/finetune).
HISTORY_COLUMNS = ("epoch", "train_loss", "valid_loss", "lr")

# --- keys of ``.uns["scget"]``: the default ``key_added`` of each writer ---------------
PSEUDOBULK_KEY = "pseudobulk"
RECOUNT_KEY = "recount_peaks"
MOTIFS_KEY = "motifs"
TSS_KEY = "tss"
PRETRAIN_KEY = "pretrain"
FINETUNE_KEY = "finetune"
PREDICT_KEY = "predict"
EVALUATION_KEY = "evaluation"
#: ``pb.uns["scget"]`` key of the evaluation of predicted accessibility.
ACCESSIBILITY_EVALUATION_KEY = "evaluation_accessibility"
GENE_BY_MOTIF_KEY = "gene_by_motif"
REGION_IMPORTANCE_KEY = "region_importance"
REGULATORY_EMBEDDING_KEY = "regulatory_embedding"
MOTIF_NETWORK_KEY = "motif_network"
REGULATOR_CATALOGUE_KEY = "regulator_catalogue"
REGULATOR_TARGETS_KEY = "regulator_targets"
ENRICHMENT_KEY = "enrichment"
DIFFERENTIAL_KEY = "differential_regulation"
#: ``group`` of a network fitted to the (group, gene) rows of all groups together.
AGNOSTIC_GROUP = "all"
ENHANCER_GENE_KEY = "enhancer_gene"
KNOCKOUT_MOTIFS_KEY = "knockout_motifs"
DELETE_REGIONS_KEY = "delete_regions"
INSERT_ELEMENTS_KEY = "insert_elements"
VARIANT_EFFECT_KEY = "variant_effect"
#: :func:`group_slot` name of the regulatory embedding's predicted-expression layer.
EMBEDDING_PREDICTED = "predicted"

# --- files of a checkpoint directory ------------------------------------------------
#: The network's state dict.
WEIGHTS_FILE = "model.pt"
#: The network's configuration, the features, split, history and parameters (JSON).
CONFIG_FILE = "config.json"

# --- layers of an evaluation ----------------------------------------------------------
#: Name (in :func:`evaluation_layer`) of the mask of the genes an evaluation scored.
EVALUATED_GENES = "evaluated"
#: Settings of :func:`scget.tl.evaluate`: held-out groups on training-chromosome genes,
#: training groups on test-chromosome genes, held-out groups on test-chromosome genes.
SETTINGS = ("held-out group", "held-out chromosome", "held-out both")


#: What :func:`scget.tl.evaluate` scores: gene expression or region accessibility.
EVALUATION_LEVELS = ("expression", "accessibility")


def evaluation_key(level: str) -> str:
    """Default ``pb.uns["scget"]`` key of an evaluation of ``level``.

    Raises
    ------
    ValueError
        If ``level`` is not one of :data:`EVALUATION_LEVELS`.
    """
    if level not in EVALUATION_LEVELS:
        raise ValueError(f"level must be one of {EVALUATION_LEVELS}, got {level!r}.")
    return EVALUATION_KEY if level == "expression" else ACCESSIBILITY_EVALUATION_KEY


def evaluation_layer(key: str, name: str) -> str:
    """``["rna"].layers`` key of evaluation ``key``'s method ``name`` (or EVALUATED_GENES)."""
    return f"{key}:{name}"


def group_slot(key: str, group: str) -> str:
    """``["rna"].varm`` key of result ``key``'s values for ``group`` (gene-by-motif...)."""
    return f"{key}:{group}"
