"""Gene sets for enrichment: a small curated GMT shipped with scget, and a simulation's own."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

#: Gene-set files shipped in ``scget/datasets/data``, by name.
SHIPPED = {"pbmc_markers": "pbmc_markers.gmt"}


def gene_sets(name: str = "pbmc_markers") -> Path:
    """Path of a GMT file shipped with scget, for :func:`scget.tl.enrichment`.

    Parameters
    ----------
    name
        ``"pbmc_markers"``: marker genes of 10 blood cell types (B, T, CD4 T, CD8 T, NK
        cells, classical and non-classical monocytes, dendritic cells, platelets,
        erythroid cells), 5-9 well-known markers each, curated for scget.

    Returns
    -------
    The GMT file's path.

    Raises
    ------
    ValueError
        If ``name`` is not shipped.
    """
    if name not in SHIPPED:
        raise ValueError(f"No shipped gene sets {name!r}; choose from {sorted(SHIPPED)}.")
    return Path(__file__).parent / "data" / SHIPPED[name]


def planted_gene_sets(mdata, *, min_effect: float = 0.0) -> dict[str, list[str]]:
    """The planted targets of each simulated TF, as gene sets.

    Parameters
    ----------
    mdata
        A MuData from :func:`scget.datasets.simulate_multiome` (its
        ``uns["simulation"]["drivers"]``), or that ``drivers`` table itself.
    min_effect
        Only drivers whose absolute planted ``effect`` is above this.

    Returns
    -------
    ``"<motif>_activated"`` and ``"<motif>_repressed"`` -> the genes the motif cluster's
    TF activates (positive effect) or represses, for :func:`scget.tl.enrichment`.

    Raises
    ------
    KeyError
        If ``mdata`` holds no simulation.
    """
    if isinstance(mdata, pd.DataFrame):
        drivers = mdata
    elif "drivers" in mdata.uns.get("simulation", {}):
        drivers = mdata.uns["simulation"]["drivers"]
    else:
        raise KeyError(
            'No uns["simulation"]["drivers"]: give the MuData of '
            "scget.datasets.simulate_multiome (not a pseudobulk) or its drivers table."
        )
    drivers = drivers[drivers["effect"].abs() > min_effect]
    kind = pd.Series(["activated"] * len(drivers), index=drivers.index).where(
        drivers["effect"] > 0, "repressed"
    )
    return {
        f"{motif}_{direction}": rows["gene"].astype(str).tolist()
        for (motif, direction), rows in drivers.groupby([drivers["motif"], kind], sort=True)
    }
