"""Samples and conditions for a simulation: replicates whose TF activities differ by condition.

A design turns each cell type into one profile per sample. A sample belongs to one
condition; in the non-reference conditions, chosen TFs of chosen cell types shift their
activity, and every sample adds its own noise to every TF's activity (donors differ).
Cells are spread unevenly over samples and cell types.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ConditionDesign:
    """Samples per condition and the TF activity changes between conditions.

    Parameters
    ----------
    n_samples
        Samples per condition (at least 1; a replicate-aware test needs 2).
    conditions
        Condition names; the first is the reference, the others change.
    n_changed
        TFs per cell type whose activity shifts in each non-reference condition, drawn at
        random (``0``: a null design, no change anywhere). Ignored when ``changed`` is given.
    changed
        The shifted TFs by hand: cell type (``"type_01"``...) -> motif clusters.
    shift
        Size of a shift in activity (activities lie in [0, 1]): a TF below 0.5 rises
        by ``shift``, one above falls, clipped to [0, 1].
    sample_noise
        Standard deviation of each sample's own change of each TF's activity (shared by
        the sample's cell types, as a donor's would be).
    cell_imbalance
        Log-standard deviation of the cells per sample and per (sample, cell type).
    paired
        Pair the samples across conditions (sample ``i`` of every condition comes from
        donor ``i`` and shares its noise), as before/after designs do; ``obs["donor"]``.
    """

    n_samples: int = 3
    conditions: Sequence[str] = ("control", "treated")
    n_changed: int = 3
    changed: Mapping[str, Sequence[str]] | None = field(default=None)
    shift: float = 0.5
    sample_noise: float = 0.1
    cell_imbalance: float = 0.3
    paired: bool = False

    def check(self, n_tfs: int) -> None:
        """Raise ``ValueError`` for sizes out of range."""
        if isinstance(self.n_samples, bool) or not isinstance(self.n_samples, int):
            raise ValueError(f"design.n_samples must be an integer, got {self.n_samples!r}.")
        if self.n_samples < 1:
            raise ValueError(f"design.n_samples must be >= 1, got {self.n_samples}.")
        names = list(self.conditions)
        if len(names) < 2 or len(set(names)) != len(names) or not all(names):
            raise ValueError(
                f"design.conditions must name at least two distinct conditions, got {names!r}."
            )
        if not 0 <= self.n_changed <= n_tfs:
            raise ValueError(
                f"design.n_changed must be in [0, n_tfs={n_tfs}], got {self.n_changed}."
            )
        for name in ("shift", "sample_noise", "cell_imbalance"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"design.{name} must be >= 0, got {getattr(self, name)!r}.")

    def params(self) -> dict:
        """The design as JSON-ready parameters."""
        params = asdict(self)
        params["conditions"] = list(self.conditions)
        if self.changed is not None:
            params["changed"] = {k: list(v) for k, v in self.changed.items()}
        return params


@dataclass
class Samples:
    """Profiles (sample x cell type) of a design and their truth.

    Attributes
    ----------
    table
        One row per sample: ``sample``, ``condition``, ``donor``.
    activity
        ``(n_samples * n_cell_types, n_tfs)`` TF activity of each profile (sample-major).
    cell_type
        Cell type of each profile.
    differential
        One row per (cell type, motif) and non-reference condition: ``cell_type``,
        ``motif``, ``tf``, ``condition``, ``changed``, ``shift`` (planted change of the
        TF's activity, before sample noise).
    """

    table: pd.DataFrame
    activity: np.ndarray
    cell_type: np.ndarray
    differential: pd.DataFrame


def make_samples(
    design: ConditionDesign, activity: np.ndarray, tfs: pd.DataFrame, type_names, rng
) -> Samples:
    """Draw each sample's TF activities per cell type.

    Parameters
    ----------
    design
        The design.
    activity
        ``(n_cell_types, n_tfs)`` baseline activities (the reference condition).
    tfs
        The TFs (``cluster``, ``tf``).
    type_names
        Cell type names.
    rng
        Random generator.
    """
    n_types, n_tfs = activity.shape
    motifs = tfs["cluster"].to_numpy(dtype=str)
    conditions = list(design.conditions)
    shifted = np.zeros((len(conditions), n_types, n_tfs))
    rows = []
    for c, condition in enumerate(conditions[1:], start=1):
        chosen = _changed(design, motifs, list(type_names), rng)
        step = np.where(activity < 0.5, design.shift, -design.shift)
        target = np.clip(activity + step, 0.0, 1.0)
        shifted[c] = np.where(chosen, target - activity, 0.0)
        for k, name in enumerate(type_names):
            for t in range(n_tfs):
                rows.append(
                    (name, motifs[t], tfs["tf"].iloc[t], condition, chosen[k, t], shifted[c, k, t])
                )
    n = design.n_samples
    condition_of = np.repeat(np.arange(len(conditions)), n)
    donor_of = (
        np.tile(np.arange(n), len(conditions)) if design.paired else np.arange(n * len(conditions))
    )
    noise = rng.normal(0.0, design.sample_noise, (donor_of.max() + 1, n_tfs))
    profile_activity = np.clip(
        activity[None] + shifted[condition_of] + noise[donor_of][:, None, :], 0.0, 1.0
    )
    table = pd.DataFrame(
        {
            "sample": [f"{conditions[c]}_{i % n + 1}" for i, c in enumerate(condition_of)],
            "condition": [conditions[c] for c in condition_of],
            "donor": [f"donor_{d + 1}" for d in donor_of],
        }
    )
    differential = pd.DataFrame(
        rows, columns=["cell_type", "motif", "tf", "condition", "changed", "shift"]
    )
    return Samples(
        table,
        profile_activity.reshape(-1, n_tfs),
        np.tile(np.arange(n_types), len(table)),
        differential,
    )


def _changed(design: ConditionDesign, motifs: np.ndarray, type_names: list, rng) -> np.ndarray:
    """``(n_cell_types, n_tfs)``: which TFs shift in each cell type."""
    chosen = np.zeros((len(type_names), len(motifs)), dtype=bool)
    if design.changed is None:
        for k in range(len(type_names)):
            chosen[k, rng.choice(len(motifs), design.n_changed, replace=False)] = True
        return chosen
    for name, members in design.changed.items():
        if name not in type_names:
            raise ValueError(f"design.changed names cell type {name!r}; cell types: {type_names}.")
        unknown = sorted(set(members) - set(motifs))
        if unknown:
            raise ValueError(
                f"design.changed names {unknown} for {name!r}, which are not simulated TFs' "
                f"motif clusters: {sorted(motifs)}."
            )
        chosen[type_names.index(name), np.isin(motifs, list(members))] = True
    return chosen


def assign_profiles(
    n_cells: int, n_types: int, n_samples: int, imbalance: float, rng
) -> np.ndarray:
    """Profile (sample-major) of each cell: unequal samples and cell-type proportions.

    Every profile gets at least one cell.
    """
    n_profiles = n_types * n_samples
    if n_cells < n_profiles:
        raise ValueError(
            f"n_cells={n_cells} is fewer than samples x cell types ({n_profiles}); every "
            "sample needs cells of every cell type."
        )
    proportions = rng.dirichlet(np.full(n_types, 4.0))
    weight = (
        proportions[None, :]
        * rng.lognormal(0.0, imbalance, (n_samples, 1))
        * rng.lognormal(0.0, imbalance, (n_samples, n_types))
    ).ravel()
    profiles = np.concatenate(
        [
            np.arange(n_profiles),
            rng.choice(n_profiles, n_cells - n_profiles, p=weight / weight.sum()),
        ]
    )
    return rng.permutation(profiles)
