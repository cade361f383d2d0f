"""Readers of the results that :mod:`scget.pp` and :mod:`scget.tl` store."""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._shared.constants import (
    ACCESSIBILITY_PREDICTION_LAYER,
    ATAC,
    DELETE_REGIONS_KEY,
    DIFFERENTIAL_KEY,
    EMBEDDING_PREDICTED,
    ENHANCER_GENE_KEY,
    ENRICHMENT_KEY,
    EVALUATED_GENES,
    EVALUATION_KEY,
    FINETUNE_KEY,
    GENE_BY_MOTIF_KEY,
    GENE_PREDICTION_LAYER,
    INSERT_ELEMENTS_KEY,
    KNOCKOUT_MOTIFS_KEY,
    MOTIF_NETWORK_KEY,
    PREDICT_KEY,
    PREDICTION_LAYERS,
    REGION_IMPORTANCE_KEY,
    REGULATOR_CATALOGUE_KEY,
    REGULATOR_TARGETS_KEY,
    REGULATORY_EMBEDDING_KEY,
    RNA,
    VARIANT_EFFECT_KEY,
    evaluation_key,
    evaluation_layer,
    group_slot,
)
from .._shared.storage import read_params, read_result, read_slots
from .._shared.utils import modality, one_name, to_dense


def params(data, key: str) -> dict[str, Any]:
    """Return the parameters of a stored result, as they were given.

    Parameters
    ----------
    data
        The :class:`~mudata.MuData` (or :class:`~anndata.AnnData`) written into.
    key
        The result's key in ``.uns["scget"]`` (a function's ``key_added``).

    Returns
    -------
    A new dict; ``None``, lists and nested mappings read back as written, also after
    ``write_h5mu``/``read_h5mu``.

    Raises
    ------
    KeyError
        If nothing is stored under ``key``.

    Examples
    --------
    >>> params = scget.get.params(pb, "finetune")
    >>> params["preset"], params["split"]["test_chromosomes"]
    ('tiny', ['chr3'])
    """
    return read_params(data, key)


def result(data, key: str) -> Any:
    """Return a stored result (e.g. the summary table of :func:`scget.pp.pseudobulk`).

    Parameters
    ----------
    data
        The :class:`~mudata.MuData` (or :class:`~anndata.AnnData`) written into.
    key
        The result's key in ``.uns["scget"]``.

    Returns
    -------
    A copy of the stored object (tables, arrays and mappings are copied).

    Raises
    ------
    KeyError
        If nothing is stored under ``key``.

    Examples
    --------
    >>> scget.get.result(pb, "finetune").columns.tolist()
    ['epoch', 'train_loss', 'valid_loss', 'lr']
    """
    return read_result(data, key)


def history(pb, *, key: str = FINETUNE_KEY) -> pd.DataFrame:
    """Return the training history that :func:`scget.tl.finetune` (or ``pretrain``) stored.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` trained on.
    key
        The training's ``key_added`` (``"pretrain"`` for pretraining).

    Returns
    -------
    One row per epoch: ``epoch``, ``train_loss``, ``valid_loss``, ``lr``.

    Raises
    ------
    KeyError
        If no training is stored under ``key``.

    Examples
    --------
    >>> scget.get.history(pb).shape  # one row per epoch
    (2, 4)
    """
    return read_result(pb, key, writer="scget.tl.finetune")


def predictions(
    pb,
    *,
    level: Literal["gene", "plus", "minus", "accessibility"] = "gene",
    key: str = PREDICT_KEY,
) -> pd.DataFrame:
    """Return the predictions of :func:`scget.tl.predict` as a groups x genes (or peaks) table.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` predicted on.
    level
        ``"gene"``: predicted log10(TPM + 1) per group and gene (``["rna"]`` layer);
        ``"plus"``/``"minus"``: per group and peak, for that strand (``["atac"]`` layers);
        ``"accessibility"``: the predicted accessibility score per group and peak, from a
        model that predicts accessibility (``["atac"].layers["get_accessibility"]``).
    key
        ``.uns["scget"]`` key of the prediction record.

    Returns
    -------
    DataFrame indexed by group, with genes (or peaks) as columns; NaN where nothing
    was predicted.

    Raises
    ------
    KeyError
        If :func:`scget.tl.predict` has not run, or the model it ran with did not make
        the predictions of ``level`` (accessibility, or expression for an
        accessibility-only model).
    ValueError
        If ``level`` is unknown.

    Examples
    --------
    >>> scget.tl.predict(pb, model)
    >>> scget.get.predictions(pb).shape
    (3, 90)
    >>> scget.get.predictions(pb, level="plus").shape  # groups x peaks
    (3, 450)
    """
    levels = {"gene": GENE_PREDICTION_LAYER, "plus": PREDICTION_LAYERS[0]}
    levels["minus"] = PREDICTION_LAYERS[1]
    levels["accessibility"] = ACCESSIBILITY_PREDICTION_LAYER
    if level not in levels:
        raise ValueError(f"level must be one of {list(levels)}, got {level!r}.")
    stored = read_params(pb, key, writer="scget.tl.predict")
    adata = modality(pb, stored.get("rna", RNA) if level == "gene" else stored.get("atac", ATAC))
    if levels[level] not in adata.layers:
        what = "accessibility" if level == "accessibility" else "expression"
        raise KeyError(
            f"No {level!r} predictions: the model scget.tl.predict ran with does not predict "
            f"{what} (objective {stored.get('objective', 'expression')!r}). Fine-tune with "
            f'objective="joint" and predict again.'
        )
    return pd.DataFrame(
        to_dense(adata.layers[levels[level]]),
        index=adata.obs_names.copy(),
        columns=adata.var_names.copy(),
    )


def evaluation(pb, *, level: str = "expression", key: str | None = None) -> pd.DataFrame:
    """Return the metrics table of :func:`scget.tl.evaluate`.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` evaluated on.
    level
        ``"expression"`` or ``"accessibility"``: the evaluation's ``level``.
    key
        The evaluation's ``key_added``; by default that of ``level``.

    Returns
    -------
    One row per group, setting and method: ``group``, ``setting``, ``method``,
    ``pearson``, ``spearman``, ``r2``, ``centred_r`` (Pearson r of the deviations from
    each gene's mean over the training groups), ``slope``, ``intercept``, ``n_genes``
    (expression) or ``n_regions`` (accessibility), and ``reason``: why a requested
    method was not scored (its metrics NaN), empty where it was.

    Raises
    ------
    KeyError
        If no evaluation is stored under ``key``.

    Examples
    --------
    >>> scget.tl.predict(pb, model)
    >>> table = scget.tl.evaluate(pb, model=model)
    >>> scget.get.evaluation(pb).equals(table)
    True
    """
    if key is None:
        key = evaluation_key(level)
    return read_result(pb, key, writer="scget.tl.evaluate")


def evaluated_genes(
    pb,
    *,
    method: str = "GET",
    group: str | None = None,
    setting: str | None = None,
    key: str = EVALUATION_KEY,
) -> pd.DataFrame:
    """Return the observed and predicted expression of the genes an evaluation scored.

    These are the points behind each row of :func:`evaluation`: a group's genes, as
    :func:`scget.tl.evaluate` chose them, with the method's prediction stored then.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` evaluated on.
    method
        A method of the evaluation, e.g. ``"GET"`` or ``"TSS accessibility"``.
    group
        Only this group; ``None`` gives every group the method scored.
    setting
        Only this setting (``"held-out group"``, ``"held-out chromosome"`` or
        ``"held-out both"``); ``None`` gives every setting the method was scored in.
    key
        The evaluation's ``key_added``.

    Returns
    -------
    Long table with columns ``setting``, ``group``, ``gene``, ``observed`` and
    ``predicted``, in the order of :func:`evaluation`.

    Raises
    ------
    KeyError
        If no evaluation is stored under ``key``.
    ValueError
        If ``method`` was not evaluated or scored no group ``group``.

    Examples
    --------
    >>> scget.tl.predict(pb, model)
    >>> table = scget.tl.evaluate(pb, model=model)
    >>> scget.get.evaluated_genes(pb).columns.tolist()
    ['setting', 'group', 'gene', 'observed', 'predicted']
    """
    group = one_name(group)
    stored = read_params(pb, key, writer="scget.tl.evaluate")
    table = evaluation(pb, key=key)
    if method not in stored["methods"]:
        raise ValueError(f"method {method!r} was not evaluated; evaluated: {stored['methods']}.")
    scored = table.loc[table["method"] == method, ["setting", "group"]].astype(str)
    settings = list(dict.fromkeys(scored["setting"]))
    if setting is not None:
        if setting not in settings:
            raise ValueError(
                f"setting {setting!r} has no {method!r} evaluation; settings: {settings}."
            )
        scored = scored[scored["setting"] == setting]
    if group is not None:
        if group not in set(scored["group"]):
            groups = list(dict.fromkeys(scored["group"]))
            raise ValueError(f"group {group!r} has no {method!r} evaluation; groups: {groups}.")
        scored = scored[scored["group"] == group]
    layers = {name for _, _, name in read_slots(pb, key)}
    rna = modality(pb, stored["rna"])
    predicted = to_dense(rna.layers[_layer(key, method, layers)], np.float64)
    observed = to_dense(rna.X, np.float64)
    rows = pd.Index(rna.obs_names.astype(str))
    parts = []
    for name, name_group in scored.itertuples(index=False):
        mask = rna.layers[_layer(key, f"{EVALUATED_GENES}:{name}", layers)]
        row = rows.get_loc(name_group)
        genes = np.asarray(mask[row], dtype=bool)
        parts.append(
            pd.DataFrame(
                {
                    "setting": name,
                    "group": name_group,
                    "gene": rna.var_names[genes].astype(str),
                    "observed": observed[row, genes],
                    "predicted": predicted[row, genes],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def gene_by_motif(pb, *, group: str | None = None, key: str = GENE_BY_MOTIF_KEY) -> pd.DataFrame:
    """Return the gene-by-motif matrices of :func:`scget.tl.gene_by_motif`.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` interpreted.
    group
        One group's matrix; ``None`` stacks every group's.
    key
        The run's ``key_added``.

    Returns
    -------
    Genes x features (motif clusters, then ``"accessibility"``) for ``group``, indexed
    by gene; without ``group``, every group's rows stacked under a (``group``,
    ``gene``) index. Only genes with values in the group are listed.

    Raises
    ------
    KeyError
        If :func:`scget.tl.gene_by_motif` has not run under ``key``.
    ValueError
        If ``group`` was not interpreted.

    Examples
    --------
    >>> scget.tl.gene_by_motif(pb, model, groups=["type_01"])
    >>> scores = scget.get.gene_by_motif(pb)
    >>> list(scores.index.names), scores.columns[-1]
    (['group', 'gene'], 'accessibility')
    """
    group = one_name(group)
    stored = read_params(pb, key, writer="scget.tl.gene_by_motif")
    varm = modality(pb, stored["rna"]).varm
    frames = {}
    for name in _groups(pb, key, group):
        frame = varm[group_slot(key, name)]
        frames[name] = frame[frame.notna().all(axis=1)].rename_axis("gene").copy()
    if group is not None:
        return frames[group]
    return pd.concat(frames, names=["group", "gene"])


def region_importance(
    pb, *, group: str | None = None, gene: str | None = None, key: str = REGION_IMPORTANCE_KEY
) -> pd.DataFrame:
    """Return the region-importance table of :func:`scget.tl.region_importance`.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` interpreted.
    group
        Only this group's rows (``None``: all).
    gene
        Only this gene's rows (``None``: all).
    key
        The run's ``key_added``.

    Returns
    -------
    Long table (decoupler's columns): ``group``, ``source`` (peak), ``target`` (gene),
    ``weight`` (importance in [0, 1], 1 for the gene's most important region in the
    group), ``distance`` (bp from the TSS, positive downstream) and ``accessibility``.

    Raises
    ------
    KeyError
        If :func:`scget.tl.region_importance` has not run under ``key``.

    Examples
    --------
    >>> scget.tl.region_importance(pb, model, groups=["type_01"])
    >>> scget.get.region_importance(pb).columns.tolist()
    ['group', 'source', 'target', 'weight', 'distance', 'accessibility']
    """
    group = one_name(group)
    table = read_result(pb, key, writer="scget.tl.region_importance")
    return _rows(table, group=group, target=gene)


def regulatory_embedding(pb, *, key: str = REGULATORY_EMBEDDING_KEY):
    """Return the regulatory embedding of :func:`scget.tl.embed_regulatory` as AnnData.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` embedded.
    key
        The run's ``key_added``.

    Returns
    -------
    :class:`~anndata.AnnData`, one observation ``"<group>:<gene>"`` per embedded
    (group, gene), the hidden states as ``X``; ``obs``: ``group``, ``gene``,
    ``observed`` (``["rna"].X``) and ``predicted`` log10(TPM + 1). Ready for
    :func:`scanpy.pp.neighbors`, :func:`scanpy.tl.umap` and :func:`scanpy.tl.leiden`.

    Raises
    ------
    KeyError
        If :func:`scget.tl.embed_regulatory` has not run under ``key``.

    Examples
    --------
    >>> embedding = scget.tl.embed_regulatory(pb, model, groups=["type_01"])
    >>> scget.get.regulatory_embedding(pb).obs.columns.tolist()
    ['group', 'gene', 'observed', 'predicted']
    """
    import anndata as ad

    stored = read_params(pb, key, writer="scget.tl.embed_regulatory")
    rna = modality(pb, stored["rna"])
    observed = to_dense(rna.X, np.float32)
    predicted = to_dense(rna.layers[group_slot(key, EMBEDDING_PREDICTED)], np.float32)
    rows = pd.Index(rna.obs_names.astype(str))
    states, parts = [], []
    for name in _groups(pb, key, None):
        values = np.asarray(rna.varm[group_slot(key, name)], dtype=np.float32)
        row = rows.get_loc(name)
        genes = np.isfinite(predicted[row])
        states.append(values[genes])
        parts.append(
            pd.DataFrame(
                {
                    "group": name,
                    "gene": rna.var_names[genes].astype(str),
                    "observed": observed[row, genes],
                    "predicted": predicted[row, genes],
                }
            )
        )
    obs = pd.concat(parts, ignore_index=True)
    obs.index = (obs["group"] + ":" + obs["gene"]).to_numpy()
    obs["group"] = pd.Categorical(obs["group"], categories=list(dict.fromkeys(obs["group"])))
    return ad.AnnData(X=np.concatenate(states), obs=obs)


def enhancer_gene(
    pb, *, group: str | None = None, gene: str | None = None, key: str = ENHANCER_GENE_KEY
) -> pd.DataFrame:
    """Return the enhancer-gene table of :func:`scget.tl.enhancer_gene`.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` scored.
    group
        Only this group's rows (``None``: all).
    gene
        Only this gene's rows (``None``: all).
    key
        The run's ``key_added``.

    Returns
    -------
    Long table: ``group``, ``gene``, ``peak``, ``distance`` (bp from the TSS, positive
    downstream) and one column per method, each summing to 1 over a gene's regions in
    a group (0 for a gene without signal).

    Raises
    ------
    KeyError
        If :func:`scget.tl.enhancer_gene` has not run under ``key``.
    ValueError
        If ``group`` or ``gene`` has no rows.

    Examples
    --------
    >>> scget.tl.enhancer_gene(pb, model, groups=["type_01"])
    >>> scget.get.enhancer_gene(pb)[["group", "gene", "peak", "distance"]].head(3)
         group    gene              peak  distance
    0  type_01  Gene01  chr1:11022-11503    -28072
    ...
    """
    group = one_name(group)
    table = read_result(pb, key, writer="scget.tl.enhancer_gene")
    rows = _rows(table, group=group, gene=gene)
    if len(rows) == 0 and (group is not None or gene is not None):
        raise ValueError(f"The selection (group {group!r}, gene {gene!r}) has no rows in {key!r}.")
    return rows


def knockout_motifs(pb, key: str = KNOCKOUT_MOTIFS_KEY) -> pd.DataFrame:
    """Return the predicted change of :func:`scget.tl.knockout_motifs`.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` perturbed.
    key
        The run's ``key_added``.

    Returns
    -------
    Groups x genes: knocked-out minus reference predicted log10(TPM + 1); NaN where no
    window of the gene was changed.

    Raises
    ------
    KeyError
        If no knockout is stored under ``key``.

    Examples
    --------
    >>> change = scget.tl.knockout_motifs(pb, model, motifs=["PAX"], groups=["type_01"])
    >>> scget.get.knockout_motifs(pb).loc[:, "Gene01":"Gene03"].notna()
    gene_name  Gene01  Gene02  Gene03
    type_01      True    True    True
    type_02     False   False   False
    type_03     False   False   False
    """
    return _change(pb, key, writer="scget.tl.knockout_motifs")


def delete_regions(pb, key: str = DELETE_REGIONS_KEY) -> pd.DataFrame:
    """Return the predicted change of :func:`scget.tl.delete_regions`.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` perturbed.
    key
        The run's ``key_added``.

    Returns
    -------
    Groups x genes: deleted minus reference predicted log10(TPM + 1); NaN where no
    window of the gene was changed.

    Raises
    ------
    KeyError
        If no deletion is stored under ``key``.

    Examples
    --------
    >>> change = scget.tl.delete_regions(pb, model, regions=["chr1:40402-40793"])
    >>> scget.get.delete_regions(pb)["Gene02"].notna().tolist()  # the deleted enhancer's gene
    [True, True, True]
    """
    return _change(pb, key, writer="scget.tl.delete_regions")


def perturbation(pb, key: str = KNOCKOUT_MOTIFS_KEY) -> pd.DataFrame:
    """Deprecated name of :func:`knockout_motifs` and :func:`delete_regions`.

    Reads either (they store alike) and warns; it goes in the next release.
    """
    _renamed("perturbation", "knockout_motifs (or scget.get.delete_regions)")
    return _change(pb, key, writer="scget.tl.knockout_motifs")


def variant_effect(
    pb, key: str = VARIANT_EFFECT_KEY, *, motif_change: bool = False
) -> pd.DataFrame:
    """Return the predicted change of :func:`scget.tl.variant_effect`.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` scored.
    key
        The run's ``key_added``.
    motif_change
        Return the motif-score change instead: (variant|peak) x motif clusters,
        alternative minus reference score.

    Returns
    -------
    One row per (variant, peak, group, gene): ``variant``, ``chrom``, ``pos``, ``ref``,
    ``alt``, ``peak``, ``group``, ``gene``, ``change`` (alternative minus reference
    predicted log10(TPM + 1)); or, with ``motif_change``, the motif-score change.

    Raises
    ------
    KeyError
        If no variant effect is stored under ``key``.

    Examples
    --------
    >>> import pandas as pd
    >>> variants = pd.DataFrame({"chrom": ["chr1"], "pos": [11_151], "ref": ["A"], "alt": ["G"]})
    >>> genome = mdata.uns["simulation"]["genome"]
    >>> table = scget.tl.variant_effect(pb, model, variants=variants, genome=genome)
    >>> scget.get.variant_effect(pb).equals(table)
    True
    >>> scget.get.variant_effect(pb, motif_change=True).shape  # (variant, peak) x motif clusters
    (1, 203)
    """
    table = read_result(pb, key, writer="scget.tl.variant_effect")
    if motif_change:
        return pd.DataFrame(pb.uns["scget"][key]["motif_change"]).copy()
    return pd.DataFrame(table)


def insert_elements(pb, key: str = INSERT_ELEMENTS_KEY) -> pd.DataFrame:
    """Return the element activities of :func:`scget.tl.insert_elements`.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` the elements were inserted with.
    key
        The run's ``key_added``.

    Returns
    -------
    One row per element and a last row ``"control"`` (the all-zero element):
    ``activity``, ``expression``, ``accessibility`` and ``change`` (activity minus the
    control's). The parameters, the sites drawn included, are in
    ``scget.get.params(pb, key)``.

    Raises
    ------
    KeyError
        If :func:`scget.tl.insert_elements` has not run under ``key``.

    Examples
    --------
    >>> activity = scget.tl.insert_elements(
    ...     pb, model, elements=pb["atac"].var.iloc[:2], group="type_01",
    ...     genome=mdata.uns["simulation"]["genome"], readout="expression", n_sites=50,
    ... )
    >>> scget.get.insert_elements(pb).equals(activity)
    True
    """
    return read_result(pb, key, writer="scget.tl.insert_elements")


def insertion(pb, key: str = INSERT_ELEMENTS_KEY) -> pd.DataFrame:
    """Deprecated name of :func:`insert_elements`; warns, and goes in the next release."""
    _renamed("insertion", "insert_elements")
    return insert_elements(pb, key)


def regulator_targets(
    pb, *, motif: str | None = None, group: str | None = None, key: str = REGULATOR_TARGETS_KEY
) -> pd.DataFrame:
    """Return the target genes of :func:`scget.tl.regulator_targets`.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` the targets were ranked in.
    motif
        Only this motif cluster's targets.
    group
        Only this group's targets.
    key
        The run's ``key_added``.

    Returns
    -------
    One row per (motif, group, gene): ``motif``, ``group``, ``gene``, ``score``,
    ``rank`` (1 for the strongest) and ``tfs``.

    Raises
    ------
    KeyError
        If :func:`scget.tl.regulator_targets` has not run under ``key``.

    Examples
    --------
    >>> scget.tl.gene_by_motif(pb, model, groups=["type_01"])
    >>> targets = scget.tl.regulator_targets(pb, ["HES", "PAX"])
    >>> scget.get.regulator_targets(pb).equals(targets)
    True
    """
    group = one_name(group)
    table = read_result(pb, key, writer="scget.tl.regulator_targets")
    return _rows(table, motif=motif, group=group)


def regulator_catalogue(pb, *, group: str | None = None, key: str = REGULATOR_CATALOGUE_KEY):
    """Return the TF-TF interactions of :func:`scget.tl.regulator_catalogue`.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` of the motif network.
    group
        Only this group's interactions.
    key
        The run's ``key_added``.

    Returns
    -------
    The network's columns (``group``, ``source``, ``target``, ``weight``...), strongest
    first per group, with ``source_tfs`` and ``target_tfs`` (``;``-joined expressed TFs).

    Raises
    ------
    KeyError
        If :func:`scget.tl.regulator_catalogue` has not run under ``key``.

    Examples
    --------
    >>> scget.tl.gene_by_motif(pb, model, groups=["type_01"])
    >>> edges = scget.tl.motif_network(pb, motifs=["HES", "PAX", "HOXB"], method="spearman")
    >>> catalogue = scget.tl.regulator_catalogue(pb)
    >>> scget.get.regulator_catalogue(pb).equals(catalogue)
    True
    """
    group = one_name(group)
    table = read_result(pb, key, writer="scget.tl.regulator_catalogue")
    return _rows(table, group=group)


def motif_network(
    pb, *, group: str | None = None, graph: bool = False, key: str = MOTIF_NETWORK_KEY
):
    """Return the TF-TF network of :func:`scget.tl.motif_network`.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` with a motif network.
    group
        Only this group's edges (``"all"`` for a cell-type-agnostic network).
    graph
        Return a :mod:`networkx` graph of ``group`` instead of the table: directed for
        LiNGAM (an edge source -> target), undirected for Spearman; the table's other
        columns are edge attributes.
    key
        The run's ``key_added``.

    Returns
    -------
    The long table in decoupler's convention: ``group``, ``source``, ``target``,
    ``weight`` (signed effect of source on target, or the correlation), ``frequency``
    (share of bootstrap resamples with the edge) and, for Spearman, ``pvalue`` and
    ``padj``; or the graph.

    Raises
    ------
    KeyError
        If :func:`scget.tl.motif_network` has not run under ``key``.
    ValueError
        If ``group`` has no network, or ``graph`` is asked for without a ``group``.

    Examples
    --------
    >>> scget.tl.gene_by_motif(pb, model, groups=["type_01"])
    >>> edges = scget.tl.motif_network(pb, motifs=["HES", "PAX", "HOXB"], method="spearman")
    >>> scget.get.motif_network(pb).equals(edges)
    True
    """
    group = one_name(group)
    table = read_result(pb, key, writer="scget.tl.motif_network")
    stored = read_params(pb, key)
    if group is not None:
        names = stored["groups"]
        if group not in names:
            raise ValueError(f"group {group!r} has no network under {key!r}; groups: {names}.")
        table = table[(table["group"] == group).to_numpy()].reset_index(drop=True)
    if not graph:
        return table
    if group is None:
        raise ValueError("graph=True draws one network: give a group.")
    import networkx as nx

    directed = stored["method"] == "lingam"
    return nx.from_pandas_edgelist(
        table.drop(columns="group"),
        edge_attr=True,
        create_using=nx.DiGraph if directed else nx.Graph,
    )


def enrichment(
    pb, *, motif: str | None = None, group: str | None = None, key: str = ENRICHMENT_KEY
) -> pd.DataFrame:
    """Return the enrichment table of :func:`scget.tl.enrichment`.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` with an enrichment result.
    motif
        Only the rows of this motif cluster's targets.
    group
        Only the rows of this group.
    key
        The run's ``key_added``.

    Returns
    -------
    One row per (gene list, term): ``motif``, ``group``, ``term``, ``overlap``,
    ``n_genes``, ``set_size``, ``gene_ratio``, ``pvalue``, ``padj``, ``odds_ratio``,
    ``genes``.

    Raises
    ------
    KeyError
        If :func:`scget.tl.enrichment` has not run under ``key``.

    Examples
    --------
    >>> scget.tl.gene_by_motif(pb, model, groups=["type_01"])
    >>> targets = scget.tl.regulator_targets(pb, ["HES", "PAX"])
    >>> table = scget.tl.enrichment(pb, scget.datasets.planted_gene_sets(mdata))
    >>> scget.get.enrichment(pb).equals(table)
    True
    """
    group = one_name(group)
    table = read_result(pb, key, writer="scget.tl.enrichment")
    return _rows(table, motif=motif, group=group)


def differential_regulation(
    pb,
    *,
    group: str | None = None,
    contrast: str | None = None,
    source: str | None = None,
    key: str = DIFFERENTIAL_KEY,
) -> pd.DataFrame:
    """Return the table of :func:`scget.tl.differential_regulation`.

    Parameters
    ----------
    pb
        Pseudobulk :class:`~mudata.MuData` with a differential regulation result.
    group
        Only the rows of this group (cell type).
    contrast
        Only the rows of this contrast (``"<level>_vs_<reference>"``).
    source
        Only the rows of this motif cluster.
    key
        The run's ``key_added``.

    Returns
    -------
    One row per test, in decoupler's convention: ``group``, ``source``, ``target``
    (gene-level runs only), ``contrast``, ``effect``, ``se``, ``stat``, ``pvalue``,
    ``padj``, ``mean_reference``.

    Raises
    ------
    KeyError
        If :func:`scget.tl.differential_regulation` has not run under ``key``.

    Examples
    --------
    >>> table = scget.tl.differential_regulation(samples, "condition", on="accessibility")
    >>> scget.get.differential_regulation(samples).equals(table)
    True
    """
    group = one_name(group)
    table = read_result(pb, key, writer="scget.tl.differential_regulation")
    return _rows(table, group=group, contrast=contrast, source=source)


def _rows(table: pd.DataFrame, **values) -> pd.DataFrame:
    """The rows of ``table`` whose columns equal the given values (``None``: any)."""
    keep = np.ones(len(table), dtype=bool)
    for column, value in values.items():
        if value is not None:
            keep &= (table[column] == value).to_numpy()
    return table[keep].reset_index(drop=True)


def _groups(pb, key: str, group: str | None) -> list[str]:
    """Groups a per-group result ``key`` stored (only ``group`` when given, checked)."""
    names = [str(name) for name in read_result(pb, key)["group"]]
    if group is None:
        return names
    if group not in names:
        raise ValueError(f"group {group!r} is not in result {key!r}; groups: {names}.")
    return [group]


def _layer(key: str, name: str, stored: set[str]) -> str:
    """The evaluation layer of ``name``, checked against those the record lists."""
    layer = evaluation_layer(key, name)
    if layer not in stored:
        raise KeyError(f"Evaluation {key!r} stored no layer {layer!r}; rerun scget.tl.evaluate.")
    return layer


def _change(pb, key: str, *, writer: str) -> pd.DataFrame:
    """Groups x genes of a stored knockout or deletion (they store alike)."""
    stored = read_params(pb, key, writer=writer)
    rna = modality(pb, stored["rna"])
    return pd.DataFrame(
        to_dense(rna.layers[key], np.float32),
        index=rna.obs_names.astype(str).copy(),
        columns=rna.var_names.astype(str).copy(),
    )


def _renamed(old: str, new: str) -> None:
    """Warn that the reader ``scget.get.<old>`` is now ``scget.get.<new>``."""
    warnings.warn(
        f"scget.get.{old} is renamed scget.get.{new}, after the function that writes the "
        f"result; the old name goes in the next release.",
        FutureWarning,
        stacklevel=3,
    )
