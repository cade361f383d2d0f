"""The regulator catalogue: each group's strongest TF-TF interactions, with expressed TFs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..._shared.constants import MOTIF_NETWORK_KEY, REGULATOR_CATALOGUE_KEY, RNA
from ..._shared.docs import inject_docs
from ..._shared.storage import finish_writer, read_params, read_result, writable
from ._tfs import MIN_EXPRESSION, expressed_tfs


@inject_docs()
def regulator_catalogue(
    pb,
    *,
    top: float = 0.05,
    min_expression: float = MIN_EXPRESSION,
    key: str = MOTIF_NETWORK_KEY,
    rna: str = RNA,
    key_added: str = REGULATOR_CATALOGUE_KEY,
    copy: bool = False,
):
    """The strongest interactions of each group's motif network, with the TFs behind them.

    As the catalogue of Fu et al. (2025): per group, the edges of
    :func:`scget.tl.motif_network` with the largest absolute weight (the top ``top``
    share). Each motif cluster is labelled with its TFs that the group expresses, so
    that an edge between clusters reads as candidate interactions between those TFs.

    Parameters
    ----------
    {mdata_pb} Needs :func:`scget.tl.motif_network` and :func:`scget.pp.scan_motifs`
        results.
    top
        Share of each group's edges kept, in (0, 1] (0.05, as published).
    min_expression
        A TF is expressed in a group from this log10(TPM + 1) (``["rna"].X``) on;
        the default is 1 TPM.
    key
        ``key_added`` of the motif network to read.
    {rna}
    {key_added}
    {copy}

    Returns
    -------
    The catalogue (with ``copy``, the modified copy instead): the network's columns
    (``group``, ``source``, ``target``, ``weight``, ``frequency``...), the strongest
    first per group, plus ``source_tfs`` and ``target_tfs`` (``;``-joined expressed
    TFs; a cell-type-agnostic network lists those expressed in any group). Writes it,
    replacing an earlier run, as ``pb.uns["scget"][key_added]["result"]``. Read it with
    :func:`scget.get.regulator_catalogue`.

    Raises
    ------
    KeyError
        If :func:`scget.tl.motif_network` or :func:`scget.pp.scan_motifs` has not run.
    ValueError
        If ``top`` is not in (0, 1].

    Examples
    --------
    >>> scget.tl.gene_by_motif(pb, model, groups=["type_01"])
    >>> edges = scget.tl.motif_network(pb, motifs=["HES", "PAX", "HOXB"], method="spearman")
    >>> catalogue = scget.tl.regulator_catalogue(pb)
    >>> catalogue.columns.tolist()  # the network's edges, with the TFs expressed at each end
    ['group', 'source', 'target', 'weight', 'frequency', 'pvalue', 'padj', 'source_tfs',
     'target_tfs']
    """
    if not 0 < top <= 1:
        raise ValueError(f"top is a share of the edges, in (0, 1]; got {top}.")
    network = read_result(pb, key, writer="scget.tl.motif_network")
    groups = list(dict.fromkeys(network["group"].astype(str)))
    tfs = expressed_tfs(pb, groups, rna=rna, min_expression=min_expression, key=key)
    parts = []
    for group, edges in network.groupby("group", sort=False, observed=True):
        strength = edges["weight"].abs().to_numpy()
        keep = max(1, int(np.ceil(top * len(edges))))
        chosen = edges.iloc[np.argsort(-strength, kind="stable")[:keep]]
        parts.append(
            chosen.assign(
                source_tfs=tfs.loc[chosen["source"], group].to_numpy(),
                target_tfs=tfs.loc[chosen["target"], group].to_numpy(),
            )
        )
    catalogue = pd.concat(parts, ignore_index=True)
    params = {"top": top, "min_expression": min_expression, "key": key, "rna": rna}
    params["method"] = read_params(pb, key)["method"]
    pb = writable(pb, copy)
    message = f"regulator_catalogue: {len(catalogue)} interactions."
    return finish_writer(
        pb, key_added, catalogue, params, copy=copy, returns=catalogue, message=message
    )
