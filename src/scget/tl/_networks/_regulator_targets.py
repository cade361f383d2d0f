"""The target genes of a regulator: the genes its motif drives most, by gene-by-motif."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from ... import get
from ..._shared.constants import GENE_BY_MOTIF_KEY, REGULATOR_TARGETS_KEY, RNA
from ..._shared.docs import inject_docs
from ..._shared.storage import finish_writer, writable
from ..._shared.utils import name_list, renamed_keywords
from ._tfs import MIN_EXPRESSION, expressed_tfs

#: Columns of a regulator-target table.
COLUMNS = ("motif", "group", "gene", "score", "rank", "tfs")
DIRECTIONS = ("activated", "repressed", "both")


@renamed_keywords(group="groups")
@inject_docs()
def regulator_targets(
    pb,
    motif: str | Sequence[str],
    *,
    groups: str | Sequence[str] | None = None,
    top: float | int = 0.1,
    direction: Literal["activated", "repressed", "both"] = "activated",
    min_expression: float = MIN_EXPRESSION,
    key: str = GENE_BY_MOTIF_KEY,
    rna: str = RNA,
    key_added: str = REGULATOR_TARGETS_KEY,
    copy: bool = False,
):
    """The genes a motif cluster drives most in a group, by GET's gene-by-motif scores.

    As in Fu et al. (2025), a regulator's targets are the top genes of its motif's
    column of :func:`scget.tl.gene_by_motif`: those it activates most (largest
    positive scores), represses most (most negative) or either (largest absolute). The
    scores are those of the attribution method the run under ``key`` used (gradient x
    input or knockout effects), recorded as ``"attribution"`` in the parameters.

    Parameters
    ----------
    {mdata_pb} Needs :func:`scget.tl.gene_by_motif` and :func:`scget.pp.scan_motifs`
        results.
    motif
        Motif cluster(s), e.g. ``"GATA"``.
    groups
        Group or groups (default: every group interpreted). ``group=``, its old name,
        is accepted with a FutureWarning until the next release.
    top
        A share of the group's interpreted genes in (0, 1) (0.1, as published), or a
        number of genes (e.g. 1000).
    direction
        ``"activated"``, ``"repressed"`` or ``"both"``.
    min_expression
        The motif's TFs expressed in the group from this log10(TPM + 1) on are listed.
    key
        ``key_added`` of the gene-by-motif run to read.
    {rna}
    {key_added}
    {copy}

    Returns
    -------
    The targets (with ``copy``, the modified copy instead): one row per (motif, group,
    gene), ``motif``, ``group``, ``gene``, ``score`` (gene-by-motif), ``rank`` (1 for
    the strongest) and ``tfs`` (the motif's TFs expressed in the group, ``;``-joined).
    Writes it, replacing an earlier run, as ``pb.uns["scget"][key_added]["result"]``;
    :func:`scget.tl.enrichment` reads it. Read it with :func:`scget.get.regulator_targets`.

    Raises
    ------
    KeyError
        If :func:`scget.tl.gene_by_motif` or :func:`scget.pp.scan_motifs` has not run.
    ValueError
        If a motif or group is unknown, or ``top`` or ``direction`` is invalid.

    Examples
    --------
    >>> scget.tl.gene_by_motif(pb, model, groups=["type_01"])
    >>> targets = scget.tl.regulator_targets(pb, ["HES", "PAX"], top=10)
    >>> targets.groupby("motif")["gene"].count()
    motif
    HES    10
    PAX    10
    Name: gene, dtype: int64
    """
    motifs = [motif] if isinstance(motif, str) else list(motif)
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}.")
    if (isinstance(top, float) and not 0 < top < 1) or (isinstance(top, int) and top < 1):
        raise ValueError(f"top is a share in (0, 1) or a number of genes >= 1; got {top!r}.")
    attributions = get.gene_by_motif(pb, key=key)
    stored = list(dict.fromkeys(attributions.index.get_level_values("group")))
    groups = stored if groups is None else name_list(groups)
    unknown = sorted(set(groups) - set(stored))
    if unknown:
        raise ValueError(f"Groups {unknown} have no gene-by-motif results; stored: {stored}.")
    tfs = expressed_tfs(pb, groups, rna=rna, min_expression=min_expression, key=key)
    unknown = [name for name in motifs if name not in tfs.index]
    if unknown:
        raise ValueError(f"Unknown motif clusters {unknown}; e.g. {list(tfs.index[:5])}.")
    for name in motifs:
        if name not in attributions.columns:
            raise ValueError(f"Motif cluster {name!r} is not among the model's features.")
    parts = []
    for name in motifs:
        for group_name in groups:
            # by level: .loc[group, name] would read a row when a gene is named like the motif
            scores = attributions.xs(group_name, level="group")[name]
            parts.append(
                _top(scores, top, direction).assign(
                    motif=name, group=group_name, tfs=tfs.loc[name, group_name]
                )
            )
    table = pd.concat(parts, ignore_index=True)[list(COLUMNS)]
    params = {
        "motifs": motifs,
        "groups": groups,
        "top": top,
        "direction": direction,
        "min_expression": min_expression,
        "key": key,
        "rna": rna,
        "attribution": get.params(pb, key).get("method", "gradient"),
    }
    pb = writable(pb, copy)
    message = f"regulator_targets: {len(table)} (motif, group, gene) rows."
    return finish_writer(pb, key_added, table, params, copy=copy, returns=table, message=message)


def _top(scores: pd.Series, top: float | int, direction: str) -> pd.DataFrame:
    """The ``top`` genes of ``scores`` in ``direction``, with their rank."""
    strength = {"activated": scores, "repressed": -scores, "both": scores.abs()}[direction]
    count = top if isinstance(top, int) else max(1, int(np.ceil(top * len(scores))))
    order = np.argsort(-strength.to_numpy(), kind="stable")[: min(count, len(scores))]
    return pd.DataFrame(
        {
            "gene": scores.index[order].astype(str),
            "score": scores.to_numpy()[order],
            "rank": np.arange(1, len(order) + 1),
        }
    )
