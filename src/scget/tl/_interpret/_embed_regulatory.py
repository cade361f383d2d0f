"""The regulatory embedding: the promoter token's hidden state, per group and gene."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..._shared.constants import (
    ATAC,
    EMBEDDING_PREDICTED,
    MOTIF_KEY,
    REGULATORY_EMBEDDING_KEY,
    RNA,
    group_slot,
)
from ..._shared.docs import inject_docs
from ..._shared.storage import finish_writer, writable
from ..._shared.utils import name_list
from ...get import regulatory_embedding
from .._core._model import GETModel
from .._core._promoters import fill_groups, per_gene, promoters, run


@inject_docs()
def embed_regulatory(
    pb,
    model: GETModel,
    *,
    layer: int = -1,
    genes: Sequence[str] | None = None,
    groups: str | Sequence[str] | None = None,
    batch_size: int = 32,
    device: str | None = "auto",
    rna: str = RNA,
    atac: str = ATAC,
    motif_key: str = MOTIF_KEY,
    key_added: str = REGULATORY_EMBEDDING_KEY,
    copy: bool = False,
):
    """The regulatory embedding: each gene's promoter token after a block, per group.

    The hidden state of the gene's TSS peak (before the final LayerNorm) after block
    ``layer``, averaged over the gene's accessible TSS peaks (Fu et al. 2025). Its
    neighbourhoods group genes regulated alike. {windows}

    Parameters
    ----------
    {mdata_pb} Needs ``["atac"].varm["motif_scores"]``, ``["atac"].layers["counts"]``
        and ``["rna"].var["tss_peaks"|"strand"]``.
    {model}
    layer
        Block whose output is read, counted from 0; negative counts from the last.
    {genes_groups}
    {batch_size}
    {device}
    {rna}
    {atac}
    {motif_key}
    {key_added}
    {copy}

    Returns
    -------
    The embedding (with ``copy``, the modified copy instead) as an
    :class:`~anndata.AnnData`, one observation per (group, gene)
    with an accessible TSS peak (``obs``: ``group``, ``gene``, ``observed`` and
    ``predicted`` log10(TPM + 1)), ready for :func:`scanpy.pp.neighbors`,
    :func:`scanpy.tl.umap` and :func:`scanpy.tl.leiden`
    (:func:`scget.get.regulatory_embedding` gives it back). Writes, replacing an
    earlier run under ``key_added``:

    - ``pb["rna"].varm["<key_added>:<group>"]``: per chosen group, genes x hidden
      float32 states (NaN for genes not embedded);
    - ``pb["rna"].layers["<key_added>:predicted"]``: groups x genes, the network's
      output at the genes' TSS peaks averaged as ``get_pred`` (NaN where not embedded);
    - ``pb.uns["scget"][key_added]``: ``"result"``, one row per group (``group``,
      ``varm_key``, ``n_genes``), and the parameters.

    Raises
    ------
    {errors}
    IndexError
        If the network has no block ``layer``.

    Examples
    --------
    >>> scget.tl.embed_regulatory(pb, model, groups=["type_01"])
    AnnData object with n_obs × n_vars = 90 × 64
        obs: 'group', 'gene', 'observed', 'predicted'
    """
    groups = name_list(groups)
    pb = writable(pb, copy)
    n_layers = model.network.config.n_layers
    if not -n_layers <= layer < n_layers:
        raise IndexError(f"layer {layer} is out of range for a network of {n_layers} blocks.")
    chosen = promoters(
        pb, model, genes=genes, groups=groups, rna=rna, atac=atac, motif_key=motif_key, prior=False
    )
    parts = run(
        chosen, model, layer=layer, batch_size=batch_size, device=device, desc="embed_regulatory"
    )
    shape = pb[rna].shape
    predicted = per_gene(parts["output"], chosen, shape, dtype=np.float32)
    layer_name = group_slot(key_added, EMBEDDING_PREDICTED)
    pb[rna].layers[layer_name] = predicted
    params = {**chosen.params, "layer": layer % n_layers, "batch_size": batch_size}
    states = per_gene(parts["state"], chosen, shape, dtype=np.float32)
    summary, slots = fill_groups(pb, states, chosen, key=key_added)
    rows = summary["n_genes"].sum()
    message = f"embed_regulatory: {rows} (group, gene) states of block {layer}."
    slots.append((rna, "layers", layer_name))
    written = finish_writer(pb, key_added, summary, params, slots=slots, copy=copy, message=message)
    if copy:
        return written

    return regulatory_embedding(pb, key=key_added)
