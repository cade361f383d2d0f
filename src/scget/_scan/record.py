"""The record a motif scan leaves behind, read back by the steps that rescan sequences.

:func:`scget.pp.scan_motifs` writes its scores to ``[atac].varm[key_added]`` and its
settings (p-value, background, normalisation, the clusters' maxima and TF names) to a
record in ``.uns["scget"]`` named after that slot: :func:`scan_record_key`. Steps that
score new sequences as the peaks were scored (insertions, variants) and those that name
a cluster's TFs read the record through :func:`read_scan_record` with the ``motif_key``
they were given, so two scans under two keys never mix.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .._shared.constants import MOTIF_KEY, MOTIFS_KEY
from .._shared.storage import read_params, read_result


def scan_record_key(motif_key: str = MOTIF_KEY) -> str:
    """The ``.uns["scget"]`` key of the record of the scan stored in ``varm[motif_key]``.

    The default scan keeps its historical record key ``"motifs"``; a scan under any other
    ``key_added`` records under ``"motifs_<key_added>"``.
    """
    return MOTIFS_KEY if motif_key == MOTIF_KEY else f"{MOTIFS_KEY}_{motif_key}"


def read_scan_record(pb, motif_key: str = MOTIF_KEY) -> tuple[dict[str, Any], pd.DataFrame]:
    """The settings and per-cluster table of the scan stored in ``varm[motif_key]``.

    Parameters
    ----------
    pb
        The MuData (or AnnData) :func:`scget.pp.scan_motifs` wrote into.
    motif_key
        The scan's ``key_added``.

    Returns
    -------
    ``(params, clusters)``: the scan's parameters as written, and its table per cluster
    (``n_motifs``, ``motifs``, ``tf_names``, ``max_score``).

    Raises
    ------
    KeyError
        If no scan was recorded under ``motif_key``, or the record found there belongs to
        a scan under another key (a result written before records were kept per key):
        rescan with ``scget.pp.scan_motifs(pb, genome, key_added=motif_key)``.
    """
    key = scan_record_key(motif_key)
    try:
        params = read_params(pb, key)
    except KeyError as error:
        raise KeyError(
            f"No motif scan is recorded for varm[{motif_key!r}] (uns['scget'][{key!r}]): run "
            f"scget.pp.scan_motifs(pb, genome, key_added={motif_key!r}) first, or pass the "
            "motif_key= the peaks were scanned under."
        ) from error
    recorded = params.get("key_added", MOTIF_KEY)
    if recorded != motif_key:
        raise KeyError(
            f"The motif scan record uns['scget'][{key!r}] describes varm[{recorded!r}], not "
            f"varm[{motif_key!r}]; rescan with scget.pp.scan_motifs(pb, genome, "
            f"key_added={motif_key!r})."
        )
    return params, read_result(pb, key)
