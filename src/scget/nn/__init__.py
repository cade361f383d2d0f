"""The GET network in plain torch (no AnnData): modules, presets, LoRA, checkpoint import."""

from .._shared.lazy import lazy_namespace

_EXPORTS = {
    "GETConfig": "._config",
    "PRESETS": "._config",
    "ARCHITECTURES": "._config",
    "PRIOR_CHANNELS": "._config",
    "DistanceBias": "._distance",
    "GETNetwork": "._network",
    "GETOutput": "._network",
    "LoRALinear": "._lora",
    "add_lora": "._lora",
    "merge_lora": "._lora",
    "lora_state_dict": "._lora",
    "convert_published_state_dict": "._published",
    "load_published_checkpoint": "._published",
    "published_feature_names": "._published",
    "forward_flops": "._flops",
}
__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
