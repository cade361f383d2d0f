"""Simulated regulation: TFs from real PWMs, their activities, sites, and the truth.

The generative model, per peak ``p``, cell type ``k`` and TF ``t`` with ``S[p, t]`` planted
sites and activity ``A[k, t]`` in [0, 1] (every cell type has the same activity levels,
shuffled among its activators and among its repressors), with ``cap(x) = L tanh(x / L)``,
``L = log(20)``, a soft cap on fold changes:

- accessibility ``acc[p, k] = base[p] * exp(cap(sum_t pioneer[t] * S[p, t] * A[k, t])
  + noise)``;
- regulatory activity ``act[p, k] = acc[p, k] * exp(cap(sum_t effect[t] * S[p, t] *
  A[k, t] ± sum_pairs strength * [S[p, a] > 0] * [S[p, b] > 0] * A[k, a] * A[k, b]))``
  (repressors have negative ``effect``; cooperative pairs add, competitive pairs subtract,
  so pairs act multiplicatively on the activity);
- expression rate ``rate[g, k] = base[g] * (act[promoter(g), k] + sum_e weight[g, e] *
  act[e, k]) * exp(noise)`` with ``weight = strength[e] * contact(distance)``, a power-law
  contact decay (the ABC model's, as used by GET); the gene named after a TF is further
  scaled by ``0.05 + A[k, t]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import ndtri

#: Power-law contact decay of the ABC model (exponent), flat below ``_CONTACT_MIN`` bp.
_CONTACT_GAMMA = 1.024238616787792
_CONTACT_MIN = 5_000
#: Motif lengths and information content (bits) eligible for a simulated TF.
_MOTIF_LENGTH = (6, 20)
_MIN_INFORMATION = 9.0
#: Fraction of TFs that repress.
_REPRESSOR_FRACTION = 0.25
#: Ranges of per-site effects on activity and on accessibility (pioneer effect).
_EFFECT = (0.8, 1.5)
_PIONEER = {"activator": (0.5, 1.0), "repressor": (-0.3, 0.0)}
#: Largest fold change of accessibility or activity that TFs cause in one element.
_MAX_FOLD = 20.0
#: Range of interaction strengths.
_PAIR_STRENGTH = (0.6, 1.2)
#: Mean TFs beyond the first per promoter / enhancer, and the most per element.
_TFS_PER_ELEMENT = {"promoter": 1.2, "enhancer": 0.8}
_MOST_TFS = 3
#: Dirichlet concentration of how often each TF is used (lower: more uneven).
_PREVALENCE_CONCENTRATION = 5.0
#: Probability of a second site of a TF in an element.
_SECOND_SITE = 0.3
#: Fraction of functional elements holding one interacting pair.
_PAIR_ELEMENTS = 0.25
#: Mean log baseline accessibility by peak role, and its spread.
_BASE_ACCESSIBILITY = {"promoter": 0.7, "enhancer": 0.0, "background": -0.3}
_BASE_SD = 0.5
#: Noise (sd, log scale) of accessibility per peak and cell type.
_ACCESSIBILITY_NOISE = 0.15
#: Log-sd of gene baseline expression; median and log-sd of enhancer strengths.
_GENE_BASE_SD = 0.3
_ENHANCER_STRENGTH = (1.5, 0.4)
#: Expression of a TF's own gene: rate scaled by ``_TF_GENE_FLOOR + activity``.
_TF_GENE_FLOOR = 0.05


@dataclass
class Regulation:
    """The regulatory program of a simulation.

    Attributes
    ----------
    tfs
        One row per TF: ``motif_id``, ``tf``, ``cluster``, ``role``, ``effect`` (per-site
        effect on log activity), ``pioneer`` (per-site effect on log accessibility).
    activity
        ``(n_cell_types, n_tfs)`` TF activities in [0, 1].
    sites
        ``(n_peaks, n_tfs)`` number of planted sites.
    pairs
        Interacting TF pairs: ``a``, ``b`` (rows of ``tfs``), ``kind``
        (``"cooperative"``/``"competitive"``), ``strength``.
    """

    tfs: pd.DataFrame
    activity: np.ndarray
    sites: np.ndarray
    pairs: pd.DataFrame


def choose_tfs(motifs, n_tfs: int, rng) -> pd.DataFrame:
    """Pick ``n_tfs`` TFs, one per motif cluster, with informative motifs of moderate length.

    Clusters are drawn with probability proportional to their number of motifs; each
    contributes its most informative single-TF motif.

    Parameters
    ----------
    motifs
        :class:`~scget.motifs.MotifCollection` with ``info`` columns ``name``, ``cluster``.
    n_tfs
        Number of TFs.
    rng
        Random generator.

    Returns
    -------
    Table with ``motif_id``, ``tf``, ``cluster``, ``role``, ``effect``, ``pioneer``.

    Raises
    ------
    ValueError
        If fewer than ``n_tfs`` clusters have an eligible motif.
    """
    info = motifs.info
    lengths = np.array([len(motifs.matrices[i]) for i in info.index])
    bits = np.array([_information(motifs.matrices[i]) for i in info.index])
    eligible = (
        (lengths >= _MOTIF_LENGTH[0])
        & (lengths <= _MOTIF_LENGTH[1])
        & (bits >= _MIN_INFORMATION)
        & ~info["name"].str.contains("::").to_numpy()
    )
    table = pd.DataFrame(
        {
            "motif_id": info.index.to_numpy(dtype=str),
            "tf": info["name"].str.upper().to_numpy(),
            "cluster": info["cluster"].to_numpy(dtype=str),
            "bits": bits,
        }
    )
    table = table[eligible].sort_values(["bits", "motif_id"], ascending=[False, True])
    table = table.drop_duplicates("cluster").drop_duplicates("tf")
    if len(table) < n_tfs:
        raise ValueError(
            f"n_tfs={n_tfs} but only {len(table)} motif clusters have an eligible motif "
            f"(length {_MOTIF_LENGTH[0]}-{_MOTIF_LENGTH[1]}, >= {_MIN_INFORMATION} bits, "
            "a single TF); ask for fewer TFs or pass a larger motif collection."
        )
    # clusters of large TF families (many JASPAR matrices) are the likelier regulators
    clusters = sorted(table["cluster"])
    family_size = info["cluster"].value_counts().loc[clusters].to_numpy(dtype=np.float64)
    chosen = rng.choice(len(clusters), n_tfs, replace=False, p=family_size / family_size.sum())
    picked = [clusters[i] for i in np.sort(chosen)]
    tfs = table.set_index("cluster").loc[picked].reset_index()[["motif_id", "tf", "cluster"]]
    n_repressors = round(n_tfs * _REPRESSOR_FRACTION)
    repressor = np.zeros(n_tfs, dtype=bool)
    repressor[rng.choice(n_tfs, n_repressors, replace=False)] = True
    tfs["role"] = np.where(repressor, "repressor", "activator")
    tfs["effect"] = rng.uniform(*_EFFECT, n_tfs) * np.where(repressor, -1.0, 1.0)
    tfs["pioneer"] = np.where(
        repressor,
        rng.uniform(*_PIONEER["repressor"], n_tfs),
        rng.uniform(*_PIONEER["activator"], n_tfs),
    )
    return tfs


def _information(pwm: np.ndarray) -> float:
    """Information content (bits) of a probability matrix."""
    p = np.clip(pwm, 1e-9, 1.0)
    return float((2.0 + (p * np.log2(p)).sum(axis=1)).sum())


def make_regulation(tfs: pd.DataFrame, peaks: pd.DataFrame, n_cell_types: int, rng) -> Regulation:
    """Draw TF activities, interacting pairs and the sites planted in every functional peak.

    Parameters
    ----------
    tfs
        From :func:`choose_tfs`.
    peaks
        Peak table of the layout (``role`` column).
    n_cell_types
        Number of cell types.
    rng
        Random generator.

    Returns
    -------
    The :class:`Regulation`.
    """
    n_tfs = len(tfs)
    activity = _activities(tfs["role"].to_numpy(), n_cell_types, rng)
    pairs = _interacting_pairs(tfs, rng)
    sites = _sites(peaks["role"].to_numpy(), n_tfs, pairs, rng)
    return Regulation(tfs, activity, sites, pairs)


def _activities(role: np.ndarray, n_cell_types: int, rng) -> np.ndarray:
    """TF activities ``(n_cell_types, n_tfs)`` in [0, 1], mostly near 0 or 1.

    Every cell type gets the same set of activity levels, shuffled among its activators
    and among its repressors, so that cell types differ in *which* TFs are active rather
    than in how much regulation they receive overall (which would shift every gene's
    share of the transcriptome, a composition effect no local model can explain).
    """
    activity = np.empty((n_cell_types, len(role)))
    for kind in ("activator", "repressor"):
        members = np.flatnonzero(role == kind)
        quantiles = (np.arange(len(members)) + rng.random()) / max(len(members), 1)
        levels = 1.0 / (1.0 + np.exp(-3.0 * ndtri(quantiles)))
        for k in range(n_cell_types):
            activity[k, members] = rng.permutation(levels)
    return activity


def _interacting_pairs(tfs: pd.DataFrame, rng) -> pd.DataFrame:
    """Cooperative pairs among activators and competitive pairs among any TFs."""
    activators = np.flatnonzero(tfs["role"].to_numpy() == "activator")
    n_tfs = len(tfs)
    rows = []
    taken = set()
    for kind, pool, count in (
        ("cooperative", activators, max(1, n_tfs // 4) if len(activators) > 1 else 0),
        ("competitive", np.arange(n_tfs), n_tfs // 8),
    ):
        attempts = 0
        while sum(row[2] == kind for row in rows) < count and attempts < 100 * (count + 1):
            attempts += 1
            a, b = sorted(rng.choice(pool, 2, replace=False))
            if (a, b) not in taken:
                taken.add((a, b))
                rows.append((int(a), int(b), kind, float(rng.uniform(*_PAIR_STRENGTH))))
    return pd.DataFrame(rows, columns=["a", "b", "kind", "strength"])


def _sites(role: np.ndarray, n_tfs: int, pairs: pd.DataFrame, rng) -> np.ndarray:
    """Sites per peak and TF: a few TFs per functional element, some as interacting pairs."""
    sites = np.zeros((len(role), n_tfs), dtype=np.int8)
    prevalence = np.log(rng.dirichlet(np.full(n_tfs, _PREVALENCE_CONCENTRATION)))
    for kind, extra in _TFS_PER_ELEMENT.items():
        rows = np.flatnonzero(role == kind)
        n_distinct = np.minimum(1 + rng.poisson(extra, len(rows)), min(_MOST_TFS, n_tfs))
        keys = prevalence - np.log(-np.log(rng.random((len(rows), n_tfs))))  # Gumbel top-k
        rank = np.empty_like(keys, dtype=np.int64)
        rank[np.arange(len(rows))[:, None], np.argsort(-keys, axis=1)] = np.arange(n_tfs)
        chosen = rank < n_distinct[:, None]
        copies = 1 + (rng.random(chosen.shape) < _SECOND_SITE)
        sites[rows] = chosen * copies
        if len(pairs):
            holders = rows[rng.random(len(rows)) < _PAIR_ELEMENTS]
            pair = rng.integers(0, len(pairs), len(holders))
            for column in ("a", "b"):
                tf = pairs[column].to_numpy()[pair]
                sites[holders, tf] = np.maximum(sites[holders, tf], 1)
    return sites


def contact(distance: np.ndarray) -> np.ndarray:
    """Power-law contact decay, 1 up to ``_CONTACT_MIN`` bp."""
    return (np.maximum(distance, _CONTACT_MIN) / _CONTACT_MIN) ** -_CONTACT_GAMMA


@dataclass
class Rates:
    """Expected values per cell type, before count sampling.

    Attributes
    ----------
    accessibility
        ``(n_peaks, n_cell_types)`` accessibility (relative fragment rates).
    log_base
        ``(n_peaks,)`` log baseline accessibility (the part independent of TFs and noise).
    gene_base
        ``(n_genes,)`` gene baseline expression.
    promoters
        Sparse ``(n_genes, n_peaks)``: 1 where the peak is the gene's promoter.
    enhancers
        Sparse ``(n_genes, n_peaks)``: enhancer weights, strength times contact.
    expression
        ``(n_genes, n_cell_types)`` expression rates (relative).
    accessibility_noise, expression_noise
        ``(n_peaks, n_cell_types)`` and ``(n_genes, n_cell_types)`` log-scale noise of
        each cell type (kept to draw samples of a cell type around it).
    tf_genes
        Gene row of each TF's own gene (-1: none).
    """

    accessibility: np.ndarray
    log_base: np.ndarray
    gene_base: np.ndarray
    promoters: sp.csr_matrix
    enhancers: sp.csr_matrix
    expression: np.ndarray
    accessibility_noise: np.ndarray
    expression_noise: np.ndarray
    tf_genes: np.ndarray

    @property
    def weights(self) -> sp.csr_matrix:
        """Element weights ``(n_genes, n_peaks)``: promoters plus enhancers."""
        return (self.promoters + self.enhancers).tocsr()


def make_rates(
    regulation: Regulation,
    peaks: pd.DataFrame,
    n_genes: int,
    tf_genes: np.ndarray,
    *,
    expression_noise: float,
    rng,
) -> Rates:
    """Compute the accessibility and expression rates of every peak and gene per cell type.

    Parameters
    ----------
    regulation
        From :func:`make_regulation`.
    peaks
        Peak table of the layout (``role``, ``gene``, ``distance``).
    n_genes
        Number of genes.
    tf_genes
        Gene row of each TF's own gene, whose expression follows the TF's activity
        (-1: none).
    expression_noise
        Standard deviation of the log-normal noise of each gene's rate per cell type.
    rng
        Random generator.

    Returns
    -------
    The :class:`Rates`.
    """
    role = peaks["role"].to_numpy()
    gene = peaks["gene"].to_numpy()
    n_peaks, n_types = len(role), regulation.activity.shape[0]
    log_base = np.array([_BASE_ACCESSIBILITY[r] for r in role]) + rng.normal(0, _BASE_SD, n_peaks)
    acc_noise = rng.normal(0.0, _ACCESSIBILITY_NOISE, (n_peaks, n_types))
    gene_base = rng.lognormal(0.0, _GENE_BASE_SD, n_genes)
    prom = np.flatnonzero(role == "promoter")
    enh = np.flatnonzero(role == "enhancer")
    median, log_sd = _ENHANCER_STRENGTH
    weight = rng.lognormal(np.log(median), log_sd, len(enh)) * contact(
        peaks["distance"].to_numpy()[enh]
    )
    shape = (n_genes, n_peaks)
    promoters = sp.csr_matrix((np.ones(len(prom)), (gene[prom], prom)), shape=shape)
    enhancers = sp.csr_matrix((weight, (gene[enh], enh)), shape=shape)
    gene_noise = rng.normal(0.0, expression_noise, (n_genes, n_types))
    empty = np.empty(0)
    rates = Rates(
        empty, log_base, gene_base, promoters, enhancers, empty, acc_noise, gene_noise, tf_genes
    )
    rates.accessibility, rates.expression = profile_rates(
        regulation, rates, regulation.activity, np.arange(n_types)
    )
    return rates


def profile_rates(
    regulation: Regulation, rates: Rates, activity: np.ndarray, cell_type: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Accessibility and expression rates of profiles: cell types under given TF activities.

    Parameters
    ----------
    regulation
        From :func:`make_regulation`.
    rates
        The cell types' :class:`Rates` (baselines, element weights and noise).
    activity
        ``(n_profiles, n_tfs)`` TF activities of each profile.
    cell_type
        Cell type of each profile, whose accessibility and expression noise it shares.

    Returns
    -------
    ``(n_peaks, n_profiles)`` accessibility and ``(n_genes, n_profiles)`` expression rates.
    """
    log_acc = (
        rates.log_base[:, None]
        + rates.accessibility_noise[:, cell_type]
        + _pioneer_term(regulation, activity)
    )
    expression = _expression(regulation, log_acc, rates.weights, rates.gene_base, activity)
    expression *= np.exp(rates.expression_noise[:, cell_type])
    tf_genes = rates.tf_genes
    named = tf_genes >= 0
    expression[tf_genes[named]] *= (_TF_GENE_FLOOR + activity[:, named]).T
    return np.exp(log_acc), expression


def _pioneer_term(regulation: Regulation, activity: np.ndarray) -> np.ndarray:
    """Log fold change of accessibility by the TFs (soft-capped)."""
    return _saturate(_tf_term(regulation, "pioneer", activity))


def _tf_term(regulation: Regulation, column: str, activity: np.ndarray) -> np.ndarray:
    """``sum_t value[t] * S[p, t] * A[k, t]``: ``(n_peaks, n_cell_types)``."""
    per_site = regulation.sites * regulation.tfs[column].to_numpy()[None, :]
    return per_site @ activity.T


def _log_activity(regulation: Regulation, log_acc: np.ndarray, activity: np.ndarray) -> np.ndarray:
    """Log regulatory activity of every peak in every cell type, for given TF activities."""
    regulatory = _tf_term(regulation, "effect", activity)
    present = regulation.sites > 0
    for a, b, kind, strength in regulation.pairs.itertuples(index=False):
        sign = 1.0 if kind == "cooperative" else -1.0
        both = np.flatnonzero(present[:, a] & present[:, b])
        regulatory[both] += sign * strength * activity[:, a] * activity[:, b]
    return log_acc + _saturate(regulatory)


def _saturate(log_fold: np.ndarray) -> np.ndarray:
    """Soft cap of a log fold change at ``±log(_MAX_FOLD)`` (linear for small changes)."""
    limit = np.log(_MAX_FOLD)
    return limit * np.tanh(log_fold / limit)


def _expression(
    regulation: Regulation,
    log_acc: np.ndarray,
    weights: sp.csr_matrix,
    gene_base: np.ndarray,
    activity: np.ndarray,
) -> np.ndarray:
    """Noise-free expression rates ``(n_genes, n_cell_types)`` for given TF activities."""
    activity_of_peaks = np.exp(_log_activity(regulation, log_acc, activity))
    return gene_base[:, None] * (weights @ activity_of_peaks)


def drivers_table(regulation: Regulation, rates: Rates, gene_names: pd.Index) -> pd.DataFrame:
    """Planted drivers of each gene with their effect, measured by knocking the TF out.

    The effect of TF ``t`` on gene ``g`` is the mean over cell types of
    ``log(rate[g]) - log(rate[g] with A[:, t] = 0)`` (noise-free, with the accessibility
    recomputed without the TF's pioneer effect): positive for activators, negative for
    repressors, larger for more and closer sites.

    Returns
    -------
    One row per gene and TF with sites in its promoter or enhancers: ``gene``, ``motif``
    (cluster), ``motif_id``, ``tf``, ``role``, ``effect``, ``promoter_sites``,
    ``enhancer_sites`` (contact-weighted sum of sites in its enhancers).
    """
    tfs = regulation.tfs
    log_base = rates.log_base[:, None]
    log_acc = log_base + _pioneer_term(regulation, regulation.activity)
    reference = np.log(
        _expression(regulation, log_acc, rates.weights, rates.gene_base, regulation.activity)
    )
    weights = rates.weights
    frames = []
    for t in range(len(tfs)):
        n_sites = regulation.sites[:, t].astype(np.float64)
        linked = np.flatnonzero(weights @ n_sites)
        if len(linked) == 0:
            continue
        knocked = regulation.activity.copy()
        knocked[:, t] = 0.0
        log_acc_ko = log_base + _pioneer_term(regulation, knocked)
        rate_ko = _expression(
            regulation, log_acc_ko, weights[linked], rates.gene_base[linked], knocked
        )
        frames.append(
            pd.DataFrame(
                {
                    "gene": gene_names[linked],
                    "motif": tfs["cluster"].iloc[t],
                    "motif_id": tfs["motif_id"].iloc[t],
                    "tf": tfs["tf"].iloc[t],
                    "role": tfs["role"].iloc[t],
                    "effect": (reference[linked] - np.log(rate_ko)).mean(axis=1),
                    "promoter_sites": rates.promoters[linked] @ n_sites,
                    "enhancer_sites": rates.enhancers[linked] @ n_sites,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def links_table(
    regulation: Regulation, rates: Rates, gene_names: pd.Index, peak_names: pd.Index, distance
) -> pd.DataFrame:
    """Enhancer-gene links with their weight and their share of the gene's expression.

    Returns
    -------
    One row per enhancer: ``gene``, ``peak``, ``weight`` (strength times contact),
    ``distance`` (bp, TSS to enhancer centre) and ``contribution`` (mean over cell types
    of the enhancer's share of the gene's noise-free rate).
    """
    log_acc = rates.log_base[:, None] + _pioneer_term(regulation, regulation.activity)
    peak_activity = np.exp(_log_activity(regulation, log_acc, regulation.activity))
    total = rates.weights @ peak_activity
    enhancers = rates.enhancers.tocoo()
    gene, peak, weight = enhancers.row, enhancers.col, enhancers.data
    share = weight[:, None] * peak_activity[peak] / total[gene]
    order = np.lexsort((peak, gene))
    return pd.DataFrame(
        {
            "gene": gene_names[gene[order]],
            "peak": peak_names[peak[order]],
            "weight": weight[order],
            "distance": np.asarray(distance, dtype=np.float64)[peak[order]],
            "contribution": share[order].mean(axis=1),
        }
    )
