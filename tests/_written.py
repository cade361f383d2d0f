"""What a function may write into a MuData: its slots, to check that ``copy=True`` wrote none."""

from __future__ import annotations


def written_slots(mdata) -> set[tuple[str, str, str]]:
    """Every (modality, slot, key) of layers, varm, obsm and uns, and the scget records."""
    slots = {("", "uns:scget", key) for key in mdata.uns.get("scget", {})}
    slots |= {("", "uns", key) for key in mdata.uns}
    for name, adata in mdata.mod.items():
        for slot in ("layers", "varm", "obsm", "uns"):
            slots |= {(name, slot, key) for key in getattr(adata, slot)}
    return slots
