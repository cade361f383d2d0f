"""Write a scget network's weights under the key names of the published GET code."""

from __future__ import annotations

import re

#: scget's top-level module names -> the published code's.
_TOP_LEVEL = {
    "region_embedding.": "region_embed.proj.",
    "norm.": "fc_norm.",
    "expression_head.": "head.",
    "reconstruction_head.": "encoder.head.",
    "accessibility_head.": "head_atac.",
}


def published_state_dict(network) -> dict:
    """``network``'s state dict with published key names (timm-style blocks, whole qkv bias)."""
    renamed = {}
    for key, value in network.state_dict().items():
        for ours, theirs in _TOP_LEVEL.items():
            if key.startswith(ours):
                key = theirs + key[len(ours) :]
        key = re.sub(r"^blocks\.(\d+)\.(qkv|proj)\.", r"blocks.\1.attn.\2.", key)
        key = re.sub(r"^blocks\.(\d+)\.(fc[12])\.", r"blocks.\1.mlp.\2.", key)
        renamed[key] = value
    return renamed
