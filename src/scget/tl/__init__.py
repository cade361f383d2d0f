"""Tools: train, apply, evaluate and interpret GET."""

from .._shared.lazy import lazy_namespace

_EXPORTS = {
    "GETModel": "._core._model",
    "CheckpointError": "._core._checkpoint",
    "ResumeError": "._training._resume",
    "pretrain": "._training._train",
    "finetune": "._training._train",
    "predict": "._core._predict",
    "evaluate": "._evaluation._evaluate",
    "gene_by_motif": "._interpret._gene_by_motif",
    "region_importance": "._interpret._region_importance",
    "embed_regulatory": "._interpret._embed_regulatory",
    "motif_network": "._networks._motif_network",
    "regulator_catalogue": "._networks._regulator_catalogue",
    "regulator_targets": "._networks._regulator_targets",
    "enrichment": "._networks._enrichment",
    "differential_regulation": "._networks._differential_regulation",
    "enhancer_gene": "._interpret._enhancer_gene",
    "export_enhancer_gene": "._interpret._export_enhancer_gene",
    "knockout_motifs": "._perturb._knockout_motifs",
    "delete_regions": "._perturb._delete_regions",
    "insert_elements": "._perturb._insert_elements",
    "variant_effect": "._perturb._variant_effect",
}
__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
