"""Gene-by-motif: what each motif (and accessibility) contributes to each gene's output."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..._constants import ATAC, GENE_BY_MOTIF_KEY, MOTIF_KEY, REGION_IMPORTANCE_KEY, RNA
from ..._docs import inject_docs
from ..._logging import logger
from .._core._model import GETModel
from .._core._promoters import DOCS, per_gene, promoters, run, store_groups
from ._region_importance import check_tss, store_importance


@inject_docs(**DOCS)
def gene_by_motif(
    pb,
    model: GETModel,
    *,
    genes: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
    quantitative: bool = True,
    with_regions: bool = False,
    batch_size: int = 32,
    device: str | None = "auto",
    rna: str = RNA,
    atac: str = ATAC,
    motif_key: str = MOTIF_KEY,
    key_added: str = GENE_BY_MOTIF_KEY,
    copy: bool = False,
):
    """Per group, a genes x features matrix of GET's attribution to motifs and accessibility.

    A gene's row is the signed mean over its window's regions of gradient x input of the
    gene's output, averaged over the gene's accessible TSS peaks (Fu et al. 2025).
    {windows}
    Each batch is reduced as soon as its gradients exist: no Jacobian is kept, so memory
    does not grow with the number of genes.

    Parameters
    ----------
    {mdata_pb} Needs ``["atac"].varm["motif_scores"]``, ``["atac"].layers["counts"]``
        and ``["rna"].var["tss_peaks"|"strand"]``.
    {model}
    {genes_groups}
    quantitative
        With a binary-accessibility model, multiply the accessibility gradient by the
        accessibility score (as the paper does), not by the binary input of 1.
        Without effect on a quantitative model.
    with_regions
        Also compute :func:`scget.tl.region_importance` in the same pass, stored under
        its default key ``"region_importance"``.
    {batch_size}
    {device}
    {rna}
    {atac}
    {motif_key}
    {key_added}
    {copy}

    Returns
    -------
    ``None`` (or the modified copy when ``copy``); writes, replacing an earlier run under
    ``key_added``:

    - ``pb["rna"].varm["<key_added>:<group>"]``: per chosen group, a DataFrame genes x
      features (the model's motif clusters, then ``"accessibility"``), float32; NaN
      for genes not chosen or without an accessible TSS peak in the group.
    - ``pb.uns["scget"][key_added]``: ``"result"``, one row per group (``group``,
      ``varm_key``, ``n_genes``), and the parameters.
    - with ``with_regions``, the record of :func:`scget.tl.region_importance`.

    Read it with :func:`scget.get.gene_by_motif`.

    Raises
    ------
    {errors}
    """
    if with_regions:
        check_tss(pb, rna)
    chosen = promoters(
        pb, model, genes=genes, groups=groups, rna=rna, atac=atac, motif_key=motif_key
    )
    parts = run(
        chosen,
        model,
        motifs=True,
        regions=with_regions,
        quantitative=quantitative,
        batch_size=batch_size,
        device=device,
        desc="gene_by_motif",
    )
    if copy:
        pb = pb.copy()
    values = per_gene(parts["motifs"], chosen, pb[rna].shape, dtype=np.float32)
    params = {**chosen.params, "quantitative": quantitative, "batch_size": batch_size}
    columns = chosen.inputs.feature_names
    rows = store_groups(pb, values, chosen, params, key=key_added, columns=columns)
    logger.info(f"gene_by_motif: {rows} (group, gene) rows in {len(chosen.groups)} groups.")
    if with_regions:
        store_importance(
            pb, parts["regions"], chosen, params, rna=rna, atac=atac, key=REGION_IMPORTANCE_KEY
        )
    return pb if copy else None
