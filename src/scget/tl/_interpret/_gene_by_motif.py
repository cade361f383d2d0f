"""Gene-by-motif: what each motif (and accessibility) contributes to each gene's output."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from ..._shared.constants import (
    ATAC,
    GENE_BY_MOTIF_KEY,
    MOTIF_KEY,
    REGION_IMPORTANCE_KEY,
    RNA,
)
from ..._shared.docs import inject_docs
from ..._shared.storage import finish_writer, writable
from ..._shared.utils import name_list
from .._core._ensemble import explained_windows, mean_over_models
from .._core._knockouts import check_method, knockout
from .._core._model import GETModel
from .._core._promoters import fill_groups, per_gene, run
from ._region_importance import check_tss, importance, store_importance


@inject_docs()
def gene_by_motif(
    pb,
    model: GETModel | Sequence[GETModel],
    *,
    genes: Sequence[str] | None = None,
    groups: str | Sequence[str] | None = None,
    method: Literal["gradient", "knockout"] = "gradient",
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

    Two methods, both averaged over the gene's accessible TSS peaks:

    - ``"gradient"``: the signed mean over the window's regions of gradient x input of the
      gene's output (Fu et al. 2025): one forward and one backward pass per window, a
      first-order estimate of each input's share;
    - ``"knockout"``: the gene's output minus its output with the feature's scores set
      to zero in every region of the window (for ``"accessibility"``, the window's
      accessibility): the exact effect of removing the motif's sites, as
      :func:`scget.tl.knockout_motifs` predicts it, positive where the motif raises
      the gene. One forward pass per window and per feature present in it (a nonzero
      score in one of its regions; zero for the others): with the demo's 203 motif
      clusters, every one is present in every window, and the knockout takes tens of
      times the gradient's time on a CPU (the model docs, "Exact attributions").

    The two scale differently (a mean over regions against a change of the output) but
    rank alike: on the demo simulation they recover the planted drivers equally well
    (the model docs, "Exact attributions"), so the gradient stays the default.
    {windows}
    Each batch is reduced as soon as it has run: memory does not grow with the genes.

    Several models (an ensemble, e.g. fine-tuned with seeds 0, 1 and 2) give the mean of
    their attributions: a model's attributions vary with its training seed, and their
    mean names a regulator's targets more reliably (``docs/differential.md``, "An
    ensemble of models").

    Parameters
    ----------
    {mdata_pb} Needs ``["atac"].varm["motif_scores"]``, ``["atac"].layers["counts"]``
        and ``["rna"].var["tss_peaks"|"strand"]``.
    {model} Or a sequence of models that read the same inputs: their attributions
        are averaged.
    {genes_groups}
    method
        ``"gradient"`` or ``"knockout"`` (above).
    quantitative
        With a binary-accessibility model and ``"gradient"``, multiply the accessibility
        gradient by the accessibility score (as the paper does), not by the binary input
        of 1. Without effect on a quantitative model or a knockout.
    with_regions
        Also compute :func:`scget.tl.region_importance` with the same ``method`` (in the
        same pass for ``"gradient"``), stored under its default key
        ``"region_importance"``.
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
      ``varm_key``, ``n_genes``), and the parameters (``"method"`` and ``"n_models"``
      among them).
    - with ``with_regions``, the record of :func:`scget.tl.region_importance`.

    Read it with :func:`scget.get.gene_by_motif`.

    Raises
    ------
    {errors}
    ValueError
        If ``method`` is unknown, or the models of an ensemble read different inputs.

    Examples
    --------
    >>> scget.tl.gene_by_motif(pb, model, groups=["type_01"])
    >>> scget.get.gene_by_motif(pb).shape  # (group, gene) x (motif clusters, accessibility)
    (90, 204)
    """
    groups = name_list(groups)
    check_method(method)
    if with_regions:
        check_tss(pb, rna)
    models, chosen = explained_windows(
        pb, model, genes=genes, groups=groups, rna=rna, atac=atac, motif_key=motif_key
    )
    options = {"batch_size": batch_size, "device": device}

    def attribute(member: GETModel, desc: str) -> dict[str, np.ndarray]:
        if method == "gradient":
            return run(
                chosen,
                member,
                motifs=True,
                regions=with_regions,
                quantitative=quantitative,
                desc=desc,
                **options,
            )
        parts = {"motifs": knockout(chosen, member, "motifs", desc=desc, **options)}
        if with_regions:
            parts["regions"] = importance(
                chosen, member, method, desc=f"{desc}, regions", **options
            )
        return parts

    parts = mean_over_models(models, attribute, "gene_by_motif")
    pb = writable(pb, copy)
    values = per_gene(parts["motifs"], chosen, pb[rna].shape, dtype=np.float32)
    params = {**chosen.params, "method": method, "quantitative": quantitative}
    params |= {"n_models": len(models), "batch_size": batch_size}
    columns = chosen.inputs.feature_names
    summary, slots = fill_groups(pb, values, chosen, key=key_added, columns=columns)
    rows = summary["n_genes"].sum()
    message = f"gene_by_motif: {rows} (group, gene) rows in {len(chosen.groups)} groups."
    answer = finish_writer(pb, key_added, summary, params, slots=slots, copy=copy, message=message)
    if with_regions:
        store_importance(
            pb, parts["regions"], chosen, params, rna=rna, atac=atac, key=REGION_IMPORTANCE_KEY
        )
    return answer
